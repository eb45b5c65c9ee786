"""Resampling studies on the real default model: saved as each continuation ends, resumed
with nothing lost or sampled twice, the analysis equal to the stored answers."""

from __future__ import annotations

import json

import pytest

from inspector.cli import main
from inspector.core.session import RunSettings
from inspector.core.studies import (
    StudyPoint,
    StudySettings,
    fork_outcomes,
    make_sample,
    step_outcomes,
    studied_tokens,
)
from inspector.engine import CancelToken, GeneratedSequence, InvalidParameterError
from inspector.service import run_and_save
from inspector.service.studies import (
    open_and_save_continuations,
    prepare_study,
    run_and_save_study,
)

QUESTION = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"


@pytest.fixture
def greedy(store, engine):
    return run_and_save(store, engine, QUESTION, RunSettings(strategy="greedy"), gold="8")


def test_a_forking_study_is_saved_and_its_figures_are_the_stored_answers(store, engine, greedy):
    settings = StudySettings("forks", 0, samples=2, max_tokens=12, alternatives=1, last=3)
    session, plan, study = prepare_study(store, greedy.id, settings)
    run_and_save_study(store, engine, session, plan, study)
    saved = store.load_study(study.id)
    assert saved.status == "complete"
    assert sorted(s.point.key for s in saved.samples) == sorted(p.key for p in plan.points)
    tokens = studied_tokens(session, session.paths[0])
    for s in saved.samples:
        # each continuation starts with the token studied there, and its answer is the one
        # its whole text states
        assert s.token_ids[0] == s.point.token_id
        assert s.point.token_prob == pytest.approx(
            next(
                a.prob
                for a in [tokens[s.point.position], *tokens[s.point.position].top]
                if a.token_id == s.point.token_id
            )
        )
        assert s.text.startswith(s.point.token_text)
        before = "".join(t.text for t in tokens[: s.point.position])
        assert s.answer is None or s.answer in (before + s.text).replace(",", "")
    # the figures computed from the store equal those of the run, point for point
    assert fork_outcomes(saved, tokens) == fork_outcomes(study, tokens)
    for outcome in fork_outcomes(saved, tokens):
        for tok in outcome.tokens:
            answers = [
                s.outcome
                for s in saved.samples
                if (s.point.position, s.point.token_id) == (outcome.position, tok.token_id)
            ]
            assert tok.n == len(answers)
            assert tok.distribution == {a: answers.count(a) / len(answers) for a in set(answers)}
    assert store.integrity_check() == ["ok"]


def test_a_stopped_study_resumes_with_nothing_lost_or_twice(store, engine, greedy):
    settings = StudySettings("forks", 0, samples=3, max_tokens=8, alternatives=1, last=2)
    session, plan, study = prepare_study(store, greedy.id, settings)
    cancel = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        if p.done >= 3:
            cancel.cancel()

    run_and_save_study(store, engine, session, plan, study, on_progress=progress, cancel=cancel)
    assert study.status == "cancelled"
    kept = store.load_study(study.id)
    assert 3 <= len(kept.samples) < len(plan.points)
    assert seen[-1].seconds_left is not None and seen[-1].total == len(plan.points)
    # the same settings find the same study, which samples only what it lacks
    session, plan, again = prepare_study(store, greedy.id, settings)
    assert again.id == study.id
    assert len(plan.remaining(again)) == len(plan.points) - len(kept.samples)
    run_and_save_study(store, engine, session, plan, again)
    done = store.load_study(study.id)
    assert done.status == "complete"
    keys = [s.point.key for s in done.samples]
    assert len(keys) == len(set(keys)) == len(plan.points)
    # what was saved before the stop is still what it was
    first = {s.point.key: s.text for s in kept.samples}
    assert {k: s.text for k, s in ((s.point.key, s) for s in done.samples) if k in first} == first
    assert [r.n_samples for r in store.list_studies(greedy.id)] == [len(plan.points)]


