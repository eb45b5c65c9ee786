"""A table model of saved sessions (a real QAbstractTableModel, checked with qtmodeltester)."""

from __future__ import annotations

from inspector.store.rows import SessionRow
from inspector.ui.shared.record_table import RecordTableModel, mark, one_line


class SessionsTableModel(RecordTableModel):
    columns = (
        ("title", "Session"),
        ("question", "Question"),
        ("strategy", "Strategy"),
        ("prompt_style", "Prompt"),
        ("chosen_answer", "Answer"),
        ("correct", "Correct"),
        ("consistency", "Consistency"),
        ("n_paths", "Paths"),
        ("model", "Model"),
        ("created", "Created"),
    )

    def display(self, record: SessionRow, key: str) -> str:
        value = getattr(record, key)
        if key == "correct":
            return mark(value)
        if key == "consistency":
            return "" if value is None else f"{value:.2f}"
        if key == "created":
            return value[:16].replace("T", " ")
        if key == "title":
            return value or record.question[:40]
        if key == "question":
            return one_line(value)
        return super().display(record, key)

    def tooltip(self, record: SessionRow, key: str) -> str | None:
        return record.question if key in ("question", "title") else None

    def session_id(self, row: int) -> str | None:
        return self.id_at(row)
