"""The main window: the Explore and Experiments pages, the sessions dock, menus, status bar.

The window composes the parts and wires their signals; each part owns its own work.
:class:`ModelController` owns the backend, :class:`ModelActions` the Model menu's dialogs,
:class:`ExplorePage` runs and branches, :class:`ExperimentsPage` data-set runs,
:class:`SessionsPanel` the saved sessions and :class:`WindowMenus` the menus and toolbar. What is
left here is what concerns the whole window: the status bar, the title, which part may use the
model now, files dropped on the window, its size and place, and shutting down.

The window opens within the screen's available area (the status bar always on screen), at
the size, dock and splitter positions of the last launch when they fit. Each page sits in a
scroll area: a page that needs more room than a small window has scrolls instead of pushing
the window past the screen or drawing its panes over each other. Closing during a run says
the run is kept as cancelled (and asks), then stops it at once.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QWidget,
)

from inspector.core.session import Session
from inspector.store import Store, StoreError, resolve_db_path
from inspector.ui.experiments.page import ExperimentsPage
from inspector.ui.explore.page import ExplorePage
from inspector.ui.menus import MenuActions, TintedIcons, WindowMenus
from inspector.ui.model.actions import ModelActions
from inspector.ui.model.controller import ModelController
from inspector.ui.sessions.compare_view import CompareDialog
from inspector.ui.sessions.panel import SessionsPanel
from inspector.ui.shared.export_actions import (
    export_experiment_dialog,
    export_session_dialog,
    import_dialog,
)
from inspector.ui.shared.focus_style import install_focus_ring
from inspector.ui.shared.help_dialogs import icon
from inspector.ui.shared.theme import THEME_KEY, apply_theme, saved_theme
from inspector.ui.shared.workers import run_in_pool
from inspector.ui.studies.actions import StudyActions

GEOMETRY_KEY, STATE_KEY = "window/geometry", "window/state"
PREFERRED_SIZE = QSize(1600, 1000)  # the first launch's largest size
PREFERRED_SHARE = 0.92  # of the screen's available area, on a screen smaller than that
# the least the window may be: the smallest screen it is made for (pages scroll below it)
MINIMUM_SIZE = QSize(640, 480)
# the sessions list's share of the window's height on the first launch
SESSIONS_SHARE = 0.22


def scrolled(page: QWidget) -> QScrollArea:
    """``page`` in a frameless scroll area: its own size when the window has room, scroll
    bars when not (the page is never squeezed below its minimum size)."""
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def fit_within(wanted: QRect, available: QRect) -> QRect:
    """``wanted`` moved and shrunk as little as needed to lie inside ``available``."""
    width = min(wanted.width(), available.width())
    height = min(wanted.height(), available.height())
    left = min(max(wanted.left(), available.left()), available.right() + 1 - width)
    top = min(max(wanted.top(), available.top()), available.bottom() + 1 - height)
    return QRect(left, top, width, height)


class MainWindow(QMainWindow):
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
        self.setMinimumSize(MINIMUM_SIZE)
        self.models = ModelController(self.preferences, model_path, self)
        self.model_actions = ModelActions(self.models, self.busy_reason, self)
        self.explore = ExplorePage(self.db_path, self.models, self.busy_reason)
        self.experiments = ExperimentsPage(self.db_path, self.models)
        self.sessions = SessionsPanel(self.db_path)
        self.studies = StudyActions(self.db_path, self.models, self.busy_reason, self)
        self.model_label = QLabel("no model")
        self.compare_dialog: CompareDialog | None = None
        self.icons = TintedIcons()
        self.pages = QTabWidget(documentMode=True)
        self.sessions_dock = QDockWidget("Sessions", self)
        self._placed = False  # size, docks and splitters set on the first show
        self._build()
        self._connect()
        self.explore.restore(self.preferences)
        self.statusBar().showMessage("Loading model…")
        self.models.load()
        QTimer.singleShot(0, self._check_database)

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.pages.addTab(scrolled(self.explore), "Explore")
        self.pages.addTab(scrolled(self.experiments), "Experiments")  # page 1: see _page_changed
        self.pages.setTabToolTip(0, "run one question and explore its reasoning paths")
        self.pages.setTabToolTip(1, "run a data set; calibration and accuracy over saved runs")
        self.setCentralWidget(self.pages)
        self.icons.add(lambda tinted: self.pages.setTabIcon(0, tinted), "explore")
        self.icons.add(lambda tinted: self.pages.setTabIcon(1, tinted), "experiments")
        menus = WindowMenus(self, self._menu_actions(), saved_theme(self.preferences), self.icons)
        # the toolbar beside the page tabs, not a row of its own: the room goes to the panes
        menus.toolbar.setParent(self.pages)
        self.pages.setCornerWidget(menus.toolbar, Qt.Corner.TopRightCorner)
        self.setMenuBar(menus.menu_bar)
        self._tint_icons()
        dock = self.sessions_dock
        dock.setObjectName("sessions")
        dock.setWidget(self.sessions)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        toggle = dock.toggleViewAction()
        toggle.setText("&Sessions list")
        toggle.setShortcut(QKeySequence("Ctrl+3"))
        menus.view_menu.addAction(toggle)
        self.statusBar().addPermanentWidget(self.model_label)
        install_focus_ring(self._application())

    def _menu_actions(self) -> MenuActions:
        tree, models = self.explore.tree_view, self.models
        return MenuActions(
            export_session=self.export_current,
            export_experiment=self.experiments.export_selected,
            import_sessions=self.import_sessions,
            open_dataset=self.choose_dataset,
            show_explore=lambda: self.pages.setCurrentIndex(0),
            show_experiments=lambda: self.pages.setCurrentIndex(1),
            set_theme=self.set_theme,
            open_model=self.model_actions.choose_model,
            connect_server=self.model_actions.connect_server,
            model_settings=self.model_actions.edit_settings,
            model_info=self.model_actions.show_info,
            zoom_tree=tree.zoom,
            fit_tree=tree.fit,
            model_description=lambda: models.info.description if models.info else None,
            quit=self.quit,
            find_forks=lambda: self.request_study("forks"),
            step_importance=lambda: self.request_study("steps"),
        )

    def _connect(self) -> None:
        say = self.statusBar().showMessage
        self.pages.currentChanged.connect(self._page_changed)
        self.models.loading.connect(lambda: self._set_ready(False))
        self.models.changed.connect(self._model_changed)
        self.models.failed.connect(self._model_failed)
        self.model_actions.message.connect(say)
        explore = self.explore
        explore.message.connect(say)
        explore.sessionShown.connect(lambda _session: self._update_title())
        explore.sessionSaved.connect(lambda _session: self.sessions.refresh())
        explore.tokenRate.connect(self._show_rate)
        page, runner = self.experiments, self.experiments.runner
        page.openSession.connect(self._open_from_experiment)
        page.exportRequested.connect(self.export_experiment)
        page.message.connect(lambda text: say(text, 10_000))
        runner.can_start = lambda: (
            "a run is in progress"
            if explore.running
            else "a study is running"
            if self.studies.running
            else None
        )
        runner.started.connect(lambda: explore.set_ready(False))
        runner.ended.connect(self._experiment_ended)
        sessions = self.sessions
        sessions.openRequested.connect(explore.open_session)
        sessions.compareRequested.connect(self.compare_sessions)
        sessions.rerunRequested.connect(explore.prepare_rerun)
        sessions.message.connect(lambda text: say(text, 8000))
        sessions.studyRequested.connect(self.studies.open_study)
        studies = self.studies
        explore.path_view.studyRequested.connect(self.request_study)
        studies.message.connect(say)
        studies.forksFound.connect(self._show_forks)
        studies.started.connect(lambda: explore.set_ready(False))
        studies.ended.connect(lambda: self._set_ready(self.models.engine is not None))
        studies.ended.connect(self.sessions.refresh)
        studies.treeOpened.connect(self._show_opened_continuations)
        sessions.refresh()

    def request_study(self, kind: str) -> None:
        """ "Find forking tokens…" / "Step importance…" on the path shown in Explore."""
        path = self.explore.path_view.path
        self.studies.request(
            "forks" if kind == "forks" else "steps",
            self.explore.session,
            None if path is None else path.id,
        )

    def _show_opened_continuations(self, session: Session, first_path: int) -> None:
        """Continuations opened from a study: the session in Explore, the first new path shown."""
        self.explore.show_session(session, first_path)
        self.pages.setCurrentIndex(0)
        self.raise_()
        self.activateWindow()

    def _show_forks(self, session_id: str, path_id: int, positions: list[int]) -> None:
        """A forking study's forks, marked in the path view when it shows that path."""
        view = self.explore.path_view
        session, path = view.session, view.path
        if (
            session is not None
            and path is not None
            and (session.id, path.id)
            == (
                session_id,
                path_id,
            )
        ):
            view.set_forks(positions)

    # -- size and place ----------------------------------------------------------------------
    def available_geometry(self) -> QRect:
        """The area of the window's screen not taken by panels and docks."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def place(self) -> None:
        """A geometry set before the first show (a script, a test) as it is; else the last
        launch's geometry and dock layout if kept (moved and shrunk to fit this screen), else
        the preferred size within the screen's available area, centred."""
        available = self.available_geometry()
        geometry = self.preferences.value(GEOMETRY_KEY)
        state = self.preferences.value(STATE_KEY)
        chosen = self.testAttribute(Qt.WidgetAttribute.WA_Resized)  # sized before the show
        restored = chosen or (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry))
        if isinstance(state, QByteArray):
            self.restoreState(state)
        inner = self._inner(available)
        if restored:
            self.setGeometry(fit_within(self.geometry(), inner))
        else:
            share = inner.size() * PREFERRED_SHARE
            small = inner.width() <= 1366 or inner.height() <= 768  # use all of a small screen
            size = inner.size() if small else PREFERRED_SIZE.boundedTo(share)
            wanted = QRect(0, 0, size.width(), size.height())
            wanted.moveCenter(inner.center())
            self.setGeometry(fit_within(wanted, inner))
        if not isinstance(state, QByteArray):
            height = max(
                self.sessions.minimumSizeHint().height(), int(self.height() * SESSIONS_SHARE)
            )
            self.resizeDocks([self.sessions_dock], [height], Qt.Orientation.Vertical)

    def _inner(self, available: QRect) -> QRect:
        """Where the window's inside may go: ``available`` less its frame (title bar)."""
        frame = self.frameGeometry()
        inside = self.geometry()
        return available.adjusted(
            inside.left() - frame.left(), inside.top() - frame.top(),
            inside.right() - frame.right(), inside.bottom() - frame.bottom(),
        )  # fmt: skip

    def keep_on_screen(self) -> None:
        """Once the frame is known (after the first show): the whole frame on the screen."""
        inner = self._inner(self.available_geometry())
        if not inner.contains(self.geometry()):
            self.setGeometry(fit_within(self.geometry(), inner))

    def showEvent(self, event: QShowEvent) -> None:
        if not self._placed:
            self._placed = True
            self.place()
            QTimer.singleShot(0, self.keep_on_screen)
        super().showEvent(event)

    def remember(self) -> None:
        """Keep the window's geometry, its docks and the Explore page's state."""
        self.preferences.setValue(GEOMETRY_KEY, self.saveGeometry())
        self.preferences.setValue(STATE_KEY, self.saveState())
        self.explore.remember(self.preferences)
        self.preferences.sync()

    @staticmethod
    def _application() -> QApplication:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        return app

    def _tint_icons(self) -> None:
        self.icons.tint(self.palette().color(QPalette.ColorRole.WindowText))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "icons"):
            self._tint_icons()

    # -- who may use the model ---------------------------------------------------------------
    def busy_reason(self) -> str | None:
        """Why the model cannot be used or swapped now, or None."""
        if self.explore.running:
            return "Wait for the run to finish (or cancel it)"
        if self.experiments.runner.running:
            return "An experiment is running: wait for it or cancel it (Experiments tab)"
        if self.studies.running:
            return "A study is running: wait for it or cancel it (its window)"
        return None

    def _set_ready(self, ready: bool) -> None:
        """A model is loaded (or not): Run is enabled unless an experiment holds the model."""
        self.explore.set_ready(
            ready and not self.experiments.runner.running and not self.studies.running
        )

    def _model_changed(self, _engine: object) -> None:
        info = self.models.info
        assert info is not None  # set before ``changed`` is emitted
        self._update_title()
        offloaded = info.gpu_offload_supported and info.n_gpu_layers != 0
        where = "GPU" if offloaded else "CPU"
        if info.architecture == "remote":
            where = "remote server"
        self.model_label.setText(f"{info.description} · {where}")
        self.statusBar().showMessage(f"Model loaded in {info.load_seconds:.2f} s", 5000)
        self._set_ready(True)

    def _model_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Could not load the model: {message}")
        if self.models.engine is None:
            self.model_label.setText("no model")
            return
        self._set_ready(True)  # the previous model stays in use
        QMessageBox.warning(
            self, "Could not load the model", f"{message}\n\nThe previous model stays loaded."
        )

    def _show_rate(self, tokens_per_second: float) -> None:
        if self.models.info is not None:
            description = self.models.info.description
            self.model_label.setText(f"{description} · {tokens_per_second:.0f} tokens/s")

    def _experiment_ended(self, _saved: object) -> None:
        self._set_ready(self.models.engine is not None)
        self.sessions.refresh()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.toLocalFile().endswith(".gguf") for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [
            u.toLocalFile() for u in event.mimeData().urls() if u.toLocalFile().endswith(".gguf")
        ]
        if paths:
            self.model_actions.choose_model(paths[0])

    # -- pages and sessions ------------------------------------------------------------------
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

    def _update_title(self) -> None:
        session, info = self.explore.session, self.models.info
        if session is not None:
            subject = session.title or " ".join(session.question.split())[:60]
        else:
            subject = info.description if info else "no model"
        self.setWindowTitle(f"Reasoning Inspector — {subject}")

    def _page_changed(self, index: int) -> None:
        if index == 1 and not self.experiments.runner.running:
            self.experiments.refresh()

    def _open_from_experiment(self, session_id: str) -> None:
        self.pages.setCurrentIndex(0)
        self.explore.open_session(session_id)

    def compare_sessions(self, first: str, second: str) -> None:
        """Load two saved sessions on a pool thread and show them side by side."""
        db_path = self.db_path

        def load() -> tuple[Session, Session]:
            with Store.open(db_path) as store:
                return store.load_session(first), store.load_session(second)

        run_in_pool(
            load, self._show_comparison, lambda text: self.statusBar().showMessage(text, 8000)
        )

    def _show_comparison(self, pair: tuple[Session, Session]) -> None:
        self.compare_dialog = CompareDialog(*pair, parent=self)
        self.compare_dialog.show()

    def set_theme(self, name: str) -> None:
        """Light, dark, or follow the system; kept for the next launch."""
        app = self._application()
        apply_theme(app, name)
        install_focus_ring(app)  # apply_theme sets the plain style again
        self.preferences.setValue(THEME_KEY, name)

    # -- files -------------------------------------------------------------------------------
    def _report(self, message: str | None) -> None:
        if message:
            self.statusBar().showMessage(message, 10_000)

    def export_current(self) -> None:
        session = self.explore.session
        if session is None or self.explore.running:
            self.statusBar().showMessage("Run or open a session first", 5000)
            return
        title = session.title or session.question
        self._report(export_session_dialog(self, self.db_path, session.id, title))

    def export_experiment(self, experiment_id: int, name: str) -> None:
        self._report(export_experiment_dialog(self, self.db_path, experiment_id, name))

    def choose_dataset(self) -> None:
        self.pages.setCurrentIndex(1)
        self.experiments.runner.choose_dataset()

    def import_sessions(self) -> None:
        message = import_dialog(self, self.db_path)
        if message:
            self._report(message)
            self.sessions.refresh()

    # -- closing -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop any run and free the model (also called when the application quits)."""
        self.experiments.runner.shutdown()
        self.studies.shutdown()
        self.explore.shutdown()
        self.models.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing during a run: say what happens to it (kept as cancelled) and ask; then stop
        it at once and close."""
        if not self.confirm_close():
            event.ignore()
            return
        if self.busy_reason():
            self.statusBar().showMessage("Cancelling the run and closing…")
        self.remember()
        self.shutdown()
        super().closeEvent(event)

    def quit(self) -> None:
        """File ▸ Quit: close the window (asking first during a run)."""
        self.close()

    def confirm_close(self) -> bool:
        """True when nothing runs, or the person agrees to stop what does."""
        if self.explore.running:
            what = (
                "A run is in progress. If you close now it stops, and what it made so far "
                "is kept as a cancelled session."
            )
        elif self.experiments.runner.running:
            what = (
                "An experiment is running. If you close now it stops; the questions it "
                "finished are kept and the experiment can be resumed."
            )
        else:
            return True
        answer = QMessageBox.question(
            self,
            "Close Reasoning Inspector",
            f"{what}\n\nClose anyway?",
            QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Close
