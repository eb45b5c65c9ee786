"""The studies of one session (Sessions panel ▸ Studies…): pick one to open its window."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.store.studies import StudyRow
from inspector.ui.studies.table_models import StudyListModel


class StudyListDialog(QDialog):
    studyChosen = Signal(int)

    def __init__(self, studies: list[StudyRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Studies of this session")
        self.model = StudyListModel(self)
        self.model.set_rows(studies)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda index: self.choose(index.row()))
        self.table.selectRow(0)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Close
        )
        buttons.accepted.connect(self._open_selected)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(620, 280)

    def _open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.choose(rows[0].row())

    def choose(self, row: int) -> None:
        study_id = self.model.id_at(row)
        if study_id is not None:
            self.studyChosen.emit(int(study_id))
            self.accept()
