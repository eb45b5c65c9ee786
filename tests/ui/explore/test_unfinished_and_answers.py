"""Unfinished paths in the tree and the answers table; the summary's counts, Δ spread,
tie-break and consistency definition — on recorded paths and on a real CoT-decoding run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from inspector.ui.explore.answers_panel import PATH_COLUMNS, AnswersPanel
from inspector.ui.explore.tree_view import ReasoningTreeView
from tests.ui.conftest import run_and_wait
from tests.ui.explore.recorded import mixed_session


def answers_for(qtbot, session) -> AnswersPanel:
    panel = AnswersPanel()
    qtbot.addWidget(panel)
    panel.show_session(session)
    return panel


def table_text(panel: AnswersPanel) -> list[list[str]]:
    return [
        [panel.cell(row, column) for column in PATH_COLUMNS]
        for row in range(panel.table.rowCount())
    ]


def test_tree_marks_unfinished_ends_dotted_with_a_badge(qtbot):
    session = mixed_session()
    view = ReasoningTreeView()
    qtbot.addWidget(view)
    view.show_session(session)
    unfinished = {p.node_id for p in session.paths if not p.completed}
    finished = {p.node_id for p in session.paths if p.completed}
    assert view.unfinished_ends == unfinished
    for node_id in unfinished:
        item = view.node_items[node_id]
        assert item.pen().style() == Qt.PenStyle.DotLine
        assert "unfinished" in item.toolTip()
    for node_id in finished:
        assert view.node_items[node_id].pen().style() == Qt.PenStyle.SolidLine
    labels = [i.text() for i in view.scene().items() if hasattr(i, "text") and "→" in i.text()]
    assert any("#2 → no answer … limit" in label for label in labels)
    assert any("#3 → no answer … thinking" in label for label in labels)
    assert any(label.startswith("★#0 → 8") and "…" not in label for label in labels)
    assert not any("None" in label for label in labels)


def test_answers_table_marks_unfinished_and_splits_thinking_from_answer_tokens(qtbot):
    session = mixed_session()
    panel = answers_for(qtbot, session)
    rows = table_text(panel)
    column = {name: i for i, name in enumerate(PATH_COLUMNS)}
    by_id = {row[0]: row for row in rows}
    assert [by_id[f"#{i}"][column["finished"]] for i in range(5)] == [
        "✓", "✓", "… limit", "… thinking", "✓",
    ]  # fmt: skip
    # path 0: 7 thinking tokens, 5 after them; path 1 has no thinking section
    assert (by_id["#0"][column["thinking"]], by_id["#0"][column["answer tokens"]]) == ("7", "5")
    assert (by_id["#1"][column["thinking"]], by_id["#1"][column["answer tokens"]]) == ("0", "4")
    assert by_id["#2"][column["answer"]] == "—" and by_id["#2"][column["found by"]] == "—"
    assert by_id["#0"][column["found by"]] == "\\boxed"
    assert by_id["#4"][column["found by"]] == "the answer probe"
    item = panel.table.item(2, column["finished"])
    assert item is not None and item.font().italic()
    assert "stopped at the 16-token limit — unfinished" in item.toolTip()
    header = panel.table.horizontalHeaderItem(column["finished"])
    assert header is not None and "unfinished" in header.toolTip()
    for row in rows:
        for cell in row:
            assert "None" not in cell and cell.lower() != "nan"


def test_summary_counts_finished_and_answered_paths_and_explains_its_numbers(qtbot):
    session = mixed_session()
    summary = session.summary()
    panel = answers_for(qtbot, session)
    text = panel.summary.text()
    assert "3 of 5 paths finished, 3 answered (only answered paths vote)" in text
    assert "2 hit the 16-token limit" in text
    low, high = summary.delta_range
    assert f"Δ of answered paths {low:.3f}–{high:.3f}" in text
    assert "ties on Δ go to the answer's mean log-probability" in text
    assert "2 paths tied on Δ" in text
    assert "consistency 0.67 (share of answered paths that agree with the majority)" in text
    assert "some path correct (pass@k): yes" in text
    assert "None" not in text and "nan" not in text


def test_a_narrow_delta_spread_is_called_out(qtbot):
    from tests.ui.explore.recorded import add, new_session, tokens

    session = new_session()
    add(session, tokens(" 8", ".", p1=0.999, p2=0.0005), label="first token #1")
    add(session, tokens(" is", " 7", ".", p1=0.998, p2=0.001), label="first token #2")
    text = answers_for(qtbot, session).summary.text()
    assert "Δ of answered paths 0.997–0.999 — too close to separate the paths" in text


def test_a_real_run_cut_by_the_token_limit_is_marked_everywhere(qtbot, window):
    """CoT-decoding on the default model with 8 tokens: the branches are cut mid-sentence."""
    run_and_wait(qtbot, window, strategy="cot-decoding", k=3, max_tokens=8)
    explore = window.explore
    session = explore.session
    assert session is not None and session.status == "complete"
    cut = [p for p in session.paths if p.finish_reason == "length"]
    assert cut, "8 tokens should cut at least one branch"
    summary = session.summary()
    text = explore.answers.summary.text()
    assert (
        f"{summary.n_completed} of {summary.n_voting} paths finished, "
        f"{summary.n_answered} answered" in text
    )
    assert "consistency" in text and "share of answered paths" in text
    assert explore.tree_view.unfinished_ends >= {p.node_id for p in cut}
    finished_column = PATH_COLUMNS.index("finished")
    for path in cut:
        row = explore.answers.path_row(path)
        assert row is not None
        assert explore.answers.cell(row, PATH_COLUMNS[finished_column]) == "… limit"
        assert path.answer is None or path.answer_rule != "last-number"
    explore.show_path(cut[0].id)
    assert "stopped at the 8-token limit — unfinished" in explore.path_view.toPlainText()
