"""The remote backend at server scale, on loopback servers (no model): requests in parallel,
streaming and cancel within a chunk, retries honouring Retry-After, one request per forced
branch, proxies and TLS; and whole experiments at concurrency against injected failures, each
ending with every question saved complete or marked for resume, the database sound, and no
question answered twice."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from inspector.bench.loopback import Faults, loopback_server
from inspector.bench.remote import arithmetic_dataset
from inspector.core.session import RunSettings
from inspector.core.strategies import RunHooks, branch_here, new_session, run_strategy
from inspector.engine import CancelToken, GenerationSettings, RemoteUnreachableError
from inspector.engine.errors import RemoteServerError
from inspector.engine.remote import RemoteEngine
from inspector.engine.remote_http import HttpSettings
from inspector.service.experiments import effective_concurrency, run_saved_experiment
from tests.engine.remote_servers import (
    completion,
    fake_server,
    self_signed_certificate,
    serve_tls,
)

KEY = "sk-SECRET-9999"
QUICK = HttpSettings(timeout=10, retries=4, backoff=0.05)
SC = RunSettings(strategy="self-consistency", samples=4, max_tokens=16, seed=3)


@pytest.fixture
def connect(open_remote):
    """The engine of a URL with the test key, closed when the test ends."""
    return lambda url, http=QUICK: open_remote(url, api_key=KEY, http=http)


# -- requests in parallel ----------------------------------------------------------------------
def test_an_experiment_runs_its_questions_at_once(connect):
    with loopback_server(latency=0.0, faults=Faults(gather=4)) as (url, server):
        engine = connect(url)
        assert effective_concurrency(engine, 4) == 4
        with _store() as store:
            greedy = RunSettings(strategy="greedy", max_tokens=16)
            saved = run_saved_experiment(
                store, engine, arithmetic_dataset(8), greedy, concurrency=4
            )
        # the server held every answer until four requests were in flight together
        assert server.traffic.peak >= 4
        assert [s.summary().chosen_answer for s in saved.outcome.sessions] == [
            str(3 * i + 8) for i in range(8)
        ]


def test_samples_go_in_parallel_when_the_server_ignores_n(connect):
    with loopback_server(latency=0.0, faults=Faults(ignore_n=True)) as (url, server):
        engine = connect(url)
        first = new_session(engine, "What is 2 + 3?", SC)
        run_strategy(engine, first)  # finds out: one choice where n = 4 asked
        assert any("ignores n" in notice for notice in engine.notices)
        server.faults.gather = 5  # from now on answers wait for five requests in flight
        asked = len(server.traffic.bodies)
        session = new_session(engine, "What is 2 + 3?", SC)
        run_strategy(engine, session)
    for made in (first, session):
        assert [p.origin for p in made.paths] == ["sample"] * 4 + ["greedy"]
        assert all(p.finish_reason in ("eos", "stop") for p in made.paths)
    assert server.traffic.peak >= 5  # four one-sample requests and the greedy one together
    bodies = server.traffic.bodies[asked:]
    assert all(b["n"] == 1 for b in bodies) and len(bodies) == 5
    assert sorted(b["seed"] for b in bodies if b["temperature"] > 0) == [3, 4, 5, 6]


def test_concurrency_bounds_the_requests_in_flight_whatever_asks_for_them(connect):
    # a server that ignores n: each question is 4 one-sample requests and the greedy one, so 3
    # questions at once could send 15; concurrency 3 means 3 requests, never more
    with loopback_server(latency=0.02, faults=Faults(ignore_n=True, gather=3)) as (url, server):
        engine = connect(url)
        with _store() as store:
            saved = run_saved_experiment(store, engine, arithmetic_dataset(6), SC, concurrency=3)
            assert len(store.finished_questions(saved.experiment_id)) == 6
        assert engine.concurrency == 3  # the experiment's setting stays with the engine
    assert server.traffic.open_peak == 3  # reached (gather waited for 3) and never passed
    assert server.traffic.requests >= 6 * 5


def test_request_slots_wait_change_and_cancel():
    import threading

    from inspector.engine.remote_http import Cancelled, RequestSlots

    slots = RequestSlots(2)
    slots.acquire()
    slots.acquire()
    entered = threading.Event()

    def third() -> None:
        slots.acquire()
        entered.set()

    waiter = threading.Thread(target=third)
    waiter.start()
    assert not entered.wait(0.2) and slots.held == 2  # full: the third waits
    slots.limit = 3  # a higher limit lets it go at once
    assert entered.wait(5) and slots.held == 3
    waiter.join()
    slots.limit = 1  # lower: nothing new goes until enough ended
    for _ in range(2):
        slots.release()
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):  # still one held of one: a cancelled wait gives up
        slots.acquire(cancel)
    slots.release()
    slots.acquire(cancel)  # free again: no wait, so no cancel check
    assert slots.held == 1


def test_a_cancel_reaches_requests_waiting_for_a_slot(connect):
    from inspector.engine import Branch
    from inspector.engine.settings import SamplingSettings

    settings = GenerationSettings(max_tokens=12, n_alternatives=2)
    sampling = SamplingSettings(temperature=0.9, seed=1)
    branches = [Branch(seed_key=i, sampling=sampling) for i in range(6)]
    cancel = CancelToken()
    with loopback_server(latency=0.3) as (url, server):
        engine = connect(url)
        engine.concurrency = 1

        def on_token(*_args: object) -> None:
            cancel.cancel()  # at the first token: the requests still waiting never go

        results = engine.explore("Q: What is 1 + 2?\nA:", branches, settings, on_token, cancel)
    # the first request, and at most the one that took its slot before the cancel was seen
    assert server.traffic.requests <= 2 and server.traffic.open_peak == 1
    assert [r.finish_reason for r in results].count("cancelled") >= 4


def test_seed_keys_give_a_branch_the_same_sample_whatever_shares_its_call(connect):
    from inspector.engine import Branch
    from inspector.engine.settings import SamplingSettings

    sampling = SamplingSettings(temperature=0.9, seed=11)
    settings = GenerationSettings(max_tokens=12, n_alternatives=3, sampling=sampling)
    prompt = "Q: What is 40 + 2?\nA:"
    with loopback_server(latency=0.0) as (url, _server):
        engine = connect(url)
        alone = engine.explore(prompt, [Branch(seed_key=7)], settings)
        mixed = engine.explore(prompt, [Branch(seed_key=5), Branch(seed_key=7)], settings)
    assert mixed[1].text == alone[0].text
    assert [t.logprob for t in mixed[1].tokens] == [t.logprob for t in alone[0].tokens]


# -- one request per forced branch ---------------------------------------------------------------
def test_cot_decoding_and_branch_here_cost_one_request_per_branch(connect):
    settings = RunSettings(strategy="cot-decoding", k=3, max_tokens=8, n_alternatives=3)
    with loopback_server(latency=0.0) as (url, server):
        engine = connect(url)
        session = new_session(engine, "What is 4 + 4?", settings)
        run_strategy(engine, session)
        assert server.traffic.requests == 1 + 3  # the first tokens, then one per branch
        before = server.traffic.requests
        made = branch_here(engine, session, 0, 2)  # every other token at position 2
        assert server.traffic.requests - before == len(made) == 2
    taken = session.path_tokens(session.paths[0])[2]
    for path in made:
        forced = session.path_tokens(path)[2]
        ranked = {a.token_id: a.logprob for a in taken.top}
        assert forced.logprob == ranked[forced.token_id]  # the probability the server gave


# -- streaming -----------------------------------------------------------------------------------
def test_streamed_tokens_arrive_live_and_equal_the_plain_answer(connect):
    settings = GenerationSettings(max_tokens=12, n_alternatives=3)
    prompt = "Q: What is 7 + 9?\nA:"
    with loopback_server(latency=0.0) as (url, server):
        engine = connect(url)
        plain = engine.generate(prompt, settings)
        seen = []
        streamed = engine.generate(prompt, settings, on_token=seen.append)
    assert [b["stream"] for b in server.traffic.bodies] == [False, True]
    assert streamed.text == plain.text == " 7 + 9 = 16. The answer is 16.\n"
    assert [(e.branch, e.index, e.token.text) for e in seen] == [
        (0, i, t.text) for i, t in enumerate(plain.tokens)
    ]


def test_cancel_takes_effect_within_one_chunk(connect):
    with fake_server("stream-held") as (url, handler):
        engine = connect(url, HttpSettings(timeout=60, retries=0))
        cancel = CancelToken()
        result = engine.generate(
            "Q?", GenerationSettings(max_tokens=4), on_token=lambda _e: cancel.cancel(),
            cancel=cancel,
        )  # fmt: skip
        # it returned while the server still held its second chunk
        assert not handler.release.is_set()
        handler.release.set()
    assert result.finish_reason == "cancelled" and [t.text for t in result.tokens] == [" 5"]


# -- retries -------------------------------------------------------------------------------------
def test_a_429_is_retried_after_the_time_retry_after_asks(connect):
    faults = Faults(rate_limited=(1,), retry_after="1")
    with loopback_server(latency=0.0, faults=faults) as (url, server):
        engine = connect(url, HttpSettings(timeout=10, retries=2, backoff=0.01))
        result = engine.generate("Q: What is 1 + 1?\nA:", GenerationSettings(max_tokens=6))
    assert result.text.startswith(" 1 + 1 = 2")
    assert server.traffic.statuses[1:3] == [429, 200]  # after the GET /models
    (_, first), (_, second) = server.traffic.arrivals[:2]
    assert second - first >= 1.0  # the backoff alone would have been 0.01 s


def test_exhausted_retries_name_the_last_error(connect):
    faults = Faults(fail_every=1)
    with loopback_server(latency=0.0, faults=faults) as (url, server):
        engine = connect(url, HttpSettings(timeout=10, retries=2, backoff=0.01))
        with pytest.raises(RemoteUnreachableError) as failed:
            engine.generate("Q?", GenerationSettings(max_tokens=4))
    message = str(failed.value)
    assert "after 3 tries" in message and "503" in message and "injected failure" in message
    assert server.traffic.requests == 3 and KEY not in message


# -- experiments against injected failures -------------------------------------------------------
def _store():
    import tempfile

    from inspector.store import Store

    folder = Path(tempfile.mkdtemp(prefix="inspector-remote-"))
    return Store.open(folder / "sessions.db")


def _check_resumable(store, experiment_id: int, questions: int) -> set[int]:
    """Every question saved complete (recorded) or left for a re-run; no question answered
    twice; the database sound. Returns the finished questions."""
    assert store.integrity_check() == ["ok"]
    finished = store.finished_questions(experiment_id)
    rows = store.db.execute("SELECT title, status FROM sessions").fetchall()
    by_question: dict[str, list[str]] = {}
    for title, status in rows:
        by_question.setdefault(title, []).append(status)
    for index in range(questions):
        statuses = by_question.get(f"bench-arithmetic #{index + 1}", [])
        assert statuses.count("complete") <= 1
        if index in finished:
            assert "complete" in statuses
        else:
            assert "complete" not in statuses and set(statuses) <= {"interrupted", "cancelled"}
    recorded = store.db.execute(
        "SELECT question_index, count(*) FROM experiment_runs WHERE experiment_id = ? "
        "GROUP BY question_index",
        [experiment_id],
    ).fetchall()
    assert all(count == 1 for _, count in recorded)
    return finished


@pytest.mark.parametrize(
    "faults",
    [
        Faults(fail_every=5),
        Faults(rate_limit_every=4, retry_after="1"),
        Faults(close_mid_stream_every=3),
    ],
    ids=["1 in 5 fails", "429 with Retry-After 1", "closed mid-stream"],
)
def test_an_experiment_at_concurrency_survives_retryable_failures(faults, caplog, connect):
    caplog.set_level(logging.DEBUG)
    data = arithmetic_dataset(12)
    tokens = []
    with loopback_server(latency=0.01, faults=faults) as (url, server), _store() as store:
        engine = connect(url)
        saved = run_saved_experiment(
            store, engine, data, SC, concurrency=6, hooks=RunHooks(on_token=tokens.append)
        )
        finished = _check_resumable(store, saved.experiment_id, 12)
        written = store.path.read_bytes()
    assert finished == set(range(12)) and not saved.outcome.cancelled
    assert len(saved.outcome.sessions) == 12 and tokens  # streamed, shown live
    assert {429, 503} & set(server.traffic.statuses) or faults.close_mid_stream_every
    assert all(a == f"Bearer {KEY}" for a in server.traffic.authorizations)
    assert KEY not in caplog.text and KEY.encode() not in written


def test_a_stalled_request_leaves_its_question_for_a_re_run(caplog, connect):
    caplog.set_level(logging.DEBUG)
    data = arithmetic_dataset(10)
    impatient = HttpSettings(timeout=1.5, retries=2, backoff=0.05)
    stalled = Faults(stall_request=5)
    with loopback_server(latency=0.01, faults=stalled) as (url, _server), _store() as store:
        engine = connect(url, impatient)
        seen: list[int] = []
        with pytest.raises(RemoteUnreachableError, match=r"no answer within 1\.5 s") as err:
            run_saved_experiment(store, engine, data, SC, concurrency=4, on_experiment=seen.append)
        assert KEY not in str(err.value)
        status = store.db.execute(
            "SELECT status FROM experiments WHERE id = ?", [seen[0]]
        ).fetchone()[0]
        assert status == "interrupted"
        finished = _check_resumable(store, seen[0], 10)
        assert len(finished) < 10  # the stalled question at least is left for a re-run
        again = run_saved_experiment(store, engine, data, SC, concurrency=4)
        assert again.experiment_id == seen[0] and again.outcome.skipped == len(finished)
        assert _check_resumable(store, seen[0], 10) == set(range(10))
    assert KEY not in caplog.text


def test_a_cancelled_experiment_resumes_with_nothing_lost_or_doubled(connect):
    data = arithmetic_dataset(12)
    cancel = CancelToken()

    def on_progress(progress) -> None:
        if progress.session is not None:
            cancel.cancel()  # as soon as the first question is saved

    with loopback_server(latency=0.01) as (url, _server), _store() as store:
        engine = connect(url)
        first = run_saved_experiment(
            store, engine, data, SC, concurrency=3, hooks=RunHooks(cancel=cancel),
            on_progress=on_progress,
        )  # fmt: skip
        assert first.outcome.cancelled
        done = _check_resumable(store, first.experiment_id, 12)
        assert 1 <= len(done) < 12
        again = run_saved_experiment(store, engine, data, SC, concurrency=3)
        assert again.outcome.skipped == len(done) and len(again.outcome.sessions) == 12 - len(done)
        assert _check_resumable(store, first.experiment_id, 12) == set(range(12))


# -- proxies and TLS -----------------------------------------------------------------------------
FIVE = completion([" 5"], [-0.1], [{" 5": -0.1, " 6": -2.5}])


def test_a_proxy_from_the_environment_carries_requests_to_a_remote_host(monkeypatch, connect):
    with fake_server("answer", FIVE) as (proxy, handler):
        monkeypatch.setenv("HTTP_PROXY", proxy.removesuffix("/v1"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        engine = connect("http://gpu-box.invalid:8000/v1")
        top = engine.next_tokens("Q: 2 + 3?\nA:", 2)
    assert [a.text for a in top] == [" 5", " 6"]
    assert handler.get_headers and handler.headers_seen  # both went through the proxy


def test_a_loopback_server_is_reached_without_the_proxy(monkeypatch, connect):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    with loopback_server(latency=0.0) as (url, _server):
        engine = connect(url)
        assert engine.generate("Q: What is 1 + 2?\nA:", GenerationSettings(max_tokens=5)).text


@pytest.fixture
def tls_files(tmp_path):
    made = self_signed_certificate(tmp_path)
    if made is None:
        pytest.skip("openssl cannot make a certificate here")
    return made


def test_tls_is_verified_and_a_ca_bundle_makes_a_private_certificate_trusted(tls_files, connect):
    key, cert = tls_files
    with loopback_server(latency=0.0) as (url, server):
        secure = serve_tls(server, key, cert, url)
        with pytest.raises(RemoteServerError, match=r"could not be verified.*--ca-bundle"):
            RemoteEngine.connect(secure, http=QUICK)
        trusted = HttpSettings(timeout=10, retries=1, ca_bundle=cert)
        engine = connect(secure, http=trusted)
        assert engine.generate("Q: What is 2 + 2?\nA:", GenerationSettings(max_tokens=5)).text
    with pytest.raises(RemoteServerError, match="cannot use the CA bundle"):
        RemoteEngine.connect(secure, http=HttpSettings(ca_bundle=str(cert) + ".missing"))
