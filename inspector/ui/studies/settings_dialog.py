"""The settings of a resampling study of the shown path, with its cost before it starts.

"Find forking tokens…" asks which positions (every one, a range, or those whose entropy is at
least X) and which tokens at each (the taken one plus up to N alternatives with p ≥ a
minimum); "Step importance…" asks how the path is cut into steps. Both ask for the samples per
point, their token limit and temperature. The estimate under the form is the plan's own
figure (``plan.tokens``: every continuation at its token limit), updated as the settings
change; a setting the plan refuses is said in one line there, and Start is off until it is
fixed. A study above ``COST_LIMIT_TOKENS`` asks before it starts (:func:`confirm_cost`).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inspector.core.session import Session
from inspector.core.studies import (
    COST_LIMIT_TOKENS,
    SPLIT_RULES,
    StudyKind,
    StudyPlan,
    StudySettings,
    plan_study,
    studied_tokens,
)
from inspector.core.study_views import KIND_WORDS
from inspector.engine import InvalidParameterError
from inspector.ui.shared.colors import INCORRECT

SPLIT_WORDS = {
    "sentences": "sentences (after . ! ? followed by a space, and at line breaks)",
    "lines": "lines (at every line break)",
    "numbered": "numbered steps (a line starting 1. 2) Step 3:)",
}


class StudyDialog(QDialog):
    """The settings of one study of ``session``'s path ``path_id``; :meth:`settings` and
    :attr:`plan` once accepted."""

    def __init__(
        self,
        session: Session,
        path_id: int,
        kind: StudyKind,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session, self.path_id, self.kind = session, path_id, kind
        self.plan: StudyPlan | None = None
        self.problem: str | None = None
        n_tokens = len(studied_tokens(session, session.paths[path_id]))
        self.setWindowTitle(f"{KIND_WORDS[kind].capitalize()} · path #{path_id}")
        form = QFormLayout()
        self.every = QRadioButton("every position")
        self.in_range = QRadioButton("positions")
        self.by_entropy = QRadioButton("where the entropy is at least")
        self.first = QSpinBox(minimum=0, maximum=max(0, n_tokens - 1), value=0)
        self.last = QSpinBox(minimum=0, maximum=max(0, n_tokens - 1), value=max(0, n_tokens - 1))
        self.min_entropy = QDoubleSpinBox(minimum=0.0, maximum=20.0, value=1.0, singleStep=0.1)
        self.min_entropy.setSuffix(" nats")
        self.alternatives = QSpinBox(minimum=0, maximum=20, value=2)
        self.min_prob = QDoubleSpinBox(minimum=0.0, maximum=1.0, value=0.05, singleStep=0.01)
        self.min_prob.setDecimals(3)
        self.split = QComboBox()
        for rule in SPLIT_RULES:
            self.split.addItem(SPLIT_WORDS[rule], rule)
        self.samples = QSpinBox(minimum=1, maximum=256, value=4)
        self.max_tokens = QSpinBox(minimum=1, maximum=4096, value=48)
        self.temperature = QDoubleSpinBox(minimum=0.05, maximum=5.0, value=1.0, singleStep=0.1)
        self.cost = QLabel(wordWrap=True)
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet(f"color: {INCORRECT.name()}")
        if kind == "forks":
            group = QButtonGroup(self)
            for button in (self.every, self.in_range, self.by_entropy):
                group.addButton(button)
            self.every.setChecked(True)
            positions = QVBoxLayout()
            positions.addWidget(self.every)
            row = QHBoxLayout()
            row.addWidget(self.in_range)
            row.addWidget(self.first)
            row.addWidget(QLabel("to"))
            row.addWidget(self.last)
            row.addStretch(1)
            positions.addLayout(row)
            row = QHBoxLayout()
            row.addWidget(self.by_entropy)
            row.addWidget(self.min_entropy)
            row.addStretch(1)
            positions.addLayout(row)
            form.addRow(f"Positions (0 to {n_tokens - 1}):", positions)
            tokens = QHBoxLayout()
            tokens.addWidget(QLabel("the taken token + up to"))
            tokens.addWidget(self.alternatives)
            tokens.addWidget(QLabel("alternatives with p ≥"))
            tokens.addWidget(self.min_prob)
            tokens.addStretch(1)
            form.addRow("Tokens per position:", tokens)
        else:
            form.addRow("Steps:", self.split)
        form.addRow("Samples per point:", self.samples)
        form.addRow("Max tokens each:", self.max_tokens)
        form.addRow("Temperature:", self.temperature)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.start_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Each point is continued from the path's prefix with its own random stream; "
            "a study with these same settings resumes where it stopped.",
            wordWrap=True,
        )
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.cost)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        for spin in (self.first, self.last, self.alternatives, self.samples, self.max_tokens):
            spin.valueChanged.connect(self.update_cost)
        for dspin in (self.min_entropy, self.min_prob, self.temperature):
            dspin.valueChanged.connect(self.update_cost)
        for button in (self.every, self.in_range, self.by_entropy):
            button.toggled.connect(self.update_cost)
        self.split.currentIndexChanged.connect(self.update_cost)
        self.update_cost()

    def settings(self) -> StudySettings:
        """The study the form describes (not yet checked: see :meth:`update_cost`)."""
        base = StudySettings(
            kind=self.kind,
            path_id=self.path_id,
            samples=self.samples.value(),
            max_tokens=self.max_tokens.value(),
            temperature=round(self.temperature.value(), 4),
        )
        if self.kind == "steps":
            return replace(base, split=str(self.split.currentData()))
        first = last = None
        min_entropy = None
        if self.in_range.isChecked():
            first, last = self.first.value(), self.last.value()
        elif self.by_entropy.isChecked():
            min_entropy = round(self.min_entropy.value(), 4)
        return replace(
            base,
            first=first,
            last=last,
            min_entropy=min_entropy,
            alternatives=self.alternatives.value(),
            min_prob=round(self.min_prob.value(), 4),
        )

    def update_cost(self) -> None:
        """The plan of the settings shown: its size and cost, or why it cannot run."""
        self.first.setEnabled(self.in_range.isChecked())
        self.last.setEnabled(self.in_range.isChecked())
        self.min_entropy.setEnabled(self.by_entropy.isChecked())
        try:
            plan = plan_study(self.session, self.settings())
            if not plan.points:
                raise InvalidParameterError(
                    "no position to study: none has an entropy that high"
                    if self.kind == "forks"
                    else "the path has no step to study"
                )
        except InvalidParameterError as error:
            self.plan, self.problem = None, str(error)
            self.cost.setText("")
            self.error.setText(f"Cannot start: {error}")
            self.start_button.setEnabled(False)
            return
        self.plan, self.problem = plan, None
        self.error.setText("")
        self.start_button.setEnabled(True)
        over = plan.tokens > COST_LIMIT_TOKENS
        positions = len({p.position for p in plan.points})
        where = f"{positions} positions" if self.kind == "forks" else f"{len(plan.steps)} steps"
        self.cost.setText(
            f"Estimated cost: at most <b>{plan.tokens:,} tokens</b> "
            f"({len(plan.points):,} continuations from {where})"
            + (f" — above {COST_LIMIT_TOKENS:,}: you will be asked to confirm" if over else "")
        )


def confirm_cost(parent: QWidget | None, plan: StudyPlan) -> bool:
    """True when the study may start: at most COST_LIMIT_TOKENS, or the user agrees."""
    if plan.tokens <= COST_LIMIT_TOKENS:
        return True
    answer = QMessageBox.question(
        parent,
        "A large study",
        f"This study may decode up to {plan.tokens:,} tokens ({len(plan.points):,} "
        f"continuations), more than {COST_LIMIT_TOKENS:,}. It saves as it goes and can be "
        "cancelled and resumed. Start it?",
    )
    return answer == QMessageBox.StandardButton.Yes
