"""Which process is writing a session, and whether it is still alive.

A running session's row carries ``writer`` = ``host:pid:start`` (``start`` is the process's
start time where the OS tells it, so a reused pid is not mistaken for the writer). When a
store opens, running sessions whose writer is gone were interrupted (a crash, ``kill -9``, a
power cut); a session being written by a live process (the GUI while the CLI runs) is left
alone, and so is one written on another host, which cannot be checked.
"""

from __future__ import annotations

import os
import socket
import sys
from functools import lru_cache


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
    return fields[19] if len(fields) > 19 else None


@lru_cache(maxsize=1)
def _host() -> str:
    return socket.gethostname().replace(":", "_")


def this_writer() -> str:
    """This process's writer tag."""
    return f"{_host()}:{os.getpid()}:{process_start(os.getpid()) or ''}"


def describe(writer: str) -> str:
    """A writer tag in words: "process 1234 on this machine" / "… on host gpu-box"."""
    host, _, rest = writer.partition(":")
    pid = rest.partition(":")[0]
    where = "this machine" if host == _host() else f"host {host}"
    return f"process {pid} on {where}"


def writer_alive(writer: str | None) -> bool:
    """False if ``writer`` names a process on this host that no longer exists (or no
    writer at all: a row saved by schema 1, before writers were recorded)."""
    if not writer:
        return False
    try:
        host, pid_text, start = writer.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != _host():
        return True
    if not _pid_exists(pid):
        return False
    return not start or process_start(pid) in (None, start)


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_exists(pid)
    try:
        os.kill(pid, 0)  # signal 0: only checks the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _windows_pid_exists(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
