"""Exact statistics of the model's next-token distribution, computed from raw logits.

All numbers come from the full vocabulary: log-probabilities are ``logit - logsumexp(logits)``
and the entropy is that of the whole softmax. Only the choice of the *sampled* token uses the
tempered and truncated distribution; the recorded probabilities are always the model's own
(temperature 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.engine.settings import SamplingSettings

# Tokens whose scaled logit is this far below the best are never sampled: together they hold
# less than vocab_size * e^-30 (≈ 2e-8 for 262k tokens) of the probability mass.
_SAMPLING_WINDOW = 30.0


@dataclass(frozen=True)
class RowStats:
    """Summary of one row of logits."""

    logsumexp: float
    entropy: float
    top_ids: np.ndarray  # int64, most likely first
    top_logprobs: np.ndarray  # float64, aligned with top_ids

    def logprob_of(self, logits: np.ndarray, token_id: int) -> float:
        return float(logits[token_id]) - self.logsumexp


class RowAnalyzer:
    """Computes :class:`RowStats` with preallocated buffers (this runs once per token)."""

    def __init__(self, n_vocab: int) -> None:
        self._shifted = np.empty(n_vocab, dtype=np.float32)
        self._exp = np.empty(n_vocab, dtype=np.float32)

    def analyze(self, logits: np.ndarray, k: int) -> RowStats:
        peak = float(logits.max())
        np.subtract(logits, np.float32(peak), out=self._shifted)
        np.exp(self._shifted, out=self._exp)
        total = float(self._exp.sum(dtype=np.float64))
        weighted = float(np.dot(self._exp, self._shifted))
        log_total = float(np.log(total))
        entropy = max(0.0, log_total - weighted / total)
        top_ids = top_k_ids(logits, k)
        logsumexp = peak + log_total
        top_logprobs = logits[top_ids].astype(np.float64) - logsumexp
        return RowStats(logsumexp, entropy, top_ids, top_logprobs)


def top_k_ids(logits: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest logits, largest first (ties broken by lower id)."""
    k = min(k, logits.shape[0])
    part = np.argpartition(logits, -k)[-k:]
    order = np.lexsort((part, -logits[part]))
    return part[order].astype(np.int64)


def make_rng(seed: int, branch: int) -> np.random.Generator:
    """One independent, reproducible stream per (seed, branch): batching cannot change it."""
    return np.random.default_rng([seed, branch])


def choose_token(
    logits: np.ndarray, stats: RowStats, sampling: SamplingSettings, rng: np.random.Generator
) -> int:
    """Greedy: the top-1 token. Otherwise: temperature, then top-k, top-p and min-p, then draw."""
    if sampling.greedy:
        return int(stats.top_ids[0])
    scaled_peak = float(logits[stats.top_ids[0]]) / sampling.temperature
    floor = (scaled_peak - _SAMPLING_WINDOW) * sampling.temperature
    candidates = np.flatnonzero(logits >= floor)
    scaled = logits[candidates].astype(np.float64) / sampling.temperature
    order = np.lexsort((candidates, -scaled))
    candidates, scaled = candidates[order], scaled[order]
    if sampling.top_k > 0:
        candidates, scaled = candidates[: sampling.top_k], scaled[: sampling.top_k]
    probs = np.exp(scaled - scaled[0])
    probs /= probs.sum()
    keep = len(probs)
    if sampling.top_p < 1.0:
        keep = int(np.searchsorted(np.cumsum(probs), sampling.top_p) + 1)
    if sampling.min_p > 0.0:
        keep = min(keep, int(np.count_nonzero(probs >= sampling.min_p * probs[0])))
    keep = max(1, min(keep, len(probs)))
    probs = probs[:keep] / probs[:keep].sum()
    index = int(np.searchsorted(np.cumsum(probs), rng.random(), side="right"))
    return int(candidates[min(index, keep - 1)])
