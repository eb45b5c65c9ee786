"""The strategy, sampling and answer settings of a run (run panel and experiments).

Two rows: what to run (strategy, prompt, k, samples, temperature, seed) and how long paths may
grow and how their answers are found (max tokens, the answer rule, the chat template, the
answer probe). Only the chosen strategy's own settings are shown: k for CoT-decoding;
samples, temperature and the seed (with a "new seed" button, so a re-run can draw other
samples) for self-consistency. Adaptive branching adds a third row (when a position branches,
into how many alternatives, how deep, the token budget, greedy or sampled continuations) and
shows the temperature and the seed, used when its continuations are sampled. "auto" leaves a
setting to the model: max tokens its kind's default, the chat template used when it has one.
"""

from __future__ import annotations

import random

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inspector.core.answers import ANSWER_RULES, parse_rule
from inspector.core.limits import RUN_LIMITS
from inspector.core.probe import DEFAULT_PROBE, check_probe_text
from inspector.core.prompts import PROMPT_STYLES
from inspector.core.session import STRATEGIES, RunSettings
from inspector.core.strategies import token_limit
from inspector.ui.shared.widgets import spin_box

AUTO = "auto"
TEMPLATE_CHOICES: dict[str, bool | None] = {AUTO: None, "on": True, "off": False}

TOOLTIPS = {
    "strategy": "greedy: one path · cot-decoding: one path per top-k first token · "
    "self-consistency: sampled paths, majority vote",
    "prompt": "how the question is put to the model",
    "k": "CoT-decoding: how many first tokens to branch on",
    "samples": "self-consistency: how many sampled paths vote",
    "temperature": "self-consistency: sampling temperature",
    "seed": "self-consistency: the sampling seed, stored with the session · the same seed "
    "draws the same samples again; “new seed” picks another",
    "max tokens": "the longest a path may grow; auto: the default for the model's kind "
    "(base, instruct or thinking)",
    "answer rule": "how a path's answer is found · auto: the last \\boxed{…}, else the last "
    "#### X, else the last “answer is X”, else the last number (finished paths only) · "
    "or type regex:PATTERN",
    "chat template": "put the prompt through the model's chat template · auto: when the "
    "model has one (instruct and thinking models)",
    "answer probe": "after each path ends, append this text and decode a few tokens greedily; "
    "Δ is measured on the answer that follows (CoT-decoding's answer probe); its tokens are "
    "shown after the path, apart from its own text",
    "probe tokens": "how many tokens are decoded after the probe text",
    "branch if entropy >": "adaptive: a position branches when the entropy of the model's "
    "next-token distribution is above this (nats; a uniform choice among N tokens has ln N)…",
    "or margin <": "…or when p(top-1) − p(top-2) there is below this",
    "into ≤": "adaptive: alternatives per branch point, at most (the most likely first)",
    "with p ≥": "adaptive: an alternative branches only if the model gives it at least this "
    "probability there",
    "depth ≤": "adaptive: branch points per path — how many any path from the prompt to a "
    "leaf may pass; the tree has at most (alternatives + 1) ^ this many leaves",
    "budget": "adaptive: the token budget, the most tokens the whole run may decode; a branch "
    "starts only "
    "when what is left holds its whole max tokens (the most likely branches first)",
    "sample": "adaptive: continue every branch by sampling (temperature, seed) instead of "
    "greedily; each branch's random stream is named by its place in the tree",
}


def expected_tokens(settings: RunSettings) -> int:
    """The most tokens a run of these settings can generate (for progress bars)."""
    if settings.strategy == "adaptive":  # the largest tree the depth allows, within the budget
        leaves = (settings.branch_width + 1) ** settings.branch_depth
        return min(settings.token_budget, token_limit(settings) * leaves)
    branches = {"cot-decoding": settings.k, "self-consistency": settings.samples + 1}
    return token_limit(settings) * branches.get(settings.strategy, 1)


# the settings only one strategy uses (the others are shown for every strategy)
STRATEGY_SETTINGS: dict[str, tuple[str, ...]] = {
    "greedy": (),
    "cot-decoding": ("k",),
    "self-consistency": ("samples", "temperature", "seed"),
    "adaptive": ("temperature", "seed"),  # used when its continuations are sampled
}


def _specific_settings() -> list[str]:
    """Every strategy-specific setting once, in the order the strategies list them."""
    return list(dict.fromkeys(n for names in STRATEGY_SETTINGS.values() for n in names))


def captioned(row: QHBoxLayout, label: str, widget: QWidget) -> QLabel:
    caption = QLabel(label)
    for item in (caption, widget):
        item.setToolTip(TOOLTIPS[label])
    row.addWidget(caption)
    row.addWidget(widget)
    return caption


