"""The run settings in the GUI: the answer rule (auto by default, regex typed in), the chat
template (auto / on / off), max tokens left to the model; a rule that does not parse is one
clear message; the token-limit warning after a run where most paths hit it."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from inspector.core.answers import ANSWER_RULES
from inspector.core.session import RunSettings
from inspector.ui.explore.answers_panel import AnswersPanel
from inspector.ui.shared.settings_row import SettingsRow
from tests.ui.conftest import run_and_wait
from tests.ui.explore.recorded import add, new_session, tokens


@pytest.fixture
def row(qtbot) -> SettingsRow:
    widget = SettingsRow()
    qtbot.addWidget(widget)
    return widget


def test_defaults_leave_the_answer_rule_template_and_limit_to_auto(row):
    assert row.answer_rule.currentText() == "auto"
    assert [row.answer_rule.itemText(i) for i in range(row.answer_rule.count())] == list(
        ANSWER_RULES
    )
    assert [row.chat_template.itemText(i) for i in range(3)] == ["auto", "on", "off"]
    assert row.max_tokens.text() == "auto"
    settings = row.values()
    assert (settings.answer_rule, settings.use_chat_template, settings.max_tokens) == (
        "auto",
        None,
        None,
    )
    assert "\\boxed" in row.answer_rule.toolTip() and "regex:" in row.answer_rule.toolTip()


def test_choices_reach_the_settings_and_load_back(row):
    row.chat_template.setCurrentText("off")
    row.answer_rule.setCurrentText("boxed")
    row.max_tokens.setValue(300)
    settings = row.values()
    assert (settings.answer_rule, settings.use_chat_template, settings.max_tokens) == (
        "boxed",
        False,
        300,
    )
    row.chat_template.setCurrentText("on")
    assert row.values().use_chat_template is True
    row.load(RunSettings(answer_rule="regex:=\\s*(\\d+)", use_chat_template=None, max_tokens=None))
    assert row.answer_rule.currentText() == "regex:=\\s*(\\d+)"
    assert row.chat_template.currentText() == "auto" and row.max_tokens.text() == "auto"
    assert row.values().answer_rule == "regex:=\\s*(\\d+)"


def test_a_rule_that_does_not_parse_is_one_clear_message(row):
    row.answer_rule.setCurrentText("regex:(")
    with pytest.raises(ValueError, match="invalid regular expression"):
        row.values()
    row.answer_rule.setCurrentText("nonsense")
    with pytest.raises(ValueError, match="unknown answer rule"):
        row.values()


def test_the_explore_page_refuses_a_bad_rule_before_running(qtbot, window, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    window.explore.run_panel.settings.answer_rule.setCurrentText("regex:(")
    window.explore.start_run()
    assert window.explore.worker is None
    assert shown and "invalid regular expression" in shown[0]
    assert "Cannot run" in window.statusBar().currentMessage()


def test_answers_panel_warns_when_most_paths_hit_the_limit(qtbot):
    session = new_session(max_tokens=4)
    add(session, tokens(" 3", " +", " 5", " ="), finish="length", label="first token #1")
    add(session, tokens(" He", " has", " 8", " apples"), finish="length", label="first token #2")
    add(session, tokens(" 8", "."), label="first token #3")
    panel = AnswersPanel()
    qtbot.addWidget(panel)
    panel.show_session(session)
    assert panel.limit_note == "2 of 3 paths hit the 4-token limit: raise max tokens"
    assert panel.limit_note in panel.summary.text()
    few = new_session(max_tokens=4)
    add(few, tokens(" 8", "."), label="first token #1")
    add(few, tokens(" 7", "."), label="first token #2")
    add(few, tokens(" 3", " +", " 5", " ="), finish="length", label="first token #3")
    panel.show_session(few)
    assert panel.limit_note is None and "raise max tokens" not in panel.summary.text()


def test_the_status_bar_warns_after_a_real_run_cut_by_the_limit(qtbot, window):
    run_and_wait(qtbot, window, strategy="cot-decoding", k=3, max_tokens=4)
    session = window.explore.session
    assert session is not None
    summary = session.summary()
    assert 2 * summary.n_hit_limit >= summary.n_voting  # 4 tokens cut most branches
    note = "paths hit the 4-token limit: raise max tokens"
    assert note in window.statusBar().currentMessage()
    assert note in window.explore.answers.summary.text()


def test_the_answer_probe_is_off_by_default_and_needs_a_text(row):
    assert not row.probe.isChecked() and not row.probe_text.isEnabled()
    assert row.values().answer_probe == ""
    row.probe.setChecked(True)
    assert row.probe_text.isEnabled() and row.probe_tokens.isEnabled()
    assert row.values().answer_probe == "So the answer is"
    row.probe_tokens.setValue(5)
    row.probe_text.setText("Therefore the answer is")
    settings = row.values()
    assert (settings.answer_probe, settings.probe_tokens) == ("Therefore the answer is", 5)
    row.probe_text.setText("   ")
    with pytest.raises(ValueError, match="answer probe text is empty"):
        row.values()
    row.load(RunSettings(answer_probe=""))
    assert not row.probe.isChecked() and row.probe_text.text() == "So the answer is"


def test_a_real_run_with_the_probe_shows_it_after_each_path(qtbot, window):
    settings = window.explore.run_panel.settings
    settings.probe.setChecked(True)
    run_and_wait(qtbot, window, strategy="cot-decoding", k=3, max_tokens=12)
    session = window.explore.session
    assert session is not None and session.settings.answer_probe == "So the answer is"
    probed = [p for p in session.paths if p.probe is not None]
    assert probed, "every ended path gets the probe"
    path = probed[0]
    window.explore.show_path(path.id)
    text = window.explore.path_view.toPlainText()
    own, _, probe_part = text.partition("Answer probe")
    assert "So the answer is" not in own  # the path's own text stays apart
    assert "“So the answer is” appended after the path (not its own text)" in probe_part
    continuation = path.probe.continuation.strip()
    if continuation:
        assert continuation.split()[0] in probe_part
