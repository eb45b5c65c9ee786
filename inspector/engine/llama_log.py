"""Route llama.cpp's log into a small in-memory ring instead of the user's terminal.

The lines are kept so that a failed load can be explained with llama.cpp's own reason.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import threading

import llama_cpp

_log = logging.getLogger("inspector.llama")
_lines: collections.deque[tuple[int, str]] = collections.deque(maxlen=400)
_counter = 0
_lock = threading.Lock()
_partial: list[str] = []
_GGML_LOG_LEVEL_ERROR = 4


@llama_cpp.llama_log_callback
def _on_log(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
    global _counter
    message = text.decode("utf-8", "replace") if text else ""
    with _lock:
        _partial.append(message)
        if not message.endswith("\n"):
            return
        line = "".join(_partial).rstrip("\n")
        _partial.clear()
        _counter += 1
        _lines.append((_counter, line))
    if level == _GGML_LOG_LEVEL_ERROR:
        _log.debug("llama.cpp: %s", line)


_installed = False


def install() -> None:
    """Install the callback once per process (it must outlive every llama.cpp call)."""
    global _installed
    if not _installed:
        llama_cpp.llama_log_set(_on_log, ctypes.c_void_p(0))
        _installed = True


def mark() -> int:
    """A position in the log; pass it to :func:`lines_since`."""
    with _lock:
        return _counter


def lines_since(marker: int) -> list[str]:
    """The complete lines llama.cpp logged after ``marker``."""
    with _lock:
        return [line for number, line in _lines if number > marker]
