"""The main window: ask a question, run a strategy, explore the tree, read paths, branch."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.core.session import Session
from inspector.core.strategies import RunHooks
from inspector.engine import Engine, ModelInfo
from inspector.service import branch_and_save, run_and_save
from inspector.store import Store, StoreError, resolve_db_path
from inspector.ui.experiments.page import ExperimentsPage
from inspector.ui.explore.annotation_panel import AnnotationPanel
from inspector.ui.explore.answers_panel import AnswersPanel
from inspector.ui.explore.path_view import ALL_ALTERNATIVES, PathView
from inspector.ui.explore.run_panel import RunPanel
from inspector.ui.explore.tree_view import ReasoningTreeView
from inspector.ui.model.dialogs import MODEL_KEY, load_model_settings
from inspector.ui.model.model_controls import ModelControls
from inspector.ui.sessions.compare_view import CompareDialog
from inspector.ui.sessions.panel import SessionsPanel
from inspector.ui.shared.help_dialogs import icon
from inspector.ui.shared.run_worker import RunWorker, start_worker
from inspector.ui.shared.settings_row import expected_tokens
from inspector.ui.shared.workers import run_in_pool
from inspector.ui.window_chrome import WindowChrome


class MainWindow(WindowChrome, ModelControls, QMainWindow):
    def __init__(
        self,
        model_path: str | None = None,
        db_path: Path | None = None,
        preferences: QSettings | None = None,
    ) -> None:
        super().__init__()
        self.db_path = db_path or resolve_db_path(None)
        self.preferences = preferences or QSettings()
        self.setAcceptDrops(True)
        self.setWindowTitle("Reasoning Inspector")
        self.setWindowIcon(icon("app"))
        self.resize(1400, 860)
        self.engine: Engine | None = None
        self.model_info: ModelInfo | None = None
        self.session: Session | None = None
        self.worker: RunWorker | None = None
        self.thread = None
        saved = self.preferences.value(MODEL_KEY)
        self._model_path = model_path or (str(saved) if saved else None)
        self._loading_path = self._model_path
        self.model_settings = load_model_settings(self.preferences)
        self._live: dict[int, str] = {}
        self._run_started = 0.0
        self.live_timer = QTimer(self, interval=40)
        self.live_timer.timeout.connect(self._drain_tokens)
        self._build()
        self.statusBar().showMessage("Loading model…")
        self._load_model()
        QTimer.singleShot(0, self._check_database)

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.run_panel = RunPanel()
        self.run_panel.runRequested.connect(self.start_run)
        self.run_panel.cancelRequested.connect(self.cancel_run)
        self.tree_view = ReasoningTreeView()
        self.tree_view.nodeSelected.connect(self._show_node)
        self.tree_view.pathActivated.connect(self._show_node)
        self.path_view = PathView()
        self.path_view.branchRequested.connect(self.start_branch)
        self.live_view = QPlainTextEdit(readOnly=True)
        self.annotation = AnnotationPanel(self.db_path)
        self.annotation.saved.connect(self._on_annotation_saved)
        self.path_view.selectionChanged.connect(self._retarget_annotation)
        path_page = QWidget()
        path_layout = QVBoxLayout(path_page)
        path_layout.setContentsMargins(0, 0, 0, 0)
        path_layout.addWidget(self.path_view, 1)
        path_layout.addWidget(self.annotation)
        self.tabs = QTabWidget()
        self.tabs.addTab(path_page, "Path")
        self.tabs.addTab(self.live_view, "Live")
        self.answers = AnswersPanel()
        self.answers.pathClicked.connect(self.show_path)
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
        self.experiments = ExperimentsPage(self.db_path)
        self.pages = QTabWidget(documentMode=True)
        self.pages.addTab(main, "Explore")
        self.pages.addTab(self.experiments, "Experiments")
        self.pages.setTabToolTip(0, "run one question and explore its reasoning paths")
        self.pages.setTabToolTip(1, "run a data set; calibration and accuracy over saved runs")
        self.pages.currentChanged.connect(self._page_changed)
        self.setCentralWidget(self.pages)
        self._connect_experiments()
        self._icons = [
            (lambda tinted: self.pages.setTabIcon(0, tinted), "explore"),
            (lambda tinted: self.pages.setTabIcon(1, tinted), "experiments"),
        ]
        self._build_toolbar()
        self._build_menus()
        self._tint_icons()
        self.sessions = SessionsPanel(self.db_path)
        self.sessions.openRequested.connect(self.open_session)
        self.sessions.compareRequested.connect(self.compare_sessions)
        self.sessions.rerunRequested.connect(self.prepare_rerun)
        self.sessions.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        dock = QDockWidget("Sessions", self)
        dock.setObjectName("sessions")
        dock.setWidget(self.sessions)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.sessions.refresh()
        self.model_label = QLabel("no model")
        self.statusBar().addPermanentWidget(self.model_label)

    def _connect_experiments(self) -> None:
        page, runner = self.experiments, self.experiments.runner
        page.openSession.connect(self._open_from_experiment)
        page.exportRequested.connect(self.export_experiment)
        page.message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        runner.can_start = lambda: "a run is in progress" if self.worker is not None else None
        runner.started.connect(lambda: self.run_panel.set_ready(False))
        runner.ended.connect(self._experiment_ended)

    # -- running -----------------------------------------------------------------------------
    def _check_database(self) -> None:
        """Say at once if the session database cannot be used (the file is left as it is)."""
        try:
            with Store.open(self.db_path):
                pass
        except (StoreError, OSError) as error:
            self.statusBar().showMessage(f"Session database unusable: {error}")
            QMessageBox.warning(
                self,
                "Session database",
                f"{error}\n\nThe file was not changed. Runs cannot be saved until this is fixed "
                "(or start with another database: --db PATH or INSPECTOR_DB).",
            )

    def busy_reason(self) -> str | None:
        """Why the model cannot be used or swapped now, or None."""
        if self.worker is not None:
            return "Wait for the run to finish (or cancel it)"
        if self.experiments.runner.running:
            return "An experiment is running: wait for it or cancel it (Experiments tab)"
        return None

    def _set_ready(self, ready: bool) -> None:
        """A model is loaded and free: runs and experiments may start."""
        self.run_panel.set_ready(ready and not self.experiments.runner.running)
        self.experiments.runner.set_engine(self.engine if ready else None)

    def start_run(self) -> None:
        if self.engine is None or self.busy_reason():
            return
        question, gold, settings = self.run_panel.values()
        engine, db_path = self.engine, self.db_path

        def job(hooks: RunHooks) -> Session:
            # the worker thread has its own connection: saved as each path is made
            with Store.open(db_path) as store:
                return run_and_save(store, engine, question, settings, gold=gold, hooks=hooks)

        self._start_worker(job, expected_tokens(settings), "Running")

    def start_branch(self, path_id: int, depth: int, token_id: int) -> None:
        if self.engine is None or self.session is None or self.busy_reason():
            self.statusBar().showMessage(self.busy_reason() or "Load a model first", 5000)
            return
        engine, session = self.engine, self.session
        alternatives = None if token_id == ALL_ALTERNATIVES else [token_id]

        db_path = self.db_path

        def job(hooks: RunHooks) -> Session:
            with Store.open(db_path) as store:
                branch_and_save(store, engine, session, path_id, depth, alternatives, hooks=hooks)
            return session

        self._start_worker(
            job, session.settings.max_tokens * (len(alternatives or []) or 4), "Branching"
        )

    def _start_worker(self, job, expected_tokens: int, verb: str) -> None:
        if self.thread is not None:
            self.thread.wait()
            self.thread.deleteLater()
        self.worker = RunWorker(job)
        self.live_timer.start()
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self._live = {}
        self._run_started = time.perf_counter()
        self.live_view.clear()
        self.tabs.setCurrentWidget(self.live_view)
        self.run_panel.set_running(True, max(1, expected_tokens))
        self.statusBar().showMessage(f"{verb}…")
        self.thread = start_worker(self.worker, self)

    def cancel_run(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.statusBar().showMessage("Cancelling…")

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
        rate = self.run_panel.progress.value() / elapsed
        self.model_label.setText(f"{self.model_info.description} · {rate:.0f} tokens/s")
        self.live_view.setPlainText(
            "\n\n".join(f"[{b + 1}] {t}" for b, t in sorted(self._live.items()))
        )

    def _experiment_ended(self, _saved) -> None:
        self._set_ready(self.engine is not None)
        self.sessions.refresh()

    def _open_from_experiment(self, session_id: str) -> None:
        self.pages.setCurrentIndex(0)
        self.open_session(session_id)

    def _page_changed(self, index: int) -> None:
        if self.pages.widget(index) is self.experiments and not self.experiments.runner.running:
            self.experiments.refresh()

    def _on_finished(self, session: Session) -> None:
        self._drain_tokens()
        self.live_timer.stop()
        self.worker = None
        self.run_panel.set_running(False)
        self.show_session(session)
        self.sessions.refresh()
        notices = " · ".join(self.engine.notices) if self.engine is not None else ""
        self.statusBar().showMessage(
            f"Run {session.status}: {len(session.paths)} paths"
            + (f" ({notices})" if notices else ""),
            15_000,
        )

    def _on_failed(self, message: str) -> None:
        self.live_timer.stop()
        self.worker = None
        self.run_panel.set_running(False)
        self.statusBar().showMessage(f"Failed: {message}")
        QMessageBox.warning(self, "Reasoning Inspector", message)

    def open_session(self, session_id: str) -> None:
        """Load a saved session on a pool thread, then show it."""
        if self.worker is not None:
            self.statusBar().showMessage("Wait for the run to finish (or cancel it)", 5000)
            return
        db_path = self.db_path

        def load() -> Session:
            with Store.open(db_path) as store:
                return store.load_session(session_id)

        run_in_pool(load, self.show_session, self._show_error)

    def compare_sessions(self, first: str, second: str) -> None:
        """Load two saved sessions on a pool thread and show them side by side."""
        db_path = self.db_path

        def load() -> tuple[Session, Session]:
            with Store.open(db_path) as store:
                return store.load_session(first), store.load_session(second)

        run_in_pool(load, self._show_comparison, self._show_error)

    def prepare_rerun(self, session_id: str) -> None:
        """Put a saved session's question, gold answer and settings in the run panel, to run
        it again with another strategy or prompt for comparison."""
        db_path = self.db_path

        def load() -> Session:
            with Store.open(db_path) as store:
                return store.load_session(session_id)

        run_in_pool(load, self._fill_rerun, self._show_error)

    def _fill_rerun(self, session: Session) -> None:
        self.run_panel.load(session.question, session.gold, session.settings)
        self.statusBar().showMessage("Change the strategy or prompt, then Run (Ctrl+Enter)", 8000)

    def _show_comparison(self, pair: tuple[Session, Session]) -> None:
        self.compare_dialog = CompareDialog(*pair, parent=self)
        self.compare_dialog.show()

    # -- showing -----------------------------------------------------------------------------
    def show_session(self, session: Session | None) -> None:
        self.session = session
        self._update_title()
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
        self.statusBar().showMessage(message, 5000)
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

    def _update_title(self) -> None:
        if self.session is not None:
            subject = self.session.title or " ".join(self.session.question.split())[:60]
        else:
            subject = self.model_info.description if self.model_info else "no model"
        self.setWindowTitle(f"Reasoning Inspector — {subject}")

    def show_info(self, info: ModelInfo) -> None:
        self.model_info = info

    def shutdown(self) -> None:
        """Stop any run and free the model (also called when the application quits)."""
        self.experiments.runner.shutdown()
        if self.worker is not None:
            self.worker.cancel()
            self.thread.wait(10_000)  # the engine stops within one decoding step
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
