"""The Experiments tab driven through its widgets on the real default model: run a data set,
cancel and resume, open a result's session, read the plots' data, export plots and reports."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from PySide6.QtCore import Qt

from inspector.core.run_stats import selection_gap
from inspector.store import Store
from inspector.store.rows import ExperimentResult, ExperimentRow
from inspector.ui.experiments.stats_plots import gap_cells
from inspector.ui.experiments.table_models import ExperimentResultsModel, ExperimentsTableModel

QUESTIONS = [
    ("Tom has 2 apples and buys 3 more. How many apples does he have?", "5"),
    ("A box has 4 pens. How many pens are in 2 boxes?", "8"),
    ("Sara had 9 sweets and ate 4. How many are left?", "5"),
]


@pytest.fixture
def dataset_file(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text(
        "".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in QUESTIONS),
        encoding="utf-8",
    )
    return path


def show_page(window, page) -> None:
    """Make ``page`` the current tab (a tab may hold the page itself or a scroll area)."""
    for index in range(window.pages.count()):
        tab = window.pages.widget(index)
        if tab is page or getattr(tab, "widget", lambda: None)() is page:
            window.pages.setCurrentIndex(index)
            return
    raise AssertionError("no tab shows the page")


def prepare(qtbot, window, dataset_file, samples: int = 3, max_tokens: int = 12):
    show_page(window, window.experiments)
    runner = window.experiments.runner
    runner.load_dataset(dataset_file)
    qtbot.waitUntil(lambda: runner.dataset is not None, timeout=10_000)
    runner.settings.strategy.setCurrentText("self-consistency")
    runner.settings.samples.setValue(samples)
    runner.settings.max_tokens.setValue(max_tokens)
    return runner


def run_to_end(qtbot, runner, window=None) -> None:
    assert runner.run_button.isEnabled()
    runner.run_button.click()
    assert runner.running and runner.cancel_button.isEnabled()
    if window is not None:  # the experiment holds the model: Explore cannot start a run
        assert not window.explore.run_panel.run_button.isEnabled()
        assert "experiment is running" in (window.busy_reason() or "")
    qtbot.waitUntil(lambda: not runner.running, timeout=120_000)
    if window is not None:
        assert window.explore.run_panel.run_button.isEnabled() and window.busy_reason() is None


def by_hand_bins(results: list[ExperimentResult]) -> dict[int, list[bool]]:
    bins: dict[int, list[bool]] = defaultdict(list)
    for r in results:
        if r.consistency is not None:
            bins[min(int(r.consistency * 10), 9)].append(bool(r.correct))
    return bins


def test_run_an_experiment_and_read_its_plots(qtbot, window, dataset_file, tmp_path):
    runner = prepare(qtbot, window, dataset_file)
    assert "3 questions" in runner.dataset_info.text()
    assert window.explore.run_panel.run_button.isEnabled() and not runner.running
    run_to_end(qtbot, runner, window)
    page = window.experiments
    assert runner.overall.value() == runner.overall.maximum() == 3
    qtbot.waitUntil(lambda: page.results_model.rowCount() == 3, timeout=10_000)
    row = page.experiments_model.rows[0]
    assert (row.done, row.n_questions, row.status) == (3, 3, "complete")
    with Store.open(window.db_path) as store:
        results = store.experiment_results(row.id)
    assert [r.session_id for r in page.results_model.rows] == [r.session_id for r in results]
    page.plots.show_experiment(row.id)
    qtbot.waitUntil(lambda: page.plots.current_filter().experiment_id == row.id)
    qtbot.waitUntil(
        lambda: page.plots.stats is not None and page.plots.stats.runs == 3, timeout=10_000
    )
    drawn = page.plots.items["calibration"]
    expected = by_hand_bins(results)
    assert [(b.lower, b.count) for b in drawn["bins"]] == [
        (i / 10, len(expected[i])) for i in sorted(expected)
    ]
    assert expected, "no run has a consistency: the diagram draws nothing to check"
    heights = list(drawn["bars"].opts["height"])
    assert heights == pytest.approx([sum(v) / len(v) for _, v in sorted(expected.items())])
    assert [label.toPlainText() for label in drawn["labels"]] == [
        str(len(v)) for _, v in sorted(expected.items())
    ]
    rated = sum(len(v) for v in expected.values())  # runs with a consistency (some answered)
    ece = sum(
        len(v) / rated * abs(sum(v) / len(v) - sum(r.consistency for r in results if
            r.consistency is not None and min(int(r.consistency * 10), 9) == i) / len(v))
        for i, v in expected.items()
    )  # fmt: skip
    assert page.plots.stats.calibration.ece == pytest.approx(ece)
    assert f"ECE {ece:.3f}" in page.plots.plots["calibration"].getPlotItem().titleLabel.text
    histogram = page.plots.items["consistency"]
    correct = list(histogram["correct"].opts["height"])
    incorrect = list(histogram["incorrect"].opts["height"])
    assert sum(correct) == sum(1 for r in results if r.correct and r.consistency is not None)
    assert sum(correct) + sum(incorrect) == sum(1 for r in results if r.consistency is not None)
    curve = page.plots.items["accuracy"]["points"]
    # the selection gap: each rule's accuracy beside pass@k, as the core computes it
    with Store.open(window.db_path) as store:
        gaps = selection_gap(store.run_records(experiment_id=row.id))
    table = page.plots.gap_table
    shown = [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]
    assert shown == [gap_cells(g) for g in gaps] and shown[0][:2] == ["self-consistency", "3"]
    assert all("None" not in cell and "nan" not in cell for cells in shown for cell in cells)
    assert [p.n for p in curve] == [1, 2]  # three samples each: n = 1, 2 have subsets
    for name, suffix, magic in (("calibration", ".png", b"\x89PNG"), ("accuracy", ".svg", b"<")):
        saved = page.plots.export_plot(name, tmp_path / f"{name}{suffix}")
        assert saved is not None and saved.read_bytes().startswith(magic)
    svg = (tmp_path / "accuracy.svg").read_bytes()
    assert b"<svg" in svg and b"samples" in svg  # vector text, not a bitmap


def test_filters_change_what_the_plots_count(qtbot, window, dataset_file):
    runner = prepare(qtbot, window, dataset_file)
    runner.limit.setValue(2)
    run_to_end(qtbot, runner)
    plots = window.experiments.plots
    window.experiments.refresh()
    qtbot.waitUntil(lambda: plots.stats is not None and plots.stats.runs == 2, timeout=10_000)
    plots.strategy.setCurrentText("cot-decoding")
    qtbot.waitUntil(lambda: plots.stats.runs == 0, timeout=10_000)
    assert "No saved runs" in plots.summary.text()
    plots.strategy.setCurrentText("self-consistency")
    qtbot.waitUntil(lambda: plots.stats.runs == 2, timeout=10_000)
    plots.model.setCurrentText(plots.model.itemText(plots.model.count() - 1))
    assert "gemma3" in plots.model.currentText().lower()
    qtbot.waitUntil(lambda: plots.current_filter().model is not None)
    qtbot.waitUntil(lambda: plots.stats.runs == 2, timeout=10_000)
    plots.confidence.setCurrentIndex(plots.confidence.findData("delta"))
    qtbot.waitUntil(lambda: plots.stats.confidence == "delta", timeout=10_000)


def test_cancel_then_resume_skips_the_finished_questions(qtbot, window, dataset_file):
    runner = prepare(qtbot, window, dataset_file, samples=2, max_tokens=48)
    page = window.experiments

    def cancel_after_the_first(done: int) -> None:  # the moment the first question is saved
        if done >= 1 and runner.cancel_button.isEnabled():
            runner.cancel_button.click()

    runner.overall.valueChanged.connect(cancel_after_the_first)
    runner.run_button.click()
    qtbot.waitUntil(lambda: not runner.running, timeout=120_000)
    runner.overall.valueChanged.disconnect(cancel_after_the_first)
    assert "cancelled" in runner.eta.text()
    first = page.experiments_model.rows[0]
    assert first.status == "cancelled" and 1 <= first.done < 3
    kept = {r.question_index: r.session_id for r in page.results_model.rows}
    page.experiments_view.selectRow(0)
    assert page.resume_button.isEnabled()
    page.resume_button.click()
    qtbot.waitUntil(lambda: runner.running, timeout=10_000)
    qtbot.waitUntil(lambda: not runner.running, timeout=120_000)
    again = page.experiments_model.rows[0]
    assert (again.id, again.done, again.status) == (first.id, 3, "complete")
    now = {r.question_index: r.session_id for r in page.results_model.rows}
    assert all(now[index] == session for index, session in kept.items())


def test_a_result_row_opens_its_session(qtbot, window, dataset_file):
    runner = prepare(qtbot, window, dataset_file)
    runner.limit.setValue(1)
    run_to_end(qtbot, runner)
    page = window.experiments
    qtbot.waitUntil(lambda: page.results_model.rowCount() == 1, timeout=10_000)
    wanted = page.results_model.rows[0].session_id
    page.results_view.activated.emit(page.results_model.index(0, 1))
    qtbot.waitUntil(
        lambda: window.explore.session is not None and window.explore.session.id == wanted,
        timeout=10_000,
    )
    assert window.pages.currentIndex() == 0
    assert window.explore.session.question == QUESTIONS[0][0]


def test_export_an_experiment_report(qtbot, window, dataset_file, tmp_path):
    from inspector.ui.shared.export_actions import export_experiment

    runner = prepare(qtbot, window, dataset_file)
    runner.limit.setValue(2)
    run_to_end(qtbot, runner)
    experiment_id = window.experiments.experiments_model.rows[0].id
    out = tmp_path / "experiment.html"
    message = export_experiment(window.db_path, experiment_id, out, "html")
    assert message.startswith("Exported to")
    html = out.read_text(encoding="utf-8")
    assert "Tom has 2 apples" in html and html.count("data:image/png;base64,") >= 2


def test_a_bad_data_set_is_a_message_and_keeps_the_previous_one(qtbot, window, dataset_file):
    runner = prepare(qtbot, window, dataset_file)
    broken = dataset_file.parent / "broken.jsonl"
    broken.write_text('{"question": "ok?", "answer": "1"}\n{"question": "no answer"}\n')
    messages = []
    runner.message.connect(messages.append)
    runner.load_dataset(broken)
    qtbot.waitUntil(lambda: bool(messages), timeout=10_000)
    assert "broken.jsonl:2" in runner.dataset_info.text()
    assert "still using tiny" in runner.dataset_info.text()
    assert runner.dataset is not None and len(runner.dataset.questions) == 3


def test_a_run_and_an_experiment_never_share_the_model_at_once(qtbot, window, dataset_file):
    runner = prepare(qtbot, window, dataset_file, max_tokens=48)
    runner.run_button.click()
    assert runner.running and not window.explore.run_panel.run_button.isEnabled()
    assert "experiment is running" in window.busy_reason()
    window.explore.start_run()
    assert window.explore.worker is None  # refused
    runner.cancel_button.click()
    qtbot.waitUntil(lambda: not runner.running, timeout=60_000)
    assert window.explore.run_panel.run_button.isEnabled() and window.busy_reason() is None


def test_experiment_models_are_well_behaved(qtmodeltester):
    experiments = ExperimentsTableModel()
    experiments.set_rows(
        [
            ExperimentRow(1, "a", "tiny", 3, "greedy", "plain", "m", "complete", 3, 2, "t", "t"),
            ExperimentRow(2, "b", "tiny", 3, "self-consistency", "plain", None, "running",
                          0, 0, "t", "t"),
        ]
    )  # fmt: skip
    qtmodeltester.check(experiments)
    accuracy = experiments.column_of("accuracy")
    assert experiments.headerData(accuracy, Qt.Orientation.Horizontal) == "Accuracy"
    assert experiments.index(0, accuracy).data() == "0.667"
    assert experiments.index(1, accuracy).data() == ""
    results = ExperimentResultsModel()
    results.set_rows(
        [
            ExperimentResult(0, "q <b>1</b>", "5", "5", True, 1.0, "s1"),
            ExperimentResult(1, "q2", "8", None, None, None, "s2"),
        ]
    )
    qtmodeltester.check(results)
    assert results.index(0, 0).data() == "1" and results.index(0, 4).data() == "✓"
    assert results.id_at(1) == "s2" and results.id_at(5) is None
