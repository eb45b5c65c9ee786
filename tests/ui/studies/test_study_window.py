"""The study window on hand-made studies: the forking plot's bands and scores, a clicked
position's o(t, w) table and continuations, the step table, status and resume."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from inspector.core.studies import Study, StudySettings
from inspector.store import Store
from inspector.ui.studies.study_window import StudyWindow
from inspector.ui.studies.table_models import (
    ContinuationModel,
    StepOutcomeModel,
    StudyListModel,
    TokenOutcomeModel,
)
from tests.ui.studies.made import forks_study, made_session, sample

W_TAKEN, W_ALT = 0.8 / 0.95, 0.15 / 0.95  # the model's p renormalised over the two tokens


@pytest.fixture
def shown(qtbot):
    session = made_session()
    study = forks_study(session.id)
    window = StudyWindow()
    qtbot.addWidget(window)
    window.show_study(session, study)
    window.show()
    return window


def band_tops(window: StudyWindow) -> dict[str, list[float]]:
    tops = window.fork_plot.items["tops"]
    return {answer: list(curve.getData()[1]) for answer, curve in tops.items()}


def test_stacked_bands_are_the_mixture_of_the_tokens_outcomes(shown):
    tops = band_tops(shown)
    # stack order: answers by total share (8, then 9, no answer, 7)
    assert list(tops) == ["8", "9", "", "7"]
    assert tops["8"] == pytest.approx([W_TAKEN, W_TAKEN, W_TAKEN / 2])
    assert tops["9"] == pytest.approx([W_TAKEN, W_TAKEN, W_TAKEN])
    assert tops[""] == pytest.approx([W_TAKEN, 1.0, 1.0])
    assert tops["7"] == pytest.approx([1.0, 1.0, 1.0])  # the top band reaches 1 everywhere
    x = shown.fork_plot.items["tops"]["8"].getData()[0]
    assert list(x) == [0, 1, 2]


def test_forking_scores_and_the_fork(shown):
    bars = shown.fork_plot.items["scores"]
    heights = list(bars.opts["height"])
    # TV distance between successive mixtures: {8, 7} → {8, none} → {8, 9, none}
    assert heights == pytest.approx([0.0, W_ALT, W_TAKEN / 2])
    assert shown.fork_data.forks == [2]
    assert shown.fork_plot.selected == 2  # the strongest fork is shown first


def test_gold_answer_is_marked_in_the_legend(shown):
    legend = shown.fork_plot.area.legend
    names = [label.text for _sample, label in legend.items]
    assert "8 (gold ✓)" in names and "no answer" in names
    assert not any("None" in n or "nan" in n for n in names)


def test_clicking_a_position_shows_its_tokens_outcomes(shown, qtbot):
    with qtbot.waitSignal(shown.fork_plot.positionClicked):
        shown.fork_plot.select(1)
        shown.fork_plot.positionClicked.emit(1)
    model = shown.tokens_model
    assert [model.data(model.index(r, 0)) for r in range(2)] == ["“␣+”", "“␣7”"]
    taken, alt = model.rows
    assert taken.taken and taken.distribution == {"8": 1.0} and taken.n == 2
    assert alt.distribution == {"": 1.0}
    assert model.data(model.index(1, 4)) == "no answer 100%"
    assert model.data(model.index(0, 2)) == "80.0%"
    answers = shown.selected_answer_labels()
    assert answers == ["8", "8", "no answer", "no answer"]
    texts = [
        shown.continuations_model.data(shown.continuations_model.index(r, 5)) for r in range(4)
    ]
    assert texts[0] == "continuation 1/501/0 → 8"
    assert "Position 1" in shown.position_line.text() and "0.16" in shown.position_line.text()


def test_click_on_the_plot_selects_the_nearest_position(shown):
    assert shown.fork_plot.position_near(1.3) == 1
    assert shown.fork_plot.position_near(7.0) is None


def test_status_and_resume(qtbot):
    session = made_session()
    study = forks_study(session.id)
    study.status = "cancelled"
    window = StudyWindow()
    qtbot.addWidget(window)
    window.show_study(session, study)
    window.show()
    assert window.resume_button.isVisible() and not window.cancel_button.isVisible()
    assert "cancelled" in window.status.text()
    with qtbot.waitSignal(window.resumeRequested) as signal:
        qtbot.mouseClick(window.resume_button, Qt.MouseButton.LeftButton)
    assert signal.args == [study]
    window.set_running(True)
    assert window.cancel_button.isVisible() and not window.resume_button.isVisible()


def steps_study(session_id: str) -> Study:
    """Steps of " 3 + 5 = 8." / " So 8.": resamples from before step 1 (position 0) say 7
    twice (texts differing from step 1); from before step 2 (position 6) say 8 twice."""
    settings = StudySettings("steps", 0, samples=2, max_tokens=8)
    study = Study(session_id, settings)
    study.samples += [sample(0, None, n, "7", " 3 + 4 = 7. So 7.") for n in range(2)]
    study.samples += [sample(6, None, n, "8", " So 8.") for n in range(2)]
    return study


def test_step_table_shows_bars_marks_and_accuracy(qtbot):
    session = made_session()
    window = StudyWindow()
    qtbot.addWidget(window)
    window.show_study(session, steps_study(session.id))
    model: StepOutcomeModel = window.steps.model
    assert model.rowCount() == 2
    first, second = model.rows
    # step 1: with it (from position 6) 8, 8; without it (from 0, other first step) 7, 7
    assert first.with_step == {"8": 1.0} and first.without_step == {"7": 1.0}
    assert first.importance > 0 and first.accuracy_change == pytest.approx(1.0)
    # step 2: its resamples repeat " So 8." (nothing without it): importance 0
    assert second.n_without == 0 and second.importance == 0
    assert model.data(model.index(0, 0)) == "1 ★"
    assert model.data(model.index(0, 6)) == "+100%"
    assert model.data(model.index(1, 5)) == "— (every resample repeated it)"
    from inspector.ui.studies.table_models import BAR_ROLE

    assert model.data(model.index(0, 1), BAR_ROLE) == 1.0
    assert model.data(model.index(1, 1), BAR_ROLE) == 0.0
    assert "Most important: step 1" in window.steps.summary.text()


@pytest.mark.parametrize(
    "model_class", [TokenOutcomeModel, ContinuationModel, StepOutcomeModel, StudyListModel]
)
def test_models_pass_qtmodeltester(qtmodeltester, model_class, tmp_path):
    session = made_session()
    model = model_class()
    study = forks_study(session.id)
    if model_class is TokenOutcomeModel:
        from inspector.core.study_views import fork_plot_data

        model.set_rows(fork_plot_data(session, study).outcomes[0].tokens)
    elif model_class is ContinuationModel:
        model.set_rows(study.samples)
    elif model_class is StepOutcomeModel:
        from inspector.core.study_views import step_view

        view = step_view(session, steps_study(session.id))
        model.set_view(view.outcomes, view.important, True)
    else:
        with Store.open(tmp_path / "s.db") as store:
            store.save_session(session)
            store.create_study(study, session.id, 12)
            model.set_rows(store.list_studies())
            assert model.data(model.index(0, 4)) == "12 of 12"
    qtmodeltester.check(model)
    assert model.rowCount() > 0
    shown = [
        model.data(model.index(r, c))
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    ]
    assert not any(text is None or "None" in text or "nan" in text for text in shown)
