"""The data behind issue 4's performance figures: a 1,000-path session round-trips, and the
plot and listing queries over 10,000 sessions return what they should. The timings themselves
are measured by ``inspector bench --store`` (reported in the README), not asserted here: a
shared test machine makes a timed unit test fail for reasons that are not the code's."""

from __future__ import annotations

import random

import pytest

from inspector.bench.synthetic import big_session, fill_store, synthetic_session
from inspector.store import Store
from tests.store.conftest import assert_same_session


def test_a_1000_path_session_round_trips(store):
    session = big_session(1000, 64)
    assert 45_000 < session.tree.n_tokens < 55_000 and len(session.paths) == 1000
    store.save_session(session)
    assert_same_session(store.load_session(session.id), session)


def test_run_records_match_the_sessions(store):
    """The one-query ``run_records`` gives what the sessions themselves say."""
    rng = random.Random(3)
    sessions = [synthetic_session(rng, strategy=s) for s in ("self-consistency", "cot-decoding")]
    sessions.append(synthetic_session(rng, n_paths=1, strategy="greedy"))
    for session in sessions:
        store.save_session(session)
    records = {r.session_id: r for r in store.run_records()}
    for session in sessions:
        record, summary = records[session.id], session.summary()
        assert record.answers == [p.answer for p in session.voting_paths()]
        greedy = session.greedy_reference()
        assert (record.greedy_answer, record.greedy_logprob) == (greedy.answer, greedy.logprob)
        assert (record.chosen_answer, record.correct) == (summary.chosen_answer, summary.correct)
        assert (record.consistency, record.cot_confidence) == (
            summary.consistency,
            summary.cot_pick.score,
        )


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory):
    path = tmp_path_factory.mktemp("synthetic") / "10k.db"
    with Store.open(path) as store:
        info = fill_store(store, 10_000)
        yield store, info


@pytest.mark.slow
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, 10_000),
        ({"strategy": "self-consistency"}, 3334),
        ({"model": "qwen"}, 3333),
        ({"experiment_id": "first"}, 1000),
    ],
)
def test_plot_queries_over_10000_sessions(ten_thousand, filters, expected):
    store, info = ten_thousand
    if filters.get("experiment_id") == "first":
        filters = {"experiment_id": info.experiment_ids[0]}
    assert len(store.run_records(**filters)) == expected


@pytest.mark.slow
def test_listing_and_search_over_10000_sessions(ten_thousand):
    store, _ = ten_thousand
    assert len(store.list_sessions(search="apples total")) == 500
    assert len(store.list_sessions()) == 500  # one page, newest first
