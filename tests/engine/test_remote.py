"""The remote backend against a real llama-cpp-python server on the default model (started
here, on 127.0.0.1), compared with the local engine; and every failure case."""

from __future__ import annotations

import math
import threading

import pytest

from inspector.core.session import RunSettings
from inspector.core.strategies import branch_here, new_session, run_strategy
from inspector.engine import (
    CancelToken,
    GenerationSettings,
    RemoteServerError,
    RemoteUnreachableError,
)
from inspector.engine.remote import RemoteEngine, api_root
from inspector.engine.remote_http import HttpSettings
from inspector.engine.remote_records import parse_logprobs, token_key
from tests.conftest import APPLE_PROMPT
from tests.engine.remote_servers import fake_server, free_port

QUESTION = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"
FAST = HttpSettings(timeout=5, retries=2, backoff=0.05)


@pytest.fixture
def server_url(llama_server_url):
    return llama_server_url


@pytest.fixture
def remote(server_url, open_remote):
    return open_remote(server_url, api_key="sk-test-SECRET-4242")


def test_top_k_tokens_match_the_local_engine(remote, engine):
    there = remote.next_tokens(APPLE_PROMPT, 5)
    here = engine.next_tokens(APPLE_PROMPT, 8)
    assert len(there) == 5
    local = {a.text: a.logprob for a in here}
    for alternative in there:  # the same tokens, the same probabilities (other batch shapes)
        assert alternative.text in local
        assert alternative.logprob == pytest.approx(local[alternative.text], abs=0.15)
    assert [a.text for a in there][:1] == [a.text for a in here][:1]


def test_greedy_matches_the_local_engine(remote, engine):
    settings = GenerationSettings(max_tokens=8, n_alternatives=3)
    there = remote.generate(APPLE_PROMPT, settings)
    here = engine.generate(APPLE_PROMPT, settings)
    assert there.text == here.text
    assert [t.logprob for t in there.tokens] == pytest.approx(
        [t.logprob for t in here.tokens], abs=0.15
    )
    assert all(math.isnan(t.entropy) for t in there.tokens)  # not known from a top-k list
    assert all(len(t.top) == 3 for t in there.tokens)


def test_cot_decoding_through_the_server(remote):
    session = new_session(remote, QUESTION, RunSettings(strategy="cot-decoding", k=3, max_tokens=8))
    run_strategy(remote, session)
    first = remote.next_tokens(session.prompt_tokens, 3)
    assert [session.path_tokens(p)[0].text for p in session.paths] == [a.text for a in first]
    assert [session.path_tokens(p)[0].logprob for p in session.paths] == pytest.approx(
        [a.logprob for a in first]
    )
    assert session.status == "complete" and all(p.n_tokens > 1 for p in session.paths)
    assert session.model["path"].startswith(remote.client.base_url)


def test_self_consistency_uses_n_or_says_it_cannot(remote):
    settings = RunSettings(strategy="self-consistency", samples=3, max_tokens=6, seed=7)
    session = new_session(remote, QUESTION, settings)
    run_strategy(remote, session)
    assert [p.origin for p in session.paths] == ["sample"] * 3 + ["greedy"]
    # llama-cpp-python's server ignores n: one request per sample, and a notice saying so
    assert any("ignores n" in notice for notice in remote.notices)


def test_branch_here_on_a_session_from_an_earlier_connection(server_url, remote, open_remote):
    session = new_session(remote, QUESTION, RunSettings(strategy="greedy", max_tokens=6))
    run_strategy(remote, session)
    fresh = open_remote(server_url)  # knows none of the token texts yet
    taken = session.path_tokens(session.paths[0])[1]
    other = next(a for a in taken.top if a.token_id != taken.token_id)
    made = branch_here(fresh, session, 0, 1, [other.token_id])
    tokens = session.path_tokens(made[0])
    assert tokens[1].text == other.text and tokens[1].logprob == pytest.approx(other.logprob)


def test_the_api_key_is_never_saved_or_exported(remote, store, tmp_path):
    from inspector.store.export import export

    session = new_session(remote, QUESTION, RunSettings(strategy="greedy", max_tokens=4))
    run_strategy(remote, session)
    store.save_session(session)
    for fmt in ("json", "md", "csv"):
        export(store, tmp_path / f"out.{fmt}", fmt, session_id=session.id)
    store.close()
    written = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not any(b"SECRET-4242" in data for data in written)
    assert "SECRET" not in repr(remote.client) and "SECRET" not in str(remote.info())


def test_an_unused_port_is_a_clear_message():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(RemoteUnreachableError, match=r"3 tries \(the last: connection refused\)"):
        RemoteEngine.connect(url, http=FAST)


def test_a_server_error_is_reported_with_its_message(open_remote):
    with fake_server("error") as (url, handler):
        remote = open_remote(url, api_key="sk-abc", http=FAST)
        with pytest.raises(RemoteServerError, match=r"answered 500.*GPU caught fire"):
            remote.next_tokens("Q: 2 + 3?\nA:", 3)
        assert handler.headers_seen[0]["Authorization"] == "Bearer sk-abc"


