"""The Explore tab: ask a question, run a strategy, explore the tree, read paths, branch.

The page runs and branches through the application service (:func:`run_and_save`,
:func:`branch_and_save`) on a :class:`RunWorker` thread, streams the tokens into the Live tab,
and shows the finished session in the tree, the path view and the answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import (
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.core.model_defaults import resolve_settings, token_limit_note
from inspector.core.session import Session
from inspector.core.strategies import RunHooks, token_limit
from inspector.service import branch_and_save, run_and_save
from inspector.store import Store
from inspector.ui.explore.annotation_panel import AnnotationPanel
from inspector.ui.explore.answers_panel import AnswersPanel
from inspector.ui.explore.path_view import ALL_ALTERNATIVES, PathView
from inspector.ui.explore.run_panel import RunPanel
from inspector.ui.explore.tree_view import ReasoningTreeView
from inspector.ui.model.controller import ModelController
from inspector.ui.shared.run_worker import RunWorker, start_worker
from inspector.ui.shared.settings_row import expected_tokens
from inspector.ui.shared.workers import run_in_pool


class ExplorePage(QWidget):
    """Run panel on top; the tree on the left; the path (with its annotations), the live
    tokens and the answers on the right.

    ``models`` gives the backend a run uses; ``busy_reason`` says why the model cannot be
    used now (this page's run or an experiment elsewhere), or None.
    """

    message = Signal(str, int)  # status text, milliseconds shown (0: until the next one)
    sessionShown = Signal(object)  # the Session now shown, or None
    sessionSaved = Signal(object)  # a run or a branch ended: its Session is saved
    tokenRate = Signal(float)  # tokens per second of the run in progress

    def __init__(
        self,
        db_path: Path,
        models: ModelController,
        busy_reason: Callable[[], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.models = models
        self.busy_reason = busy_reason
        self.session: Session | None = None
        self.worker: RunWorker | None = None
        self._thread: QThread | None = None
        self._live: dict[int, str] = {}
        self._run_started = 0.0
        self.live_timer = QTimer(self, interval=40)
        self.live_timer.timeout.connect(self._drain_tokens)
        self.run_panel = RunPanel()
        self.run_panel.runRequested.connect(self.start_run)
        self.run_panel.cancelRequested.connect(self.cancel_run)
        self.tree_view = ReasoningTreeView()
        self.tree_view.nodeSelected.connect(self._show_node)
        self.tree_view.pathActivated.connect(self._show_node)
        self.path_view = PathView()
        self.path_view.branchRequested.connect(self.start_branch)
        self.path_view.selectionChanged.connect(self._retarget_annotation)
        self.live_view = QPlainTextEdit(readOnly=True)
        self.annotation = AnnotationPanel(db_path)
        self.annotation.saved.connect(self._on_annotation_saved)
        self.answers = AnswersPanel()
        self.answers.pathClicked.connect(self.show_path)
        self.tabs = QTabWidget()
        self._layout()

    def _layout(self) -> None:
        path_page = QWidget()
        path_layout = QVBoxLayout(path_page)
        path_layout.setContentsMargins(0, 0, 0, 0)
        path_layout.addWidget(self.path_view, 1)
        path_layout.addWidget(self.annotation)
        self.tabs.addTab(path_page, "Path")
        self.tabs.addTab(self.live_view, "Live")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.tabs)
        right.addWidget(self.answers)
        right.setSizes([440, 360])
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(self.tree_view)
        body.addWidget(right)
        body.setSizes([800, 600])
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(self.run_panel)
        main.addWidget(body)
        main.setSizes([150, 710])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(main)

    # -- running -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A run or a branch of this page is in progress."""
        return self.worker is not None

    def set_ready(self, ready: bool) -> None:
        """Whether Run may be pressed (a model is loaded and free)."""
        self.run_panel.set_ready(ready)

    def start_run(self) -> None:
        engine = self.models.engine
        if engine is None or self.busy_reason():
            return
        try:
            question, gold, settings = self.run_panel.values()
        except ValueError as error:  # an answer rule that does not parse
            self.message.emit(f"Cannot run: {error}", 0)
            QMessageBox.warning(self, "Reasoning Inspector", str(error))
            return
        db_path = self.db_path

        def job(hooks: RunHooks) -> Session:
            # the worker thread has its own connection: saved as each path is made
            with Store.open(db_path) as store:
                return run_and_save(store, engine, question, settings, gold=gold, hooks=hooks)

        # the progress bar's length: what "auto" settings will be for this model
        self._start_worker(
            job, expected_tokens(resolve_settings(settings, engine.info())), "Running"
        )

    def start_branch(self, path_id: int, depth: int, token_id: int) -> None:
        engine, session = self.models.engine, self.session
        if engine is None or session is None or self.busy_reason():
            self.message.emit(self.busy_reason() or "Load a model first", 5000)
            return
        alternatives = None if token_id == ALL_ALTERNATIVES else [token_id]
        db_path = self.db_path

        def job(hooks: RunHooks) -> Session:
            with Store.open(db_path) as store:
                branch_and_save(store, engine, session, path_id, depth, alternatives, hooks=hooks)
            return session

        self._start_worker(
            job, token_limit(session.settings) * (len(alternatives or []) or 4), "Branching"
        )

    def _start_worker(
        self, job: Callable[[RunHooks], Session], expected_tokens: int, verb: str
    ) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread.deleteLater()
        self.worker = RunWorker(job)
        self.live_timer.start()
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self._live = {}
        self._run_started = time.perf_counter()
        self.live_view.clear()
        self.tabs.setCurrentWidget(self.live_view)
        self.run_panel.set_running(True, max(1, expected_tokens))
        self.message.emit(f"{verb}…", 0)
        self._thread = start_worker(self.worker, self)

    def cancel_run(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.message.emit("Cancelling…", 0)

    def _drain_tokens(self) -> None:
        """Show the tokens streamed since the last tick (runs every 40 ms during a run)."""
        if self.worker is None:
            return
        tokens = self.worker.take_tokens()
        if not tokens:
            return
        for branch, _index, text in tokens:
            self._live[branch] = self._live.get(branch, "") + text
        self.run_panel.advance(len(tokens))
        elapsed = max(1e-3, time.perf_counter() - self._run_started)
        self.tokenRate.emit(self.run_panel.progress.value() / elapsed)
        self.live_view.setPlainText(
            "\n\n".join(f"[{b + 1}] {t}" for b, t in sorted(self._live.items()))
        )

    def _on_finished(self, session: Session) -> None:
        self._drain_tokens()
        self.live_timer.stop()
        self.worker = None
        self.run_panel.set_running(False)
        self.show_session(session)
        self.sessionSaved.emit(session)
        engine = self.models.engine
        notices = " · ".join(engine.notices) if engine is not None else ""
        limit = token_limit_note(session.summary(), token_limit(session.settings))
        self.message.emit(
            f"Run {session.status}: {len(session.paths)} paths"
            + (f" ({notices})" if notices else "")
            + (f" — {limit}" if limit else ""),
            30_000 if limit else 15_000,
        )

    def _on_failed(self, message: str) -> None:
        self.live_timer.stop()
        self.worker = None
        self.run_panel.set_running(False)
        self.message.emit(f"Failed: {message}", 0)
        QMessageBox.warning(self, "Reasoning Inspector", message)

    def shutdown(self) -> None:
        """Stop the run in progress, if any (the engine stops within one decoding step)."""
        if self.worker is not None and self._thread is not None:
            self.worker.cancel()
            self._thread.wait(10_000)

    # -- saved sessions ----------------------------------------------------------------------
    def open_session(self, session_id: str) -> None:
        """Load a saved session on a pool thread, then show it."""
        if self.worker is not None:
            self.message.emit("Wait for the run to finish (or cancel it)", 5000)
            return
        run_in_pool(self._loader(session_id), self.show_session, self._show_error)

    def prepare_rerun(self, session_id: str) -> None:
        """Put a saved session's question, gold answer and settings in the run panel, to run
        it again with another strategy or prompt for comparison."""
        run_in_pool(self._loader(session_id), self._fill_rerun, self._show_error)

    def _loader(self, session_id: str) -> Callable[[], Session]:
        db_path = self.db_path

        def load() -> Session:
            with Store.open(db_path) as store:
                return store.load_session(session_id)

        return load

    def _fill_rerun(self, session: Session) -> None:
        self.run_panel.load(session.question, session.gold, session.settings)
        self.message.emit("Change the strategy or prompt, then Run (Ctrl+Enter)", 8000)

    def _show_error(self, message: str) -> None:
        self.message.emit(message, 8000)

    # -- showing -----------------------------------------------------------------------------
    def show_session(self, session: Session | None) -> None:
        self.session = session
        self.sessionShown.emit(session)
        self.tree_view.annotated = set()
        self.tree_view.show_session(session)
        self._refresh_badges()
        self.answers.show_session(session)
        first = session.paths[0].id if session and session.paths else None
        self.show_path(first)
        self.tabs.setCurrentIndex(0)

    def show_path(self, path_id: int | None) -> None:
        if self.session is None or path_id is None or path_id >= len(self.session.paths):
            self.path_view.show_path(self.session, None)
            return
        path = self.session.paths[path_id]
        self.path_view.show_path(self.session, path)
        self.annotation.set_target(self.session.id, path.id)
        self.tree_view.select_node(path.node_id)

    def _show_node(self, node_id: int) -> None:
        """Show the first path that ends at or passes through ``node_id``."""
        if self.session is None:
            return
        for path in self.session.paths:
            if node_id in {n.id for n in self.session.tree.chain(path.node_id)}:
                self.path_view.show_path(self.session, path)
                self.annotation.set_target(self.session.id, path.id)
                self.tabs.setCurrentIndex(0)
                return

    def _retarget_annotation(self) -> None:
        path = self.path_view.path
        if self.session is not None and path is not None:
            self.annotation.set_target(
                self.session.id, path.id, self.path_view.selected_token_range()
            )

    def _on_annotation_saved(self, message: str) -> None:
        self.message.emit(message, 5000)
        self._refresh_badges()

    def _refresh_badges(self) -> None:
        """Mark annotated paths in the tree (read on the GUI thread: a small indexed query)."""
        if self.session is None:
            return
        try:
            with Store.open(self.db_path) as store:
                notes = store.annotations(self.session.id)
        except ValueError:
            return
        self.tree_view.annotated = {a.path_id for a in notes if a.path_id is not None}
        self.tree_view.rebuild()
