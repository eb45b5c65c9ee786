"""Start the desktop application."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from inspector.ui.main_window import MainWindow


def run_app(model_path: str | None = None, argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Reasoning Inspector")
    app.setOrganizationName("reasoning-inspector")
    window = MainWindow(model_path)
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    return app.exec()
