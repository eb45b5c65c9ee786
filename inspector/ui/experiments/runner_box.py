"""The top of the Experiments tab: pick a data set and settings, run, follow, cancel.

The experiment runs on a worker thread through the Qt-free ``run_saved_experiment``; every
session is saved as it goes, so a cancelled or crashed experiment resumes where it stopped.
Progress is read on a timer (per question: tokens; overall: questions, with time remaining).
Against a server, "requests at once" bounds the requests in flight, with as many questions
running together (remembered; the local engine runs one question at a time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QSize, Qt, QThread, QTimer, QUrl, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from inspector.core.datasets import Dataset, load_dataset
from inspector.core.experiment import ExperimentProgress
from inspector.core.model_defaults import resolve_settings
from inspector.core.prompts import RESOURCES
from inspector.core.session import RunSettings
from inspector.core.strategies import RunHooks
from inspector.service.experiments import SavedExperiment, run_saved_experiment
from inspector.store import Store
from inspector.ui.shared.run_worker import RunWorker, start_worker
from inspector.ui.shared.settings_row import SettingsRow, expected_tokens
from inspector.ui.shared.widgets import spin_box
from inspector.ui.shared.workers import run_in_pool

if TYPE_CHECKING:
    from inspector.engine.backend import Backend

DATASET_FILTER = "Data sets (*.jsonl *.ndjson *.json *.csv);;All files (*)"
SAMPLE_DATASETS = RESOURCES / "datasets"  # the bundled sample data sets
DATASET_FOLDER_KEY = "experiments/dataset_folder"  # the folder of the last data set opened
CONCURRENCY_KEY = "experiments/concurrency"  # requests in flight at once against a server


def saved_concurrency(preferences: QSettings | None) -> int:
    """The remembered number of requests at once (the server default when none or bad)."""
    from inspector.engine.remote import DEFAULT_CONCURRENCY

    value = preferences.value(CONCURRENCY_KEY, DEFAULT_CONCURRENCY) if preferences else None
    try:
        number = int(value) if isinstance(value, (int, str)) else DEFAULT_CONCURRENCY
    except ValueError:
        return DEFAULT_CONCURRENCY
    return min(max(number, 1), 256)


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class SideScroll(QScrollArea):
    """A row of controls that scrolls sideways when the window is narrower than the row
    (instead of widening the whole page), and is exactly as tall as it needs."""

    def __init__(self, row: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = row
        self.setWidget(row)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._fit()

    def _fit(self) -> None:
        hint = self.row.minimumSizeHint()
        height = hint.height()
        if hint.width() > self.viewport().width():
            height += self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        hint.setWidth(min(hint.width(), 320))
        return hint


class ExperimentRunnerBox(QGroupBox):
    started = Signal()
    ended = Signal(object)  # SavedExperiment, or None after a failure
    experimentOpened = Signal(int)  # the experiment id, as soon as the run knows it
    questionDone = Signal()  # a question's session is complete and saved
    message = Signal(str)

    def __init__(
        self,
        db_path: Path,
        parent: QWidget | None = None,
        preferences: QSettings | None = None,
    ) -> None:
        super().__init__("Run an experiment", parent)
        self.db_path = db_path
        self.preferences = preferences
        self.engine: Backend | None = None
        self.can_start: Callable[[], str | None] = lambda: None  # a reason not to, or None
        self.dataset: Dataset | None = None
        self.worker: RunWorker | None = None
        self._thread: QThread | None = None
        self._started = 0.0
        self._whole_run = False  # the token bar counts the whole run (questions at once)
        self.experiment_id: int | None = None
        self.dataset_path = QLineEdit(readOnly=True, placeholderText="no data set chosen")
        self.open_button = QPushButton("Open data set…")
        self.open_button.setToolTip("JSONL, CSV or GSM8K file")
        self.open_button.clicked.connect(self.choose_dataset)
        self.dataset_info = QLabel("Choose a JSONL, CSV or GSM8K file with questions and answers")
        self.settings = SettingsRow("self-consistency")
        self.limit = spin_box(0, 1_000_000, 0)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("run only the first N questions (all: the whole data set)")
        self.name = QLineEdit(placeholderText="name (optional)")
        self.concurrency = spin_box(1, 256, saved_concurrency(preferences))
        self.concurrency.setToolTip(
            "requests sent to a server at once, with as many questions running together: set "
            "it to the server's parallel slots (it batches them); the local engine runs one "
            "question at a time"
        )
        self.concurrency.valueChanged.connect(self._remember_concurrency)
        self.run_button = QPushButton("Run experiment")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.overall = QProgressBar(format="question %v / %m")
        self.question_progress = QProgressBar(format="%v / %m tokens of this question")
        self.eta = QLabel("")
        self.timer = QTimer(self, interval=100)
        self.timer.timeout.connect(self._poll)
        self._layout()
        self._update_buttons()
        self._show_progress_bars(False)

    def _layout(self) -> None:
        source = QHBoxLayout()
        source.addWidget(self.dataset_path, 1)
        source.addWidget(self.open_button)
        options = QHBoxLayout()
        options.addWidget(QLabel("questions"))
        options.addWidget(self.limit)
        options.addWidget(QLabel("requests at once"))
        options.addWidget(self.concurrency)
        options.addWidget(self.name, 1)
        options.addWidget(self.run_button)
        options.addWidget(self.cancel_button)
        progress = QHBoxLayout()
        progress.addWidget(self.overall, 1)
        progress.addWidget(self.question_progress, 1)
        progress.addWidget(self.eta)
        layout = QVBoxLayout(self)
        layout.addLayout(source)
        layout.addWidget(self.dataset_info)
        layout.addWidget(SideScroll(self.settings))
        layout.addLayout(options)
        layout.addLayout(progress)

    # -- data set ------------------------------------------------------------------------------
    def dataset_folder(self) -> Path:
        """Where the data-set dialog starts: the folder of the last data set opened (if it
        still exists), else the bundled sample data sets."""
        saved = self.preferences.value(DATASET_FOLDER_KEY) if self.preferences else None
        if saved and Path(str(saved)).is_dir():
            return Path(str(saved))
        return SAMPLE_DATASETS if SAMPLE_DATASETS.is_dir() else Path.home()

    def dataset_dialog(self) -> QFileDialog:
        """The data-set dialog: in :meth:`dataset_folder`, with the sample data sets, home and
        the last folder in its sidebar (Qt's own dialog: a native one drops the sidebar)."""
        dialog = QFileDialog(self, "Open data set", str(self.dataset_folder()), DATASET_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        places = [self.dataset_folder(), SAMPLE_DATASETS, Path.home()]
        urls: list[QUrl] = []
        for place in places:
            url = QUrl.fromLocalFile(str(place))
            if place.is_dir() and url not in urls:
                urls.append(url)
        dialog.setSidebarUrls(urls)
        splitter = dialog.findChild(QSplitter)
        if splitter is not None:  # a sidebar wide enough for "datasets" and folder names
            splitter.setSizes([180, 720])
        return dialog

    def choose_dataset(self) -> None:
        dialog = self.dataset_dialog()
        if dialog.exec() and dialog.selectedFiles():
            self.load_dataset(Path(dialog.selectedFiles()[0]))

    def load_dataset(self, path: Path) -> None:
        """Parse the file on a pool thread; a bad file is reported and changes nothing."""
        self.dataset_info.setText(f"Reading {path.name}…")
        run_in_pool(lambda: load_dataset(path), self.set_dataset, self._dataset_failed)

    def set_dataset(self, dataset: Dataset, remember: bool = True) -> None:
        """Use ``dataset``; with ``remember`` its folder is where the next dialog starts."""
        self.dataset = dataset
        folder = dataset.path.parent
        if remember and self.preferences is not None and folder.is_dir():
            self.preferences.setValue(DATASET_FOLDER_KEY, str(folder.resolve()))
        self.dataset_path.setText(str(dataset.path))
        self.dataset_info.setText(f"{dataset.name}: {len(dataset.questions)} questions")
        self._update_buttons()

    def _dataset_failed(self, message: str) -> None:
        kept = f" (still using {self.dataset.name})" if self.dataset else ""
        self.dataset_info.setText(f"Could not use this data set{kept}: {message}")
        self.message.emit(f"Data set not loaded: {message}")

    # -- running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def set_engine(self, engine: Backend | None) -> None:
        self.engine = engine
        self._update_buttons()

    def _remember_concurrency(self, value: int) -> None:
        if self.preferences is not None:
            self.preferences.setValue(CONCURRENCY_KEY, value)

    def _update_buttons(self) -> None:
        ready = self.engine is not None and self.dataset is not None and not self.running
        self.run_button.setEnabled(ready)
        concurrent = bool(getattr(self.engine, "thread_safe", False))
        self.concurrency.setEnabled(concurrent and not self.running)
        self.open_button.setEnabled(not self.running)
        self.cancel_button.setEnabled(self.running)

    def resume(
        self, dataset: Dataset, settings: RunSettings, name: str, limit: int | None = None
    ) -> None:
        """Run a saved experiment again over the questions it asked for (``limit``; None:
        all): its finished questions are skipped."""
        self.set_dataset(dataset, remember=False)  # a saved copy, not a folder the user chose
        self.settings.load(settings)
        self.name.setText(name)
        self.limit.setValue(limit or 0)
        self.run()

    def run(self) -> None:
        engine, dataset, db_path = self.engine, self.dataset, self.db_path
        reason = self.can_start() or (None if engine else "no model is loaded")
        if reason or engine is None or dataset is None or self.running:
            self.message.emit(f"Cannot start the experiment: {reason or 'choose a data set'}")
            return
        try:
            settings = self.settings.values()
        except ValueError as error:  # an answer rule that does not parse
            self.message.emit(f"Cannot start the experiment: {error}")
            return
        limit = self.limit.value() or None
        name = self.name.text().strip() or None
        concurrency = self.concurrency.value()
        worker = RunWorker(lambda hooks: None)  # its experiment_id is set by the job (thread-safe)

        def job(hooks: RunHooks) -> SavedExperiment:
            with Store.open(db_path) as store:
                return run_saved_experiment(
                    store, engine, dataset, settings, name=name, limit=limit, hooks=hooks,
                    on_progress=worker.publish, concurrency=concurrency,
                    on_experiment=lambda found: setattr(worker, "experiment_id", found),
                )  # fmt: skip

        worker.job = job
        self.experiment_id = None
        per_question = expected_tokens(resolve_settings(settings, engine.info()))
        together = concurrency if getattr(engine, "thread_safe", False) else 1
        self._start(worker, limit or len(dataset.questions), per_question, together)

    def _show_progress_bars(self, shown: bool) -> None:
        """The progress row appears with the first run (and stays, with how it ended)."""
        self.overall.setVisible(shown)
        self.question_progress.setVisible(shown)
        self.eta.setVisible(shown)

    def _start(
        self, worker: RunWorker, questions: int, tokens_per_question: int, together: int = 1
    ) -> None:
        """``together``: questions running at once; above 1 the token bar counts the whole
        run's tokens (a bar per question would mix the tokens of all those running)."""
        if self._thread is not None:
            self._thread.wait()
            self._thread.deleteLater()
        self.worker = worker
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self.overall.setRange(0, questions)
        self.overall.setValue(0)
        self._whole_run = together > 1
        if self._whole_run:
            self.question_progress.setFormat("%v tokens so far (at most %m)")
            self.question_progress.setRange(0, max(1, tokens_per_question * questions))
        else:
            self.question_progress.setFormat("%v / %m tokens of this question")
            self.question_progress.setRange(0, max(1, tokens_per_question))
        self.question_progress.setValue(0)
        self.eta.setText("starting…")
        self._show_progress_bars(True)
        self._started = time.perf_counter()
        self._update_buttons()
        self.timer.start()
        self.started.emit()
        self._thread = start_worker(worker, self)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.eta.setText("cancelling after this step…")

    def _poll(self) -> None:
        if self.worker is None:
            return
        tokens = len(self.worker.take_tokens())
        bar = self.question_progress
        bar.setValue(min(bar.maximum(), bar.value() + tokens))
        found = getattr(self.worker, "experiment_id", None)
        if found is not None and found != self.experiment_id:
            self.experiment_id = found
            self.experimentOpened.emit(found)
        progress = self.worker.take_progress()
        if isinstance(progress, ExperimentProgress):
            self._show_progress(progress)

    def _show_progress(self, progress: ExperimentProgress) -> None:
        self.overall.setRange(0, max(1, progress.total))
        self.overall.setValue(progress.done)
        if not self._whole_run:
            self.question_progress.setValue(0)
        left = (
            f" · about {format_duration(progress.remaining)} left"
            if progress.remaining is not None
            else ""
        )
        self.eta.setText(f"{format_duration(progress.elapsed)} elapsed{left}")
        if progress.session is not None:
            self.questionDone.emit()

    def _on_finished(self, saved: SavedExperiment) -> None:
        self._poll()
        self._stop()
        outcome = saved.outcome
        if not outcome.cancelled:
            self.overall.setValue(self.overall.maximum())
        verdict = "cancelled — Run again to resume" if outcome.cancelled else "done"
        self.eta.setText(f"{verdict} in {format_duration(time.perf_counter() - self._started)}")
        self.message.emit(
            f"Experiment {saved.experiment_id}: ran {len(outcome.sessions)} questions, "
            f"skipped {outcome.skipped} already done{' (cancelled)' if outcome.cancelled else ''}"
        )
        self.ended.emit(saved)

    def _on_failed(self, message: str) -> None:
        self._stop()
        self.eta.setText("failed")
        self.message.emit(f"Experiment failed: {message}")
        self.ended.emit(None)

    def _stop(self) -> None:
        self.timer.stop()
        self.worker = None
        self._update_buttons()

    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
        if self._thread is not None:
            self._thread.wait(10_000)
