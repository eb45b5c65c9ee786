"""Continuations of one path from many of its positions, in one request (issue 12's engine
part): each continuation's context is a copy of a position range of the path's cached
sequence, evaluated once, and the results do not depend on what shares the batch."""

from __future__ import annotations

import pytest

from inspector.engine import Branch, GenerationSettings
from tests.conftest import APPLE_PROMPT
from tests.engine.test_context_branches import counting


def greedy_path(engine, n: int = 12) -> tuple[list[int], list[int]]:
    prompt = engine.tokenize(APPLE_PROMPT)
    path = engine.generate(prompt, GenerationSettings(max_tokens=n, ignore_eos=True))
    return prompt, path.token_ids


def test_continuations_from_every_position_match_the_prefix_evaluated_alone(fresh_engine):
    engine = fresh_engine
    prompt, path = greedy_path(engine)
    settings = GenerationSettings(max_tokens=3, ignore_eos=True)
    positions = range(1, len(path))
    engine.forget_cache()
    together = engine.explore(
        prompt, [Branch(context=tuple(path[:t])) for t in positions], settings
    )
    for t, ours in zip(positions, together, strict=True):
        engine.forget_cache()  # the prefix evaluated from scratch, alone
        alone = engine.explore(prompt + path[:t], [Branch()], settings)[0]
        # a greedy continuation of a prefix of a greedy path is the rest of that path
        assert ours.token_ids == path[t : t + 3] or ours.token_ids == alone.token_ids
        for a, b in zip(ours.tokens, alone.tokens, strict=True):
            # batch shapes round differently (README, Performance): the same distribution
            # within the engine's tolerance (measured here: up to 0.054 in probability, 0.19 nats
            # in entropy), so 0.08 and 0.25
            assert a.prob == pytest.approx(b.prob, abs=0.08)
            assert a.entropy == pytest.approx(b.entropy, abs=0.25)


def test_a_path_is_evaluated_once_for_all_its_prefixes(fresh_engine, monkeypatch):
    engine = fresh_engine
    prompt, path = greedy_path(engine)
    engine.forget_cache()
    engine.next_tokens(prompt, 1)  # the prompt alone in the cache: the path is not
    evaluated = counting(monkeypatch)
    n_new = 2
    branches = [
        Branch(context=tuple(path[:t]), forced=(path[t],)) for t in range(len(path) - 1, 0, -1)
    ]
    engine.explore(prompt, branches, GenerationSettings(max_tokens=n_new, ignore_eos=True))
    one_by_one = sum(len(b.context) + n_new for b in branches)
    # the prompt's last token, the longest context once, one re-evaluated last context token
    # per other branch, and the new tokens: far less than every context evaluated anew
    bound = 1 + len(path) + len(branches) * (1 + n_new)
    assert sum(evaluated) <= bound < one_by_one


def test_more_continuations_than_slots_run_to_the_end_in_order(fresh_engine):
    engine = fresh_engine
    prompt, path = greedy_path(engine, 6)
    n = engine.runtime.n_seq_max * 2 + 1
    branches = [Branch(context=tuple(path[: 1 + i % 5])) for i in range(n)]
    settings = GenerationSettings(max_tokens=2 + (n % 3), ignore_eos=True)
    results = engine.explore(prompt, branches, settings)
    assert [r.branch for r in results] == list(range(n))
    assert all(
        r.finish_reason == "length" and len(r.tokens) == settings.max_tokens for r in results
    )
    # the same context gives the same greedy continuation wherever it ran
    by_context: dict[tuple[int, ...], set[tuple[int, ...]]] = {}
    for branch, result in zip(branches, results, strict=True):
        by_context.setdefault(branch.context, set()).add(tuple(result.token_ids))
    assert all(len(found) == 1 for found in by_context.values())
