"""Strategies on the real default model: the tree, the paths and the choices they make."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.display import token_words
from inspector.core.experiment import run_experiment
from inspector.core.session import RunSettings
from inspector.core.strategies import (
    RunHooks,
    branch_here,
    greedy_settings,
    new_session,
    run_strategy,
    stop_strings,
)
from inspector.engine import (
    Branch,
    CancelToken,
    GenerationSettings,
    InvalidParameterError,
    SamplingSettings,
)
from tests.conftest import APPLE_PROMPT

QUESTION = APPLE_PROMPT.removeprefix("Q: ").removesuffix("\nA:")


def run(engine, **settings):
    session = new_session(engine, QUESTION, RunSettings(max_tokens=24, **settings), gold="8")
    return run_strategy(engine, session)


def test_greedy_is_one_path_whose_prompt_is_stored(engine):
    session = run(engine, strategy="greedy")
    assert session.prompt == APPLE_PROMPT
    assert session.prompt_tokens == engine.tokenize(APPLE_PROMPT)
    assert len(session.paths) == 1 and session.status == "complete"
    path = session.paths[0]
    assert path.n_tokens == len(session.path_tokens(path)) > 0
    assert path.answer is not None, "the greedy path has no answer: nothing to check"
    assert path.answer_text in path.text
    assert path.correct is (float(path.answer) == 8.0)  # gold "8", compared as a number
    assert session.summary().chosen_answer == path.answer


def test_cot_decoding_branches_on_the_top_k_first_tokens(engine):
    session = run(engine, strategy="cot-decoding", k=5)
    first = engine.next_tokens(session.prompt_tokens, 5)
    assert [session.path_tokens(p)[0].token_id for p in session.paths] == [
        a.token_id for a in first
    ]
    assert len(session.tree.root.children) == 5
    # labels name the first token in words, as the reader sees it: "first token #1: space"
    assert [p.label for p in session.paths] == [
        f"first token #{i + 1}: {token_words(a.text)}" for i, a in enumerate(first)
    ]
    summary = session.summary()
    scored = [p for p in session.paths if p.confidence is not None]
    assert len(scored) >= 2, "fewer than two answered branches: the pick is not tested"
    deltas = {}
    for path in scored:
        start, end = path.answer_tokens
        tokens = session.path_tokens(path)
        # the span is the fewest tokens that spell the answer
        assert path.answer_text in "".join(t.text for t in tokens[start:end])
        assert path.answer_text not in "".join(t.text for t in tokens[start + 1 : end])
        assert path.answer_text not in "".join(t.text for t in tokens[start : end - 1])
        # Δ recomputed from the stored top-k: mean of p(top-1) − p(top-2) over the span
        margins = []
        for t in tokens[start:end]:
            probs = [math.exp(a.logprob) for a in t.top]
            assert len(probs) == 5 and probs == sorted(probs, reverse=True)
            margins.append(probs[0] - probs[1])
        deltas[path.id] = sum(margins) / len(margins)
        assert path.confidence == pytest.approx(deltas[path.id], abs=1e-12)
    best = max(deltas, key=lambda i: deltas[i])
    assert summary.cot_path_id == best
    assert summary.chosen_answer == session.paths[best].answer
    # greedy is the branch on the most likely first token, the first branch
    assert session.greedy_path() is session.paths[0]
    plain = engine.generate(session.prompt_tokens, greedy_settings(session.settings))
    assert session.paths[0].text == plain.content


def test_self_consistency_votes_over_sampled_paths(engine):
    session = run(engine, strategy="self-consistency", samples=6, temperature=0.9, seed=3)
    assert [p.origin for p in session.paths] == ["sample"] * 6 + ["greedy"]
    greedy = engine.generate(session.prompt_tokens, greedy_settings(session.settings))
    assert session.paths[-1].text == greedy.content  # the reference is the real greedy path
    summary = session.summary()
    answered = [p.answer for p in session.paths[:6] if p.answer is not None]
    assert len(answered) >= 3, "fewer than three samples answered: the vote is not tested"
    counts = Counter(answered)
    assert summary.votes == dict(counts)
    top = max(counts.values())
    assert summary.majority.answer in {a for a, c in counts.items() if c == top}
    assert summary.chosen_answer == summary.majority.answer
    assert summary.consistency == pytest.approx(top / len(answered))
    marginal = summary.greedy_vs_marginal
    assert marginal.greedy_answer == session.paths[-1].answer is not None
    assert marginal.greedy_sequence_probability == pytest.approx(
        math.exp(sum(t.logprob for t in session.path_tokens(session.paths[-1])))
    )
    share = sum(1 for p in session.paths[:6] if p.answer == marginal.greedy_answer) / 6
    assert marginal.greedy_answer_probability == pytest.approx(share)
    again = run(engine, strategy="self-consistency", samples=6, temperature=0.9, seed=3)
    assert [p.text for p in again.paths] == [p.text for p in session.paths]


def test_the_sampling_settings_reach_the_sampler(engine):
    """A self-consistency run's samples are exactly what the engine samples with the run's
    temperature, top-p and seed, built here by hand; top-k 1 and a near-zero temperature give
    the greedy path."""
    settings = dict(strategy="self-consistency", samples=3, temperature=0.8, top_p=0.9, seed=11)
    session = run(engine, **settings)
    generation = GenerationSettings(
        max_tokens=24,
        stop=stop_strings(session.settings),
        n_alternatives=session.settings.n_alternatives,
        sampling=SamplingSettings(temperature=0.8, top_p=0.9, seed=11),
    )
    # the same batch as the run's (three samples and the greedy reference): llama.cpp's
    # rounding depends on the batch's shape, and a near-tie could flip in another
    batch = [Branch()] * 3 + [Branch(sampling=SamplingSettings())]
    direct = engine.explore(session.prompt_tokens, batch, generation)
    samples = [[t.token_id for t in session.path_tokens(p)] for p in session.paths]
    assert samples == [[t.token_id for t in seq.tokens] for seq in direct]
    hotter = engine.explore(
        session.prompt_tokens,
        batch,
        GenerationSettings(
            max_tokens=24,
            stop=generation.stop,
            sampling=SamplingSettings(temperature=1.0, top_p=0.9, seed=11),
        ),
    )
    assert samples != [[t.token_id for t in seq.tokens] for seq in hotter]  # it can tell
    greedy = session.paths[-1].text
    for narrow in (dict(top_k=1, temperature=1.5), dict(temperature=0.01)):
        cold = run(engine, strategy="self-consistency", samples=3, seed=11, **narrow)
        assert [p.text for p in cold.paths[:3]] == [greedy] * 3, narrow


def test_branch_here_keeps_a_greedy_runs_answer(engine, store):
    """The greedy strategy answers with its greedy path, however many branches follow."""
    session = run(engine, strategy="greedy")
    path = session.paths[0]
    assert path.answer is not None and path.answer_tokens is not None
    before = session.summary().chosen_answer
    assert before == path.answer
    depth = path.answer_tokens[0]  # branch on another number where the answer stands
    taken = session.path_tokens(path)[depth]
    other = next(a for a in taken.top if a.text.strip().isdigit() and a.token_id != taken.token_id)
    [branch] = branch_here(engine, session, path.id, depth, [other.token_id])
    assert branch.answer is not None and branch.answer != path.answer, "nothing to tell apart"
    assert session.summary().chosen_answer == before
    store.save_session(session)
    loaded = store.load_session(session.id)
    assert len(loaded.paths) == 2 and loaded.summary().chosen_answer == before
    [record] = store.run_records()
    assert record.chosen_answer == before


def test_branch_here_joins_the_same_tree(engine):
    session = run(engine, strategy="greedy")
    path = session.paths[0]
    tokens = session.path_tokens(path)
    depth = min(3, len(tokens) - 1)
    alternative = tokens[depth].top[1]
    added = branch_here(engine, session, path.id, depth, [alternative.token_id])
    assert len(added) == 1 and len(session.paths) == 2
    new_tokens = session.path_tokens(added[0])
    assert [t.token_id for t in new_tokens[:depth]] == [t.token_id for t in tokens[:depth]]
    assert new_tokens[depth].token_id == alternative.token_id
    assert session.path_tokens(path) == tokens  # the original path is untouched by the split
    assert added[0].parent_path == path.id and added[0].branch_depth == depth
    with pytest.raises(InvalidParameterError):
        branch_here(engine, session, path.id, 10_000)


def test_cancel_keeps_a_consistent_tree(engine):
    cancel = CancelToken()
    seen = []

    def on_token(event):
        seen.append(event)
        if len(seen) == 12:
            cancel.cancel()

    settings = RunSettings(strategy="self-consistency", samples=4, max_tokens=64)
    session = new_session(engine, QUESTION, settings, gold="8")
    run_strategy(engine, session, RunHooks(on_token=on_token, cancel=cancel))
    assert session.status == "cancelled"
    assert all(p.finish_reason == "cancelled" for p in session.paths)
    assert session.summary().votes == {}  # unfinished paths do not vote
    assert sum(p.n_tokens for p in session.paths) <= 16


def test_bad_settings_are_refused(engine):
    with pytest.raises(InvalidParameterError, match="strategy"):
        new_session(engine, QUESTION, RunSettings(strategy="beam"))
    with pytest.raises(InvalidParameterError, match="k"):
        new_session(engine, QUESTION, RunSettings(strategy="cot-decoding", k=0))


def test_experiment_saves_each_session_and_resumes(engine):
    questions = [DatasetQuestion(i, q, a, None, None) for i, (q, a) in enumerate(
        [("What is 2 + 3?", "5"), ("What is 4 + 4?", "8"), ("What is 10 - 7?", "3")]
    )]  # fmt: skip
    dataset = Dataset("tiny", None, questions)
    saved: dict[int, str] = {}
    progress = []
    settings = RunSettings(strategy="greedy", max_tokens=8)
    first = run_experiment(
        engine, dataset, settings, limit=2,
        on_session=lambda q, s: saved.__setitem__(q.index, s.id), on_progress=progress.append,
    )  # fmt: skip
    assert sorted(saved) == [0, 1] and len(first.sessions) == 2
    assert [p.done for p in progress] == [0, 1, 2] and progress[-1].remaining == 0
    second = run_experiment(
        engine,
        dataset,
        settings,
        finished=set(saved),
        on_session=lambda q, s: saved.__setitem__(q.index, s.id),
    )
    assert second.skipped == 2 and len(second.sessions) == 1 and sorted(saved) == [0, 1, 2]
    assert second.sessions[0].gold == "3" and second.sessions[0].title == "tiny #3"


def test_each_path_is_handed_over_the_moment_it_ends(engine):
    order: list[tuple[str, int]] = []
    hooks = RunHooks(
        on_token=lambda event: order.append(("token", event.branch)),
        on_path=lambda _session, path: order.append(("path", path.id)),
    )
    session = new_session(
        engine, QUESTION, RunSettings(strategy="cot-decoding", k=8, max_tokens=48)
    )
    run_strategy(engine, session, hooks)
    reports = [i for i, (kind, _) in enumerate(order) if kind == "path"]
    last_token = max(i for i, (kind, _) in enumerate(order) if kind == "token")
    lengths = {p.n_tokens for p in session.paths}
    assert len(lengths) > 1, "all branches had the same length: nothing to check"
    assert reports[1] < last_token  # a finished path was reported while others still decoded
    assert [p.id for p in session.paths] == list(range(8))  # ids stay in branch order
    assert all(p.finished for p in session.paths)