class SettingsRow(QWidget):
    def __init__(self, strategy: str = "cot-decoding", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strategy = QComboBox()
        self.strategy.addItems(STRATEGIES)
        self.strategy.setCurrentText(strategy)
        self.prompt = QComboBox()
        self.prompt.addItems(PROMPT_STYLES)
        k, samples = RUN_LIMITS["k"], RUN_LIMITS["samples"]  # the ranges of docs/limits.md
        self.k = spin_box(int(k.low), int(k.high), 10)
        self.samples = spin_box(int(samples.low), int(samples.high), 10)
        limit = RUN_LIMITS["max_tokens"]
        self.max_tokens = spin_box(0, int(limit.high), 0)
        self.max_tokens.setSpecialValueText(AUTO)  # 0: the model kind's default
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(RUN_LIMITS["temperature"].low, RUN_LIMITS["temperature"].high)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.7)
        # every seed of RUN_LIMITS (up to 2³² − 1, beyond a QSpinBox), as whole numbers
        self.seed = QDoubleSpinBox(decimals=0)
        self.seed.setRange(RUN_LIMITS["seed"].low, RUN_LIMITS["seed"].high)
        self.new_seed = QPushButton("new seed")
        self.new_seed.setToolTip(TOOLTIPS["seed"])
        self.new_seed.clicked.connect(self.draw_seed)
        self.answer_rule = QComboBox()
        self.answer_rule.setEditable(True)  # regex:PATTERN may be typed
        self.answer_rule.addItems(ANSWER_RULES)
        self.answer_rule.setCurrentText(AUTO)
        self.chat_template = QComboBox()
        self.chat_template.addItems(list(TEMPLATE_CHOICES))
        self.probe = QCheckBox("answer probe")
        self.probe.setToolTip(TOOLTIPS["answer probe"])
        self.probe_text = QLineEdit(DEFAULT_PROBE)
        self.probe_text.setToolTip(TOOLTIPS["answer probe"])
        probe_limit = RUN_LIMITS["probe_tokens"]
        self.probe_tokens = spin_box(int(probe_limit.low), int(probe_limit.high), 8)
        for widget in (self.probe_text, self.probe_tokens):
            widget.setEnabled(False)
            self.probe.toggled.connect(widget.setEnabled)
        self._adaptive_widgets()
        # each strategy-specific setting's widgets (caption, box, button), shown with it
        self.strategy_widgets: dict[str, list[QWidget]] = {}
        self._layout()
        self.strategy.currentTextChanged.connect(self._show_strategy_settings)
        self._show_strategy_settings(self.strategy.currentText())

    def _adaptive_widgets(self) -> None:
        defaults = RunSettings()

        def number(name: str, step: float, decimals: int) -> QDoubleSpinBox:
            limit = RUN_LIMITS[name]
            box = QDoubleSpinBox(decimals=decimals)
            box.setRange(limit.low, limit.high)
            box.setSingleStep(step)
            box.setValue(getattr(defaults, name))
            return box

        def whole(name: str) -> QSpinBox:
            limit = RUN_LIMITS[name]
            return spin_box(int(limit.low), int(limit.high), getattr(defaults, name))

        self.branch_entropy = number("branch_entropy", 0.1, 2)
        self.branch_margin = number("branch_margin", 0.05, 2)
        self.branch_min_prob = number("branch_min_prob", 0.01, 3)
        self.branch_width = whole("branch_width")
        self.branch_depth = whole("branch_depth")
        self.token_budget = whole("token_budget")
        self.token_budget.setSingleStep(1024)
        self.adaptive_sample = QCheckBox("sample")
        self.adaptive_sample.setToolTip(TOOLTIPS["sample"])
        self.adaptive_sample.toggled.connect(self._enable_sampling)
        self.adaptive_row = QWidget()

    def _layout(self) -> None:
        run = QHBoxLayout()
        for label, widget in [
            ("strategy", self.strategy), ("prompt", self.prompt), ("k", self.k),
            ("samples", self.samples), ("temperature", self.temperature), ("seed", self.seed),
        ]:  # fmt: skip
            caption = captioned(run, label, widget)
            self.strategy_widgets[label] = [caption, widget]
            if label == "seed":
                run.addWidget(self.new_seed)
                self.strategy_widgets[label].append(self.new_seed)
        run.addStretch(1)
        answers = QHBoxLayout()
        captioned(answers, "max tokens", self.max_tokens)
        captioned(answers, "answer rule", self.answer_rule)
        captioned(answers, "chat template", self.chat_template)
        answers.addWidget(self.probe)
        answers.addWidget(self.probe_text, 1)
        captioned(answers, "probe tokens", self.probe_tokens)
        answers.addStretch(1)
        adaptive = QHBoxLayout(self.adaptive_row)
        adaptive.setContentsMargins(0, 0, 0, 0)
        for label, widget in [
            ("branch if entropy >", self.branch_entropy), ("or margin <", self.branch_margin),
            ("into ≤", self.branch_width), ("with p ≥", self.branch_min_prob),
            ("depth ≤", self.branch_depth), ("budget", self.token_budget),
        ]:  # fmt: skip
            captioned(adaptive, label, widget)
        adaptive.addWidget(self.adaptive_sample)
        adaptive.addStretch(1)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addLayout(run)
        rows.addWidget(self.adaptive_row)
        rows.addLayout(answers)

    def _show_strategy_settings(self, strategy: str) -> None:
        """Show the settings ``strategy`` uses, hide the ones only another strategy uses."""
        own = STRATEGY_SETTINGS.get(strategy, ())
        for name in _specific_settings():
            for widget in self.strategy_widgets[name]:
                widget.setVisible(name in own)
        self.adaptive_row.setVisible(strategy == "adaptive")
        self._enable_sampling()

    def _enable_sampling(self) -> None:
        """An adaptive run samples only when asked: its temperature and seed otherwise wait."""
        used = self.strategy.currentText() != "adaptive" or self.adaptive_sample.isChecked()
        for name in ("temperature", "seed"):
            for widget in self.strategy_widgets[name]:
                widget.setEnabled(used)

    def shown_settings(self) -> list[str]:
        """The strategy-specific settings on screen now (k, samples, temperature, seed)."""
        return [n for n in _specific_settings() if not self.strategy_widgets[n][1].isHidden()]

    def draw_seed(self) -> None:
        """A new random seed, so the next self-consistency run draws other samples."""
        current = int(self.seed.value())
        seed = current
        while seed == current:
            seed = random.randint(0, int(RUN_LIMITS["seed"].high))
        self.seed.setValue(seed)

    def values(self) -> RunSettings:
        """The settings shown; ``ValueError`` with one clear message for an answer rule that
        does not parse or an answer probe switched on with no text."""
        rule = self.answer_rule.currentText().strip() or AUTO
        parse_rule(rule)
        probe = self.probe_text.text().strip() if self.probe.isChecked() else ""
        if self.probe.isChecked():
            check_probe_text(probe)
        return RunSettings(
            strategy=self.strategy.currentText(), prompt_style=self.prompt.currentText(),
            k=self.k.value(), samples=self.samples.value(),
            temperature=self.temperature.value(), seed=int(self.seed.value()),
            max_tokens=self.max_tokens.value() or None,
            answer_rule=rule, use_chat_template=TEMPLATE_CHOICES[self.chat_template.currentText()],
            answer_probe=probe, probe_tokens=self.probe_tokens.value(),
            branch_entropy=self.branch_entropy.value(), branch_margin=self.branch_margin.value(),
            branch_min_prob=self.branch_min_prob.value(), branch_width=self.branch_width.value(),
            branch_depth=self.branch_depth.value(), token_budget=self.token_budget.value(),
            adaptive_sample=self.adaptive_sample.isChecked(),
        )  # fmt: skip

    def load(self, settings: RunSettings) -> None:
        self.strategy.setCurrentText(settings.strategy)
        self.prompt.setCurrentText(settings.prompt_style)
        self.k.setValue(settings.k)
        self.samples.setValue(settings.samples)
        self.temperature.setValue(settings.temperature)
        self.seed.setValue(settings.seed)
        self.max_tokens.setValue(settings.max_tokens or 0)
        self.answer_rule.setCurrentText(settings.answer_rule)
        template = {None: AUTO, True: "on", False: "off"}[settings.use_chat_template]
        self.chat_template.setCurrentText(template)
        self.probe.setChecked(bool(settings.answer_probe))
        self.probe_text.setText(settings.answer_probe or DEFAULT_PROBE)
        self.probe_tokens.setValue(settings.probe_tokens)
        self.branch_entropy.setValue(settings.branch_entropy)
        self.branch_margin.setValue(settings.branch_margin)
        self.branch_min_prob.setValue(settings.branch_min_prob)
        self.branch_width.setValue(settings.branch_width)
        self.branch_depth.setValue(settings.branch_depth)
        self.token_budget.setValue(settings.token_budget)
        self.adaptive_sample.setChecked(settings.adaptive_sample)
