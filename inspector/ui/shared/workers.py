"""Run Qt-free work off the GUI thread; report back only through signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class WorkerSignals(QObject):
    finished = Signal(object)
    failed = Signal(str)


class FunctionWorker(QRunnable):
    """Calls ``function()`` on a pool thread and emits its result or its error message.

    The worker never touches a widget: receivers run on the GUI thread through queued signals.
    """

    def __init__(self, function: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it; see run_in_pool
        self.function = function
        self.signals = WorkerSignals()

    def run(self) -> None:
        try:
            result = self.function()
        except Exception as error:  # shown to the user as a message, never a traceback
            self.signals.failed.emit(str(error) or type(error).__name__)
        else:
            self.signals.finished.emit(result)


_running: set[FunctionWorker] = set()


def run_in_pool(
    function: Callable[[], Any],
    on_finished: Callable[[Any], None],
    on_failed: Callable[[str], None],
) -> FunctionWorker:
    """Run ``function`` on the global pool; the worker stays referenced until it reports."""
    worker = FunctionWorker(function)
    _running.add(worker)
    worker.signals.finished.connect(on_finished)
    worker.signals.failed.connect(on_failed)
    worker.signals.finished.connect(lambda _result: _running.discard(worker))
    worker.signals.failed.connect(lambda _message: _running.discard(worker))
    QThreadPool.globalInstance().start(worker)
    return worker
