"""The study actions: "Find forking tokens…" and "Step importance…" on the shown path, and
opening a saved study from the Sessions panel.

A request checks what it can first (a model loaded and free, a saved session, the path's
settings: the dialog shows the plan's cost or why it cannot run), asks before a study above
the cost limit, then runs it on a :class:`StudyRunner` and shows it in a
:class:`StudyWindow` that follows its progress. Every failure is one message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from inspector.core.session import Session
from inspector.core.strategies import RunHooks
from inspector.core.studies import Study, StudyKind, StudySample, StudySettings
from inspector.service.studies import (
    StudyProgress,
    open_and_save_continuations,
    prepare_study,
)
from inspector.store import Store
from inspector.ui.model.controller import ModelController
from inspector.ui.shared.run_worker import RunWorker, start_worker
from inspector.ui.shared.workers import run_in_pool
from inspector.ui.studies.runner import StudyRunner
from inspector.ui.studies.settings_dialog import StudyDialog, confirm_cost
from inspector.ui.studies.study_window import StudyWindow

RELOAD_SECONDS = 2.0  # how often a running study's window reloads what is saved


class StudyActions(QObject):
    message = Signal(str, int)  # status text, milliseconds shown
    forksFound = Signal(str, int, list)  # session id, path id, fork positions
    started = Signal()
    ended = Signal()
    treeOpened = Signal(object, int)  # the Session with the new paths, the first new path id

    def __init__(
        self,
        db_path: Path,
        models: ModelController,
        busy_reason: Callable[[], str | None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.models = models
        self.busy_reason = busy_reason
        self.parent_widget = parent
        self.runner = StudyRunner(db_path, self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.window = StudyWindow(parent)
        self.window.cancelRequested.connect(self.cancel)
        self.window.resumeRequested.connect(self._resume)
        self.window.forksFound.connect(self.forksFound.emit)
        self.window.openRequested.connect(self.open_in_tree)
        self.opener: RunWorker | None = None
        self._opener_thread: QThread | None = None
        self.dialog: StudyDialog | None = None
        self._session_id: str | None = None
        self._last_reload = 0.0
        self._reloading = False

    @property
    def running(self) -> bool:
        """A study runs, or continuations are being opened in the tree (the model is used)."""
        return self.runner.running or self.opener is not None

    def _refusal(self, session: Session | None) -> str | None:
        if self.models.engine is None:
            return "Load a model first: a study samples continuations with it"
        reason = self.busy_reason()
        if reason:
            return reason
        if session is None:
            return "Run or open a session first"
        return None

    def _refuse(self, reason: str) -> None:
        self.message.emit(f"Cannot start the study: {reason}", 8000)
        QMessageBox.warning(self.parent_widget, "Reasoning Inspector", reason)

    # -- starting ----------------------------------------------------------------------------
    def request(self, kind: StudyKind, session: Session | None, path_id: int | None) -> None:
        """The study dialog for ``session``'s path ``path_id``; it starts when accepted."""
        reason = self._refusal(session)
        if reason is None and path_id is None:
            reason = "Select a path first"
        if reason is not None:
            self._refuse(reason)
            return
        assert session is not None and path_id is not None
        dialog = StudyDialog(session, path_id, kind, self.parent_widget)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._accepted(session, dialog))
        dialog.open()

    def _accepted(self, session: Session, dialog: StudyDialog) -> None:
        self.dialog = None
        if dialog.plan is None:  # Start is off then; kept for safety
            return
        if not confirm_cost(self.parent_widget, dialog.plan):
            self.message.emit("Study not started", 5000)
            return
        self.start(session.id, dialog.settings())

    def start(self, session_id: str, settings: StudySettings) -> bool:
        """Check and run the study (resuming a stored one with the same settings); False
        with one message when it cannot start."""
        engine = self.models.engine
        reason = self._refusal(None) if engine is None else self.busy_reason()
        if reason:
            self._refuse(reason)
            return False
        assert engine is not None
        try:  # the same checks the worker makes, here so a bad study says so at once
            with Store.open(self.db_path) as store:
                session, plan, study = prepare_study(store, session_id, settings)
        except ValueError as error:
            self._refuse(str(error))
            return False
        resumed = len(study.samples)
        self._session_id = session_id
        self.window.set_running(True)
        self.window.show_study(session, study)
        self.window.progress.setMaximum(max(1, len(plan.points)))
        self.window.progress.setValue(resumed)
        self.window.show()
        self.window.raise_()
        self.runner.start(engine, session_id, settings)
        self.started.emit()
        self.message.emit(
            "Study running"
            + (
                f": resuming, {resumed} of {len(plan.points)} continuations saved"
                if resumed
                else ""
            )
            + "…",
            0,
        )
        return True

    def cancel(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.message.emit("Cancelling the study (what was sampled stays saved)…", 0)

    def _resume(self, study: Study) -> None:
        if study.session_id is not None:
            self.start(study.session_id, study.settings)

    # -- while it runs -----------------------------------------------------------------------
    def _on_progress(self, progress: StudyProgress) -> None:
        self.window.show_progress(progress)
        if progress.elapsed - self._last_reload >= RELOAD_SECONDS and not self._reloading:
            self._last_reload = progress.elapsed
            self._reload()

    def _reload(self) -> None:
        settings, session_id = self.runner.settings, self._session_id
        if settings is None or session_id is None:
            return
        self._reloading = True
        run_in_pool(self._loader(session_id, settings), self._show_reloaded, self._reload_failed)

    def _loader(
        self, session_id: str, settings: StudySettings
    ) -> Callable[[], tuple[Session, Study]]:
        db_path = self.db_path

        def load() -> tuple[Session, Study]:
            with Store.open(db_path) as store:
                session, _plan, study = prepare_study(store, session_id, settings)
            return session, study

        return load

    def _show_reloaded(self, result: tuple[Session, Study]) -> None:
        self._reloading = False
        if self.runner.running:
            self.window.show_study(*result)

    def _reload_failed(self, _message: str) -> None:
        self._reloading = False

    def _on_finished(self, study: Study) -> None:
        self._last_reload = 0.0
        self.window.set_running(False)
        session_id = self._session_id
        self.ended.emit()
        n = len(study.samples)
        self.message.emit(f"Study {study.status}: {n} continuations saved", 15_000)
        if session_id is not None:  # the final results, read back from the database
            self.open_study_of(session_id, study)

    def _on_failed(self, message: str) -> None:
        self._last_reload = 0.0
        self.window.set_running(False)
        self.ended.emit()
        self.message.emit(f"Study failed: {message}", 0)
        QMessageBox.warning(self.parent_widget, "Reasoning Inspector", message)

    # -- continuations into the tree --------------------------------------------------------
    def open_in_tree(self, study: Study, samples: list[StudySample]) -> None:
        """Each of ``samples`` becomes a branch path of the studied path (re-scored with its
        tokens forced), saved as it goes; then ``treeOpened`` shows the session in Explore."""
        engine = self.models.engine
        reason = self._refusal(None) if engine is None else self.busy_reason()
        if not reason and study.session_id is None:
            reason = "The study's session is not saved"
        if reason:
            self._refuse(reason)
            return
        assert engine is not None and study.session_id is not None
        db_path, session_id, chosen = self.db_path, study.session_id, list(samples)

        def job(hooks: RunHooks) -> tuple[Session, int, int]:
            with Store.open(db_path) as store:
                session = store.load_session(session_id)
                first = len(session.paths)
                open_and_save_continuations(
                    store, engine, session, study, chosen, cancel=hooks.cancel
                )
            return session, first, study.settings.path_id

        if self._opener_thread is not None:
            self._opener_thread.wait()
            self._opener_thread.deleteLater()
        worker = RunWorker(job)
        self.opener = worker
        worker.finished.connect(self._on_opened)
        worker.failed.connect(self._on_open_failed)
        self.window.set_opening(True)
        self.started.emit()
        n = len(chosen)
        self.message.emit(
            f"Opening {n} continuation{'s' if n != 1 else ''} in the tree (re-scoring)…", 0
        )
        self._opener_thread = start_worker(worker, self)

    def _end_opening(self) -> None:
        self.opener = None
        self.window.set_opening(False)
        self.ended.emit()

    def _on_opened(self, result: tuple[Session, int, int]) -> None:
        self._end_opening()
        session, first, path_id = result
        n = len(session.paths) - first
        self.message.emit(
            f"{n} continuation{'s' if n != 1 else ''} opened in the tree as branch paths "
            f"of path #{path_id}",
            15_000,
        )
        self.treeOpened.emit(session, first)

    def _on_open_failed(self, message: str) -> None:
        self._end_opening()
        self.message.emit(f"Cannot open the continuations: {message}", 0)
        QMessageBox.warning(self.parent_widget, "Reasoning Inspector", message)

    # -- saved studies -----------------------------------------------------------------------
    def open_study_of(self, session_id: str, study: Study) -> None:
        self._session_id = session_id
        run_in_pool(self._loader(session_id, study.settings), self._show_opened, self._open_failed)

    def open_study(self, study_id: int) -> None:
        """Load a saved study (and its session) on a pool thread, then show it."""
        db_path = self.db_path

        def load() -> tuple[Session, Study]:
            with Store.open(db_path) as store:
                study = store.load_study(study_id)
                return store.load_session(store.study_session(study_id)), study

        run_in_pool(load, self._show_opened, self._open_failed)

    def _show_opened(self, result: tuple[Session, Study]) -> None:
        if self.runner.running:
            self.message.emit("A study is running: its window shows it", 5000)
            return
        session, study = result
        self.window.set_running(False)
        self.window.show_study(session, study)
        self.window.show()
        self.window.raise_()

    def _open_failed(self, message: str) -> None:
        self.message.emit(f"Cannot open the study: {message}", 8000)

    def shutdown(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.runner.wait()
        if self.opener is not None and self._opener_thread is not None:
            self.opener.cancel()
            self._opener_thread.wait(10_000)
