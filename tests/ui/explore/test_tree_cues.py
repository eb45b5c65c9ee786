"""The tree's cues (issue 13): ✓ / ✗ beside the correctness colour, the greedy reference of a
self-consistency run marked as not voting, ★ only for CoT-decoding's pick, the root in the
palette's colours (dark theme), the legend, arrow keys in drawn order, and a live tree."""

from __future__ import annotations

from PySide6.QtCore import Qt

from inspector.engine.records import GeneratedSequence
from inspector.ui.explore.tree_layout import ordered_children
from inspector.ui.explore.tree_legend import TreeLegend
from inspector.ui.explore.tree_view import ReasoningTreeView
from inspector.ui.shared.theme import dark_palette
from tests.ui.explore.recorded import add, new_session, tokens


def view_of(qtbot, session) -> ReasoningTreeView:
    view = ReasoningTreeView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.show_session(session)
    return view


def answer_labels(view: ReasoningTreeView) -> list[str]:
    return [i.text() for i in view.scene().items() if hasattr(i, "text") and "→" in i.text()]


def test_answers_carry_a_mark_beside_their_colour(qtbot):
    session = new_session(gold="8")
    add(session, tokens(" 8", "."), label="first token #1 ' 8'")
    add(session, tokens(" 7", "."), label="first token #2 ' 7'")
    labels = answer_labels(view_of(qtbot, session))
    assert any("#0 → 8 ✓" in label for label in labels)
    assert any("#1 → 7 ✗" in label for label in labels)


def test_without_a_gold_answer_there_is_no_mark(qtbot):
    session = new_session(gold=None)
    add(session, tokens(" 8", "."), label="first token #1 ' 8'")
    labels = answer_labels(view_of(qtbot, session))
    assert labels and not any("✓" in label or "✗" in label for label in labels)


def self_consistency_session():
    session = new_session("self-consistency", gold="8")
    for i, answer in enumerate((" 8", " 8", " 7")):
        sequence = GeneratedSequence(branch=i, tokens=tokens(answer, "."), finish_reason="eos")
        session.add_path(sequence, "sample", f"sample {i + 1}")
    reference = GeneratedSequence(branch=3, tokens=tokens(" 5", "."), finish_reason="eos")
    session.add_path(reference, "greedy", "greedy reference")
    return session


def test_the_greedy_reference_says_it_does_not_vote_and_no_path_is_starred(qtbot):
    labels = answer_labels(view_of(qtbot, self_consistency_session()))
    joined = "   ".join(labels)
    assert "#3 → 5 ✗ Δ" in joined and "(greedy reference, no vote)" in joined
    assert "#0 → 8" in joined and joined.count("no vote") == 1
    assert "★" not in joined  # self-consistency has no CoT-decoding pick


def test_cot_decoding_stars_its_pick(qtbot):
    session = new_session(gold="8")
    add(session, tokens(" 8", ".", p1=0.9, p2=0.01), label="first token #1 ' 8'")
    add(session, tokens(" 7", ".", p1=0.5, p2=0.4), label="first token #2 ' 7'")
    labels = answer_labels(view_of(qtbot, session))
    assert sum(label.count("★") for label in labels) == 1
    assert any(label.startswith("★#0") for label in labels)


def test_the_root_follows_a_dark_palette(qtbot):
    session = new_session()
    add(session, tokens(" 8"), label="first token #1 ' 8'")
    view = view_of(qtbot, session)
    root = view.node_items[0]
    light_fill = root.brush().color()
    view.setPalette(dark_palette())
    root = view.node_items[0]
    dark_fill = root.brush().color()
    assert dark_fill.lightness() < 100 < light_fill.lightness()
    assert root.label.brush().color().lightness() > 150  # its text light on the dark box


def test_the_legend_names_fill_and_correctness_in_both_themes(qtbot):
    legend = TreeLegend()
    qtbot.addWidget(legend)
    text = legend.text.text()
    assert "mean token probability" in text and "0%" in text and "100%" in text
    assert "✓ correct" in text and "✗ wrong" in text and "no gold answer" in text
    light = text
    legend.setPalette(dark_palette())
    assert legend.text.text() != light  # the correctness colours are the dark theme's


def test_up_and_down_follow_the_drawn_order(qtbot):
    session = new_session()
    # inserted least likely first: the drawn order (by first-token probability) differs
    add(session, tokens(" a", p1=0.1), label="first token #3 ' a'")
    add(session, tokens(" b", p1=0.6), label="first token #1 ' b'")
    add(session, tokens(" c", p1=0.3), label="first token #2 ' c'")
    view = view_of(qtbot, session)
    drawn = ordered_children(session.tree, 0)
    assert drawn != session.tree.root.children
    rows = [view.node_items[n].pos().y() for n in drawn]
    assert rows == sorted(rows)  # drawn top to bottom in this order
    view.current = 0
    assert view._neighbour(Qt.Key.Key_Right) == drawn[0]
    view.current = drawn[0]
    assert view._neighbour(Qt.Key.Key_Down) == drawn[1]
    view.current = drawn[1]
    assert view._neighbour(Qt.Key.Key_Down) == drawn[2]
    assert view._neighbour(Qt.Key.Key_Up) == drawn[0]


def test_a_live_tree_grows_a_box_per_streaming_branch(qtbot):
    view = ReasoningTreeView()
    qtbot.addWidget(view)
    view.show()
    view.begin_live(None)
    assert view.live_items == {}
    view.update_live({0: (" I have", 2)})
    assert set(view.live_items) == {0}
    view.update_live({0: (" I have 3 apples", 5), 1: (" The", 1)})
    assert set(view.live_items) == {0, 1}
    label = view.live_items[0].childItems()[0].text()
    assert label.startswith("[1]") and "apples" in label and label.endswith("·5")
    view.end_live()
    session = new_session()
    add(session, tokens(" 8"), label="first token #1 ' 8'")
    view.show_session(session)
    assert view.live_items == {} and set(view.node_items) == set(session.tree.nodes)
