"""Servers for the remote backend's tests: the real llama-cpp-python server on the default
model, and tiny misbehaving HTTP servers for the failure cases (a 500, a closed connection,
no log-probabilities, an answer that never comes)."""

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


class _Handler(BaseHTTPRequestHandler):
    behaviour = "ok"
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
        self._reply(200, {"data": [{"id": "fake-model"}]})

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.headers_seen.append(dict(self.headers))
        if self.behaviour == "error":
            self._reply(500, {"error": {"message": "the GPU caught fire"}})
        elif self.behaviour == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif self.behaviour == "slow":
            time.sleep(5)
            self._reply(200, {"choices": []})
        else:  # a completion without log-probabilities
            self._reply(200, {"choices": [{"index": 0, "text": " 5", "finish_reason": "stop"}]})


@contextmanager
def fake_server(behaviour: str) -> Iterator[tuple[str, _Handler]]:
    handler = type("Handler", (_Handler,), {"behaviour": behaviour, "bodies": [],
                                            "headers_seen": []})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    finally:
        server.shutdown()
        server.server_close()
