"""Schema v3: which rule found each answer, thinking sections, unfinished paths, the answer
probe and the session's selection columns are saved and come back exactly."""

from __future__ import annotations

import json
import math

import pytest

from inspector.core.session import AnswerProbe
from tests.store.conftest import assert_same_session, probe_session, sequence, token


def test_probe_and_thinking_round_trip(store):
    session = probe_session()
    store.save_session(session)
    loaded = store.load_session(session.id)
    assert_same_session(loaded, session)
    thinking, unsure, cut, limit = loaded.paths
    assert (thinking.answer, thinking.answer_rule, thinking.thinking_tokens) == (
        "8",
        "answer-is",
        (0, 4),
    )
    assert thinking.answer_logprob == math.log(0.9)  # one answer token, " 8"
    assert (unsure.answer, unsure.answer_rule, unsure.answer_tokens) == ("8", "probe", None)
    probe = unsure.probe
    assert probe is not None and probe.n_forced == 4 and probe.answer_tokens == (4, 5)
    assert probe.tokens == session.paths[1].probe.tokens  # pieces, floats, alternatives
    assert probe.tokens[0].top[2].logprob == -math.inf
    assert unsure.confidence == pytest.approx(0.7 - 0.2)  # the probe's Δ
    assert (cut.thinking_ended, cut.completed, cut.answer) == (False, False, None)
    assert (limit.thinking_ended, limit.completed, limit.answer) == (True, False, None)


def test_the_new_columns_hold_what_queries_need(store):
    session = probe_session()
    store.save_session(session)
    rows = store.db.execute(
        "SELECT answer_rule, thinking_start, thinking_end, thinking_ended, completed, "
        "probe IS NOT NULL FROM paths WHERE session_id = ? ORDER BY path_id",
        [session.id],
    ).fetchall()
    assert rows == [
        ("answer-is", 0, 4, 1, 1, 0),
        ("probe", None, None, 1, 1, 1),
        (None, 0, 3, 0, 0, 0),
        (None, None, None, 1, 0, 0),
    ]
    probe = json.loads(
        store.db.execute(
            "SELECT probe FROM paths WHERE session_id = ? AND path_id = 1", [session.id]
        ).fetchone()[0]
    )
    assert (probe["text"], probe["n_forced"], len(probe["tokens"])) == (" So the answer is", 4, 6)
    # [id, text, piece (base64), logprob, entropy, top]: the token encoding of the store
    assert probe["tokens"][4][1:4] == [" 8", "IDg=", math.log(0.7)]
    assert probe["answer"] == "8" and probe["answer_tokens"] == [4, 5]
    row = store.db.execute(
        "SELECT n_voting, n_completed, n_answered, n_hit_limit, delta_min, delta_max, "
        "any_correct, selections FROM sessions WHERE id = ?",
        [session.id],
    ).fetchone()
    # 4 paths vote; 2 ended by themselves (eos), 2 hit the limit; 2 have an answer
    assert row[:4] == (4, 2, 2, 2)
    assert row[4] == pytest.approx(0.5) and row[5] == pytest.approx(0.85)
    assert row[6] == 1
    selections = json.loads(row[7])
    # the session ran the answer probe, so the pick without it is recorded beside the others
    assert set(selections) == {
        "greedy", "cot-decoding", "cot-no-probe", "cot-aggregated", "majority", "weighted",
    }  # fmt: skip
    assert all(s == {"answer": "8", "correct": True} for s in selections.values())


def test_a_probe_with_a_non_finite_entropy_round_trips(store):
    session = probe_session(gold=None)
    nan_token = token(" 9", 0.6, 0.3)
    nan_token = type(nan_token)(
        nan_token.token_id, nan_token.text, b"\xff 9", nan_token.logprob, math.nan, nan_token.top
    )
    path = session.paths[0]
    path.probe = AnswerProbe(" So the answer is", [nan_token], 0)
    session.evaluate_path(path)
    store.save_session(session)
    loaded = store.load_session(session.id).paths[0].probe
    assert loaded is not None and loaded.answer == "9" and math.isnan(loaded.tokens[0].entropy)
    assert loaded.tokens[0].piece == b"\xff 9"
    assert loaded.confidence == pytest.approx(0.3)


def test_resaving_after_a_probe_is_added_updates_the_path(store):
    session = probe_session()
    store.save_session(session)
    path = session.add_path(sequence([(" It", 0.5, 0.2), (" is", 0.5, 0.2)], "eos"), "sample", "x")
    assert path.answer is None
    path.probe = AnswerProbe(" So the answer is", [token(" 7", 0.8, 0.1)], 0)
    session.evaluate_path(path)
    store.save_session(session)
    assert_same_session(store.load_session(session.id), session)
