"""Cancel and a whole-request deadline for httpx, without a thread per request.

httpx reads a socket in the thread that sent the request, and a blocked read cannot be
interrupted from outside. :class:`WatchedBackend` wraps httpcore's network backend so that
every read waits at most :data:`TICK` seconds at a time; between waits it looks at the
:class:`Watch` the calling thread set for its request (:func:`watching`): a set cancel token
raises :class:`Cancelled`, a passed deadline :class:`RequestTimeout`. A server that sends
nothing at all, or trickles its answer a byte at a time, so costs the caller at most one tick
past its cancel or its deadline. The connection the read was on is then dropped by httpcore;
the others in the pool stay.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from inspector.engine.cancel import CancelToken

TICK = 0.05  # seconds a read waits before looking at the cancel token and the deadline


class Cancelled(Exception):
    """The caller's cancel token was set while the request was in flight."""


class RequestTimeout(Exception):
    """The request as a whole ran past its deadline."""


@dataclass(frozen=True)
class Watch:
    cancel: CancelToken | None
    deadline: float  # time.monotonic() by which the whole exchange must be over

    def check(self) -> None:
        if self.cancel is not None and self.cancel.cancelled:
            raise Cancelled()
        if time.monotonic() >= self.deadline:
            raise RequestTimeout()


_current = threading.local()


@contextmanager
def watching(watch: Watch) -> Iterator[Watch]:
    """Reads made by this thread inside the block obey ``watch``."""
    previous = getattr(_current, "watch", None)
    _current.watch = watch
    try:
        yield watch
    finally:
        _current.watch = previous


def current_watch() -> Watch | None:
    watch = getattr(_current, "watch", None)
    return watch if isinstance(watch, Watch) else None


class WatchedStream(httpcore.NetworkStream):
    """A network stream whose reads give up on the calling thread's cancel or deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        watch = current_watch()
        give_up = None if timeout is None else time.monotonic() + timeout
        while True:
            if watch is not None:
                watch.check()
            now = time.monotonic()
            if give_up is not None and now >= give_up:
                raise httpcore.ReadTimeout("timed out")
            ends = [t for t in (give_up, watch.deadline if watch else None) if t is not None]
            wait = min([TICK, *(end - now for end in ends)])
            try:
                return self._inner.read(max_bytes, max(wait, 0.001))
            except httpcore.ReadTimeout:
                continue

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        watch = current_watch()
        if watch is not None:
            watch.check()
            left = max(0.001, watch.deadline - time.monotonic())
            timeout = left if timeout is None else min(timeout, left)
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return WatchedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class WatchedBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        watch = current_watch()
        if watch is not None:
            watch.check()
            left = max(0.001, watch.deadline - time.monotonic())
            timeout = left if timeout is None else min(timeout, left)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return WatchedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return WatchedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def watch_client(client: httpx.Client) -> bool:
    """Put :class:`WatchedBackend` under every connection pool of ``client`` (the direct one
    and the proxies'). False if this httpx keeps its pools elsewhere: cancel and the deadline
    then act between chunks only."""
    transports = [client._transport, *client._mounts.values()]
    watched = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if isinstance(inner, httpcore.NetworkBackend) and not isinstance(inner, WatchedBackend):
            pool._network_backend = WatchedBackend(inner)  # type: ignore[union-attr]
            watched = True
    return watched
