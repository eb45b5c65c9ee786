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
