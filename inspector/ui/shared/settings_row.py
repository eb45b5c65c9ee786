"""The strategy and sampling settings of a run, in one row (run panel and experiments)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from inspector.core.prompts import PROMPT_STYLES
from inspector.core.session import STRATEGIES, RunSettings
from inspector.core.strategies import token_limit
from inspector.ui.shared.widgets import spin_box

TOOLTIPS = {
    "strategy": "greedy: one path · cot-decoding: one path per top-k first token · "
    "self-consistency: sampled paths, majority vote",
    "prompt": "how the question is put to the model",
    "k": "CoT-decoding: how many first tokens to branch on",
    "samples": "self-consistency: how many sampled paths vote",
    "temperature": "self-consistency: sampling temperature",
    "max tokens": "the longest a path may grow",
}


def expected_tokens(settings: RunSettings) -> int:
    """The most tokens a run of these settings can generate (for progress bars)."""
    branches = {"cot-decoding": settings.k, "self-consistency": settings.samples + 1}
    return token_limit(settings) * branches.get(settings.strategy, 1)


class SettingsRow(QWidget):
    def __init__(self, strategy: str = "cot-decoding", parent=None) -> None:
        super().__init__(parent)
        self.strategy = QComboBox()
        self.strategy.addItems(STRATEGIES)
        self.strategy.setCurrentText(strategy)
        self.prompt = QComboBox()
        self.prompt.addItems(PROMPT_STYLES)
        self.k = spin_box(1, 64, 10)
        self.samples = spin_box(1, 256, 10)
        self.max_tokens = spin_box(1, 4096, 64)
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=5.0, singleStep=0.1, value=0.7)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in [
            ("strategy", self.strategy), ("prompt", self.prompt), ("k", self.k),
            ("samples", self.samples), ("temperature", self.temperature),
            ("max tokens", self.max_tokens),
        ]:  # fmt: skip
            caption = QLabel(label)
            for item in (caption, widget):
                item.setToolTip(TOOLTIPS[label])
            row.addWidget(caption)
            row.addWidget(widget)
        row.addStretch(1)

    def values(self) -> RunSettings:
        return RunSettings(
            strategy=self.strategy.currentText(), prompt_style=self.prompt.currentText(),
            k=self.k.value(), samples=self.samples.value(),
            temperature=self.temperature.value(), max_tokens=self.max_tokens.value(),
        )  # fmt: skip

    def load(self, settings: RunSettings) -> None:
        self.strategy.setCurrentText(settings.strategy)
        self.prompt.setCurrentText(settings.prompt_style)
        self.k.setValue(settings.k)
        self.samples.setValue(settings.samples)
        self.temperature.setValue(settings.temperature)
        self.max_tokens.setValue(token_limit(settings))
