"""The sessions table is a well-behaved Qt item model."""

from __future__ import annotations

from PySide6.QtCore import Qt

from inspector.store.rows import SessionRow
from inspector.ui.sessions.table_model import SessionsTableModel

COLUMNS = SessionsTableModel.columns


def row(i: int, correct: bool | None) -> SessionRow:
    return SessionRow(
        id=f"s{i}", title="" if i % 2 else f"title {i}", question=f"question {i}\nline two",
        strategy="greedy", prompt_style="plain", status="complete", chosen_answer=str(i),
        correct=correct, consistency=0.5 if correct is not None else None, n_paths=i,
        created="2026-11-25T08:00:00+00:00", updated="2026-11-25T08:00:00+00:00", model="gemma3",
    )  # fmt: skip


def test_model_passes_qtmodeltester(qtmodeltester):
    model = SessionsTableModel()
    model.set_rows([row(i, [True, False, None][i % 3]) for i in range(7)])
    qtmodeltester.check(model)
    assert model.rowCount() == 7 and model.columnCount() == len(COLUMNS)


def test_cells_show_readable_values(qtmodeltester):
    model = SessionsTableModel()
    model.set_rows([row(1, True), row(2, None)])
    column = [key for key, _ in COLUMNS].index
    assert model.data(model.index(0, column("correct"))) == "✓"
    assert model.data(model.index(0, column("title"))) == "question 1\nline two"[:40]
    assert model.data(model.index(1, column("title"))) == "title 2"
    assert model.data(model.index(0, column("question"))) == "question 1 line two"
    assert model.data(model.index(1, column("consistency"))) == ""
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole) == "s1"
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Question"
    qtmodeltester.check(model)


def test_status_and_a_missing_answer_in_words(qtmodeltester):
    model = SessionsTableModel()
    rows = [row(1, True), row(2, None)]
    rows[1] = SessionRow(**{**rows[1].__dict__, "status": "interrupted", "chosen_answer": None})
    model.set_rows(rows)
    column = [key for key, _ in COLUMNS].index
    assert model.headerData(column("status"), Qt.Orientation.Horizontal) == "Status"
    assert model.data(model.index(0, column("status"))) == "complete"
    assert model.data(model.index(1, column("status"))) == "interrupted"
    tip = model.data(model.index(1, column("status")), Qt.ItemDataRole.ToolTipRole)
    assert "stopped during the run" in tip
    assert model.data(model.index(1, column("chosen_answer"))) == "no answer"
    qtmodeltester.check(model)
