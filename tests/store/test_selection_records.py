"""The selection gap's records: each selection rule's answer and correctness, pass@k and the
path counts come back from ``run_records`` as the sessions say; ``inspector stats`` shows them."""

from __future__ import annotations

import json

from inspector.cli import main
from inspector.core.answers import answers_match
from inspector.core.run_stats import SELECTION_RULES, selection_gap
from inspector.core.session import RunSettings
from inspector.core.strategies import new_session, run_strategy
from tests.store.conftest import cot_session, probe_session, sc_session


def assert_record_matches(record, session) -> None:
    summary = session.summary()
    assert record.selections == summary.selections
    assert record.selection_correct == {
        rule: answers_match(answer, session.gold, session.settings.answer_rule)
        for rule, answer in summary.selections.items()
    }
    assert record.any_correct == summary.any_correct
    assert (record.n_voting, record.n_completed, record.n_answered, record.n_hit_limit) == (
        summary.n_voting,
        summary.n_completed,
        summary.n_answered,
        summary.n_hit_limit,
    )


def test_run_records_carry_every_selection(store):
    probe, cot, sc = probe_session(), cot_session(), sc_session(["8", "5", "5"])
    for session in (probe, cot, sc):
        store.save_session(session)
    records = {r.session_id: r for r in store.run_records()}
    for session in (probe, cot, sc):
        assert_record_matches(records[session.id], session)
    # by hand: the self-consistency run votes 5 (two of three samples) and its greedy
    # reference says 5, but one sample says 8: pass@k is right where the majority is wrong
    record = records[sc.id]
    assert record.selections["majority"] == "5" and record.selections["greedy"] == "5"
    assert record.selection_correct["majority"] is False and record.any_correct is True
    # the probe session: 4 voting paths, 2 completed, 2 answered (one through its probe)
    assert (records[probe.id].n_completed, records[probe.id].n_answered) == (2, 2)


def test_stats_reports_the_selection_gap(db_path, store, capsys):
    for session in (probe_session(), cot_session(), sc_session(["8", "5", "5"])):
        store.save_session(session)
    assert main(["stats", "--db", str(db_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    cot, sc = data["selection"]
    assert (cot["strategy"], cot["runs"], sc["strategy"], sc["runs"]) == (
        "cot-decoding",
        2,
        "self-consistency",
        1,
    )
    # cot_session: the Δ pick (path 2, Δ 0.91) says 8 = gold; the majority says 5
    assert cot["accuracy"]["cot-decoding"] == 1.0 and cot["accuracy"]["majority"] == 0.5
    assert cot["pass_at_k"] == 1.0 and sc["pass_at_k"] == 1.0
    assert sc["accuracy"]["majority"] == 0.0 and sc["gap"] == 1.0
    assert sc["paths"] == {"voting": 3, "completed": 3, "answered": 3, "hit_limit": 0}
    assert main(["stats", "--db", str(db_path)]) == 0
    text = capsys.readouterr().out
    assert "accuracy of each selection rule, per strategy" in text
    assert "pass@k" in text and "CoT pick" in text
    assert "paths: 5 of 7 finished, 5 answered, 2 hit the token limit" in text


def test_a_real_cot_decoding_run_records_its_selections(engine, store):
    settings = RunSettings(strategy="cot-decoding", k=4, max_tokens=24)
    session = new_session(
        engine, "I have 3 apples, my dad has 2 more apples than me, how many apples do we "
        "have in total?", settings, gold="8",
    )  # fmt: skip
    run_strategy(engine, session)
    store.save_session(session)
    [record] = store.run_records()
    assert_record_matches(record, session)
    # every rule but the pick without the probe, which applies only to a run with a probe
    assert set(record.selections) == set(SELECTION_RULES) - {"cot-no-probe"}
    # greedy is CoT-decoding's branch on the most likely first token
    assert record.selections["greedy"] == session.greedy_path().answer
    [gap] = selection_gap([record])
    assert gap.runs == 1 and gap.paths == 4
    assert gap.pass_at_k == float(any(p.correct for p in session.voting_paths()))
    assert gap.chosen == float(bool(session.summary().correct))
