"""The main window's menus, toolbar, theme and file actions.

A mixin of :class:`~inspector.ui.main_window.MainWindow`, kept apart to keep that file small.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QToolBar

from inspector.ui.shared.export_actions import (
    export_experiment_dialog,
    export_session_dialog,
    import_dialog,
)
from inspector.ui.shared.help_dialogs import icon, show_about, show_shortcuts
from inspector.ui.shared.theme import THEME_KEY, THEMES, apply_theme, saved_theme


class WindowChrome:
    """Expects the window's ``pages``, ``experiments``, ``tree_view``, ``sessions``,
    ``session``, ``worker``, ``db_path``, ``preferences``, ``model_info`` and ``_icons``."""

    def _build_menus(self) -> None:
        self._add_actions(self.menuBar().addMenu("&File"), [
            ("&Export session…", QKeySequence("Ctrl+E"), self.export_current),
            ("Export e&xperiment…", None, self.experiments.export_selected),
            ("&Import sessions…", None, self.import_sessions),
            ("Open &data set…", QKeySequence("Ctrl+D"), self.choose_dataset),
        ])  # fmt: skip
        view = self.menuBar().addMenu("&View")
        self._add_actions(view, [
            ("&Explore", QKeySequence("Ctrl+1"), lambda: self.pages.setCurrentIndex(0)),
            ("E&xperiments", QKeySequence("Ctrl+2"), lambda: self.pages.setCurrentIndex(1)),
        ])  # fmt: skip
        self._build_theme_menu(view.addMenu("&Theme"))
        self._add_actions(self.menuBar().addMenu("&Model"), [
            ("&Open model…", QKeySequence.StandardKey.Open, self.choose_model),
            ("&Connect to a server…", None, self.connect_server),
            ("Model &settings…", None, self.edit_model_settings),
            ("Model &info", None, self.show_model_info),
        ])  # fmt: skip
        help_menu = self.menuBar().addMenu("&Help")
        shortcuts = QAction("&Keyboard and mouse…", self)
        shortcuts.triggered.connect(lambda: show_shortcuts(self))
        about = QAction("&About Reasoning Inspector", self)
        about.triggered.connect(
            lambda: show_about(self, self.model_info.description if self.model_info else None)
        )
        help_menu.addActions([shortcuts, about])

    def _build_theme_menu(self, menu) -> None:
        group = QActionGroup(self)
        current = saved_theme(self.preferences)
        for name in THEMES:
            action = QAction(name.capitalize(), self, checkable=True, checked=name == current)
            action.triggered.connect(lambda _=False, name=name: self.set_theme(name))
            group.addAction(action)
            menu.addAction(action)

    def set_theme(self, name: str) -> None:
        """Light, dark, or follow the system; kept for the next launch."""
        apply_theme(QApplication.instance(), name)
        self.preferences.setValue(THEME_KEY, name)

    def _add_actions(self, menu, items) -> None:
        for text, shortcut, slot in items:
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(lambda _=False, slot=slot: slot())
            menu.addAction(action)

    def _tint_icons(self) -> None:
        """Line icons in the palette's text colour, so they show on light and dark themes."""
        color = self.palette().color(QPalette.ColorRole.WindowText)
        for set_icon, name in self._icons:
            set_icon(icon(name, color))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_icons"):
            self._tint_icons()

    def _build_toolbar(self) -> None:
        bar = QToolBar("View")
        self.addToolBar(bar)
        bar.setObjectName("view")
        for name, text, shortcut, slot in [
            ("open-model", "Open model", None, self.choose_model),
            ("export", "Export session", None, self.export_current),
            (
                "zoom-in",
                "Zoom in",
                QKeySequence.StandardKey.ZoomIn,
                lambda: self.tree_view.zoom(1.25),
            ),
            (
                "zoom-out",
                "Zoom out",
                QKeySequence.StandardKey.ZoomOut,
                lambda: self.tree_view.zoom(0.8),
            ),
            ("fit", "Fit tree", QKeySequence("Ctrl+0"), self.tree_view.fit),
        ]:
            action = QAction(text, self)
            self._icons.append((action.setIcon, name))
            action.setToolTip(text)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(lambda _=False, slot=slot: slot())
            bar.addAction(action)

    # -- files ---------------------------------------------------------------------------
    def export_current(self) -> None:
        if self.session is None or self.worker is not None:
            self.statusBar().showMessage("Run or open a session first", 5000)
            return
        title = self.session.title or self.session.question
        message = export_session_dialog(self, self.db_path, self.session.id, title)
        if message:
            self.statusBar().showMessage(message, 10_000)

    def export_experiment(self, experiment_id: int, name: str) -> None:
        message = export_experiment_dialog(self, self.db_path, experiment_id, name)
        if message:
            self.statusBar().showMessage(message, 10_000)

    def choose_dataset(self) -> None:
        self.pages.setCurrentWidget(self.experiments)
        self.experiments.runner.choose_dataset()

    def import_sessions(self) -> None:
        message = import_dialog(self, self.db_path)
        if message:
            self.statusBar().showMessage(message, 10_000)
            self.sessions.refresh()
