"""The answers panel (issue 13): vote bars sorted by votes, the CoT-decoding line only for
CoT-decoding, the greedy reference named as not voting, a run where no path ended explained
(not "Chosen answer: None"), and nothing of Python's None on screen."""

from __future__ import annotations

from inspector.engine.records import GeneratedSequence
from inspector.ui.explore.answers_panel import AnswersPanel, sorted_votes
from tests.ui.explore.recorded import add, new_session, tokens
from tests.ui.explore.test_tree_cues import self_consistency_session


def panel_of(qtbot, session) -> AnswersPanel:
    panel = AnswersPanel()
    qtbot.addWidget(panel)
    panel.show_session(session)
    return panel


def ticks(panel: AnswersPanel) -> list[str]:
    return [label for _x, label in panel.plot.getAxis("bottom")._tickLevels[0]]


def test_votes_are_sorted_most_first():
    assert sorted_votes({"7": 1, "8": 3, "5": 1}) == [("8", 3), ("7", 1), ("5", 1)]


def test_bars_are_drawn_by_votes(qtbot):
    session = new_session("self-consistency")
    for i, answer in enumerate((" 7", " 8", " 8", " 5", " 8")):
        sequence = GeneratedSequence(branch=i, tokens=tokens(answer, "."), finish_reason="eos")
        session.add_path(sequence, "sample", f"sample {i + 1}")
    panel = panel_of(qtbot, session)
    assert list(panel.bars.opts["height"]) == [3, 1, 1]
    assert ticks(panel) == ["8", "7", "5"]  # 7 came first, but 8 has the votes
    counts = [value for value, _label in panel.plot.getAxis("left")._tickLevels[0]]
    assert counts == [0, 1, 2, 3]  # whole numbers of votes, no 0.5 or 1.5


def test_the_cot_decoding_line_only_for_cot_decoding(qtbot):
    text = panel_of(qtbot, self_consistency_session()).summary.text()
    assert "CoT-decoding pick" not in text
    assert "greedy reference path #3 → 5" in text and "does not vote" in text
    cot = new_session()
    add(cot, tokens(" 8", "."), label="first token #1 ' 8'")
    assert "CoT-decoding pick: path #0 → 8" in panel_of(qtbot, cot).summary.text()


def test_the_reference_row_says_it_does_not_vote(qtbot):
    panel = panel_of(qtbot, self_consistency_session())
    assert panel.cell(3, "origin") == "greedy reference (no vote)"
    assert panel.cell(0, "origin") == "sample"


def test_a_run_where_no_path_ended_says_so(qtbot):
    session = new_session("greedy")
    add(session, tokens(" so", " \\boxed{8}", " and"), finish="cancelled", label="greedy")
    session.status = "interrupted"
    assert session.paths[0].answer == "8"
    panel = panel_of(qtbot, session)
    text = panel.summary.text()
    assert "Chosen answer: no answer" in text
    assert "no path ended, so none votes: path #0 reached 8" in text
    assert "None" not in text
    empty = [i for i in panel.plot.getPlotItem().items if hasattr(i, "textItem")]
    assert empty and "no path ended" in empty[0].textItem.toPlainText()


def test_no_python_none_reaches_the_panel(qtbot):
    session = new_session(gold=None)
    add(session, tokens(" no", " idea"), finish="length", label="first token #1 ' no'")
    panel = panel_of(qtbot, session)
    cells = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
    assert "None" not in panel.summary.text() and "None" not in " ".join(cells)
    assert "nan" not in " ".join(cells)


def interrupted_session():
    """As a killed run leaves it: two samples never ended (no tokens), one ended and votes."""
    session = new_session("self-consistency")
    for i in range(2):
        session.reserve_path("sample", f"sample {i + 1}")
    done = GeneratedSequence(branch=2, tokens=tokens(" 3", "."), finish_reason="eos")
    session.add_path(done, "sample", "sample 3")
    session.status = "interrupted"
    return session


def test_paths_that_never_ended_say_the_run_was_interrupted(qtbot):
    session = interrupted_session()
    panel = panel_of(qtbot, session)
    assert [panel.cell(row, "finished") for row in range(3)] == ["never ended"] * 2 + ["✓"]
    assert "Chosen answer: 3" in panel.summary.text()
    assert list(panel.bars.opts["height"]) == [1]


def test_an_interrupted_session_opens_on_a_path_that_has_tokens(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from inspector.ui.explore.page import ExplorePage
    from inspector.ui.model.controller import ModelController

    preferences = QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat)
    page = ExplorePage(tmp_path / "s.db", ModelController(preferences, "none.gguf"), lambda: None)
    qtbot.addWidget(page)
    page.show_session(interrupted_session())
    assert page.path_view.path.id == 2
    page.show_path(0)
    header = page.path_view.document().toPlainText().split("\n")[0]
    assert "never ended: the run was interrupted" in header and "log p = —" in header
    assert "still running" not in header


def test_a_row_of_the_answers_opens_its_path_in_view(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from inspector.ui.explore.page import ExplorePage
    from inspector.ui.model.controller import ModelController

    preferences = QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat)
    page = ExplorePage(tmp_path / "s.db", ModelController(preferences, "none.gguf"), lambda: None)
    qtbot.addWidget(page)
    page.panes.set_stacked(True)  # a short window: the answers are a tab beside the path
    page.show_session(self_consistency_session())
    page.panes.show_answers()
    page.answers.table.cellClicked.emit(2, 0)
    assert page.path_view.path.id == 2
    assert page.tabs.currentWidget() is page.path_page