def test_a_step_study_on_the_real_model(store, engine, greedy):
    settings = StudySettings("steps", 0, samples=2, max_tokens=12, temperature=0.6)
    session, plan, study = prepare_study(store, greedy.id, settings)
    run_and_save_study(store, engine, session, plan, study)
    path = session.paths[0]
    outcomes = step_outcomes(store.load_study(study.id), plan.steps, path, session.gold)
    assert [o.step for o in outcomes] == plan.steps
    assert "".join(s.text for s in plan.steps) == path.text
    for o in outcomes:
        before = [s.outcome for s in study.samples if s.point.position == o.step.start]
        assert len(before) == 2 and sum(o.before.values()) == pytest.approx(1.0)
        assert o.importance >= 0


def test_a_continuation_answer_is_read_from_the_path_text_before_it(greedy):
    # a point at the path's end with nothing decoded: the answer is the path's own
    tokens = studied_tokens(greedy, greedy.paths[0])
    nothing = GeneratedSequence(0, [], "eos")
    found = make_sample(greedy, StudyPoint(len(tokens), None, 0), greedy.paths[0].text, nothing)
    assert found.answer == greedy.paths[0].answer
    assert found.correct == greedy.paths[0].correct


def test_bad_input_changes_nothing(store, greedy, db_path, capsys):
    with pytest.raises(InvalidParameterError, match="no path 5"):
        prepare_study(store, greedy.id, StudySettings("forks", 5))
    status = main(["forks", greedy.id[:8], "--path", "0", "--samples", "200", "--db", str(db_path)])
    assert status == 1
    assert "over the limit of 20,000" in capsys.readouterr().err
    assert store.list_studies() == []


def test_the_cli_json_is_the_stored_study(greedy, db_path, capsys, store):
    args = ["forks", greedy.id, "--path", "0", "--samples", "1", "--max-tokens", "6"]
    status = main([*args, "--last", "1", "--alternatives", "1", "--db", str(db_path), "--json"])
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    saved = store.load_study(printed["study"])
    assert [(s["position"], s["token_id"], s["answer"]) for s in printed["samples"]] == [
        (s.point.position, s.point.token_id, s.answer) for s in saved.samples
    ]
    tokens = studied_tokens(greedy, greedy.paths[0])
    assert [p["distribution"] for p in printed["positions"]] == [
        o.distribution for o in fork_outcomes(saved, tokens)
    ]


def test_continuations_open_in_the_tree_as_the_same_tokens(store, engine, greedy):
    settings = StudySettings("forks", 0, samples=1, max_tokens=10, alternatives=1, last=1)
    session, plan, study = prepare_study(store, greedy.id, settings)
    run_and_save_study(store, engine, session, plan, study)
    chosen = sorted(study.samples, key=lambda s: s.point.key)[:3]
    before = len(session.paths)
    opened = open_and_save_continuations(store, engine, session, study, chosen)
    saved = store.load_session(session.id)
    assert len(saved.paths) == before + len(chosen)
    studied = [t.token_id for t in studied_tokens(session, session.paths[0])]
    for sample, path in zip(chosen, opened, strict=True):
        new = saved.paths[path.id]
        tokens = saved.path_tokens(new)
        # the path's prefix, then exactly the continuation's tokens, with full records
        assert [t.token_id for t in tokens] == studied[: sample.point.position] + sample.token_ids
        tail = tokens[sample.point.position :]
        assert all(t.top and t.top[0].prob >= t.prob - 1e-9 for t in tail)
        assert new.parent_path == 0 and new.branch_depth == sample.point.position
        assert new.finish_reason == sample.finish_reason
        assert new.answer == sample.answer
        # scored again in another batch shape: within the engine's tolerance per token
        assert sum(t.logprob for t in tail) == pytest.approx(sample.logprob, abs=0.08 * len(tail))
