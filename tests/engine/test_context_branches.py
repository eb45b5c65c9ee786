"""Branches with a ``context`` (tokens between the shared prompt and the forced tokens, not
recorded): served from the previous request's cache, in order, over several waves."""

from __future__ import annotations

import pytest

from inspector.engine import Branch, GenerationSettings
from inspector.engine.runtime import LlamaRuntime
from tests.conftest import APPLE_PROMPT


def counting(monkeypatch) -> list[int]:
    evaluated: list[int] = []
    original = LlamaRuntime.decode

    def decode(self, entries, should_abort=None):
        evaluated.append(len(entries))
        return original(self, entries, should_abort)

    monkeypatch.setattr(LlamaRuntime, "decode", decode)
    return evaluated


def test_context_branches_over_two_waves_match_a_cold_run_in_order(fresh_engine, monkeypatch):
    engine = fresh_engine
    prompt = engine.tokenize(APPLE_PROMPT)
    n = engine.runtime.n_seq_max + 1  # more branches than one wave holds
    first = engine.next_tokens(prompt, n)
    paths = engine.explore(
        prompt,
        [Branch(forced=(a.token_id,)) for a in first],
        GenerationSettings(max_tokens=4, ignore_eos=True),
    )
    probe = tuple(engine.tokenize_text("\nSo"))
    # with and without a context, mixed: results come back in branch order
    branches = [Branch(context=tuple(p.token_ids), forced=probe) for p in paths] + [Branch()]
    settings = GenerationSettings(max_tokens=len(probe) + 1, ignore_eos=True)
    evaluated = counting(monkeypatch)
    warm = engine.explore(prompt, branches, settings)
    warm_cost = sum(evaluated)
    engine.forget_cache()
    evaluated.clear()
    cold = engine.explore(prompt, branches, settings)
    assert [s.branch for s in warm] == list(range(len(branches)))
    assert [s.token_ids[: len(probe)] for s in warm[:-1]] == [list(probe)] * n
    for ours, theirs in zip(warm, cold, strict=True):
        for a, b in zip(ours.tokens, theirs.tokens, strict=True):
            # the same distribution (batch shapes round differently: a near tie may flip)
            assert a.prob == pytest.approx(b.prob, abs=0.05)
            their_top = {alt.token_id: alt.prob for alt in b.top}
            assert a.token_id == b.token_id or abs(a.prob - their_top[a.token_id]) < 0.02
    # the first wave's contexts that were still cached (the last wave of the run and what
    # the first left) were not evaluated again, 3 of their 4 tokens each
    assert sum(evaluated) - warm_cost >= 3 * (engine.runtime.n_seq_max - 3)


def test_a_context_shorter_than_the_cached_sequence_drops_the_rest(fresh_engine):
    engine = fresh_engine
    prompt = engine.tokenize(APPLE_PROMPT)
    path = engine.generate(prompt, GenerationSettings(max_tokens=8, ignore_eos=True))
    context = tuple(path.token_ids[:3])
    cut = engine.explore(prompt, [Branch(context=context)], GenerationSettings(max_tokens=2))[0]
    engine.forget_cache()
    plain = engine.explore(prompt + list(context), [Branch()], GenerationSettings(max_tokens=2))[0]
    assert cut.token_ids == plain.token_ids == path.token_ids[3:5]
    assert cut.tokens[0].prob == pytest.approx(plain.tokens[0].prob, abs=0.05)
