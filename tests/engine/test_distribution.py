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
