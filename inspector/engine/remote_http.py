"""JSON over HTTP for the remote backend: timeouts, retries with backoff, cancel mid-request.

The standard library only. A request runs on a short-lived thread so the caller can give up
the moment a :class:`CancelToken` is set: the connection is closed under the blocked read.
The API key goes into the ``Authorization`` header and nowhere else (never into a message).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from inspector.engine.cancel import CancelToken
from inspector.engine.errors import RemoteServerError, RemoteUnreachableError

RETRY_STATUSES = frozenset({502, 503, 504})


class Cancelled(Exception):
    """The caller's cancel token was set while the request was in flight."""


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 120.0  # seconds for one request (connect + the whole answer)
    retries: int = 3  # further attempts after a connection error or a 502/503/504
    backoff: float = 0.5  # seconds before the first retry, doubled each time


class JsonClient:
    def __init__(self, base_url: str, api_key: str | None = None, http: HttpSettings | None = None):
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteServerError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._parts = parts
        self._api_key = api_key
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
        """The decoded JSON answer; retries connection failures with exponential backoff."""
        delay, problem = self.http.backoff, "no attempt"
        for attempt in range(self.http.retries + 1):
            if attempt:
                _sleep(delay, cancel)
                delay *= 2
            try:
                status, data = self._attempt(method, path, body, cancel)
            except (ConnectionError, http.client.HTTPException, OSError) as error:
                problem = _describe(error, self.http.timeout)
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
        return kind(self._parts.hostname, self._parts.port, timeout=self.http.timeout)

    def _attempt(
        self, method: str, path: str, body: dict[str, Any] | None, cancel: CancelToken | None
    ) -> tuple[int, bytes]:
        connection = self._connection()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        payload = None if body is None else json.dumps(body).encode("utf-8")
        outcome: dict[str, Any] = {}

        def talk() -> None:
            try:
                connection.request(method, self._parts.path + path, payload, headers)
                response = connection.getresponse()
                outcome["answer"] = (response.status, response.read())
            except BaseException as error:  # handed to the caller's thread
                outcome["error"] = error

        worker = threading.Thread(target=talk, daemon=True, name="inspector-http")
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.05)
                if cancel is not None and cancel.cancelled:
                    raise Cancelled()
        finally:
            connection.close()  # also unblocks the worker when cancelled
        if "error" in outcome:
            raise outcome["error"]
        return outcome["answer"]


def _sleep(seconds: float, cancel: CancelToken | None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _describe(error: BaseException, timeout: float) -> str:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
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
