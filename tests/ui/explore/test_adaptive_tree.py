"""An adaptive run on screen: fork entropies, path probabilities, collapsing and folding a
200+ leaf tree without losing a leaf, the minimap, the answers panel's marginal distribution,
and the adaptive settings (offscreen, on hand-made trees: the numbers are computed here)."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt

from inspector.core.session import RunSettings, Session
from inspector.core.tree import ROOT_ID
from inspector.engine.records import Alternative, GeneratedSequence, TokenRecord
from inspector.ui.explore.answers_panel import PATH_COLUMNS, AnswersPanel
from inspector.ui.explore.tree_layout import (
    hidden_leaves,
    layout_folded,
    low_mass_branches,
    subtree_mass,
)
from inspector.ui.explore.tree_tools import TreeTools
from inspector.ui.explore.tree_view import NodeItem, ReasoningTreeView
from inspector.ui.shared.settings_row import SettingsRow, expected_tokens

# the probabilities of the alternatives at every fork, most likely first, and their ids
FORK = (0.5, 0.3, 0.2)
ENTROPY = -sum(p * math.log(p) for p in FORK)


def fork_token(choice: int, text: str) -> TokenRecord:
    top = tuple(Alternative(10 + i, f"<{i}>", math.log(p)) for i, p in enumerate(FORK))
    return TokenRecord(10 + choice, text, text.encode(), math.log(FORK[choice]), ENTROPY, top)


def sure_token(text: str, token_id: int = 99) -> TokenRecord:
    top = (Alternative(token_id, text, math.log(0.9)), Alternative(98, "x", math.log(0.1)))
    return TokenRecord(token_id, text, text.encode(), math.log(0.9), 0.33, top)


def full_tree(width: int, depth: int) -> Session:
    """Every root-to-leaf path passes ``depth`` forks of ``width`` branches (``FORK``'s first
    ``width`` probabilities) and ends in a sure answer token: choice 0 says 8, others 5."""
    settings = RunSettings(strategy="adaptive", branch_width=width - 1, branch_depth=depth)
    session = Session("q", "Q: q\nA:", [1, 2], settings, {}, "8")

    def grow(start: int, level: int, prefix: list[int]) -> None:
        for choice in range(width):
            if level + 1 == depth:
                answer = " 8" if choice == 0 else " 5"
                tokens = [fork_token(choice, f" c{choice}"), sure_token(answer, 80 + choice)]
                sequence = GeneratedSequence(0, tokens, "eos")
                session.add_path(sequence, "adaptive", f"{[*prefix, choice]}", start_node=start)
            else:
                tokens = [fork_token(choice, f" c{choice}")]
                end, moved = session.tree.add_sequence(tokens, start)
                assert not moved
                grow(end, level + 1, [*prefix, choice])

    grow(ROOT_ID, 0, [])
    return session


def leaf_probability(choices: list[int]) -> float:
    return math.prod(FORK[c] for c in choices) * 0.9


@pytest.fixture
def view(qtbot):
    tree_view = ReasoningTreeView()
    qtbot.addWidget(tree_view)
    tree_view.resize(900, 600)
    tree_view.show()
    return tree_view


def scene_texts(view: ReasoningTreeView) -> list[str]:
    return [i.text() for i in view.scene().items() if hasattr(i, "text")]


def drawn_leaves(view: ReasoningTreeView) -> set[int]:
    tree = view.session.tree
    return {n for n in view.node_items if not tree.nodes[n].children}


# -- the layout, by hand ---------------------------------------------------------------------------
def test_subtree_mass_and_the_branches_a_fold_share_hides():
    session = full_tree(width=3, depth=2)
    tree = session.tree
    mass = subtree_mass(tree, [(p.node_id, p.logprob) for p in session.leaves()])
    assert mass[ROOT_ID] == pytest.approx(0.9)  # every branch explored: Σ = 1 × the 0.9 ending
    firsts = sorted(tree.root.children, key=lambda c: -mass[c])
    assert [mass[c] for c in firsts] == pytest.approx([0.45, 0.27, 0.18])
    # below 25% of 0.9 (= 0.225): only the 0.18 branch at the root, and at every second-level
    # fork the 0.3 · p and 0.2 · p branches of the lighter subtrees
    folded = low_mass_branches(tree, mass, 0.25)
    assert firsts[2] in folded and firsts[0] not in folded and firsts[1] not in folded
    heavy = tree.nodes[firsts[0]].children  # 0.5 · (0.5, 0.3, 0.2) · 0.9 = .225, .135, .09
    assert sum(1 for c in heavy if c in folded) == 2  # the heaviest child always stays
    assert low_mass_branches(tree, mass, 0.0) == frozenset()


def test_a_folded_layout_gives_each_fork_one_stub_row_and_loses_no_leaf():
    session = full_tree(width=3, depth=2)
    tree = session.tree
    mass = subtree_mass(tree, [(p.node_id, p.logprob) for p in session.leaves()])
    folded = low_mass_branches(tree, mass, 0.25)
    layout = layout_folded(tree, frozenset(), folded)
    assert not folded & set(layout.places)
    rows = [p.row for p in layout.places.values() if not tree.nodes[p.node_id].children]
    rows += [s.row for s in layout.stubs.values()]
    assert sorted(rows) == list(range(len(rows)))  # leaves and stubs share the rows, no gaps
    shown = sum(1 for n in layout.places if not tree.nodes[n].children)
    hidden = sum(hidden_leaves(tree, nodes) for nodes in layout.folded.values())
    assert shown + hidden == len(tree.leaves()) == 9


# -- the tree view ------------------------------------------------------------------------------
def test_forks_show_their_entropy_and_branches_their_token_and_probability(view):
    session = full_tree(width=3, depth=2)
    view.fold_share = 0.0
    view.show_session(session)
    texts = scene_texts(view)
    assert texts.count(f"H {ENTROPY:.2f}") == 4  # the root and its three children fork
    assert f"“␣c0” {0.5:.0%}" in texts and f"“␣c2” {0.2:.0%}" in texts
    # each leaf's label carries its path probability: c0 c0 = 0.5 · 0.5 · 0.9 = 22.5%
    labels = [t for t in texts if "→" in t]
    assert len(labels) == 9
    best = next(p for p in session.paths if p.label == "[0, 0]")
    assert any(t.startswith(f"#{best.id} → 8 ✓") and t.endswith("p 22.5%") for t in labels)
    assert not any("None" in t or "nan" in t for t in texts)


def test_collapsing_hides_a_subtree_and_says_how_many_leaves(view, qtbot):
    session = full_tree(width=3, depth=2)
    view.fold_share = 0.0
    view.show_session(session)
    node = ordered_first_child(session)
    view.select_node(node)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert node in view.collapsed
    assert not set(session.tree.nodes[node].children) & set(view.node_items)
    assert "▸ 3 leaves collapsed (+ opens)" in scene_texts(view)
    view.select_node(node)
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert set(session.tree.nodes[node].children) <= set(view.node_items)


def ordered_first_child(session: Session) -> int:
    return max(session.tree.root.children, key=lambda c: session.tree.nodes[c].tokens[0].logprob)


def test_a_tree_of_243_leaves_folds_on_its_own_and_loses_no_leaf(view):
    session = full_tree(width=3, depth=5)
    assert len(session.tree.leaves()) == 243
    view.show_session(session)  # auto: more than 60 leaves, so branches below 1% fold
    assert view.effective_fold_share() == 0.01
    shown = drawn_leaves(view)
    hidden = sum(hidden_leaves(session.tree, nodes) for nodes in view.folded.values())
    assert 0 < len(shown) < 243 and len(shown) + hidden == 243
    stubs = [t for t in scene_texts(view) if t.startswith("⋯ ")]
    assert len(stubs) == len(view.stub_items) == len(view.folded)
    # what is folded holds less than 1% of the explored mass, branch by branch
    mass = subtree_mass(session.tree, [(p.node_id, p.logprob) for p in session.leaves()])
    for nodes in view.folded.values():
        assert all(mass[n] < 0.01 * mass[ROOT_ID] for n in nodes)
    # a click on a stub shows that fork's branches
    parent = next(iter(view.stub_items))
    folded_there = view.folded[parent]
    view.expand(parent)
    assert set(folded_there) <= set(view.node_items)
    view.expand_all()
    assert len(drawn_leaves(view)) == 243 and view.stub_items == {}


def test_the_minimap_appears_when_the_tree_is_bigger_than_the_view(qtbot):
    view = ReasoningTreeView()
    tools = TreeTools(view)
    qtbot.addWidget(view)
    qtbot.addWidget(tools)
    view.resize(600, 400)
    view.show()
    view.show_session(full_tree(width=3, depth=3))
    view.fit()
    tools.minimap.refresh()
    assert not tools.minimap.isVisible()  # all of it in view
    view.zoom(4.0)
    qtbot.waitUntil(tools.minimap.isVisible)
    before = view.visible_rect().center()
    corner = tools.minimap.mapFromScene(view.scene().sceneRect().bottomRight())
    qtbot.mouseClick(tools.minimap.viewport(), Qt.MouseButton.LeftButton, pos=corner)
    assert view.visible_rect().center().y() > before.y()  # the view moved down the tree
    tools.show_minimap.setChecked(False)
    assert not tools.minimap.isVisible()
    tools.fold.setCurrentText("5%")
    assert view.fold_share == 0.05


# -- the answers panel --------------------------------------------------------------------------
def test_the_answers_panel_shows_the_marginal_distribution_and_the_explored_mass(qtbot):
    session = full_tree(width=2, depth=2)  # leaves c0c0 8, c0c1 5, c1c0 8, c1c1 5
    panel = AnswersPanel()
    qtbot.addWidget(panel)
    panel.show_session(session)
    eight = leaf_probability([0, 0]) + leaf_probability([1, 0])  # (.25 + .15) · .9 = .36
    five = leaf_probability([0, 1]) + leaf_probability([1, 1])  # (.15 + .09) · .9 = .216
    text = panel.summary.text()
    assert f"explored: 4 leaves, probability mass {(eight + five) * 100:.3g}%" in text
    assert (
        f"marginal P(answer) over the explored paths: 8 {eight / (eight + five) * 100:.3g}% · "
        f"5 {five / (eight + five) * 100:.3g}%" in text
    )
    assert f"lower bound of P(answer | question): 8 ≥ {eight * 100:.3g}%" in text
    assert "marginal answer: 8" in text and "majority 8" in text and "weighted 8" in text
    assert list(panel.bars.opts["height"]) == pytest.approx(
        [eight / (eight + five), five / (eight + five)]
    )
    column = PATH_COLUMNS.index("path p")
    best = next(p for p in session.paths if p.label == "[0, 0]")
    row = panel.path_row(best)
    assert panel.table.item(row, column).text() == f"{leaf_probability([0, 0]) * 100:.3g}%"
    assert "None" not in text and "nan" not in text


# -- the settings -------------------------------------------------------------------------------
def test_adaptive_settings_are_shown_only_for_adaptive_and_round_trip(qtbot):
    row = SettingsRow()
    qtbot.addWidget(row)
    row.show()
    assert not row.adaptive_row.isVisible()
    row.strategy.setCurrentText("adaptive")
    assert row.adaptive_row.isVisible() and row.shown_settings() == ["temperature", "seed"]
    assert not row.temperature.isEnabled()  # greedy continuations: no temperature used
    row.adaptive_sample.setChecked(True)
    assert row.temperature.isEnabled() and row.seed.isEnabled()
    chosen = RunSettings(
        strategy="adaptive", branch_entropy=3.25, branch_margin=0.15, branch_min_prob=0.08,
        branch_width=3, branch_depth=4, token_budget=9000, adaptive_sample=True,
    )  # fmt: skip
    row.load(chosen)
    values = row.values()
    for name in ("branch_entropy", "branch_margin", "branch_min_prob", "branch_width",
                 "branch_depth", "token_budget", "adaptive_sample"):  # fmt: skip
        assert getattr(values, name) == getattr(chosen, name), name
    row.strategy.setCurrentText("self-consistency")
    assert not row.adaptive_row.isVisible() and row.temperature.isEnabled()


def test_the_progress_bar_expects_the_largest_tree_the_budget_allows():
    # (2 + 1) ** 3 = 27 leaves of at most 128 tokens = 3456, under the budget of 4096
    assert expected_tokens(RunSettings(strategy="adaptive", max_tokens=128)) == 3456
    assert expected_tokens(RunSettings(strategy="adaptive", max_tokens=128, branch_depth=5)) == 4096


def test_node_items_are_only_the_drawn_nodes(view):
    session = full_tree(width=3, depth=2)
    view.fold_share = 0.25
    view.show_session(session)
    items = [i for i in view.scene().items() if isinstance(i, NodeItem)]
    assert {i.node_id for i in items} == set(view.node_items)
    assert not set(view.node_items) & {n for nodes in view.folded.values() for n in nodes}


# -- a real adaptive run in the window (the default model) ---------------------------------------
def test_a_real_adaptive_run_in_the_window_fits_1024x700_and_shows_its_marginal(qtbot, window):
    from tests.ui.conftest import run_and_wait
    from tests.ui.test_main_window import assert_nothing_overlaps

    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.size().toTuple() == (1024, 700))
    settings = window.explore.run_panel.settings
    settings.branch_depth.setValue(1)
    settings.branch_width.setValue(1)
    run_and_wait(qtbot, window, strategy="adaptive", max_tokens=12)
    session = window.explore.session
    assert session is not None and session.settings.strategy == "adaptive"
    assert session.settings.branch_depth == 1 and session.status == "complete"
    assert settings.adaptive_row.isVisible()
    qtbot.wait(50)  # let the layouts settle (no assertion on time)
    assert_nothing_overlaps(window)
    marginal = session.summary().marginal
    assert marginal is not None
    text = window.explore.answers.summary.text()
    assert f"explored: {marginal.n_leaves} leaves" in text
    assert "None" not in text and "nan" not in text
    # each drawn branch of the real tree is a real node: the tree holds every path's end
    assert {p.node_id for p in session.paths if p.n_tokens} <= set(
        window.explore.tree_view.node_items
    )
