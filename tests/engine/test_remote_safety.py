"""The remote backend against hostile or careless input, on tiny local HTTP servers (fast, no
model): credentials in the URL, a server that trickles its answer, and numbers that cannot be
probabilities."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from inspector.core.session import RunSettings
from inspector.core.strategies import new_session, run_strategy
from inspector.engine import (
    Branch,
    CancelToken,
    GenerationSettings,
    InvalidParameterError,
    RemoteServerError,
    RemoteUnreachableError,
)
from inspector.engine.errors import InvalidNumbersError
from inspector.engine.remote import RemoteEngine
from inspector.engine.remote_http import HttpSettings, redact_url, split_credentials
from inspector.engine.remote_records import parse_logprobs, token_key
from tests.engine.remote_servers import completion, fake_server, free_port

FAST = HttpSettings(timeout=5, retries=1, backoff=0.05)
FIVE = completion([" 5"], [-0.1], [{" 5": -0.1, " 6": -2.5}])
SECRET = "S3cr3t-pw"


def with_user_info(url: str, user_info: str) -> str:
    return url.replace("http://", f"http://{user_info}@", 1)


# -- credentials in the URL ------------------------------------------------------------------
def test_url_credentials_are_sent_as_basic_auth_and_never_kept(store, tmp_path, open_remote):
    from inspector.store.export import export

    with fake_server("answer", FIVE) as (url, handler):
        remote = open_remote(with_user_info(url, f"alice:{SECRET}"), http=FAST)
        session = new_session(remote, "2 + 3?", RunSettings(strategy="greedy", max_tokens=1))
        run_strategy(remote, session)
    expected = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert handler.get_headers[0]["Authorization"] == expected  # GET /models
    assert handler.headers_seen[0]["Authorization"] == expected  # POST /completions
    assert session.paths[0].text == " 5"
    assert remote.info().path == f"{url}#fake-model" and remote.client.base_url == url
    shown = [str(remote.info()), repr(remote.client), json.dumps(session.model)]
    assert not any(SECRET in text or "alice" in text for text in shown)
    store.save_session(session)
    for fmt in ("json", "md", "csv"):
        export(store, tmp_path / f"out.{fmt}", fmt, session_id=session.id)
    store.close()
    written = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 4 and not any(SECRET.encode() in data for data in written)


@pytest.mark.parametrize("user_info", ["tok%2Fen-9", ":tok%2Fen-9"])
def test_a_lone_token_in_the_url_is_the_api_key(user_info, open_remote):
    with fake_server("answer", FIVE) as (url, handler):
        remote = open_remote(with_user_info(url, user_info), http=FAST)
        remote.next_tokens("Q: 2 + 3?\nA:", 2)
        # the same key given twice is no conflict
        RemoteEngine.connect(with_user_info(url, user_info), api_key="tok/en-9", http=FAST)
    assert handler.headers_seen[0]["Authorization"] == "Bearer tok/en-9"
    assert "tok" not in remote.info().path


def test_url_credentials_and_another_api_key_are_refused():
    with pytest.raises(InvalidParameterError, match="give only one") as refused:
        RemoteEngine.connect(f"http://bob:{SECRET}@127.0.0.1:9/v1", api_key="sk-other")
    assert SECRET not in str(refused.value) and "sk-other" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://bob:{SECRET}@example.org/v1",  # not http
        f"http://bob:{SECRET[:3]}/{SECRET[3:]}@example.org/v1",  # an unescaped '/'
        f"http://bob:{SECRET}@example.org:port/v1",  # a bad port
        f"http://us/er:{SECRET}@example.org/v1",  # the '@' lands in the path
    ],
)
def test_a_malformed_url_is_refused_without_its_secret(url):
    with pytest.raises(RemoteServerError, match="URL") as refused:
        RemoteEngine.connect(url, http=FAST)
    assert SECRET not in str(refused.value) and SECRET[:3] + "/" not in str(refused.value)


def test_unreachable_and_failing_servers_name_the_url_without_its_secret(open_remote):
    dead = f"http://bob:{SECRET}@127.0.0.1:{free_port()}/v1"
    with pytest.raises(RemoteUnreachableError, match="connection refused") as unreachable:
        RemoteEngine.connect(dead, http=FAST)
    with fake_server("error") as (url, _handler):
        remote = open_remote(with_user_info(url, f"bob:{SECRET}"), http=FAST)
        with pytest.raises(RemoteServerError, match="answered 500") as failing:
            remote.next_tokens("Q: 2 + 3?\nA:", 2)
    for error in (unreachable.value, failing.value):
        assert SECRET not in str(error) and "bob" not in str(error) and "127.0.0.1" in str(error)


def test_splitting_and_redacting_urls():
    clean, credentials = split_credentials("https://u%40x:p%3Aw@host:8443/v1?q=1")
    assert clean == "https://host:8443/v1?q=1"
    assert credentials is not None and credentials.authorization() == "Basic " + (
        base64.b64encode(b"u@x:p:w").decode()
    )
    assert "p:w" not in repr(credentials) and "u@x" not in repr(credentials)
    assert split_credentials(" http://host/v1 ") == ("http://host/v1", None)
    assert redact_url(f"http://a:{SECRET} x@host/v1") == "http://***@host/v1"
    assert redact_url("http://host/v1") == "http://host/v1"


def test_the_cli_prints_and_stores_no_url_credentials(tmp_path):
    with fake_server("answer", FIVE) as (url, handler):
        secret_url = with_user_info(url, f"carol:{SECRET}")
        db = tmp_path / "s.db"
        common = ["--backend", "openai", "--base-url", secret_url, "--timeout", "5"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECTOR_")}
        env["HOME"] = str(tmp_path)
        argvs = (["info"], ["run", "2 + 3?", "--max-tokens", "1", "--db", str(db)])
        command = [sys.executable, "-m", "inspector"]
        runs = [
            subprocess.run(
                [*command, *argv, *common], capture_output=True, text=True, timeout=120, env=env
            )
            for argv in argvs
        ]
    for done in runs:
        assert done.returncode == 0, done.stderr
        assert SECRET not in done.stdout + done.stderr and "carol" not in done.stdout
    assert url in runs[0].stdout
    assert handler.headers_seen[0]["Authorization"].startswith("Basic ")
    assert db.exists() and SECRET.encode() not in b"".join(
        p.read_bytes() for p in tmp_path.glob("s.db*")
    )


# -- a server that trickles its answer -------------------------------------------------------
def test_the_timeout_bounds_the_whole_request(open_remote):
    with fake_server("trickle") as (url, handler):
        remote = open_remote(url, http=HttpSettings(timeout=1, retries=2, backoff=0.05))
        started = time.monotonic()
        with pytest.raises(RemoteUnreachableError, match=r"no answer within 1 s"):
            remote.next_tokens("Q: 2 + 3?\nA:", 2)
        # cut at the 1 s timeout: the answer would trickle a byte every 0.1 s for 20 s (the
        # bound is loose on purpose, for a loaded machine)
        assert time.monotonic() - started < 10
    assert len(handler.bodies) == 1  # a request that ran out of time is not retried


def test_cancel_is_prompt_while_a_server_trickles(open_remote):
    with fake_server("trickle") as (url, _handler):
        remote = open_remote(url, http=HttpSettings(timeout=60, retries=0))
        cancel = CancelToken()
        threading.Timer(0.3, cancel.cancel).start()
        started = time.monotonic()
        result = remote.generate("Q: 2 + 3?\nA:", GenerationSettings(max_tokens=2), cancel=cancel)
        # cut soon after the cancel at 0.3 s, not when the 20 s trickle ends (loose on purpose)
        assert result.finish_reason == "cancelled" and time.monotonic() - started < 10


# -- numbers that cannot be probabilities ----------------------------------------------------
BAD_ANSWERS = {
    "nan": completion([" 5"], [float("nan")]),
    "positive": completion([" 5"], [3.0], [{" 5": 3.0, " 6": -2.5}]),
    "infinite alternative": completion([" 5"], [-0.1], [{" 5": -0.1, " 6": float("inf")}]),
    "a string": completion([" 5"], ["-0.1"]),
    "more than probability 1": completion([" 5"], [-0.1], [{" 5": -0.1, " 6": -0.2}]),
    "unordered": completion([" 5"], [-0.01], [{" 6": -0.5, " 7": -1.5}]),
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_invalid_numbers_from_a_server_are_one_clear_error(case, open_remote):
    with fake_server("answer", BAD_ANSWERS[case]) as (url, _handler):
        remote = open_remote(url, http=FAST)
        with pytest.raises(InvalidNumbersError, match="the server returned invalid numbers"):
            remote.generate("Q: 2 + 3?\nA:", GenerationSettings(max_tokens=1, n_alternatives=2))
        with pytest.raises(InvalidNumbersError):
            remote.next_tokens("Q: 2 + 3?\nA:", 2)


def test_a_rounding_error_above_zero_is_recorded_as_certainty():
    (record,) = parse_logprobs(
        {"tokens": [" 5"], "token_logprobs": [2e-5], "top_logprobs": [{" 5": 2e-5}]}, 3
    )
    assert record.logprob == 0.0 and record.top[0].logprob == 0.0


def test_malformed_log_probabilities_are_a_clear_error():
    with pytest.raises(RemoteServerError, match="malformed"):
        parse_logprobs({"content": [{"logprob": -0.1}]}, 3)
    with pytest.raises(RemoteServerError, match="malformed"):
        parse_logprobs({"tokens": [5], "token_logprobs": [-0.1]}, 3)


def test_a_forced_token_the_server_does_not_rank_is_refused_not_made_up(open_remote):
    with fake_server("answer", FIVE) as (url, _handler):
        remote = open_remote(url, http=FAST)
        remote.remember_texts([(token_key(" 7"), " 7")])
        with pytest.raises(RemoteServerError, match="no longer ranks"):
            remote.explore("Q: 2 + 3?\nA:", [Branch(forced=(token_key(" 7"),))])
