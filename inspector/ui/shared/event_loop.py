"""Driving the Qt event loop from outside a running application: the application object,
preferences kept in a file, waiting for a condition, and the gaps between timer beats (how
long the window could not react). Used by the GUI benchmark (``inspector bench --gui``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QSettings, QTimer
from PySide6.QtWidgets import QApplication


def application() -> QCoreApplication:
    """The running application, or a new one."""
    return QApplication.instance() or QApplication([])


def file_preferences(path: Path) -> QSettings:
    """Preferences in an INI file of their own (not the user's)."""
    return QSettings(str(path), QSettings.Format.IniFormat)


def spin_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Run the event loop until ``condition()`` holds; TimeoutError after ``timeout_s``."""
    app = application()
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not finish in time")
        app.processEvents()
        time.sleep(0.001)


def heartbeat_gaps(
    start: Callable[[], None], finished: Callable[[], bool], period_ms: int
) -> list[float]:
    """Gaps (ms) between ``period_ms`` timer beats from ``start()`` until ``finished()`` and
    0.3 s more (drawing the results is part of the work)."""
    clock, gaps = QElapsedTimer(), []

    def beat() -> None:
        gaps.append(clock.nsecsElapsed() / 1e6)
        clock.restart()

    timer = QTimer(interval=period_ms)
    timer.timeout.connect(beat)
    clock.start()
    timer.start()
    start()
    spin_until(finished, 600)
    settle = time.monotonic() + 0.3
    spin_until(lambda: time.monotonic() > settle, 5)
    timer.stop()
    return gaps[1:] or [0.0]
