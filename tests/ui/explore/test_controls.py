"""The Explore page's controls (issue 13): each strategy shows its own settings, a seed with
"new seed", Tab leaves the question box, the label box starts empty on another path and is
wide enough for its labels, the right-hand panes stack into tabs when short."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from inspector.core.session import RunSettings
from inspector.ui.explore.annotation_panel import NO_LABEL, AnnotationPanel
from inspector.ui.explore.answers_panel import AnswersPanel
from inspector.ui.explore.run_panel import RunPanel
from inspector.ui.explore.work_panes import WorkPanes
from inspector.ui.shared.settings_row import SettingsRow


def test_each_strategy_shows_its_own_settings(qtbot):
    row = SettingsRow()
    qtbot.addWidget(row)
    row.show()
    expected = {
        "greedy": [],
        "cot-decoding": ["k"],
        "self-consistency": ["samples", "temperature", "seed"],
    }
    for strategy, shown in expected.items():
        row.strategy.setCurrentText(strategy)
        assert row.shown_settings() == shown
        assert row.new_seed.isVisible() == (strategy == "self-consistency")
        assert row.k.isVisible() == (strategy == "cot-decoding")


def test_the_seed_is_a_setting_and_new_seed_changes_it(qtbot):
    row = SettingsRow("self-consistency")
    qtbot.addWidget(row)
    assert row.values().seed == 0
    row.new_seed.click()
    seed = row.values().seed
    assert seed != 0 and isinstance(seed, int)
    row.new_seed.click()
    assert row.values().seed != seed
    row.load(RunSettings(strategy="self-consistency", seed=2**32 - 1))
    assert row.values().seed == 2**32 - 1  # the largest seed the CLI takes loads unchanged


def test_tab_in_the_question_moves_the_focus(qtbot):
    panel = RunPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.activateWindow()
    panel.question.setFocus()
    qtbot.waitUntil(panel.question.hasFocus)
    before = panel.question.toPlainText()
    qtbot.keyClick(panel.question, Qt.Key.Key_Tab)
    assert panel.question.toPlainText() == before and "\t" not in before
    assert not panel.question.hasFocus()


def test_another_path_starts_with_no_label(qtbot, tmp_path):
    panel = AnnotationPanel(tmp_path / "sessions.db")
    qtbot.addWidget(panel)
    panel.set_target("s1", 0)
    panel.add_label("lucky guess")
    panel.note.setText("a note")
    assert panel.label.currentText() == "lucky guess"
    panel.set_target("s1", 0, (2, 4))  # a step of the same path: the choice stays
    assert panel.label.currentText() == "lucky guess" and panel.note.text() == "a note"
    panel.set_target("s1", 1)
    assert panel.label.currentText() == NO_LABEL and panel.note.text() == ""


def test_the_label_box_fits_its_longest_label(qtbot, tmp_path):
    panel = AnnotationPanel(tmp_path / "sessions.db")
    qtbot.addWidget(panel)
    panel.resize(500, 60)
    panel.show()
    panel.set_target("s1", 0)
    panel.add_label("arithmetic slip in the second step")
    width = panel.label.fontMetrics().horizontalAdvance("arithmetic slip in the second step")
    assert panel.label.sizeHint().width() > width


def test_the_panes_stack_when_short_and_split_when_tall(qtbot):
    path, live, answers = QWidget(), QWidget(), AnswersPanel()
    panes = WorkPanes(path, live, answers)
    qtbot.addWidget(panes)
    panes.resize(600, 900)
    panes.show()
    qtbot.waitUntil(lambda: panes.height() == 900)
    assert not panes.stacked and panes.tabs.indexOf(answers) == -1
    assert answers.height() >= answers.minimumSizeHint().height()
    panes.splitter.setSizes([600, 300])  # the person gives the path two thirds
    panes.note_split()  # as a drag of the handle does (splitterMoved)
    share = panes.splitter.sizes()[0] / sum(panes.splitter.sizes())
    assert share > 0.6
    panes.resize(600, 320)
    qtbot.waitUntil(lambda: panes.stacked)
    assert panes.tabs.indexOf(answers) == 1 and panes.tabs.tabText(1) == "Answers"
    panes.show_answers()
    assert panes.tabs.currentWidget() is answers
    panes.resize(600, 900)
    qtbot.waitUntil(lambda: not panes.stacked)
    assert panes.tabs.indexOf(answers) == -1 and answers.isVisible()

    def path_share() -> float:
        sizes = panes.splitter.sizes()
        return sizes[0] / sum(sizes)

    qtbot.waitUntil(lambda: abs(path_share() - share) < 0.02)  # the split as it was left
    assert panes.tabs.currentWidget() is path
    assert panes.minimumSizeHint().height() < panes.split_height()


def test_a_step_is_named_by_its_first_and_last_token_as_in_the_exports(qtbot, tmp_path):
    from inspector.core.display import TOKEN_RANGE_NOTE, token_range

    panel = AnnotationPanel(tmp_path / "sessions.db")
    qtbot.addWidget(panel)
    panel.set_target("s1", 0, (40, 45))
    assert panel.target.text() == f"path #0, {token_range(40, 45)}" == "path #0, tokens 40–44"
    panel.set_target("s1", 0, (7, 8))
    assert panel.target.text() == "path #0, token 7"
    assert panel.target.toolTip() == TOKEN_RANGE_NOTE


def test_the_page_keeps_its_settings_and_splitters_between_launches(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from inspector.ui.explore.page import ExplorePage
    from inspector.ui.model.controller import ModelController

    def new_page(preferences: QSettings) -> ExplorePage:
        models = ModelController(preferences, "none.gguf")
        page = ExplorePage(tmp_path / "s.db", models, lambda: None)
        qtbot.addWidget(page)
        page.restore(preferences)
        page.resize(1000, 480)  # short: the answers stacked into a tab
        page.show()
        return page

    preferences = QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat)
    first = new_page(preferences)
    qtbot.waitUntil(lambda: first.panes.stacked)
    first.run_panel.strategy.setCurrentText("self-consistency")
    first.run_panel.samples.setValue(6)
    first.run_panel.settings.new_seed.click()
    seed = first.run_panel.settings.values().seed
    first.body.setSizes([300, 700])
    share = first.body.sizes()[0] / sum(first.body.sizes())
    first.remember(preferences)
    again = new_page(preferences)
    assert again._restored == {"main", "body"}  # the split was not on screen: not kept
    values = again.run_panel.settings.values()
    assert (values.strategy, values.samples, values.seed) == ("self-consistency", 6, seed)
    qtbot.waitUntil(lambda: again.body.width() > 0)

    def body_share() -> float:
        sizes = again.body.sizes()
        return sizes[0] / sum(sizes)

    qtbot.waitUntil(lambda: abs(body_share() - share) < 0.02)
