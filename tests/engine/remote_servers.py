"""Servers for the remote backend's tests: the real llama-cpp-python server on the default
model, and tiny misbehaving HTTP servers for the failure cases (a 500, a closed connection,
no log-probabilities, an answer that never comes or comes a byte at a time, a stream that
stops after its first chunk, any answer), and a self-signed certificate to serve TLS with. A
loopback server that batches and injects faults at scale is :mod:`inspector.bench.loopback`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def self_signed_certificate(folder) -> tuple[str, str] | None:
    """(key file, certificate file) for 127.0.0.1, made by openssl; None where it cannot."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    return (str(key), str(cert)) if made.returncode == 0 else None


def serve_tls(server, key: str, cert: str, url: str) -> str:
    """Make ``server`` (an HTTP server, not yet answering) speak TLS; its https URL."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return url.replace("http://", "https://")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def llama_cpp_server(model_path, n_ctx: int = 2048) -> Iterator[str]:
    """``python -m llama_cpp.server`` on 127.0.0.1; yields its base URL once it answers."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed below; a full pipe would block the server)
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", "2"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"llama_cpp.server exited: {log.read()[-2000:]!r}")
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def completion(tokens: list[str], logprobs: list, tops: list[dict] | None = None) -> dict:
    """A completions-API answer with ``logprobs`` in the legacy shape."""
    if tops is None:
        tops = [{t: lp} for t, lp in zip(tokens, logprobs, strict=True)]
    logprobs_doc = {"tokens": tokens, "token_logprobs": logprobs, "top_logprobs": tops}
    choice = {"index": 0, "text": "".join(tokens), "finish_reason": "stop"}
    return {"choices": [{**choice, "logprobs": logprobs_doc}]}


class _Handler(BaseHTTPRequestHandler):
    behaviour = "ok"
    answer: dict | None = None  # what "answer" replies to every POST
    bodies: list[bytes]

    def log_message(self, *_args) -> None:  # quiet
        pass

    def _reply(self, status: int, data: dict) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self.get_headers.append(dict(self.headers))
        self._reply(200, {"data": [{"id": "fake-model"}]})

    def _trickle(self) -> None:
        """An HTTP/1.1 answer (the connection stays open) that comes a byte every 0.1 s."""
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "200")
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:  # the client gave up
            pass

    def _stream_held(self) -> None:
        """A stream that sends one chunk (the token " 5"), then nothing until ``release``."""
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        logprobs = {"tokens": [" 5"], "token_logprobs": [-0.1], "top_logprobs": [{" 5": -0.1}]}
        chunk = {"choices": [{"index": 0, "text": " 5", "logprobs": logprobs}]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()
        self.received.set()
        self.release.wait(60)
        try:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.replied.append(True)
        except OSError:  # the client is gone
            pass

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.headers_seen.append(dict(self.headers))
        if self.behaviour == "error":
            self._reply(500, {"error": {"message": "the GPU caught fire"}})
        elif self.behaviour == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif self.behaviour == "held":  # answers only once the test sets ``release``
            self.received.set()
            self.release.wait(60)
            try:
                self._reply(200, {"choices": []})
                self.replied.append(True)
            except OSError:  # the client is gone
                pass
        elif self.behaviour == "trickle":
            self._trickle()
        elif self.behaviour == "stream-held":
            self._stream_held()
        elif self.behaviour == "answer":
            self._reply(200, self.answer or {})
        else:  # a completion without log-probabilities
            self._reply(200, {"choices": [{"index": 0, "text": " 5", "finish_reason": "stop"}]})


@contextmanager
def fake_server(behaviour: str, answer: dict | None = None) -> Iterator[tuple[str, _Handler]]:
    state = {"behaviour": behaviour, "bodies": [], "headers_seen": [], "get_headers": [],
             "answer": answer, "received": threading.Event(), "release": threading.Event(),
             "replied": []}  # fmt: skip
    handler = type("Handler", (_Handler,), state)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    finally:
        server.shutdown()
        server.server_close()
