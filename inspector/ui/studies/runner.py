"""A study on a worker thread: progress with the time left, clean cancel, the result.

The job is the service's own (:func:`prepare_study` finds a stopped study with the same
settings, :func:`run_and_save_study` saves each continuation as it ends); the worker is the
app's :class:`RunWorker`, which never touches a widget. Progress is published by the job and
read here on a timer, so a fast study does not flood the event queue.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from inspector.core.strategies import RunHooks
from inspector.core.studies import Study, StudySettings
from inspector.service.studies import StudyProgress, prepare_study, run_and_save_study
from inspector.store import Store
from inspector.ui.shared.run_worker import RunWorker, start_worker

if TYPE_CHECKING:
    from inspector.engine.backend import Backend


def progress_words(progress: StudyProgress) -> str:
    """ "12 of 40 continuations · about 1 min 5 s left" (no time until one has ended)."""
    words = f"{progress.done:,} of {progress.total:,} continuations"
    if progress.seconds_left is not None and progress.done < progress.total:
        words += f" · about {duration_words(progress.seconds_left)} left"
    return words


def duration_words(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class StudyRunner(QObject):
    """Runs one study at a time; ``finished`` gives the Study (complete or cancelled)."""

    progress = Signal(object)  # StudyProgress
    finished = Signal(object)  # Study
    failed = Signal(str)

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.worker: RunWorker | None = None
        self._thread: QThread | None = None
        self.settings: StudySettings | None = None
        self.timer = QTimer(self, interval=100)
        self.timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, engine: Backend, session_id: str, settings: StudySettings) -> None:
        if self.worker is not None:
            raise RuntimeError("a study is running")
        db_path = self.db_path

        def job(hooks: RunHooks) -> Study:
            # the worker thread has its own connection; each continuation is saved as it ends
            with Store.open(db_path) as store:
                session, plan, study = prepare_study(store, session_id, settings)
                return run_and_save_study(
                    store, engine, session, plan, study,
                    on_progress=publish, cancel=hooks.cancel,
                )  # fmt: skip

        def publish(progress: StudyProgress) -> None:
            worker.publish(progress)

        if self._thread is not None:
            self._thread.wait()
            self._thread.deleteLater()
        worker = RunWorker(job)
        self.worker, self.settings = worker, settings
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self.timer.start()
        self._thread = start_worker(worker, self)

    def cancel(self) -> None:
        """Stop within one decoding step; what was sampled stays saved (resumable)."""
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, ms: int = 10_000) -> None:
        if self._thread is not None:
            self._thread.wait(ms)

    def _poll(self) -> None:
        if self.worker is not None:
            progress = self.worker.take_progress()
            if progress is not None:
                self.progress.emit(progress)

    def _end(self) -> None:
        self._poll()
        self.timer.stop()
        self.worker = None

    def _on_finished(self, study: Study) -> None:
        self._end()
        self.finished.emit(study)

    def _on_failed(self, message: str) -> None:
        self._end()
        self.failed.emit(message)
