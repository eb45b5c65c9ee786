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
    if k == 1:  # the first of the largest is the lowest id among ties: argmax, without a sort
        return np.array([int(np.argmax(logits))], dtype=np.int64)
    part = np.argpartition(logits, -k)[-k:]
    order = np.lexsort((part, -logits[part]))
    return part[order].astype(np.int64)


def make_rng(seed: int, branch: int) -> np.random.Generator:
    """One reproducible stream per (seed, branch): adding branches never reshuffles the others."""
    return np.random.default_rng([seed, branch])


def choose_token(
    logits: np.ndarray, stats: RowStats, sampling: SamplingSettings, rng: np.random.Generator
) -> int:
    """Greedy: the top-1 token. Otherwise: temperature, then top-k, top-p and min-p, then draw.

    Exact over the whole vocabulary. The nucleus is first looked for among the most likely
    ``_NUCLEUS_GUESS`` tokens (one partial sort); only a flat distribution needs a full sort.
    """
    if sampling.greedy:
        return int(stats.top_ids[0])
    scaled = logits.astype(np.float64)
    if sampling.temperature != 1.0:  # x / 1.0 is x: the division is skipped, not changed
        scaled /= sampling.temperature
    weights = np.exp(scaled - scaled.max())
    if sampling.top_k > 0:
        candidates = _top_ids_by_weight(weights, sampling.top_k)
        total = float(weights[candidates].sum())
    else:
        total = float(weights.sum())
        if sampling.top_p >= 1.0 and sampling.min_p == 0.0:
            return _draw_any(weights, rng)
        candidates = _top_ids_by_weight(weights, _NUCLEUS_GUESS)
        guess = weights[candidates] / total
        if sampling.top_p < 1.0:
            too_few = float(guess.sum()) < sampling.top_p
        else:
            too_few = bool(guess[-1] >= sampling.min_p * guess[0])
        if too_few:
            candidates = _top_ids_by_weight(weights, len(weights))
    probs = weights[candidates] / total
    keep = len(probs)
    if sampling.top_p < 1.0:
        keep = min(keep, int(np.searchsorted(np.cumsum(probs), sampling.top_p) + 1))
    if sampling.min_p > 0.0:
        keep = min(keep, int(np.count_nonzero(probs >= sampling.min_p * probs[0])))
    keep = max(1, keep)
    return _draw(candidates[:keep], probs[:keep], rng)


_NUCLEUS_GUESS = 256


def _top_ids_by_weight(weights: np.ndarray, k: int) -> np.ndarray:
    """The k heaviest token ids, heaviest first (ties by lower id)."""
    k = min(k, len(weights))
    part = np.argpartition(weights, -k)[-k:] if k < len(weights) else np.arange(len(weights))
    return part[np.lexsort((part, -weights[part]))]


def _draw_any(weights: np.ndarray, rng: np.random.Generator) -> int:
    """:func:`_draw` over the whole vocabulary: the same inverse-CDF draw on the unnormalised
    weights (the draw is scaled by their sum), without an id array or a division."""
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(index, len(weights) - 1)


def _draw(ids: np.ndarray, probs: np.ndarray, rng: np.random.Generator) -> int:
    cumulative = np.cumsum(probs)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return int(ids[min(index, len(ids) - 1)])
