"""Model work on a background thread, reported to the GUI through signals only.

The worker owns the session while it runs; the window shows the streamed tokens and touches
the session again only after ``finished``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from inspector.core.strategies import RunHooks
from inspector.engine import CancelToken, TokenEvent


class RunWorker(QObject):
    """Runs ``job`` on a worker thread.

    Tokens are not sent one signal each: the window drains them with :meth:`take_tokens` on a
    timer, which keeps the event queue short at hundreds of tokens a second.
    """

    finished = Signal(object)  # what the job returned (a session for a run)
    failed = Signal(str)

    def __init__(self, job: Callable[[RunHooks], Any]) -> None:
        super().__init__()
        self.job = job
        self.cancel_token = CancelToken()
        self._tokens: list[tuple[int, int, str]] = []
        self._lock = threading.Lock()
        self._progress: Any = None
        self.experiment_id: int | None = None  # set by an experiment's job as it starts

    @Slot()
    def run(self) -> None:
        hooks = RunHooks(on_token=self._on_token, cancel=self.cancel_token)
        try:
            session = self.job(hooks)
        except Exception as error:  # shown in the window, never a traceback
            self.failed.emit(str(error) or type(error).__name__)
        else:
            self.finished.emit(session)

    def _on_token(self, event: TokenEvent) -> None:
        with self._lock:
            self._tokens.append((event.branch, event.index, event.token.text))

    def take_tokens(self) -> list[tuple[int, int, str]]:
        """The (branch, index, text) of every token chosen since the last call."""
        with self._lock:
            taken, self._tokens = self._tokens, []
        return taken

    def publish(self, progress: Any) -> None:
        """Called by the job (any thread): the latest progress, read by :meth:`take_progress`."""
        with self._lock:
            self._progress = progress

    def take_progress(self) -> Any:
        """The progress published since the last call, or None."""
        with self._lock:
            progress, self._progress = self._progress, None
        return progress

    def cancel(self) -> None:
        """Safe from any thread: the engine stops within one decoding step."""
        self.cancel_token.cancel()


def start_worker(worker: RunWorker, parent: QObject) -> QThread:
    """Move ``worker`` to a new thread and run it; the thread quits when the job ends.

    No ``deleteLater`` here: the worker is owned by Python (the window keeps it until it
    reports back), and a second, Qt-side deletion of the same object crashed the process.
    """
    thread = QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Quit from the worker's own thread, at once: queued to the GUI thread, the quit could
    # still be waiting when a slot of ``finished`` starts the next run and ``wait()``s for
    # this thread, and the GUI thread would block forever.
    direct = Qt.ConnectionType.DirectConnection
    worker.finished.connect(thread.quit, direct)
    worker.failed.connect(thread.quit, direct)
    thread.start()
    return thread
