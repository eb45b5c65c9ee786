"""The Experiments tab as used every day (issue 13): nothing overlaps from 1024×700 up,
progress counts the questions asked for and Resume is offered only when some are left, the
plots start on the selected experiment and say so, saved plots carry a caption, the plots
read in the dark theme, and the data-set dialog starts where the last data set was."""

from __future__ import annotations

from itertools import combinations

import pytest
from PySide6.QtCore import QRect, QUrl
from PySide6.QtGui import QColor, QImage

from inspector.store import Store
from inspector.ui.experiments.page import ExperimentsPage
from inspector.ui.experiments.runner_box import (
    DATASET_FOLDER_KEY,
    SAMPLE_DATASETS,
    ExperimentRunnerBox,
)
from inspector.ui.experiments.stats_plots import PLOT_MIN, StatsPlots
from inspector.ui.shared.theme import dark_palette, ink
from tests.store.conftest import sc_session
from tests.ui.experiments.test_experiments_page import (
    dataset_file,
    prepare,
    run_to_end,
    show_page,
)

__all__ = ["dataset_file"]  # the fixture, shared with the page's other tests


def page_rect(page, widget) -> QRect:
    return QRect(widget.mapTo(page, widget.rect().topLeft()), widget.size())


@pytest.mark.parametrize("size", [(1024, 700), (1366, 768), (1920, 1080)])
def test_no_pane_overlaps_another_and_each_stays_legible(qtbot, window, dataset_file, size):
    runner = prepare(qtbot, window, dataset_file)
    runner.limit.setValue(1)
    run_to_end(qtbot, runner)
    page = window.experiments
    qtbot.waitUntil(lambda: page.plots.stats is not None and page.plots.stats.runs == 1)
    show_page(window, page)
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() == size[0] and window.height() == size[1])
    qtbot.waitUntil(lambda: page.isVisible() and page.plots.plots["accuracy"].isVisible())
    plots = page.plots
    panes = {
        "runner": runner,
        "experiments": page.experiments_view,
        "results": page.results_view,
        "summary": plots.summary,
        "filter": plots.filter_line,
        "gap table": plots.gap_table,
        **{name: widget for name, widget in plots.plots.items()},
    }
    for name, widget in plots.plots.items():
        assert widget.width() >= PLOT_MIN.width() and widget.height() >= PLOT_MIN.height(), name
    assert page.results_view.height() >= page.results_view.minimumHeight() > 100
    rects = {name: page_rect(page, widget) for name, widget in panes.items()}
    for (a, first), (b, second) in combinations(rects.items(), 2):
        assert not first.intersects(second), (a, first, b, second)
    area = window.pages.currentWidget()
    if area is not page:  # a scroll area: the page scrolls up and down, never sideways
        qtbot.waitUntil(lambda: page.width() <= area.viewport().width())  # once laid out


def test_progress_counts_the_questions_asked_for_and_resume_runs_them(qtbot, window, dataset_file):
    runner = prepare(qtbot, window, dataset_file, samples=2, max_tokens=48)
    runner.limit.setValue(2)  # two of the data set's three questions
    page = window.experiments
    runner.run_button.click()
    qtbot.waitUntil(lambda: runner.overall.value() >= 1, timeout=120_000)
    assert runner.overall.maximum() == 2
    runner.cancel_button.click()
    qtbot.waitUntil(lambda: not runner.running, timeout=60_000)
    row = page.experiments_model.rows[0]
    assert (row.done, row.asked, row.status) == (1, 2, "cancelled")
    done = page.experiments_model.column_of("done")
    assert page.experiments_model.index(0, done).data() == "1 / 2"
    page.experiments_view.selectRow(0)
    assert page.resume_button.isEnabled()
    page.resume_button.click()
    qtbot.waitUntil(lambda: runner.running, timeout=10_000)
    assert not page.resume_button.isEnabled()  # not while it runs
    assert runner.limit.value() == 2  # the same questions, not the whole data set
    qtbot.waitUntil(lambda: not runner.running, timeout=120_000)
    qtbot.waitUntil(lambda: page.experiments_model.rows[0].status == "complete")
    again = page.experiments_model.rows[0]
    assert (again.id, again.done, again.asked) == (row.id, 2, 2)
    assert page.experiments_model.index(0, done).data() == "2 / 2"
    assert "asked for the first 2" in page.experiments_model.index(0, done).data(3)  # tooltip
    assert page.results_model.rowCount() == 2
    page.experiments_view.selectRow(0)
    assert not page.resume_button.isEnabled()  # nothing left to resume
    assert "every question asked for is done" in page.resume_button.toolTip()


