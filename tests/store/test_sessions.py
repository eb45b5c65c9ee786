"""Saving and loading sessions: exact round trips, re-saves after splits, atomic saves."""

from __future__ import annotations

import math

import pytest

from inspector.core.session import RunSettings, Session
from inspector.engine.records import Alternative, TokenRecord
from inspector.store import NotFoundError, Store, codec
from tests.store.conftest import assert_same_session, cot_session, sc_session, sequence


def table_count(store: Store, table: str, session_id: str) -> int:
    sql = f"SELECT count(*) FROM {table} WHERE session_id = ?"
    return store.db.execute(sql, [session_id]).fetchone()[0]


def test_round_trip_is_exact(store, db_path):
    session = cot_session()
    session.title = "apples"
    store.save_session(session)
    with Store.open(db_path) as other:
        loaded = other.load_session(session.id)
    assert_same_session(loaded, session)
    assert len(loaded.tree.nodes) > 4  # the shared prefix " He has" was split off
    token = loaded.tree.nodes[1].tokens[0]
    original = session.tree.nodes[1].tokens[0]
    assert (token.logprob, token.entropy, token.top) == (
        original.logprob,
        original.entropy,
        original.top,
    )
    assert token.top[2].logprob == -math.inf


def test_awkward_tokens_round_trip(store):
    session = cot_session()
    odd = TokenRecord(
        token_id=7,
        text="",
        piece=b"\xe2\x80",
        logprob=-1e-300,
        entropy=0.1 + 0.2,
        top=(Alternative(7, "<script>\u2192", -1e-300), Alternative(8, "'\"\x00", -745.1)),
    )
    session.tree.nodes[1].tokens.append(odd)
    store.save_session(session)
    loaded = store.load_session(session.id)
    assert loaded.tree.nodes[1].tokens[-1] == odd


def test_summary_columns_and_votes(store):
    session = cot_session()
    store.save_session(session)
    row = store.db.execute(
        "SELECT chosen_answer, correct, consistency, cot_confidence, n_paths, strategy, "
        "prompt_style, status FROM sessions WHERE id = ?",
        [session.id],
    ).fetchone()
    summary = session.summary()
    assert row == (
        "8",
        1,
        summary.consistency,
        summary.cot_pick.score,
        3,
        "cot-decoding",
        "plain",
        "complete",
    )
    votes = store.db.execute(
        "SELECT answer, count, weighted_share, confidence_sum FROM votes "
        "WHERE session_id = ? ORDER BY rank",
        [session.id],
    ).fetchall()
    assert votes == [
        (a, n, summary.weighted.distribution[a], summary.cot_aggregated.distribution[a])
        for a, n in summary.votes.items()
    ]


def test_resave_after_new_paths_and_splits_leaves_exactly_the_current_state(store):
    session = cot_session()
    session.status = "running"
    store.save_session(session)
    # branch inside the third path: splits a node and adds a path
    start = session.boundary_node(session.paths[2], 3)
    session.add_path(
        sequence([(" 4,", 0.2, 0.1), (" 8", 0.9, 0.05)]),
        "branch",
        "branch at 3",
        start_node=start,
        parent_path=2,
        branch_depth=3,
    )
    session.status = "complete"
    store.save_session(session)
    store.save_session(session)  # idempotent
    loaded = store.load_session(session.id)
    assert_same_session(loaded, session)
    assert table_count(store, "nodes", session.id) == len(session.tree.nodes)
    assert table_count(store, "tokens", session.id) == session.tree.n_tokens
    assert table_count(store, "paths", session.id) == 4
    assert store.list_sessions()[0].n_paths == 4


def test_empty_running_session_round_trips(store):
    session = Session("q?", "Q: q?\nA:", [], RunSettings(), {})
    store.save_session(session)
    loaded = store.load_session(session.id)
    assert_same_session(loaded, session)
    assert loaded.status == "running" and loaded.paths == [] and len(loaded.tree) == 1


def test_a_failed_save_changes_nothing(store, monkeypatch):
    session = cot_session()
    store.save_session(session)
    session.add_path(sequence([(" 9", 0.5, 0.1)]), "cot-decoding", "#4")

    def broken(*_args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(codec, "vote_rows", broken)
    with pytest.raises(RuntimeError):
        store.save_session(session)
    assert table_count(store, "paths", session.id) == 3
    assert len(store.load_session(session.id).paths) == 3
    assert not store.db.conn.in_transaction


def test_self_consistency_round_trip_keeps_the_greedy_reference(store):
    session = sc_session(["8", "8", "7"])
    store.save_session(session)
    loaded = store.load_session(session.id)
    assert_same_session(loaded, session)
    assert loaded.summary().greedy_vs_marginal is not None


def test_unknown_session_is_a_clear_error(store):
    with pytest.raises(NotFoundError, match="no session 'nope'"):
        store.load_session("nope")
    with pytest.raises(NotFoundError):
        store.rename_session("nope", "x")


def test_two_sessions_do_not_touch_each_other(store):
    first, second = cot_session(), sc_session(["8"])
    store.save_session(first)
    store.save_session(second)
    store.save_session(first)
    assert_same_session(store.load_session(second.id), second)
    assert_same_session(store.load_session(first.id), first)


def check_saved_exactly(store: Store, session: Session) -> None:
    assert_same_session(store.load_session(session.id), session)
    assert table_count(store, "nodes", session.id) == len(session.tree.nodes)
    assert table_count(store, "tokens", session.id) == session.tree.n_tokens
    assert table_count(store, "paths", session.id) == len(session.paths)


def test_incremental_saves_track_splits_and_branches(store, db_path):
    session = cot_session()
    store.save_session(session)
    words = [" He", " has", " 5,", " 3 + 5 =", " 8", " 7", " so", " 6"]
    for step in range(12):
        base = session.paths[step % len(session.paths)]
        depth = (step * 5) % base.n_tokens
        start = session.boundary_node(base, depth)  # may split a node
        tail = [(words[(step + i) % len(words)], 0.3 + 0.05 * i, 0.1) for i in range(step % 4 + 1)]
        session.add_path(
            sequence(tail),
            "branch",
            f"b{step}",
            start_node=start,
            parent_path=base.id,
            branch_depth=depth,
        )
        store.save_session(session)
        check_saved_exactly(store, session)
    with Store.open(db_path) as fresh:
        check_saved_exactly(fresh, session)


def test_a_save_after_someone_else_changed_the_session_rewrites_everything(db_path):
    with Store.open(db_path) as first, Store.open(db_path) as second:
        session = cot_session()
        first.save_session(session)
        theirs = second.load_session(session.id)
        theirs.add_path(sequence([(" He", 0.3, 0.2), (" eats", 0.5, 0.1)]), "branch", "x")
        second.save_session(theirs)
        session.add_path(sequence([(" 8", 0.9, 0.05)]), "cot-decoding", "#4")
        first.save_session(session)  # first's cached layout is stale: full rewrite
        check_saved_exactly(second, session)
