"""Start the desktop application."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from inspector.ui.main_window import MainWindow
from inspector.ui.shared.focus_style import install_focus_ring
from inspector.ui.shared.theme import apply_theme, saved_theme

DESKTOP_ID = "io.github.reasoning_inspector.ReasoningInspector"


def run_app(
    model_path: str | None = None, db_path: Path | None = None, argv: list[str] | None = None
) -> int:
    existing = QApplication.instance()
    app = (
        existing
        if isinstance(existing, QApplication)
        else QApplication(argv if argv is not None else sys.argv[:1])
    )
    app.setApplicationName("Reasoning Inspector")
    app.setOrganizationName("reasoning-inspector")
    app.setDesktopFileName(DESKTOP_ID)  # matches the window to its menu entry on Wayland
    preferences = QSettings()
    apply_theme(app, saved_theme(preferences))

    def follow_system(_scheme: object) -> None:
        if saved_theme(QSettings()) == "system":
            apply_theme(app, "system")
            install_focus_ring(app)  # apply_theme sets the plain style again

    app.styleHints().colorSchemeChanged.connect(follow_system)
    window = MainWindow(model_path, db_path, preferences)
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    return app.exec()
