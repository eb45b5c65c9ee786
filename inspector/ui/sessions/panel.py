"""Saved sessions: full-text search, filter by strategy, open, rename, delete with undo.

The list takes the panel's room: the filters above it, the actions in a compact block beside
it (not a row of their own), the question column stretching so no sideways scrolling is
needed to see a session's status and answer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.session import STRATEGIES
from inspector.store import Store
from inspector.ui.sessions.table_model import SessionsTableModel
from inspector.ui.shared.workers import run_in_pool
from inspector.ui.studies.study_list import StudyListDialog

# narrow columns for short values; the question stretches into the rest
COLUMN_WIDTHS = {
    "title": 130, "strategy": 110, "status": 85, "prompt_style": 95, "chosen_answer": 80,
    "correct": 60, "consistency": 90, "n_paths": 50, "n_studies": 55, "model": 110,
    "created": 120,
}  # fmt: skip


class SessionsPanel(QWidget):
    """Lists sessions from the database; every query runs on a pool thread."""

    openRequested = Signal(str)
    compareRequested = Signal(str, str)
    rerunRequested = Signal(str)
    studyRequested = Signal(int)  # a saved study to open
    message = Signal(str)

    def __init__(self, db_path: Path, parent=None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.model = SessionsTableModel(self)
        self.search = QLineEdit(placeholderText="Search questions, paths and notes…")
        self.strategy = QComboBox()
        self.strategy.addItems(["all strategies", *STRATEGIES])
        self.model_filter = QLineEdit(placeholderText="model…")
        self.label_filter = QComboBox()
        self.label_filter.addItem("any label")
        self.tag_filter = QLineEdit(placeholderText="tag…")
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setDefaultSectionSize(96)
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the question
        for key, width in COLUMN_WIDTHS.items():
            self.table.setColumnWidth(self.model.column(key), width)
        self.table.setMinimumHeight(self.table.verticalHeader().defaultSectionSize() * 4 + 28)
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.undo_button = QPushButton("Undo delete")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo_delete)
        buttons = QGridLayout()
        actions = [
            ("Open", self._open_selected, "show the selected session in Explore"),
            ("Compare two", self.compare_selected, "two selected sessions side by side"),
            ("Re-run…", self.rerun_selected, "put its question and settings in the editor"),
            ("Rename…", self.rename_selected, "give the selected session a title"),
            ("Delete", self.delete_selected, "delete the selected session (Undo restores it)"),
            ("Studies…", self.studies_selected, "the resampling studies of the selected session"),
        ]
        for i, (text, slot, tip) in enumerate(actions):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button, i // 2, i % 2)
        buttons.addWidget(self.undo_button, 3, 0)
        buttons.setRowStretch(4, 1)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        for widget in (self.strategy, self.model_filter, self.label_filter, self.tag_filter):
            top.addWidget(widget)
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        body.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        self._deleted: list[str] = []
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._debounce.start)
        self.strategy.currentIndexChanged.connect(self.refresh)
        self.label_filter.currentIndexChanged.connect(self.refresh)
        self.model_filter.textChanged.connect(self._debounce.start)
        self.tag_filter.textChanged.connect(self._debounce.start)

    def _query(self):
        search = self.search.text().strip() or None
        strategy = self.strategy.currentText() if self.strategy.currentIndex() > 0 else None
        model = self.model_filter.text().strip() or None
        label = self.label_filter.currentText() if self.label_filter.currentIndex() > 0 else None
        tag = self.tag_filter.text().strip() or None
        db_path = self.db_path

        def query():
            with Store.open(db_path) as store:
                rows = store.list_sessions(search, strategy, model, label=label, tag=tag)
                counts: dict[str, int] = {}
                for study in store.list_studies():
                    counts[study.session_id] = counts.get(study.session_id, 0) + 1
                return rows, store.labels(), counts

        return query

    def _show_rows(self, result) -> None:
        rows, labels, counts = result
        self.model.studies = counts
        self.model.set_rows(rows)
        if self.label_filter.count() != len(labels) + 1:
            self.label_filter.blockSignals(True)
            self.label_filter.clear()
            self.label_filter.addItems(["any label", *labels])
            self.label_filter.blockSignals(False)

    def refresh(self) -> None:
        run_in_pool(self._query(), self._show_rows, self.message.emit)

    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _open(self, row: int) -> None:
        session_id = self.model.session_id(row)
        if session_id:
            self.openRequested.emit(session_id)

    def _open_selected(self) -> None:
        row = self._selected_row()
        if row is not None:
            self._open(row)

    def _write(self, action, done_message: str) -> None:
        try:
            with Store.open(self.db_path) as store:
                action(store)
        except ValueError as error:
            self.message.emit(str(error))
            return
        self.message.emit(done_message)
        self.refresh()

    def compare_selected(self) -> None:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        if len(rows) != 2:
            self.message.emit("Select two sessions to compare (Ctrl+click)")
            return
        first, second = (self.model.session_id(row) for row in rows)
        if first and second:
            self.compareRequested.emit(first, second)

    def rerun_selected(self) -> None:
        row = self._selected_row()
        session_id = self.model.session_id(row) if row is not None else None
        if session_id:
            self.rerunRequested.emit(session_id)

    def studies_selected(self) -> None:
        """The selected session's studies, in a list to open them from."""
        row = self._selected_row()
        session_id = self.model.session_id(row) if row is not None else None
        if session_id is None:
            self.message.emit("Select a session to see its studies")
            return
        try:
            with Store.open(self.db_path) as store:
                studies = store.list_studies(session_id)
        except ValueError as error:
            self.message.emit(str(error))
            return
        if not studies:
            self.message.emit(
                "This session has no studies yet (Study ▸ Find forking tokens… on a path)"
            )
            return
        dialog = StudyListDialog(studies, self)
        dialog.studyChosen.connect(self.studyRequested.emit)
        self.study_list = dialog
        dialog.open()

    def rename_selected(self) -> None:
        row = self._selected_row()
        if row is None:
            return
        current = self.model.rows[row]
        title, ok = QInputDialog.getText(self, "Rename session", "Title:", text=current.title)
        if ok:
            self._write(lambda s: s.rename_session(current.id, title.strip()), "Session renamed")

    def delete_selected(self) -> None:
        row = self._selected_row()
        session_id = self.model.session_id(row) if row is not None else None
        if session_id is None:
            return
        self._deleted.append(session_id)
        self.undo_button.setEnabled(True)
        self._write(lambda s: s.delete_session(session_id), "Session deleted (Undo restores it)")

    def undo_delete(self) -> None:
        if not self._deleted:
            return
        session_id = self._deleted.pop()
        self.undo_button.setEnabled(bool(self._deleted))
        self._write(lambda s: s.restore_session(session_id), "Session restored")
