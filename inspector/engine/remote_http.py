"""JSON over HTTP for the remote backend: timeouts, retries with backoff, cancel mid-request.

The standard library only. A request runs on a short-lived thread so the caller can give up
the moment a :class:`CancelToken` is set: the connection is closed under the blocked read.
The API key goes into the ``Authorization`` header and nowhere else (never into a message).
Credentials written into the URL (``http://user:password@host/v1``) are taken out of it by
:func:`split_credentials` before anything else sees the URL, and sent the same way.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from inspector.engine.cancel import CancelToken
from inspector.engine.errors import (
    InvalidParameterError,
    RemoteServerError,
    RemoteUnreachableError,
)

RETRY_STATUSES = frozenset({502, 503, 504})


class Cancelled(Exception):
    """The caller's cancel token was set while the request was in flight."""


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 120.0  # seconds for one request (connect + the whole answer)
    retries: int = 3  # further attempts after a connection error or a 502/503/504
    backoff: float = 0.5  # seconds before the first retry, doubled each time


@dataclass(frozen=True)
class Credentials:
    """User-info taken from a URL: ``user:password`` (HTTP Basic) or a lone token (bearer)."""

    user: str | None = field(repr=False)
    secret: str = field(repr=False)

    @property
    def bearer(self) -> bool:
        return self.user is None

    def authorization(self) -> str:
        if self.user is None:
            return f"Bearer {self.secret}"
        pair = f"{self.user}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


_USER_INFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?.*@", re.DOTALL)


def redact_url(url: str) -> str:
    """``url`` with anything before its last ``@`` (after the scheme) shown as ``***``: safe
    to print even when the URL is malformed."""
    match = _USER_INFO.match(url.strip())
    if match is None:
        return url.strip()
    return (match.group(1) or "") + "***@" + url.strip()[match.end() :]


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """The URL without its user-info, and the credentials the user-info carried.

    ``http://user:pw@host/v1`` gives HTTP Basic credentials; ``http://TOKEN@host/v1`` and
    ``http://:TOKEN@host/v1`` a bearer token (used as the API key). Percent-escapes in the
    user-info are decoded. Raises :class:`RemoteServerError` (naming the URL redacted) for
    anything that is not a plain http(s) URL.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # a malformed port raises here, with the text in the message
    except ValueError:
        raise RemoteServerError(f"not a valid http(s) URL: {redact_url(text)!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteServerError(f"not an http(s) URL: {redact_url(text)!r}")
    user_info, at, host = parts.netloc.rpartition("@")
    if any("@" in piece for piece in (parts.path, parts.query, parts.fragment)):
        raise RemoteServerError(
            f"cannot read the URL {redact_url(text)!r}: percent-encode '/', '?', '#' and '@' "
            "inside its user name or password (as %2F, %3F, %23, %40)"
        )
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    if not at or not user_info:
        return clean, None
    user, colon, secret = user_info.partition(":")
    if not colon:
        return clean, Credentials(None, unquote(user))
    if not user:
        return clean, Credentials(None, unquote(secret))
    return clean, Credentials(unquote(user), unquote(secret))


def strip_credentials(url: str) -> str:
    """``url`` fit to save or show: without its user-info (redacted if it is malformed)."""
    try:
        return split_credentials(url)[0]
    except RemoteServerError:
        return redact_url(url)


def authorization(credentials: Credentials | None, api_key: str | None) -> str | None:
    """The ``Authorization`` header for an API key and/or URL credentials (None: none).

    Both may be given only when they say the same (a URL token equal to the key)."""
    if credentials is None:
        return f"Bearer {api_key}" if api_key else None
    if api_key and not (credentials.bearer and credentials.secret == api_key):
        raise InvalidParameterError(
            "the server URL carries credentials (user:password@ or token@) and an API key "
            "was given too ($INSPECTOR_API_KEY or --api-key); give only one of them"
        )
    return credentials.authorization()


class JsonClient:
    def __init__(self, base_url: str, api_key: str | None = None, http: HttpSettings | None = None):
        clean, credentials = split_credentials(base_url)
        self.base_url = clean.rstrip("/")
        self._parts = urlsplit(self.base_url)
        self._host = self._parts.hostname or ""  # never empty: split_credentials checked
        self._authorization = authorization(credentials, api_key)
        self.http = http or HttpSettings()

    def __repr__(self) -> str:  # never shows the key
        return f"JsonClient({self.base_url!r})"

    def post(self, path: str, body: dict[str, Any], cancel: CancelToken | None = None) -> Any:
        return self.request("POST", path, body, cancel)

    def get(self, path: str, cancel: CancelToken | None = None) -> Any:
        return self.request("GET", path, None, cancel)

    def request(
        self, method: str, path: str, body: dict[str, Any] | None, cancel: CancelToken | None
    ) -> Any:
        """The decoded JSON answer; retries connection failures with exponential backoff.

        A request that runs past the timeout is not retried (a server too slow once is too
        slow again): the caller hears about it after ``timeout`` seconds, not a multiple."""
        delay, problem = self.http.backoff, "no attempt"
        for attempt in range(self.http.retries + 1):
            if attempt:
                _sleep(delay, cancel)
                delay *= 2
            try:
                status, data = self._attempt(method, path, body, cancel)
            except TimeoutError:
                raise RemoteUnreachableError(
                    f"the server at {self.base_url} sent no answer within "
                    f"{self.http.timeout:g} s; is it overloaded, or is the timeout too short?"
                ) from None
            except (ConnectionError, http.client.HTTPException, OSError) as error:
                problem = _describe(error)
                continue
            if status in RETRY_STATUSES:
                problem = f"it answered {status}"
                continue
            return _decode(status, data, self.base_url + path)
        raise RemoteUnreachableError(
            f"could not reach the server at {self.base_url} ({problem}) after "
            f"{self.http.retries + 1} tries; is it running, and is the URL right?"
        )

    def _connection(self) -> http.client.HTTPConnection:
        kind = (
            http.client.HTTPSConnection
            if self._parts.scheme == "https"
            else http.client.HTTPConnection
        )
        return kind(self._host, self._parts.port, timeout=self.http.timeout)

    def _attempt(
        self, method: str, path: str, body: dict[str, Any] | None, cancel: CancelToken | None
    ) -> tuple[int, bytes]:
        """One exchange, bounded as a whole by the timeout and given up the moment ``cancel``
        is set (a server that trickles its answer a byte at a time cannot stretch it)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        payload = None if body is None else json.dumps(body).encode("utf-8")
        exchange = _Exchange(self._connection(), method, self._parts.path + path, payload, headers)
        deadline = time.monotonic() + self.http.timeout
        try:
            while not exchange.done.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
                if cancel is not None and cancel.cancelled:
                    raise Cancelled()
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no complete answer within {self.http.timeout:g} s")
        finally:
            exchange.abandon()
        return exchange.outcome()


