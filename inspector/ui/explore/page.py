"""The Explore tab: ask a question, run a strategy, explore the tree, read paths, branch.

The page runs and branches through the application service (:func:`run_and_save`,
:func:`branch_and_save`) on a :class:`RunWorker` thread, streams the tokens into the Live tab
and into the tree (a dashed box per branch, growing as it streams; the previous session is no
longer shown), and shows the finished session in the tree, the path view and the answers.
After a branch the new branch's first path is shown. Opening a saved session also puts its
question, gold answer and settings in the editor, so what is shown and what Run would run
agree.

The working panes get the room: the tree on the left, the path and the answers on the right
(:class:`WorkPanes`, stacked into tabs on a short screen), the editor on top at its natural
height. The splitter positions and the run settings are kept between launches.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from inspector.core.model_defaults import resolve_settings, token_limit_note
from inspector.core.session import Session
from inspector.core.strategies import AdaptiveProgress, RunHooks, token_limit
from inspector.core.tree import ROOT_ID
from inspector.service import branch_and_save, run_and_save
from inspector.store import Store
from inspector.store.rows import Annotation
from inspector.ui.explore.annotation_panel import AnnotationPanel
from inspector.ui.explore.answers_panel import AnswersPanel
from inspector.ui.explore.path_view import ALL_ALTERNATIVES, PathView
from inspector.ui.explore.preferences import (
    load_run_settings,
    restore_splitters,
    save_run_settings,
    save_splitters,
)
from inspector.ui.explore.run_panel import RunPanel
from inspector.ui.explore.tree_legend import TreeLegend
from inspector.ui.explore.tree_tools import TreeTools
from inspector.ui.explore.tree_view import ReasoningTreeView
from inspector.ui.explore.work_panes import WorkPanes
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
        self._live_counts: dict[int, int] = {}
        self._live_floor = 0  # the first path id streaming in this level (adaptive runs)
        self._run_started = 0.0
        self._show_after: int | None = None  # the path to show when the run ends (a branch's)
        self._before_run: Session | None = None  # shown again if the run fails
        self._sized = False  # splitters placed (the defaults on first show, where not restored)
        self._restored: set[str] = set()  # the splitters put back as the last launch left them
        self._notes: list[Annotation] = []  # the shown session's annotations
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
        self.answers.pathClicked.connect(self._open_from_answers)
        self.legend = TreeLegend()
        self.tree_tools = TreeTools(self.tree_view)
        self.path_page = QWidget()
        self.panes = WorkPanes(self.path_page, self.live_view, self.answers)
        self.tabs = self.panes.tabs
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.main = QSplitter(Qt.Orientation.Vertical)
        self._layout()

    def _layout(self) -> None:
        path_layout = QVBoxLayout(self.path_page)
        path_layout.setContentsMargins(0, 0, 0, 0)
        path_layout.addWidget(self.path_view, 1)
        path_layout.addWidget(self.annotation)
        self.path_view.setMinimumHeight(96)  # five lines of a path, at least
        tree_pane = QWidget()
        tree_layout = QVBoxLayout(tree_pane)
        tree_layout.setContentsMargins(0, 0, 0, 0)
        tree_layout.setSpacing(0)
        tree_layout.addWidget(self.tree_tools)
        tree_layout.addWidget(self.tree_view, 1)
        tree_layout.addWidget(self.legend)
        tree_pane.setMinimumWidth(300)
        self.panes.setMinimumWidth(440)
        self.body.addWidget(tree_pane)
        self.body.addWidget(self.panes)
        self.body.setChildrenCollapsible(False)
        self.body.setStretchFactor(0, 1)
        self.body.setStretchFactor(1, 1)
        self.main.addWidget(self.run_panel)
        self.main.addWidget(self.body)
        self.main.setChildrenCollapsible(False)
        self.main.setStretchFactor(0, 0)
        self.main.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.main)

    # -- what is kept between launches -------------------------------------------------------
    @property
    def splitters(self) -> dict[str, QSplitter]:
        return {"main": self.main, "body": self.body, "right": self.panes.splitter}

    def restore(self, preferences: QSettings) -> None:
        """The run settings and splitter positions of the last launch, if kept."""
        settings = load_run_settings(preferences)
        if settings is not None:
            self.run_panel.settings.load(settings)
        self._restored = restore_splitters(preferences, self.splitters)
        self.panes.note_split()

    def remember(self, preferences: QSettings) -> None:
        """Keep the run settings shown (when they read) and the splitter positions."""
        # an answer rule that does not parse: the last good settings are kept
        with contextlib.suppress(ValueError):
            save_run_settings(preferences, self.run_panel.settings.values())
        kept = dict(self.splitters)
        if self.panes.stacked:  # the path / answers split is not on screen: keep the last one
            del kept["right"]
        save_splitters(preferences, kept)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            QTimer.singleShot(0, self.default_sizes)

    def default_sizes(self) -> None:
        """Where the last launch left none: the editor at its natural height, the rest to the
        working panes; the tree and the path side by side in halves, the path above the
        answers."""
        if "main" not in self._restored:
            editor = self.run_panel.sizeHint().height()
            self.main.setSizes([editor, max(1, self.height() - editor)])
        if "body" not in self._restored:
            width = self.body.width()
            self.body.setSizes([width // 2, width - width // 2])
        if "right" not in self._restored:
            right = self.panes.splitter.height()
            self.panes.splitter.setSizes([right // 2, right - right // 2])
            self.panes.note_split()

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
            # an adaptive run's tree so far, as each level starts (a copy: the worker owns it)
            hooks.on_progress = lambda session, progress: publish(
                (copy.deepcopy(session), progress)
            )
            # the worker thread has its own connection: saved as each path is made
            with Store.open(db_path) as store:
                return run_and_save(store, engine, question, settings, gold=gold, hooks=hooks)

        def publish(progress: tuple[Session, AdaptiveProgress]) -> None:
            if self.worker is not None:
                self.worker.publish(progress)

        self._before_run = self.session
        # the progress bar's length: what "auto" settings will be for this model
        self._start_worker(
            job, expected_tokens(resolve_settings(settings, engine.info())), "Running"
        )
        self._show_running(None, ROOT_ID)

    def start_branch(self, path_id: int, depth: int, token_id: int) -> None:
        engine, session = self.models.engine, self.session
        if engine is None or session is None or self.busy_reason():
            self.message.emit(self.busy_reason() or "Load a model first", 5000)
            return
        alternatives = None if token_id == ALL_ALTERNATIVES else [token_id]
        db_path = self.db_path
        # what is shown while the worker changes the session: a copy as the branch starts
        shown = copy.deepcopy(session)
        path = shown.paths[path_id]
        anchor = ROOT_ID if depth == 0 else shown.tree.locate(path.node_id, depth - 1)[0]
        self._show_after = len(session.paths)  # the branch's first path, once it exists
        self._before_run = session

        def job(hooks: RunHooks) -> Session:
            with Store.open(db_path) as store:
                branch_and_save(store, engine, session, path_id, depth, alternatives, hooks=hooks)
            return session

        self._start_worker(
            job, token_limit(session.settings) * (len(alternatives or []) or 4), "Branching"
        )
        self._show_running(shown, anchor, path_id)

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
        self._live, self._live_counts = {}, {}
        self._live_floor = 0
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
        self._show_level(self.worker.take_progress())
        # an adaptive level streams under path ids from the first new one on: tokens of the
        # paths that ended before it are in the tree already
        tokens = [t for t in tokens if t[0] >= self._live_floor]
        if not tokens:
            return
        for branch, _index, text in tokens:
            self._live[branch] = self._live.get(branch, "") + text
            self._live_counts[branch] = self._live_counts.get(branch, 0) + 1
        self.tree_view.update_live(
            {b: (text, self._live_counts[b]) for b, text in self._live.items()}
        )
        self.run_panel.advance(len(tokens))
        elapsed = max(1e-3, time.perf_counter() - self._run_started)
        self.tokenRate.emit(self.run_panel.progress.value() / elapsed)
        self.live_view.setPlainText(
            "\n\n".join(f"[{b + 1}] {t}" for b, t in sorted(self._live.items()))
        )

    def _show_level(self, progress: tuple[Session, AdaptiveProgress] | None) -> None:
        """An adaptive run starts a level: the tree grown so far, the new branches streaming
        beside it, and where the run stands in the status bar."""
        if progress is None:
            return
        grown, level = progress
        self._live, self._live_counts = {}, {}
        self._live_floor = level.paths
        self.tree_view.begin_live(grown, ROOT_ID)
        self.message.emit(
            f"Running adaptive branching: level {level.level}, {level.branches} branches "
            f"({level.paths} paths so far, {level.tokens} of {level.budget} budget tokens"
            + (f", {level.left_out} branches left out by the budget" if level.left_out else "")
            + ")…",
            0,
        )

    def _show_running(self, shown: Session | None, anchor: int, path_id: int | None = None) -> None:
        """While a run streams: its growing tree; for a branch, the session it grows from
        (a copy: the worker owns the session) with the branched path still in the path view."""
        self.session = shown
        self.sessionShown.emit(shown)
        self.tree_view.begin_live(shown, anchor)
        self.answers.empty_text = "Running… the answers appear when the run ends."
        if shown is None:
            self.answers.show_session(None)
            self.path_view.show_path(None, None)
            self.annotation.set_target(None, None)
        else:
            self.answers.show_session(shown)
            if path_id is not None:
                self.path_view.show_path(shown, shown.paths[path_id])

    def _end_running(self) -> None:
        self.tree_view.end_live()
        self.answers.empty_text = "No run yet."

    def _on_finished(self, session: Session) -> None:
        self._drain_tokens()
        self.live_timer.stop()
        self.worker = None
        self.run_panel.set_running(False)
        self._end_running()
        show_after, self._show_after = self._show_after, None
        self.show_session(session, show_after)
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
        self._end_running()
        self._show_after = None
        self.show_session(self._before_run)  # what was shown before the run, as it is now
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
        run_in_pool(self._loader(session_id), self._show_opened, self._show_error)

    def _show_opened(self, session: Session) -> None:
        """A saved session: shown, and its question, gold answer and settings in the editor."""
        if self.worker is not None:  # a run began while it loaded: leave the editor alone
            return
        self.run_panel.load(session.question, session.gold, session.settings)
        self.show_session(session)

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
    def show_session(self, session: Session | None, path_id: int | None = None) -> None:
        """Show ``session``: its path ``path_id`` (when not given, its first path that has
        tokens)."""
        self.session = session
        self.sessionShown.emit(session)
        self.tree_view.annotated = set()
        self._notes = []
        self.tree_view.show_session(session)
        self._refresh_badges()
        self.answers.show_session(session)
        if session is not None and path_id is not None and path_id < len(session.paths):
            shown: int | None = path_id
        else:  # the first path with tokens (an interrupted run's first may have none)
            made = [p for p in session.paths if p.n_tokens] if session else []
            first = made or (session.paths if session else [])
            shown = first[0].id if first else None
        self.show_path(shown)
        self.tabs.setCurrentIndex(0)

    def show_path(self, path_id: int | None) -> None:
        if self.session is None or path_id is None or path_id >= len(self.session.paths):
            self.path_view.show_path(self.session, None)
            return
        path = self.session.paths[path_id]
        self._show_in_path_view(path.id)
        self.tree_view.select_node(path.node_id)

    def _open_from_answers(self, path_id: int) -> None:
        """A row of the answers table: that path, brought into view (its tab when stacked)."""
        self.show_path(path_id)
        self.tabs.setCurrentWidget(self.path_page)

    def _show_node(self, node_id: int) -> None:
        """Show the first path that ends at or passes through ``node_id``."""
        if self.session is None:
            return
        for path in self.session.paths:
            if node_id in {n.id for n in self.session.tree.chain(path.node_id)}:
                self._show_in_path_view(path.id)
                self.tabs.setCurrentIndex(0)
                return

    def _show_in_path_view(self, path_id: int) -> None:
        """The path in the path view, its annotated steps marked, the annotation box on it."""
        assert self.session is not None
        path = self.session.paths[path_id]
        self.path_view.show_path(self.session, path)
        self.path_view.set_annotated(
            [
                (a.token_start, a.token_end)
                for a in self._notes
                if a.path_id == path_id and a.token_start is not None and a.token_end is not None
            ]
        )
        self.annotation.set_target(self.session.id, path.id)

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
        self._notes = notes
        self.tree_view.annotated = {a.path_id for a in notes if a.path_id is not None}
        self.tree_view.rebuild()
        path = self.path_view.path
        if path is not None and self.path_view.session is self.session:
            self._show_in_path_view(path.id)
