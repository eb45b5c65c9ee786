"""The recorded numbers are the model's own: checked against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inspector.engine import Branch, GenerationSettings
from tests.conftest import APPLE_PROMPT


@pytest.fixture(scope="module")
def greedy_path(engine):
    return engine.generate(APPLE_PROMPT, GenerationSettings(max_tokens=24, n_alternatives=8))


def test_top_k_is_sorted_bounded_and_sums_below_one(greedy_path):
    assert len(greedy_path.tokens) > 0
    for token in greedy_path.tokens:
        probs = [alt.prob for alt in token.top]
        assert len(probs) == 8
        assert probs == sorted(probs, reverse=True)
        assert all(0.0 < p <= 1.0 for p in probs)
        assert sum(probs) <= 1.0 + 1e-6


def test_greedy_token_is_the_top_alternative(greedy_path):
    for token in greedy_path.tokens:
        assert token.token_id == token.top[0].token_id
        assert token.logprob == pytest.approx(token.top[0].logprob, abs=1e-9)


def test_entropy_is_within_its_bounds(engine, greedy_path):
    for token in greedy_path.tokens:
        assert 0.0 <= token.entropy <= math.log(engine.runtime.n_vocab)
        # a distribution's entropy is at least its min-entropy, -log p(top-1)
        assert token.entropy >= -token.top[0].logprob - 1e-4


def test_logprobs_match_a_float64_softmax_of_the_raw_logits(fresh_engine):
    """Recompute the whole distribution from llama.cpp's logits, independently, in float64."""
    runtime = fresh_engine.runtime
    tokens = fresh_engine.tokenize(APPLE_PROMPT)
    found = fresh_engine.explorer.next_token_distribution(tokens, 5)
    assert found is not None
    alternatives, entropy = found
    fresh_engine.forget_cache()
    from inspector.engine.runtime import BatchEntry

    last = len(tokens) - 1
    runtime.decode([BatchEntry(t, i, 0, False) for i, t in enumerate(tokens[:last])])
    logits = runtime.decode([BatchEntry(tokens[last], last, 0, True)])[0].astype(np.float64)
    log_z = np.log(np.sum(np.exp(logits - logits.max()))) + logits.max()
    logp = logits - log_z
    expected_top = np.argsort(-logp)[:5]
    assert [a.token_id for a in alternatives] == [int(t) for t in expected_top]
    for alt in alternatives:
        assert alt.logprob == pytest.approx(logp[alt.token_id], abs=1e-4)
    assert entropy == pytest.approx(float(-np.sum(np.exp(logp) * logp)), abs=1e-3)
    fresh_engine.forget_cache()


def test_top_k_matches_llama_cpp_pythons_own_logprobs(engine, model_path, greedy_path):
    """llama-cpp-python's create_completion(logprobs=…) is a second, independent implementation.

    Only the first token is compared, to 0.1 nats: llama-cpp-python evaluates the prompt with
    repacked weight layouts, which round differently (a softmax over the top-k only, the
    typical mistake, would be off by 0.3 nats or more here).
    """
    from llama_cpp import Llama

    llm = Llama(str(model_path), n_ctx=512, logits_all=True, verbose=False, n_threads=2)
    try:
        out = llm.create_completion(APPLE_PROMPT, max_tokens=1, temperature=0.0, logprobs=5)
    finally:
        del llm
    theirs = out["choices"][0]["logprobs"]["top_logprobs"][0]
    ours = {alt.text: alt.logprob for alt in greedy_path.tokens[0].top[:5]}
    assert next(iter(theirs)) == next(iter(ours))
    shared = theirs.keys() & ours.keys()
    assert len(shared) >= 4
    for text in shared:
        assert float(theirs[text]) == pytest.approx(ours[text], abs=0.1)


def _top_probs(token) -> dict[int, float]:
    return {alt.token_id: alt.prob for alt in token.top}


def test_batched_and_single_decoding_agree(engine):
    """Same prefix, same distribution: each branch is decoded batched with three others and
    alone, forcing the same tokens so that both see identical prefixes at every position.

    llama.cpp's kernels for a one-token batch and a multi-token batch round differently, so the
    numbers agree to a tolerance, not bit for bit.
    """
    first = engine.next_tokens(APPLE_PROMPT, k=4)
    settings = GenerationSettings(max_tokens=8, ignore_eos=True, n_alternatives=5)
    engine.forget_cache()
    batched = engine.explore(APPLE_PROMPT, [Branch(forced=(a.token_id,)) for a in first], settings)
    for together in batched:
        engine.forget_cache()
        (alone,) = engine.explore(
            APPLE_PROMPT, [Branch(forced=tuple(together.token_ids))], settings
        )
        assert alone.token_ids == together.token_ids
        for a, b in zip(alone.tokens, together.tokens, strict=True):
            assert (
                a.top[0].token_id == b.top[0].token_id or abs(a.top[0].prob - a.top[1].prob) < 0.05
            )
            pa, pb = _top_probs(a), _top_probs(b)
            for token_id in pa.keys() & pb.keys():
                assert pa[token_id] == pytest.approx(pb[token_id], abs=0.05)
            assert a.entropy == pytest.approx(b.entropy, abs=0.15)
