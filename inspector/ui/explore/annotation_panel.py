"""Annotate the shown path, or the step (token range) selected in it: label, note, tags.

Each annotation is written to the database the moment it is added. When another path (or
session) is shown the label, note and tags start empty again, so a label meant for one path is
never left waiting for the next; the label box is as wide as its longest label.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inspector.core.display import TOKEN_RANGE_NOTE
from inspector.core.display import token_range as format_range
from inspector.store import Store
from inspector.store.rows import Annotation

NO_LABEL = "(no label)"


class AnnotationPanel(QWidget):
    saved = Signal(str)  # a status message

    def __init__(self, db_path: Path, parent=None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.session_id: str | None = None
        self.path_id: int | None = None
        self.token_range: tuple[int, int] | None = None
        self.label = QComboBox()
        self.label.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.note = QLineEdit(placeholderText="note")
        self.tags = QLineEdit(placeholderText="tags, comma-separated")
        self.target = QLabel()
        self.target.setToolTip(TOKEN_RANGE_NOTE)  # the one convention, as the exports state it
        self.new_label_button = QToolButton()
        self.new_label_button.setText("+")
        self.new_label_button.setToolTip("add a label to the label set")
        self.new_label_button.clicked.connect(self.new_label_dialog)
        self.add_button = QPushButton("Annotate")
        self.add_button.clicked.connect(self.add)
        self.existing = QLabel()
        self.existing.setWordWrap(True)
        row = QHBoxLayout()
        for widget, stretch in [(self.target, 0), (self.label, 0), (self.new_label_button, 0),
                                (self.note, 2), (self.tags, 1), (self.add_button, 0)]:  # fmt: skip
            row.addWidget(widget, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.existing)
        self.set_target(None, None)

    def set_target(
        self,
        session_id: str | None,
        path_id: int | None,
        token_range: tuple[int, int] | None = None,
    ) -> None:
        if (session_id, path_id) != (self.session_id, self.path_id):
            self.label.setCurrentIndex(0)  # "(no label)": nothing carried over
            self.note.clear()
            self.tags.clear()
        self.session_id, self.path_id, self.token_range = session_id, path_id, token_range
        self.add_button.setEnabled(session_id is not None)
        where = "session" if path_id is None else f"path #{path_id}"
        if token_range is not None:
            where += f", {format_range(*token_range)}"
        self.target.setText(where)
        if session_id is not None:
            self.refresh()
        else:
            self.existing.clear()

    def refresh(self) -> None:
        if self.session_id is None:
            return
        with Store.open(self.db_path) as store:
            labels = store.labels()
            notes = store.annotations(self.session_id, self.path_id)
        if self.label.count() != len(labels) + 1:
            self.label.clear()
            self.label.addItems([NO_LABEL, *labels])
        self.existing.setText("<br>".join(describe(a) for a in notes))

    def new_label_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "New label", "Label name (e.g. arithmetic slip):")
        if ok and name.strip():
            self.add_label(name)

    def add_label(self, name: str) -> bool:
        """Add ``name`` to the label set (kept in the database) and select it."""
        try:
            with Store.open(self.db_path) as store:
                store.add_label(name)
                labels = store.labels()
        except ValueError as error:
            self.saved.emit(f"Could not add the label: {error}")
            return False
        self.label.clear()
        self.label.addItems([NO_LABEL, *labels])
        self.label.setCurrentText(name.strip())
        self.saved.emit(f"Label {name.strip()!r} added")
        return True

    def add(self) -> None:
        if self.session_id is None:
            return
        label = self.label.currentText()
        tags = [t.strip() for t in self.tags.text().split(",") if t.strip()]
        start, end = self.token_range or (None, None)
        try:
            with Store.open(self.db_path) as store:
                store.add_annotation(
                    self.session_id, None if label == NO_LABEL else label, path_id=self.path_id,
                    token_start=start, token_end=end, note=self.note.text().strip(), tags=tags,
                )  # fmt: skip
        except ValueError as error:
            self.saved.emit(f"Could not save the annotation: {error}")
            return
        self.note.clear()
        self.tags.clear()
        self.refresh()
        self.saved.emit("Annotation saved")


def describe(annotation: Annotation) -> str:
    start, end = annotation.token_start, annotation.token_end
    where = "" if start is None or end is None else f" {format_range(start, end)}"
    tags = " ".join(f"#{html.escape(t)}" for t in annotation.tags)
    label = html.escape(annotation.label or "")
    return f"✎ <b>{label}</b>{where} {html.escape(annotation.note)} {tags}".strip()
