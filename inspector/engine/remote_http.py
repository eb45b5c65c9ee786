"""JSON and server-sent events over HTTP for the remote backend (httpx).

One :class:`httpx.Client` per server connection: its connections are pooled and reused, and it
is safe to share between threads (an experiment's questions run on several). Proxies come from
the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``; never for a
loopback server); TLS certificates are always verified, against ``--ca-bundle`` when given,
else ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR``, else certifi's bundle.

Every exchange is bounded as a whole by the timeout and dropped the moment its cancel token is
set (:mod:`inspector.engine.remote_watch`), streamed or not. Connection failures, 429 and the
5xx answers that mean "try again" (502, 503, 504) are retried with exponential backoff, waiting
at least what ``Retry-After`` asks; when the tries are used up the message names the last
error. A request that ran past the timeout is not retried (a server too slow once is too slow
again). The API key goes into the ``Authorization`` header and nowhere else.

At most :attr:`JsonClient.slots` requests are in flight at once (the user's concurrency, to
match the server's parallel slots): a further request waits for one to end, and that wait is
neither part of its timeout nor a try. Backoff waits hold no slot.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from inspector.engine.cancel import CancelToken
from inspector.engine.errors import RemoteServerError, RemoteUnreachableError
from inspector.engine.remote_credentials import (
    Credentials,
    authorization,
    redact_url,
    split_credentials,
    strip_credentials,
)
from inspector.engine.remote_watch import Cancelled, RequestTimeout, Watch, watch_client, watching

__all__ = [
    "Cancelled",
    "Credentials",
    "HttpSettings",
    "JsonClient",
    "authorization",
    "redact_url",
    "split_credentials",
    "strip_credentials",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is waited only this long per try

T = TypeVar("T")
EventCallback = Callable[[dict[str, Any], int], None]  # (event, attempt number)


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 120.0  # seconds for one request (connect + the whole answer)
    retries: int = 3  # further attempts after a connection error, a 429 or a 502/503/504
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    ca_bundle: str | None = None  # a PEM file of trusted certificates (None: see above)
    max_connections: int = 256  # connections to the server at most (opened as needed)
    in_flight: int = 16  # requests sent at once at most (JsonClient.slots; changeable later)


class RequestSlots:
    """At most :attr:`limit` holders at once; the limit can change while requests wait (a
    higher one lets waiting requests go at once, a lower one lets no new one go until enough
    ended). A wait ends early, with :class:`Cancelled`, when its cancel token is set."""

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._held = 0
        self._changed = threading.Condition()

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        with self._changed:
            self._limit = max(1, int(value))
            self._changed.notify_all()

    @property
    def held(self) -> int:
        return self._held

    def acquire(self, cancel: CancelToken | None = None) -> None:
        with self._changed:
            while self._held >= self._limit:
                if cancel is not None and cancel.cancelled:
                    raise Cancelled()
                self._changed.wait(0.05)  # the cancel token is polled, it has no waiters
            self._held += 1

    def release(self) -> None:
        with self._changed:
            self._held -= 1
            self._changed.notify()


class _Retry(Exception):
    """This try failed in a way that another try may not."""

    def __init__(self, problem: str, after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.after = after


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def tls_context(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """Certificates verified against ``ca_bundle`` (a file or folder), or httpx's default
    (``$SSL_CERT_FILE``, ``$SSL_CERT_DIR``, certifi)."""
    if ca_bundle is None:
        return True
    path = os.path.expanduser(ca_bundle)
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise RemoteServerError(f"cannot use the CA bundle {ca_bundle!r} ({reason})") from None


def make_client(base_url: str, settings: HttpSettings) -> httpx.Client:
    host = urlsplit(base_url).hostname or ""
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_connections,
    )
    client = httpx.Client(
        verify=tls_context(settings.ca_bundle),
        trust_env=not is_loopback(host),  # a proxy never stands between us and localhost
        timeout=httpx.Timeout(settings.timeout),
        limits=limits,
        follow_redirects=False,
    )
    watch_client(client)
    return client


class JsonClient:
    def __init__(self, base_url: str, api_key: str | None = None, http: HttpSettings | None = None):
        clean, credentials = split_credentials(base_url)
        self.base_url = clean.rstrip("/")
        self._authorization = authorization(credentials, api_key)
        self.http = http or HttpSettings()
        self.slots = RequestSlots(self.http.in_flight)
        self._client = make_client(self.base_url, self.http)

    def __repr__(self) -> str:  # never shows the key
        return f"JsonClient({self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def post(self, path: str, body: dict[str, Any], cancel: CancelToken | None = None) -> Any:
        return self.request("POST", path, body, cancel)

    def get(self, path: str, cancel: CancelToken | None = None) -> Any:
        return self.request("GET", path, None, cancel)

    def request(
        self, method: str, path: str, body: dict[str, Any] | None, cancel: CancelToken | None
    ) -> Any:
        """The decoded JSON answer, after as many tries as the settings allow."""
        return self._with_retries(
            lambda _attempt: self._exchange(method, path, body, cancel, None, 0), cancel
        )

    def post_stream(
        self, path: str, body: dict[str, Any], cancel: CancelToken | None, on_event: EventCallback
    ) -> Any | None:
        """POST and hand each server-sent event (decoded JSON) to ``on_event`` with the number
        of the try it belongs to: a try that fails part-way is started again from its first
        event, with the next number. None once ``[DONE]`` came; the decoded answer instead
        when the server answered with plain JSON (it does not stream)."""
        return self._with_retries(
            lambda attempt: self._exchange("POST", path, body, cancel, on_event, attempt), cancel
        )

    # -- internals -------------------------------------------------------------------------------
    def _with_retries(self, attempt: Callable[[int], T], cancel: CancelToken | None) -> T:
        delay, problem = self.http.backoff, "no attempt"
        tries = self.http.retries + 1
        for number in range(tries):
            try:
                return attempt(number)
            except _Retry as failed:
                problem = failed.problem
                if number + 1 < tries:
                    wait = delay if failed.after is None else max(delay, failed.after)
                    _sleep(min(wait, MAX_RETRY_AFTER), cancel)
                    delay *= 2
        raise RemoteUnreachableError(
            f"could not get an answer from the server at {self.base_url} after {tries} "
            f"{'try' if tries == 1 else 'tries'} (the last: {problem}); {_hint(problem)}"
        )

    def _headers(self, streaming: bool) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if streaming else "application/json"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        return headers

    def _exchange(
        self, method: str, path: str, body: dict[str, Any] | None, cancel: CancelToken | None,
        on_event: EventCallback | None, attempt: int,
    ) -> Any:  # fmt: skip
        url = self.base_url + path
        self.slots.acquire(cancel)
        try:
            return self._send(method, url, body, cancel, on_event, attempt)
        finally:
            self.slots.release()

    def _send(
        self, method: str, url: str, body: dict[str, Any] | None, cancel: CancelToken | None,
        on_event: EventCallback | None, attempt: int,
    ) -> Any:  # fmt: skip
        watch = Watch(cancel, time.monotonic() + self.http.timeout)
        try:
            with watching(watch):
                request = self._client.build_request(
                    method, url, json=body, headers=self._headers(on_event is not None)
                )
                response = self._client.send(request, stream=True)
                try:
                    return self._answer(response, url, on_event, attempt)
                finally:
                    response.close()
        except (RequestTimeout, httpx.TimeoutException):
            raise RemoteUnreachableError(
                f"the server at {self.base_url} sent no answer within {self.http.timeout:g} s; "
                "is it overloaded, or is the timeout too short?"
            ) from None
        except httpx.ConnectError as error:
            if "CERTIFICATE_VERIFY_FAILED" in str(error) or "certificate" in str(error).lower():
                raise RemoteServerError(
                    f"the TLS certificate of {self.base_url} could not be verified ({error}); "
                    "if your network uses its own certificate authority, give its bundle "
                    "(CA bundle when connecting in the app, --ca-bundle on the command line, "
                    "or $SSL_CERT_FILE)"
                ) from None
            raise _Retry(_describe(error)) from None
        except httpx.TransportError as error:
            raise _Retry(_describe(error)) from None

    def _answer(
        self, response: httpx.Response, url: str, on_event: EventCallback | None, attempt: int
    ) -> Any:
        status = response.status_code
        if status in RETRY_STATUSES:
            data = response.read()
            problem = f"it answered {status} {response.reason_phrase}".rstrip()
            detail = _error_text(_json_or_none(data), data)
            if detail and detail != "no details":
                problem += f": {detail[:200]}"
            raise _Retry(problem, retry_after(response.headers.get("Retry-After")))
        kind = response.headers.get("Content-Type", "")
        if on_event is None or status >= 400 or not kind.startswith("text/event-stream"):
            return _decode(status, response.read(), url)
        for event in server_events(response.iter_lines()):
            if isinstance(event.get("error"), (dict, str)):
                raise RemoteServerError(
                    f"the server reported an error mid-answer for {url}: {_error_text(event, b'')}"
                )
            on_event(event, attempt)
        return None


def server_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON ``data:`` events of a server-sent event stream, up to ``[DONE]``; a stream
    that stops before ``[DONE]`` was cut (a try to repeat)."""
    data: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].strip())
            continue
        if line.strip() or not data:
            continue  # a comment, another field, or a blank line between events
        text, data = "\n".join(data), []
        if text == "[DONE]":
            return
        try:
            event = json.loads(text)
        except json.JSONDecodeError:
            raise RemoteServerError(
                f"the server sent an event that is not JSON: {text[:100]!r}"
            ) from None
        if isinstance(event, dict):
            yield event
    if data and "\n".join(data) == "[DONE]":
        return
    raise _Retry("the server closed the connection mid-answer")


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (a number or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _sleep(seconds: float, cancel: CancelToken | None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _describe(error: BaseException) -> str:
    text = str(error)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if isinstance(error, httpx.RemoteProtocolError) and "complete message body" in lowered:
        return "the server closed the connection mid-answer"
    if isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "the server closed the connection"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "unknown host"
    if isinstance(error, httpx.ProxyError):
        return f"the proxy refused the connection ({text})"
    return text or type(error).__name__


def _hint(problem: str) -> str:
    if "429" in problem:
        return "the server limits how many requests it takes: lower the concurrency"
    if problem.startswith("it answered 5"):
        return "the server is overloaded or restarting: try again later"
    return "is it running, and is the URL right?"


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8")) if data else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _decode(status: int, data: bytes, url: str) -> Any:
    decoded = _json_or_none(data)
    if status >= 400:
        raise RemoteServerError(
            f"the server answered {status} for {redact_url(url)}: {_error_text(decoded, data)}"
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
