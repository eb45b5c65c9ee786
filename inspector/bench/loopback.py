"""A loopback OpenAI-compatible completions server for the remote benchmark and the remote
backend's failure tests: it answers like an inference server that batches (up to ``slots``
requests at once, each after ``latency`` seconds), and misbehaves on request (:class:`Faults`).

Its completions are made up by a rule, not by a model (a model on this machine could not
serve 16 requests at once): for "What is A + B?" a short worked answer, "A + B = S. The answer
is S.", with log-probabilities that obey every rule a real server's do (finite, at most 0, the
top-k summing to at most 1, the chosen token never above the top one). Greedy requests give the
right sum; sampled ones (``temperature`` > 0) give it three times in four, drawn from ``seed``
and the prompt, so a self-consistency vote has something to count. It honours ``n`` (unless
told not to), ``stream`` (server-sent events over chunked HTTP/1.1, connections kept alive),
``max_tokens`` and ``stop``.
"""

from __future__ import annotations

import json
import math
import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

QUESTION = re.compile(r"What is (\d+) \+ (\d+)\?")


@dataclass
class Faults:
    """Misbehaviour by request number (1 = the first completions request)."""

    fail_every: int = 0  # every k-th request answers 503
    rate_limit_every: int = 0  # every k-th answers 429 with Retry-After
    rate_limited: tuple[int, ...] = ()  # these requests answer 429 with Retry-After too
    retry_after: str = "1"
    stall_request: int = 0  # this request sends nothing until the server stops
    close_mid_stream_every: int = 0  # every k-th streamed answer stops half-way, cut
    ignore_n: bool = False  # answer one choice whatever ``n`` asks
    gather: int = 0  # hold each answer until this many requests were in flight at once


@dataclass
class Traffic:
    """What the server saw, for the tests and the benchmark."""

    requests: int = 0
    completions: int = 0  # choices answered
    peak: int = 0  # requests being served at once, at most (never above the slots)
    open_peak: int = 0  # requests sent and not yet answered at once, at most (queued included)
    statuses: list[int] = field(default_factory=list)
    arrivals: list[tuple[int, float]] = field(default_factory=list)  # (number, monotonic)
    authorizations: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)


def _tokens_for(prompt: str, greedy: bool, rng: random.Random) -> list[tuple[str, float]]:
    """(token, probability of the token chosen) of the made-up answer."""
    found = QUESTION.findall(prompt)
    if found:
        a, b = (int(x) for x in found[-1])
        total = a + b
    else:
        a, b, total = 2, 3, 5
    answer = total if greedy or rng.random() < 0.75 else total + rng.choice((-1, 1))
    p_answer = 0.8 if answer == total else 0.1
    pieces = [(f" {a}", 0.9), (" +", 0.95), (f" {b}", 0.9), (" =", 0.95), (f" {answer}", p_answer)]
    pieces += [(".", 0.9), (" The", 0.7), (" answer", 0.9), (" is", 0.95)]
    return [*pieces, (f" {answer}", 0.97 if answer == total else 0.6), (".", 0.9), ("\n", 0.6)]