def test_a_closed_connection_is_retried_then_reported(open_remote):
    with fake_server("close") as (url, handler):
        remote = open_remote(url, http=FAST)
        with pytest.raises(RemoteUnreachableError, match="closed the connection"):
            remote.next_tokens("Q: 2 + 3?\nA:", 3)
        assert len(handler.bodies) == 3  # the first try and two retries


def test_a_server_without_logprobs_is_refused(open_remote):
    with fake_server("no-logprobs") as (url, _handler):
        remote = open_remote(url, http=FAST)
        with pytest.raises(RemoteServerError, match="no log-probabilities"):
            remote.generate("Q: 2 + 3?\nA:", GenerationSettings(max_tokens=2))


def test_cancel_works_mid_request_and_timeouts_are_named(open_remote):
    with fake_server("held") as (url, handler):
        remote = open_remote(url, http=HttpSettings(timeout=30, retries=0))
        cancel = CancelToken()

        def cancel_once_the_server_has_it() -> None:
            handler.received.wait(30)
            cancel.cancel()

        threading.Thread(target=cancel_once_the_server_has_it, daemon=True).start()
        result = remote.generate("Q: 2 + 3?\nA:", GenerationSettings(max_tokens=4), cancel=cancel)
        # the server has not answered (it waits for the test): the request was dropped
        assert result.finish_reason == "cancelled" and handler.replied == []
        impatient = RemoteEngine(remote.client.__class__(url, None, HttpSettings(0.5, 0)), "m")
        with pytest.raises(RemoteUnreachableError, match=r"no answer within 0\.5 s"):
            impatient.next_tokens("Q: 2 + 3?\nA:", 2)
        handler.release.set()  # let the held answers go, so that the server can stop


def test_a_prompt_too_long_for_the_server(remote):
    from inspector.engine import PromptTooLongError

    with pytest.raises(PromptTooLongError, match="context"):
        remote.next_tokens("apples " * 3000, 3)


def test_parsing_both_logprobs_shapes_and_reporting_fewer_alternatives():
    legacy = {"tokens": [" 5", "."], "token_logprobs": [-0.1, -0.5],
              "top_logprobs": [{" 5": -0.1, " 6": -2.5}, {".": -0.5}]}  # fmt: skip
    records = parse_logprobs(legacy, 3)
    assert [r.text for r in records] == [" 5", "."]
    assert [a.text for a in records[0].top] == [" 5", " 6"] and len(records[1].top) == 1
    chat = {"content": [{"token": "bytes:\\xe2", "logprob": -0.2, "top_logprobs": [
        {"token": "bytes:\\xe2", "logprob": -0.2}, {"token": " x", "logprob": -3.0}]}]}  # fmt: skip
    (record,) = parse_logprobs(chat, 5)
    assert record.text == "" and record.token_id == token_key("") and record.top[1].text == " x"
    assert api_root("http://h:1/") == "http://h:1/v1" == api_root("http://h:1/v1/")


def test_streaming_shows_tokens_live_and_matches_the_plain_answer(remote):
    settings = GenerationSettings(max_tokens=8, n_alternatives=3)
    plain = remote.generate(APPLE_PROMPT, settings)
    seen = []
    streamed = remote.generate(APPLE_PROMPT, settings, on_token=seen.append)
    assert remote.stream  # the server finished its stream: nothing fell back
    assert streamed.text == plain.text and streamed.finish_reason == plain.finish_reason
    assert [t.logprob for t in streamed.tokens] == pytest.approx(
        [t.logprob for t in plain.tokens], abs=1e-3
    )
    assert [(e.index, e.token.text) for e in seen] == list(enumerate(t.text for t in plain.tokens))


def test_an_experiment_at_concurrency_equals_one_at_a_time(server_url, store, tmp_path):
    from pathlib import Path

    from inspector.core.datasets import Dataset, DatasetQuestion
    from inspector.core.strategies import RunHooks
    from inspector.service.experiments import run_saved_experiment
    from inspector.store import Store

    questions = ["What is 2 + 3?", "What is 1 + 4?", "What is 6 + 2?", "What is 3 + 3?"]
    data = Dataset(
        "four", Path("four.jsonl"), [DatasetQuestion(i, q, "5", None, None) for i, q in
                                     enumerate(questions)],
    )  # fmt: skip
    settings = RunSettings(strategy="greedy", max_tokens=6)
    texts = []
    for concurrency, db in ((1, store), (4, Store.open(tmp_path / "c4.db"))):
        tokens = []
        with RemoteEngine.connect(server_url) as engine:
            saved = run_saved_experiment(
                db, engine, data, settings, concurrency=concurrency,
                hooks=RunHooks(on_token=tokens.append),
            )  # fmt: skip
        assert db.finished_questions(saved.experiment_id) == {0, 1, 2, 3} and tokens
        assert db.integrity_check() == ["ok"]
        texts.append([s.paths[0].text for s in saved.outcome.sessions])
    assert texts[0] == texts[1] and all(texts[0])
