"""The main window's menu bar and toolbar, built from the callbacks they trigger.

:class:`WindowMenus` knows nothing of the window: it receives every action as a callable in a
:class:`MenuActions` and hands back a menu bar and a toolbar for the window to install.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget

from inspector.ui.shared.help_dialogs import icon, show_about, show_shortcuts
from inspector.ui.shared.theme import THEMES

Shortcut = QKeySequence | QKeySequence.StandardKey | None


@dataclass(frozen=True)
class MenuActions:
    """What the menus and the toolbar do."""

    export_session: Callable[[], None]
    export_experiment: Callable[[], None]
    import_sessions: Callable[[], None]
    open_dataset: Callable[[], None]
    show_explore: Callable[[], None]
    show_experiments: Callable[[], None]
    set_theme: Callable[[str], None]
    open_model: Callable[[], None]
    connect_server: Callable[[], None]
    model_settings: Callable[[], None]
    model_info: Callable[[], None]
    zoom_tree: Callable[[float], None]
    fit_tree: Callable[[], None]
    model_description: Callable[[], str | None]  # named in Help ▸ About
    quit: Callable[[], None]  # File ▸ Quit (Ctrl+Q): close the window
    # Study ▸ the resampling studies of the path shown in Explore (no menu without them)
    find_forks: Callable[[], None] | None = None
    step_importance: Callable[[], None] | None = None


class TintedIcons:
    """Line icons drawn in the palette's text colour, so they show on light and dark themes:
    :meth:`tint` redraws every target (at start and whenever the palette changes)."""

    def __init__(self) -> None:
        self._targets: list[tuple[Callable[[QIcon], None], str]] = []

    def add(self, set_icon: Callable[[QIcon], None], name: str) -> None:
        self._targets.append((set_icon, name))

    def tint(self, color: QColor) -> None:
        for set_icon, name in self._targets:
            set_icon(icon(name, color))


class WindowMenus:
    """File, View (with Theme), Model and Help menus and the View toolbar.

    ``parent`` owns the actions and the help dialogs; ``theme`` is the one checked in
    View ▸ Theme; toolbar icons are registered in ``icons``.
    """

    def __init__(
        self, parent: QWidget, actions: MenuActions, theme: str, icons: TintedIcons
    ) -> None:
        self.parent = parent
        self.actions = actions
        self.menu_bar = QMenuBar(parent)
        self.toolbar = QToolBar("View")
        self.toolbar.setObjectName("view")
        self._build_menus(theme)
        self._build_toolbar(icons)

    def _build_menus(self, theme: str) -> None:
        a, bar = self.actions, self.menu_bar
        self._add_actions(bar.addMenu("&File"), [
            ("&Export session…", QKeySequence("Ctrl+E"), a.export_session),
            ("Export e&xperiment…", None, a.export_experiment),
            ("&Import sessions…", None, a.import_sessions),
            ("Open &data set…", QKeySequence("Ctrl+D"), a.open_dataset),
        ])  # fmt: skip
        file_menu = bar.actions()[-1].menu()
        if isinstance(file_menu, QMenu):
            file_menu.addSeparator()
            file_menu.addAction(self._action("&Quit", QKeySequence("Ctrl+Q"), a.quit))
        view = bar.addMenu("&View")
        self.view_menu = view  # the window adds its dock's show / hide action
        self._add_actions(view, [
            ("&Explore", QKeySequence("Ctrl+1"), a.show_explore),
            ("E&xperiments", QKeySequence("Ctrl+2"), a.show_experiments),
        ])  # fmt: skip
        self._build_theme_menu(view.addMenu("&Theme"), theme)
        self._add_actions(bar.addMenu("&Model"), [
            ("&Open model…", QKeySequence.StandardKey.Open, a.open_model),
            ("&Connect to a server…", None, a.connect_server),
            ("Model &settings…", None, a.model_settings),
            ("Model &info", None, a.model_info),
        ])  # fmt: skip
        if a.find_forks is not None and a.step_importance is not None:
            self._add_actions(bar.addMenu("&Study"), [
                ("Find &forking tokens…", None, a.find_forks),
                ("&Step importance…", None, a.step_importance),
            ])  # fmt: skip
        help_menu = bar.addMenu("&Help")
        shortcuts = QAction("&Keyboard and mouse…", self.parent)
        shortcuts.triggered.connect(lambda: show_shortcuts(self.parent))
        about = QAction("&About Reasoning Inspector", self.parent)
        about.triggered.connect(lambda: show_about(self.parent, a.model_description()))
        help_menu.addActions([shortcuts, about])

    def _build_theme_menu(self, menu: QMenu, current: str) -> None:
        group = QActionGroup(self.parent)
        for name in THEMES:
            action = QAction(
                name.capitalize(), self.parent, checkable=True, checked=name == current
            )
            action.triggered.connect(lambda _=False, name=name: self.actions.set_theme(name))
            group.addAction(action)
            menu.addAction(action)

    def _add_actions(
        self, menu: QMenu, items: Sequence[tuple[str, Shortcut, Callable[[], None]]]
    ) -> None:
        for text, shortcut, slot in items:
            menu.addAction(self._action(text, shortcut, slot))

    def _action(self, text: str, shortcut: Shortcut, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.parent)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _=False, slot=slot: slot())
        return action

    def _build_toolbar(self, icons: TintedIcons) -> None:
        a = self.actions
        items: list[tuple[str, str, Shortcut, Callable[[], None]]] = [
            ("open-model", "Open model", None, a.open_model),
            ("export", "Export session", None, a.export_session),
            ("zoom-in", "Zoom in", QKeySequence.StandardKey.ZoomIn, lambda: a.zoom_tree(1.25)),
            ("zoom-out", "Zoom out", QKeySequence.StandardKey.ZoomOut, lambda: a.zoom_tree(0.8)),
            ("fit", "Fit tree", QKeySequence("Ctrl+0"), a.fit_tree),
        ]
        for name, text, shortcut, slot in items:
            action = self._action(text, shortcut, slot)
            icons.add(action.setIcon, name)
            action.setToolTip(text)
            self.toolbar.addAction(action)