def test_plots_start_on_the_selected_experiment_and_name_it(qtbot, window, dataset_file, tmp_path):
    runner = prepare(qtbot, window, dataset_file)
    runner.limit.setValue(2)
    run_to_end(qtbot, runner)
    with Store.open(window.db_path) as store:  # an exploratory run outside the experiment
        store.save_session(sc_session(["8", "8", "5"], gold="8"))
        experiment = store.list_experiments()[0]
    # a freshly opened tab (as at the next launch) starts on the newest experiment
    page = ExperimentsPage(window.db_path, window.models)
    qtbot.addWidget(page)
    page.refresh()
    plots = page.plots
    qtbot.waitUntil(lambda: plots.stats is not None, timeout=10_000)
    assert page.selected_experiment() == experiment.id
    assert plots.current_filter().experiment_id == experiment.id
    qtbot.waitUntil(lambda: plots.shown_filter == plots.current_filter(), timeout=10_000)
    assert plots.stats.runs == 2  # the exploratory session is not counted
    label = f"experiment {experiment.id}: "
    for widget in plots.plots.values():
        assert label in widget.getPlotItem().titleLabel.text
    assert label + experiment.name in plots.filter_line.text()
    caption = plots.caption()
    assert caption == f"{experiment.model} · self-consistency · {label}{experiment.name} · 2 runs"
    saved = plots.export_plot("calibration", tmp_path / "calibration.png")
    assert saved is not None
    image = QImage(str(saved))
    bottom = [image.pixelColor(x, image.height() - 20) for x in range(0, image.width(), 3)]
    assert any(colour.lightness() < 128 for colour in bottom)  # the caption's text
    svg = plots.export_plot("accuracy", tmp_path / "accuracy.svg")
    assert svg is not None and caption in svg.read_text(encoding="utf-8")
    plots.experiment.setCurrentIndex(plots.experiment.findData(None))  # every saved run
    qtbot.waitUntil(lambda: plots.stats.runs == 3, timeout=10_000)
    assert "all saved runs" in plots.plots["calibration"].getPlotItem().titleLabel.text


def test_the_plots_redraw_their_legend_for_the_dark_theme(qtbot, store):
    plots = StatsPlots(store.path)  # an empty database: the plots drawn with no runs
    qtbot.addWidget(plots)
    plots.refresh()
    qtbot.waitUntil(lambda: plots.stats is not None, timeout=10_000)
    plots.setPalette(dark_palette())
    qtbot.waitUntil(lambda: QColor(ink(plots)).lightness() > 128)
    legend = plots.items["consistency"]["legend"]
    colours = [QColor(label.opts["color"]) for _, label in legend.items]
    assert colours and all(c == ink(plots) for c in colours)
    assert plots.plots["consistency"].backgroundBrush().color().lightness() < 80


def test_the_data_set_dialog_starts_in_the_last_folder_used(qtbot, window, dataset_file):
    runner = window.experiments.runner
    samples = QUrl.fromLocalFile(str(SAMPLE_DATASETS))
    dialog = runner.dataset_dialog()
    assert dialog.directory().absolutePath() == str(SAMPLE_DATASETS)  # first time: samples
    assert samples in dialog.sidebarUrls()
    runner.load_dataset(dataset_file)
    qtbot.waitUntil(lambda: runner.dataset is not None, timeout=10_000)
    folder = str(dataset_file.parent.resolve())
    assert runner.preferences.value(DATASET_FOLDER_KEY) == folder
    dialog = runner.dataset_dialog()
    assert dialog.directory().absolutePath() == folder
    assert samples in dialog.sidebarUrls()  # the samples stay one click away
    later = ExperimentRunnerBox(window.db_path, preferences=runner.preferences)  # next launch
    qtbot.addWidget(later)
    assert later.dataset_dialog().directory().absolutePath() == folder