def _top(token: str, p: float, k: int, position: int) -> dict[str, float]:
    """The chosen token and k - 1 others, the probabilities summing below 1; the chosen one
    is never above the top (when it is unlikely, a likelier other comes first)."""
    others = [f" x{position}_{i}" for i in range(k)]
    top = {token: math.log(p)}
    left = (1.0 - p) * 0.9
    if p < 0.5:
        top[others.pop(0)] = math.log(min(0.8, left))
        left -= min(0.8, left)
    for i, other in enumerate(others[: k - len(top)]):
        share = left / (2 ** (i + 1))
        top[other] = math.log(max(share, 1e-9))
    return top


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small writes go out at once, as a real server's do
    server: LoopbackHTTPServer

    def log_message(self, *_args: Any) -> None:  # quiet
        pass

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.server.note_status(status)

    def do_GET(self) -> None:
        if self.path.endswith("/traffic"):  # what the benchmark reads from a server process
            traffic = self.server.traffic
            counts = {"requests": traffic.requests, "completions": traffic.completions,
                      "peak": traffic.peak, "open_peak": traffic.open_peak}  # fmt: skip
            if self.path.endswith("/reset/traffic"):  # the peaks start again (a new run)
                traffic.peak = traffic.open_peak = 0
            self._send_json(200, counts)
            return
        self._send_json(200, {"data": [{"id": "loopback"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        server = self.server
        number = server.arrive(body, self.headers.get("Authorization", ""))
        faults = server.faults
        try:
            self._serve(body, number, faults)
        finally:
            server.depart()

    def _serve(self, body: dict[str, Any], number: int, faults: Faults) -> None:
        server = self.server
        try:
            with server.slots:
                server.enter()
                try:
                    if faults.stall_request == number:
                        server.stopping.wait()
                        return
                    server.stopping.wait(server.latency)
                    server.wait_for_company()
                    limited = faults.rate_limit_every and number % faults.rate_limit_every == 0
                    if limited or number in faults.rate_limited:
                        message = {"error": {"message": "rate limited"}}
                        self._send_json(429, message, {"Retry-After": faults.retry_after})
                    elif faults.fail_every and number % faults.fail_every == 0:
                        self._send_json(503, {"error": {"message": "injected failure"}})
                    else:
                        self._complete(body, number)
                finally:
                    server.leave()
        except OSError:  # the client went away
            self.close_connection = True

    def _choices(self, body: dict[str, Any]) -> list[list[tuple[str, float, dict[str, float]]]]:
        prompt = str(body.get("prompt", ""))
        k = max(1, int(body.get("logprobs") or 1))
        greedy = float(body.get("temperature", 1.0)) == 0.0
        n = 1 if self.server.faults.ignore_n else max(1, int(body.get("n") or 1))
        seed = body.get("seed")
        stops = [s for s in body.get("stop") or [] if isinstance(s, str)]
        limit = max(1, int(body.get("max_tokens") or 16))
        choices = []
        for index in range(n):
            mix = f"{seed}:{index}:{prompt}" if seed is not None else f"{time.time_ns()}:{index}"
            rng = random.Random(zlib.crc32(mix.encode()))
            tokens, text = [], ""
            for position, (token, p) in enumerate(_tokens_for(prompt, greedy, rng)[:limit]):
                tokens.append((token, math.log(p), _top(token, p, k, position)))
                text += token
                if any(stop in text for stop in stops):
                    break
            choices.append(tokens)
        return choices

    def _complete(self, body: dict[str, Any], number: int) -> None:
        choices = self._choices(body)
        self.server.count(len(choices))
        limit = max(1, int(body.get("max_tokens") or 16))
        if body.get("stream"):
            self._stream(choices, limit, number)
            return
        answer = {
            "object": "text_completion",
            "model": "loopback",
            "choices": [
                {
                    "index": i,
                    "text": "".join(t for t, _, _ in tokens),
                    "finish_reason": "length" if len(tokens) >= limit else "stop",
                    "logprobs": {
                        "tokens": [t for t, _, _ in tokens],
                        "token_logprobs": [lp for _, lp, _ in tokens],
                        "top_logprobs": [top for _, _, top in tokens],
                    },
                }
                for i, tokens in enumerate(choices)
            ],
        }
        self._send_json(200, answer)

    def _chunk(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _stream(self, choices: list[list[tuple[str, float, dict[str, float]]]], limit: int,
                number: int) -> None:  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.server.note_status(200)
        faults = self.server.faults
        cut = faults.close_mid_stream_every and number % faults.close_mid_stream_every == 0
        longest = max(len(tokens) for tokens in choices)
        for position in range(longest):
            if cut and position == longest // 2:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            pieces = []
            for index, tokens in enumerate(choices):
                if position >= len(tokens):
                    continue
                token, logprob, top = tokens[position]
                done = position == len(tokens) - 1
                reason = ("length" if len(tokens) >= limit else "stop") if done else None
                logprobs = {"tokens": [token], "token_logprobs": [logprob], "top_logprobs": [top]}
                pieces.append({"index": index, "text": token, "logprobs": logprobs,
                               "finish_reason": reason})  # fmt: skip
            self._chunk(json.dumps({"object": "text_completion", "choices": pieces}))
        self._chunk("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency: float, slots: int, faults: Faults) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency = latency
        self.slots = threading.BoundedSemaphore(slots)
        self.faults = faults
        self.traffic = Traffic()
        self.stopping = threading.Event()
        self.gathered = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._open = 0

    def arrive(self, body: dict[str, Any], authorization: str) -> int:
        with self._lock:
            self.traffic.requests += 1
            number = self.traffic.requests
            self.traffic.arrivals.append((number, time.monotonic()))
            self.traffic.authorizations.append(authorization)
            self.traffic.bodies.append(body)
            self._open += 1
            self.traffic.open_peak = max(self.traffic.open_peak, self._open)
            return number

    def depart(self) -> None:
        with self._lock:
            self._open -= 1

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.traffic.peak = max(self.traffic.peak, self._in_flight)
            if self.faults.gather and self.traffic.peak >= self.faults.gather:
                self.gathered.set()

    def wait_for_company(self, most: float = 20.0) -> None:
        """With ``Faults.gather``: wait until that many requests were in flight at once (a
        client that sends one at a time waits ``most`` seconds per request, then is served)."""
        if self.faults.gather:
            self.gathered.wait(most)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def count(self, completions: int) -> None:
        with self._lock:
            self.traffic.completions += completions

    def note_status(self, status: int) -> None:
        with self._lock:
            self.traffic.statuses.append(status)


@contextmanager
def loopback_server(
    latency: float = 0.15, slots: int = 16, faults: Faults | None = None
) -> Iterator[tuple[str, LoopbackHTTPServer]]:
    """The server on 127.0.0.1 (a free port) and its ``/v1`` URL, until the block ends."""
    server = LoopbackHTTPServer(latency, slots, faults or Faults())
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="loopback")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


@contextmanager
def loopback_process(latency: float = 0.15, slots: int = 16) -> Iterator[str]:
    """The server in a process of its own (as a real server is: its work does not share this
    process's interpreter lock); its ``/v1`` URL until the block ends."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "inspector.bench.loopback", str(latency), str(slots)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("http://"):
            raise RuntimeError(f"the loopback server did not start ({line.strip()!r})")
        yield line.strip()
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def main(argv: list[str]) -> None:
    latency, slots = float(argv[0]), int(argv[1])
    with loopback_server(latency, slots) as (url, _server):
        print(url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
