"""Question, strategy and prompt settings, Run (Ctrl+Enter) / Cancel, and progress."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inspector.core.prompts import PROMPT_STYLES
from inspector.core.session import STRATEGIES, RunSettings
from inspector.ui.widgets import spin_box

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
        self.question.setMaximumHeight(70)
        self.gold = QLineEdit(placeholderText="gold answer (optional)")
        self.strategy = QComboBox()
        self.strategy.addItems(STRATEGIES)
        self.strategy.setCurrentText("cot-decoding")
        self.prompt = QComboBox()
        self.prompt.addItems(PROMPT_STYLES)
        self.k = spin_box(1, 64, 10)
        self.samples = spin_box(1, 256, 10)
        self.max_tokens = spin_box(1, 4096, 64)
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=5.0, singleStep=0.1, value=0.7)
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
            QShortcut(QKeySequence(keys), self, activated=self._run_if_ready)

    def _layout(self) -> None:
        settings = QFormLayout()
        row = QHBoxLayout()
        for label, widget in [
            ("strategy", self.strategy), ("prompt", self.prompt), ("k", self.k),
            ("samples", self.samples), ("temperature", self.temperature),
            ("max tokens", self.max_tokens),
        ]:  # fmt: skip
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        settings.addRow(row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.gold)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addLayout(settings)
        layout.addLayout(buttons)

    def _run_if_ready(self) -> None:
        if self.run_button.isEnabled():
            self.runRequested.emit()

    def values(self) -> tuple[str, str | None, RunSettings]:
        gold = self.gold.text().strip() or None
        settings = RunSettings(
            strategy=self.strategy.currentText(), prompt_style=self.prompt.currentText(),
            k=self.k.value(), samples=self.samples.value(),
            temperature=self.temperature.value(), max_tokens=self.max_tokens.value(),
        )  # fmt: skip
        return self.question.toPlainText().strip(), gold, settings

    def load(self, question: str, gold: str | None, settings: RunSettings) -> None:
        """Fill the panel from a saved session."""
        self.question.setPlainText(question)
        self.gold.setText(gold or "")
        self.strategy.setCurrentText(settings.strategy)
        self.prompt.setCurrentText(settings.prompt_style)
        self.k.setValue(settings.k)
        self.samples.setValue(settings.samples)
        self.temperature.setValue(settings.temperature)
        self.max_tokens.setValue(settings.max_tokens)

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
