"""A table model of saved sessions (a real QAbstractTableModel, checked with qtmodeltester)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from inspector.store.rows import SessionRow
from inspector.ui.colors import correctness_color

COLUMNS: tuple[tuple[str, str], ...] = (
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

Index = QModelIndex | QPersistentModelIndex


def display_value(row: SessionRow, key: str) -> str:
    value = getattr(row, key)
    if key == "correct":
        return {True: "✓", False: "✗", None: ""}[value]
    if key == "consistency":
        return "" if value is None else f"{value:.2f}"
    if key == "created":
        return value[:16].replace("T", " ")
    if key == "title":
        return value or row.question[:40]
    if key == "question":
        return " ".join(value.split())[:120]
    return "" if value is None else str(value)


class SessionsTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[SessionRow] = []

    def set_rows(self, rows: list[SessionRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return display_value(row, key)
        if role == Qt.ItemDataRole.ToolTipRole and key in ("question", "title"):
            return row.question
        if role == Qt.ItemDataRole.ForegroundRole and key == "correct":
            return correctness_color(row.correct)
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1] if 0 <= section < len(COLUMNS) else None
        return None

    def session_id(self, row: int) -> str | None:
        return self.rows[row].id if 0 <= row < len(self.rows) else None
