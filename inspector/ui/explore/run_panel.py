"""Question, strategy and prompt settings, Run (Ctrl+Enter) / Cancel, and progress.

Tab in the question box moves the focus on (a question needs no tab character), so the whole
panel can be used from the keyboard.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inspector.core.session import RunSettings
from inspector.ui.shared.settings_row import SettingsRow

DEFAULT_QUESTION = (
    "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"
)


class RunPanel(QWidget):
    runRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.question = QPlainTextEdit(DEFAULT_QUESTION)
        self.question.setPlaceholderText("Type a question, then press Ctrl+Enter")
        self.question.setTabChangesFocus(True)
        lines = self.question.fontMetrics().lineSpacing()
        self.question.setMinimumHeight(2 * lines + 12)  # two lines at least, three by default
        self.question.setMaximumHeight(3 * lines + 12)
        self.gold = QLineEdit(placeholderText="gold answer (optional)")
        self.settings = SettingsRow()
        for name in ("strategy", "prompt", "k", "samples", "temperature", "max_tokens"):
            setattr(self, name, getattr(self.settings, name))
        self.run_button = QPushButton("Run  (Ctrl+Enter)")
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.runRequested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m tokens")
        self._layout()
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self._run_if_ready)

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.gold)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.question)
        layout.addWidget(self.settings)
        layout.addLayout(buttons)

    def _run_if_ready(self) -> None:
        if self.run_button.isEnabled():
            self.runRequested.emit()

    def values(self) -> tuple[str, str | None, RunSettings]:
        gold = self.gold.text().strip() or None
        settings = self.settings.values()
        return self.question.toPlainText().strip(), gold, settings

    def load(self, question: str, gold: str | None, settings: RunSettings) -> None:
        """Fill the panel from a saved session."""
        self.question.setPlainText(question)
        self.gold.setText(gold or "")
        self.settings.load(settings)

    def set_ready(self, ready: bool) -> None:
        self.run_button.setEnabled(ready)

    def set_running(self, running: bool, expected_tokens: int = 0) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, expected_tokens)
            self.progress.setValue(0)
        else:
            self.progress.setValue(self.progress.maximum())

    def advance(self, tokens: int = 1) -> None:
        self.progress.setValue(min(self.progress.maximum(), self.progress.value() + tokens))
