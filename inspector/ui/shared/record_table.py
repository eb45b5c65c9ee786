"""A read-only table model over a list of plain records (dataclasses), one row each.

Subclasses name their columns and say how a cell is shown; sorting, tooltips and the
correctness colour work the same in every table of the app.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from inspector.ui.shared.colors import correctness_color

Index = QModelIndex | QPersistentModelIndex


class RecordTableModel(QAbstractTableModel):
    columns: tuple[tuple[str, str], ...] = ()  # (record attribute, header)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def display(self, record: Any, key: str) -> str:
        value = getattr(record, key)
        return "" if value is None else str(value)

    def tooltip(self, record: Any, key: str) -> str | None:
        return None

    def record_id(self, record: Any) -> Any:
        return record.id

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        record = self.rows[index.row()]
        key = self.columns[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(record, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(record, key)
        if role == Qt.ItemDataRole.ForegroundRole and key == "correct":
            return correctness_color(record.correct)
        if role == Qt.ItemDataRole.UserRole:
            return self.record_id(record)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][1] if 0 <= section < len(self.columns) else None
        return None

    def id_at(self, row: int) -> Any:
        return self.record_id(self.rows[row]) if 0 <= row < len(self.rows) else None


def mark(correct: bool | None) -> str:
    return {True: "✓", False: "✗", None: ""}[correct]


def one_line(text: str, limit: int = 120) -> str:
    return " ".join(text.split())[:limit]