class _Exchange:
    """One HTTP exchange on its own daemon thread. :meth:`abandon` wakes the thread from a
    blocked read by shutting the socket down, without waiting for it: closing the connection
    from another thread would wait for the read's buffer lock, i.e. for the whole answer."""

    def __init__(
        self, connection: http.client.HTTPConnection, method: str, url: str,
        payload: bytes | None, headers: dict[str, str],
    ) -> None:  # fmt: skip
        self.done = threading.Event()
        self._connection = connection
        self._request = (method, url, payload, headers)
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._abandoned = self._closed = False
        self._answer: tuple[int, bytes] | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._talk, daemon=True, name="inspector-http").start()

    def _talk(self) -> None:
        try:
            self._connection.connect()
            with self._lock:
                self._socket = self._connection.sock
                if self._abandoned:
                    return
            method, url, payload, headers = self._request
            self._connection.request(method, url, payload, headers)
            response = self._connection.getresponse()
            self._answer = (response.status, response.read())
        except BaseException as error:  # handed to the caller's thread
            self._error = error
        finally:
            with self._lock:
                self._closed = True
                self._connection.close()
            self.done.set()

    def abandon(self) -> None:
        """Stop the exchange if it still runs (its thread then ends on its own)."""
        with self._lock:
            self._abandoned = True
            if self._socket is not None and not self._closed:
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def outcome(self) -> tuple[int, bytes]:
        if self._error is not None:
            raise self._error
        assert self._answer is not None
        return self._answer


def _sleep(seconds: float, cancel: CancelToken | None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        return "the server closed the connection"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    return str(error) or type(error).__name__


def _decode(status: int, data: bytes, url: str) -> Any:
    try:
        decoded = json.loads(data.decode("utf-8")) if data else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        decoded = None
    if status >= 400:
        raise RemoteServerError(
            f"the server answered {status} for {url}: {_error_text(decoded, data)}"
        )
    if decoded is None:
        raise RemoteServerError(f"the server's answer from {url} is not JSON")
    return decoded


def _error_text(decoded: Any, data: bytes) -> str:
    if isinstance(decoded, dict):
        error = decoded.get("error", decoded.get("detail", decoded))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)[:500]
    return data[:300].decode("utf-8", "replace") or "no details"
