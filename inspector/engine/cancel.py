"""A thread-safe cancel flag shared by a caller (e.g. a GUI thread) and the engine."""

from __future__ import annotations

import threading


class CancelToken:
    """Set from any thread; the engine checks it between decoding steps and inside llama.cpp."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def reset(self) -> None:
        self._event.clear()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
