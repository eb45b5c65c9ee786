"""The study settings dialog on a hand-made session: its cost line is the plan's own figure
for the settings shown, a bad setting is one line and Start is off, and a study above the
cost limit is asked about before it starts."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from inspector.core.studies import COST_LIMIT_TOKENS, plan_study
from inspector.ui.studies.settings_dialog import StudyDialog, confirm_cost
from tests.ui.studies.made import made_session


@pytest.fixture
def forks_dialog(qtbot):
    dialog = StudyDialog(made_session(), 0, "forks")
    qtbot.addWidget(dialog)
    return dialog


def tokens_in(text: str) -> int:
    """The figure in "at most <b>1,234 tokens</b>"."""
    return int(text.split("<b>")[1].split(" tokens")[0].replace(",", ""))


def test_the_cost_is_the_plan_of_the_settings_shown(forks_dialog):
    dialog = forks_dialog
    seen = set()
    for change in (
        lambda: None,
        lambda: dialog.samples.setValue(7),
        lambda: dialog.max_tokens.setValue(31),
        lambda: dialog.alternatives.setValue(0),
        lambda: (
            dialog.in_range.setChecked(True),
            dialog.first.setValue(2),
            dialog.last.setValue(5),
        ),
    ):
        change()
        plan = plan_study(dialog.session, dialog.settings())
        assert tokens_in(dialog.cost.text()) == plan.tokens
        assert f"{len(plan.points):,} continuations" in dialog.cost.text()
        assert dialog.start_button.isEnabled() and dialog.error.text() == ""
        seen.add(plan.tokens)
    assert len(seen) == 5  # each change moved the figure
    # positions 2 to 5, the taken token only, 7 samples of at most 31 tokens (+ the forced one)
    assert len(plan.points) == 4 * 7 and {p.position for p in plan.points} == {2, 3, 4, 5}
    assert plan.tokens == 4 * 7 * (31 + 1) and dialog.settings().first == 2


def test_the_steps_dialog_costs_its_steps(qtbot):
    dialog = StudyDialog(made_session(), 0, "steps")
    qtbot.addWidget(dialog)
    dialog.samples.setValue(3)
    plan = plan_study(dialog.session, dialog.settings())
    assert dialog.settings().kind == "steps" and plan.steps
    assert tokens_in(dialog.cost.text()) == plan.tokens
    assert f"from {len(plan.steps)} steps" in dialog.cost.text()


def test_a_bad_setting_is_one_line_and_start_is_off(forks_dialog):
    dialog = forks_dialog
    dialog.by_entropy.setChecked(True)
    dialog.min_entropy.setValue(19.0)  # no token of the path is that uncertain
    assert not dialog.start_button.isEnabled() and dialog.plan is None
    assert (
        dialog.error.text() == "Cannot start: no position to study: none has an entropy that high"
    )
    assert "\n" not in dialog.error.text() and dialog.cost.text() == ""
    dialog.in_range.setChecked(True)
    dialog.first.setValue(6)
    dialog.last.setValue(3)  # a range backwards
    assert not dialog.start_button.isEnabled()
    assert dialog.error.text().startswith("Cannot start: no position to study: path 0 has tokens")
    assert dialog.error.text().count("Cannot start") == 1
    dialog.last.setValue(8)  # fixed: the line goes, Start comes back
    assert dialog.start_button.isEnabled() and dialog.error.text() == ""
    assert tokens_in(dialog.cost.text()) == plan_study(dialog.session, dialog.settings()).tokens


def test_above_the_cost_limit_it_asks_first(forks_dialog, monkeypatch):
    dialog = forks_dialog
    asked: list[str] = []
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]

    def question(_parent, _title, text, *_args):
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    assert dialog.plan is not None and dialog.plan.tokens <= COST_LIMIT_TOKENS
    assert "confirm" not in dialog.cost.text()
    assert confirm_cost(dialog, dialog.plan) and asked == []  # a small study: no question
    dialog.samples.setValue(256)
    dialog.max_tokens.setValue(4096)
    plan = dialog.plan
    assert plan is not None and plan.tokens > COST_LIMIT_TOKENS and dialog.start_button.isEnabled()
    assert f"above {COST_LIMIT_TOKENS:,}: you will be asked to confirm" in dialog.cost.text()
    assert not confirm_cost(dialog, plan)  # answered No
    assert confirm_cost(dialog, plan)  # answered Yes
    assert len(asked) == 2 and f"up to {plan.tokens:,} tokens" in asked[0]
