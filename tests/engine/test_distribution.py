"""Exact statistics and sampling on hand-made logits (no model needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inspector.engine.distribution import RowAnalyzer, choose_token, make_rng, top_k_ids
from inspector.engine.settings import SamplingSettings

LOGITS = np.log(np.array([0.5, 0.2, 0.15, 0.1, 0.05], dtype=np.float32)) + np.float32(3.0)


def frequencies(sampling: SamplingSettings, draws: int = 20000) -> np.ndarray:
    stats = RowAnalyzer(len(LOGITS)).analyze(LOGITS, 3)
    rng = make_rng(1, 0)
    counts = np.zeros(len(LOGITS))
    for _ in range(draws):
        counts[choose_token(LOGITS, stats, sampling, rng)] += 1
    return counts / draws


def test_row_statistics_are_exact():
    stats = RowAnalyzer(len(LOGITS)).analyze(LOGITS, 3)
    assert list(stats.top_ids) == [0, 1, 2]
    np.testing.assert_allclose(np.exp(stats.top_logprobs), [0.5, 0.2, 0.15], rtol=1e-5)
    entropy = -sum(p * math.log(p) for p in (0.5, 0.2, 0.15, 0.1, 0.05))
    assert stats.entropy == pytest.approx(entropy, rel=1e-5)


def test_top_k_ties_go_to_the_lower_id():
    assert list(top_k_ids(np.array([1.0, 3.0, 3.0, 0.0], dtype=np.float32), 3)) == [1, 2, 0]
    # k = 1 takes a shortcut (no partial sort): the same rule
    assert list(top_k_ids(np.array([1.0, 3.0, 3.0, 0.0], dtype=np.float32), 1)) == [1]
    assert top_k_ids(np.array([-2.0, -1.0], dtype=np.float32), 1).dtype == np.int64


def test_greedy_ignores_the_random_stream():
    stats = RowAnalyzer(len(LOGITS)).analyze(LOGITS, 3)
    assert choose_token(LOGITS, stats, SamplingSettings(), make_rng(0, 0)) == 0


def test_plain_sampling_follows_the_distribution():
    freq = frequencies(SamplingSettings(temperature=1.0))
    np.testing.assert_allclose(freq, [0.5, 0.2, 0.15, 0.1, 0.05], atol=0.015)


def test_top_p_keeps_the_smallest_nucleus():
    # cumulative 0.5, 0.7, 0.85: top-p 0.7 keeps the first two tokens, renormalised
    freq = frequencies(SamplingSettings(temperature=1.0, top_p=0.7))
    np.testing.assert_allclose(freq, [0.5 / 0.7, 0.2 / 0.7, 0, 0, 0], atol=0.015)


def test_top_k_and_min_p_truncate():
    freq = frequencies(SamplingSettings(temperature=1.0, top_k=3))
    np.testing.assert_allclose(freq, [0.5 / 0.85, 0.2 / 0.85, 0.15 / 0.85, 0, 0], atol=0.015)
    # min-p 0.29 keeps tokens with p >= 0.145: the first three
    freq = frequencies(SamplingSettings(temperature=1.0, min_p=0.29))
    np.testing.assert_allclose(freq, [0.5 / 0.85, 0.2 / 0.85, 0.15 / 0.85, 0, 0], atol=0.015)


def test_temperature_sharpens():
    freq = frequencies(SamplingSettings(temperature=0.5))
    weights = np.array([0.5, 0.2, 0.15, 0.1, 0.05]) ** 2
    np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.015)


def test_a_flat_distribution_falls_back_to_the_full_sort():
    flat = np.zeros(1000, dtype=np.float32)
    stats = RowAnalyzer(1000).analyze(flat, 3)
    rng = make_rng(3, 0)
    picks = {
        choose_token(flat, stats, SamplingSettings(temperature=1.0, top_p=0.9), rng)
        for _ in range(3000)
    }
    assert len(picks) > 600 and max(picks) < 1000


# Logits far from zero: the log-sum-exp shift keeps every figure finite and unchanged. The
# base logits are multiples of 1/8, so adding ±1000 is exact in float32 and any difference
# comes from the arithmetic, not the input.
BASE = np.array([2.0, 1.25, 0.5, -0.375, -3.0, 0.0], dtype=np.float32)


def reference_stats(logits: np.ndarray) -> tuple[np.ndarray, float]:
    """Float64 log-probabilities and entropy, computed independently of RowAnalyzer."""
    wide = logits.astype(np.float64)
    logprobs = wide - (wide.max() + math.log(np.exp(wide - wide.max()).sum()))
    return logprobs, float(-(np.exp(logprobs) * logprobs).sum())


@pytest.mark.parametrize("offset", [1000.0, -1000.0])
def test_row_statistics_of_extreme_logits_are_finite_and_unshifted(offset):
    shifted = BASE + np.float32(offset)
    assert np.all(shifted - np.float32(offset) == BASE)  # the shift itself is exact
    stats = RowAnalyzer(len(BASE)).analyze(shifted, 4)
    logprobs, entropy = reference_stats(BASE)
    assert np.isfinite(stats.logsumexp) and np.isfinite(stats.entropy)
    assert list(stats.top_ids) == [0, 1, 2, 5]
    np.testing.assert_allclose(stats.top_logprobs, logprobs[[0, 1, 2, 5]], rtol=0, atol=1e-6)
    assert stats.entropy == pytest.approx(entropy, abs=1e-6)
    assert stats.logprob_of(shifted, 4) == pytest.approx(logprobs[4], abs=1e-6)


@pytest.mark.parametrize("offset", [1000.0, -1000.0])
@pytest.mark.parametrize(
    "sampling",
    [
        SamplingSettings(temperature=1.0),
        SamplingSettings(temperature=0.7, top_p=0.9),
        SamplingSettings(temperature=1.3, top_k=3),
        SamplingSettings(temperature=1.0, min_p=0.1),
    ],
)
def test_sampling_extreme_logits_draws_what_the_unshifted_logits_draw(offset, sampling):
    shifted = BASE + np.float32(offset)
    analyzer = RowAnalyzer(len(BASE))
    base_stats, shifted_stats = analyzer.analyze(BASE, 3), analyzer.analyze(shifted, 3)
    base_rng, shifted_rng = make_rng(5, 1), make_rng(5, 1)
    base_draws = [choose_token(BASE, base_stats, sampling, base_rng) for _ in range(400)]
    shifted_draws = [
        choose_token(shifted, shifted_stats, sampling, shifted_rng) for _ in range(400)
    ]
    assert shifted_draws == base_draws
    assert len(set(base_draws)) >= 2  # a real draw, not one token every time


def test_entropy_of_a_peaked_row_is_below_one_nat():
    # p = 0.9, 0.1: H = -(0.9 ln 0.9 + 0.1 ln 0.1) = 0.0948 + 0.2303 = 0.3251 nats
    logits = np.log(np.array([0.9, 0.1], dtype=np.float32))
    stats = RowAnalyzer(2).analyze(logits, 2)
    assert stats.entropy == pytest.approx(0.9 * -math.log(0.9) + 0.1 * -math.log(0.1), rel=1e-5)


def test_top_k_ids_of_a_large_row_are_the_k_largest():
    logits = make_rng(11, 0).normal(size=5000).astype(np.float32)
    expected = np.argsort(-logits.astype(np.float64), kind="stable")
    for k in (1, 5, 40):
        assert list(top_k_ids(logits, k)) == list(expected[:k])
    # top-k sampling draws from those k tokens only, and from each of them
    stats = RowAnalyzer(len(logits)).analyze(logits, 5)
    rng = make_rng(2, 0)
    sampling = SamplingSettings(temperature=0.5, top_k=5)
    drawn = {choose_token(logits, stats, sampling, rng) for _ in range(400)}
    assert drawn == set(expected[:5].tolist())


def test_truncation_to_one_token_is_the_top_token():
    stats = RowAnalyzer(len(SHUFFLED)).analyze(SHUFFLED, 3)
    rng = make_rng(4, 0)
    for sampling in (
        SamplingSettings(temperature=1.0, top_p=0.3),  # 0.5 alone exceeds 0.3
        SamplingSettings(temperature=1.0, min_p=0.99),
    ):
        assert {choose_token(SHUFFLED, stats, sampling, rng) for _ in range(200)} == {1}


def test_min_p_keeps_the_tokens_exactly_at_the_threshold():
    # temperature 1/ln 2 makes the weights exactly 1, 0.5, 0.5, 0.25: with min-p 0.5 the
    # two tokens at half the top weight stay, the quarter goes
    logits = np.array([0.0, -1.0, -1.0, -2.0], dtype=np.float32)
    stats = RowAnalyzer(4).analyze(logits, 3)
    rng = make_rng(6, 0)
    sampling = SamplingSettings(temperature=1 / math.log(2), min_p=0.5)
    assert {choose_token(logits, stats, sampling, rng) for _ in range(300)} == {0, 1, 2}


def test_a_flat_distribution_under_min_p_falls_back_to_the_full_sort():
    # every token of a flat row is at the threshold: all 1000 stay, not just the first guess
    flat = np.zeros(1000, dtype=np.float32)
    stats = RowAnalyzer(1000).analyze(flat, 3)
    rng = make_rng(3, 1)
    sampling = SamplingSettings(temperature=1.0, min_p=0.5)
    picks = {choose_token(flat, stats, sampling, rng) for _ in range(3000)}
    assert len(picks) > 600 and max(picks) >= 256


# p = 0.1, 0.5, 0.05, 0.2, 0.15: the most likely tokens are not the lowest ids
SHUFFLED = np.log(np.array([0.1, 0.5, 0.05, 0.2, 0.15], dtype=np.float32))


def inverse_cdf(probs: np.ndarray, ids: list[int], u: float) -> int:
    """The token of ``ids`` (in that order) where the cumulative probability first exceeds u."""
    weights = probs[ids]
    cumulative = 0.0
    for token, weight in zip(ids, weights / weights.sum(), strict=True):
        cumulative += weight
        if u < cumulative:
            return token
    return ids[-1]


def test_a_seed_draws_the_same_token_by_the_inverse_cdf():
    # a session re-run with its seed repeats its samples: plain sampling walks the cumulative
    # probabilities in token-id order, a truncated one from the most likely token down
    probs = np.array([0.1, 0.5, 0.05, 0.2, 0.15])
    stats = RowAnalyzer(5).analyze(SHUFFLED, 3)
    cases = [
        (SamplingSettings(temperature=1.0), [0, 1, 2, 3, 4]),
        (SamplingSettings(temperature=1.0, top_k=3), [1, 3, 4]),
        (SamplingSettings(temperature=1.0, top_p=0.8), [1, 3, 4]),  # 0.5 + 0.2 < 0.8
    ]
    for sampling, order in cases:
        for seed in range(60):
            u = make_rng(seed, 0).random()
            picked = choose_token(SHUFFLED, stats, sampling, make_rng(seed, 0))
            assert picked == inverse_cdf(probs, order, u), (sampling, seed)


def test_min_p_ties_beyond_the_first_guess_are_kept():
    # weights 1 and then 999 × 0.5 (temperature 1/ln 2): with min-p 0.5 all 999 sit exactly on
    # the threshold, well past the first 256 looked at, and every one of them stays
    logits = np.full(1000, -1.0, dtype=np.float32)
    logits[0] = 0.0
    stats = RowAnalyzer(1000).analyze(logits, 3)
    rng = make_rng(8, 0)
    sampling = SamplingSettings(temperature=1 / math.log(2), min_p=0.5)
    picks = {choose_token(logits, stats, sampling, rng) for _ in range(3000)}
    assert len(picks) > 600 and max(picks) >= 256


def test_temperature_two_takes_the_square_root_of_the_probabilities():
    # p^(1/2) renormalised: 0.1, 0.5, 0.05, 0.2, 0.15 → √p / Σ√p; the draw walks them in id
    # order (plain sampling) with the same random number as the inverse CDF by hand
    probs = np.sqrt(np.array([0.1, 0.5, 0.05, 0.2, 0.15]))
    stats = RowAnalyzer(5).analyze(SHUFFLED, 3)
    sampling = SamplingSettings(temperature=2.0)
    picks = []
    for seed in range(200):
        u = make_rng(seed, 0).random()
        picked = choose_token(SHUFFLED, stats, sampling, make_rng(seed, 0))
        assert picked == inverse_cdf(probs, [0, 1, 2, 3, 4], u), seed
        picks.append(picked)
    # at temperature 1 some of these seeds draw another token: the temperature is applied
    plain = [choose_token(SHUFFLED, stats, SamplingSettings(temperature=1.0), make_rng(s, 0))
             for s in range(200)]  # fmt: skip
    assert picks != plain


@pytest.mark.parametrize(
    "sampling",
    [
        SamplingSettings(temperature=1.0, min_p=0.5),
        SamplingSettings(temperature=0.7, top_p=0.9),
        SamplingSettings(temperature=1.3, top_k=3),
        SamplingSettings(temperature=1.0),
    ],
)
def test_a_one_token_vocabulary_always_draws_that_token(sampling):
    only = np.array([0.25], dtype=np.float32)
    stats = RowAnalyzer(1).analyze(only, 3)
    assert list(stats.top_ids) == [0] and stats.entropy == 0.0
    rng = make_rng(2, 0)
    assert {choose_token(only, stats, sampling, rng) for _ in range(50)} == {0}
