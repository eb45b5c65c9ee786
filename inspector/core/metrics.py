"""Votes, path selection, consistency, accuracy and calibration over plain Python data.

Answers are the normalised answer strings of the paths, in path order; ``None`` means the path
has no extractable answer and does not vote.

Tie-breaking (every vote and selection here): among answers (or paths) that share the top score,
the winner is the one that appears first in path order; all of them are reported in ``tied``.
Integer counts tie only when equal; float scores (weights, Δ sums) tie when equal up to a relative
tolerance of 1e-9.

Entropy is in nats (natural log) unless ``base=2`` is passed (bits). Calibration bins are
``n_bins`` equal-width bins over [0, 1]; a confidence ``c`` goes into bin ``floor(c * n_bins)``,
with ``c == 1.0`` in the last bin.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inspector.engine.records import TokenRecord

_FLOAT_TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class VoteResult:
    """Winning answer, its score, the answers tied with it (winner first) and all scores."""

    answer: str | None
    count: float
    tied: tuple[str, ...]
    distribution: Mapping[str, float]

    @property
    def is_tie(self) -> bool:
        return len(self.tied) > 1


@dataclass(frozen=True)
class PathSelection:
    """The selected path index, its answer and score, and the indices of paths tied with it."""

    index: int | None
    answer: str | None
    score: float | None
    tied: tuple[int, ...]


def _check_lengths(answers: Sequence[object], other: Sequence[object], name: str) -> None:
    if len(answers) != len(other):
        raise ValueError(f"{len(answers)} answers but {len(other)} {name}")


def _pick(scores: Mapping[str, float], rel_tol: float) -> VoteResult:
    """Winner of ``scores`` (insertion order = first appearance) with first-appearance ties."""
    if not scores:
        return VoteResult(None, 0, (), {})
    best = max(scores.values())
    tied = tuple(a for a, s in scores.items() if math.isclose(s, best, rel_tol=rel_tol))
    winner = tied[0]
    return VoteResult(winner, scores[winner], tied if len(tied) > 1 else (), dict(scores))


def vote_distribution(answers: Iterable[str | None]) -> dict[str, int]:
    """Answer -> number of paths, in order of first appearance, ignoring ``None``."""
    counts: dict[str, int] = {}
    for answer in answers:
        if answer is not None:
            counts[answer] = counts.get(answer, 0) + 1
    return counts


def majority_vote(answers: Iterable[str | None]) -> VoteResult:
    """Self-consistency: the most frequent answer (``answer=None`` when nobody answered)."""
    return _pick(vote_distribution(answers), rel_tol=0.0)


def path_weights(logprobs: Sequence[float], n_tokens: Sequence[int] | None = None) -> list[float]:
    """Softmax of sequence log-probabilities (optionally per-token means) over the given paths."""
    if n_tokens is not None:
        _check_lengths(logprobs, n_tokens, "token counts")
        if any(n <= 0 for n in n_tokens):
            raise ValueError("token counts must be positive")
        logprobs = [lp / n for lp, n in zip(logprobs, n_tokens, strict=True)]
    if any(math.isnan(lp) or lp == math.inf for lp in logprobs):
        raise ValueError("log-probabilities must be finite or -inf")
    if not logprobs:
        return []
    top = max(logprobs)
    if top == -math.inf:
        return [1.0 / len(logprobs)] * len(logprobs)
    exps = [math.exp(lp - top) for lp in logprobs]
    total = sum(exps)
    return [e / total for e in exps]


def weighted_vote(
    answers: Sequence[str | None],
    logprobs: Sequence[float],
    *,
    n_tokens: Sequence[int] | None = None,
) -> VoteResult:
    """Probability-weighted vote: each answered path votes with its softmax-normalised weight.

    The softmax runs over the answered paths only, so the distribution sums to 1. With
    ``n_tokens`` the weight uses the mean per-token log-probability (length-normalised).
    """
    _check_lengths(answers, logprobs, "log-probabilities")
    if n_tokens is not None:
        _check_lengths(answers, n_tokens, "token counts")
    keep = [i for i, a in enumerate(answers) if a is not None]
    lengths = None if n_tokens is None else [n_tokens[i] for i in keep]
    weights = path_weights([logprobs[i] for i in keep], lengths)
    scores: dict[str, float] = {}
    for i, weight in zip(keep, weights, strict=True):
        answer = answers[i]
        assert answer is not None
        scores[answer] = scores.get(answer, 0.0) + weight
    return _pick(scores, rel_tol=_FLOAT_TIE_TOLERANCE)


def aggregated_confidence_vote(
    answers: Sequence[str | None], deltas: Sequence[float | None]
) -> VoteResult:
    """CoT-decoding (aggregated): sum Δ per answer; the highest total wins.

    Paths without an answer or without a Δ are ignored.
    """
    _check_lengths(answers, deltas, "confidences")
    scores: dict[str, float] = {}
    for answer, delta in zip(answers, deltas, strict=True):
        if answer is not None and delta is not None:
            scores[answer] = scores.get(answer, 0.0) + delta
    return _pick(scores, rel_tol=_FLOAT_TIE_TOLERANCE)


def select_by_confidence(
    answers: Sequence[str | None],
    deltas: Sequence[float | None],
    tie_break: Sequence[float | None] | None = None,
) -> PathSelection:
    """CoT-decoding (plain): the answered path with the highest Δ.

    Ties (Δ equal up to the float tolerance, as on a confident model whose Δ is ≈ 1 on every
    path) go to the highest ``tie_break`` score when one is given (the mean log-probability of
    the answer's tokens), then to the lowest index; ``tied`` lists every path tied on Δ."""
    _check_lengths(answers, deltas, "confidences")
    pairs = enumerate(zip(answers, deltas, strict=True))
    candidates = [(i, d) for i, (a, d) in pairs if a is not None and d is not None]
    if not candidates:
        return PathSelection(None, None, None, ())
    best = max(d for _, d in candidates)
    tied = tuple(i for i, d in candidates if math.isclose(d, best, rel_tol=_FLOAT_TIE_TOLERANCE))
    index = tied[0]
    if tie_break is not None and len(tied) > 1:
        _check_lengths(answers, tie_break, "tie-break scores")
        scored = [i for i in tied if tie_break[i] is not None]
        if scored:
            index = max(scored, key=lambda i: (tie_break[i] or 0.0, -i))
    return PathSelection(index, answers[index], deltas[index], tied if len(tied) > 1 else ())


def value_range(values: Iterable[float | None]) -> tuple[float, float] | None:
    """(lowest, highest) of the known values; None when there is none."""
    known = [v for v in values if v is not None and not math.isnan(v)]
    return (min(known), max(known)) if known else None


def mean_logprob(tokens: Sequence[TokenRecord], span: tuple[int, int] | None) -> float | None:
    """Mean log-probability of the tokens in ``span`` (the answer's): a tie-break that still
    separates paths whose Δ is ≈ 1."""
    if span is None or span[1] <= span[0]:
        return None
    chosen = tokens[span[0] : span[1]]
    return sum(t.logprob for t in chosen) / len(chosen) if chosen else None


def answer_confidence(tokens: Sequence[TokenRecord], span: tuple[int, int]) -> float | None:
    """CoT-decoding's Δ: mean over the answer tokens of p(top-1) − p(top-2)."""
    margins = [t.top[0].prob - t.top[1].prob for t in tokens[span[0] : span[1]] if len(t.top) >= 2]
    return sum(margins) / len(margins) if margins else None


def consistency(answers: Iterable[str | None]) -> float | None:
    """Share of answered paths that agree with the majority answer; None if none answered."""
    counts = vote_distribution(answers)
    answered = sum(counts.values())
    return max(counts.values()) / answered if answered else None


def vote_entropy(answers: Iterable[str | None], *, base: float = math.e) -> float | None:
    """Shannon entropy of the vote distribution (nats by default, bits with ``base=2``)."""
    counts = vote_distribution(answers)
    answered = sum(counts.values())
    if not answered:
        return None
    entropy = -sum(c / answered * math.log(c / answered) for c in counts.values())
    return entropy / math.log(base) + 0.0


def accuracy(correct: Iterable[bool]) -> float | None:
    """Share of ``True``; None for no items."""
    flags = list(correct)
    return sum(1 for c in flags if c) / len(flags) if flags else None


@dataclass(frozen=True)
class CalibrationBin:
    """One confidence bin [lower, upper) (the last one includes 1.0)."""

    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    accuracy: float | None


@dataclass(frozen=True)
class CalibrationReport:
    """Bins, expected calibration error, Brier score and overall accuracy of ``n`` pairs."""

    bins: tuple[CalibrationBin, ...]
    n: int
    ece: float | None
    brier: float | None
    accuracy: float | None


def _validated(pairs: Iterable[tuple[float, bool]]) -> list[tuple[float, bool]]:
    items = [(float(c), bool(ok)) for c, ok in pairs]
    for confidence, _ in items:
        if not 0.0 <= confidence <= 1.0:  # also rejects NaN
            raise ValueError(f"confidence {confidence} is outside [0, 1]")
    return items


def _bins(items: list[tuple[float, bool]], n_bins: int) -> list[CalibrationBin]:
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    members: list[list[tuple[float, bool]]] = [[] for _ in range(n_bins)]
    for confidence, ok in items:
        members[min(int(confidence * n_bins), n_bins - 1)].append((confidence, ok))
    bins = []
    for i, group in enumerate(members):
        count = len(group)
        mean = sum(c for c, _ in group) / count if count else None
        acc = sum(1 for _, ok in group if ok) / count if count else None
        bins.append(CalibrationBin(i / n_bins, (i + 1) / n_bins, count, mean, acc))
    return bins


def calibration_bins(pairs: Iterable[tuple[float, bool]], n_bins: int = 10) -> list[CalibrationBin]:
    """Equal-width reliability-diagram bins of (confidence, correct) pairs, empty bins included."""
    return _bins(_validated(pairs), n_bins)


def _ece(bins: Sequence[CalibrationBin], n: int) -> float | None:
    if not n:
        return None
    return sum(
        b.count / n * abs(b.accuracy - b.mean_confidence)
        for b in bins
        if b.accuracy is not None and b.mean_confidence is not None
    )


def expected_calibration_error(
    pairs: Iterable[tuple[float, bool]], n_bins: int = 10
) -> float | None:
    """Σ over bins of (bin count / n) · |bin accuracy − bin mean confidence|; None if empty."""
    items = _validated(pairs)
    return _ece(_bins(items, n_bins), len(items))


def brier_score(pairs: Iterable[tuple[float, bool]]) -> float | None:
    """Mean of (confidence − correct)²; None if empty."""
    items = _validated(pairs)
    if not items:
        return None
    return sum((c - (1.0 if ok else 0.0)) ** 2 for c, ok in items) / len(items)


def calibration(pairs: Iterable[tuple[float, bool]], n_bins: int = 10) -> CalibrationReport:
    """All calibration numbers at once."""
    items = _validated(pairs)
    bins = _bins(items, n_bins)
    return CalibrationReport(
        bins=tuple(bins),
        n=len(items),
        ece=_ece(bins, len(items)),
        brier=brier_score(items),
        accuracy=accuracy(ok for _, ok in items),
    )


@dataclass(frozen=True)
class SamplingPoint:
    """Mean majority-vote accuracy with ``n`` samples over ``questions`` scored questions."""

    n: int
    accuracy: float | None
    questions: int


def accuracy_vs_samples(
    runs: Sequence[Sequence[str | None]],
    golds: Sequence[str | None],
    ns: Iterable[int],
    *,
    repeats: int = 20,
    seed: int = 0,
) -> list[SamplingPoint]:
    """Self-consistency accuracy as a function of the number of sampled paths.

    ``runs[q]`` are question q's saved path answers, ``golds[q]`` its gold answer (both
    normalised; questions without a gold are skipped). For each ``n``, each question with at
    least ``n`` paths is scored by the mean correctness of the majority vote over ``repeats``
    random subsets of ``n`` paths (kept in path order, so ties break as in ``majority_vote``).
    Deterministic for a given ``seed``; each ``n`` has its own generator.
    """
    _check_lengths(runs, golds, "gold answers")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    points = []
    for n in ns:
        if n < 1:
            raise ValueError(f"sample counts must be at least 1, got {n}")
        rng = random.Random(f"{seed}:{n}")
        scores = []
        for answers, gold in zip(runs, golds, strict=True):
            if gold is None or len(answers) < n:
                continue
            hits = 0
            for _ in range(repeats):
                subset = [answers[i] for i in sorted(rng.sample(range(len(answers)), n))]
                hits += majority_vote(subset).answer == gold
            scores.append(hits / repeats)
        mean = sum(scores) / len(scores) if scores else None
        points.append(SamplingPoint(n, mean, len(scores)))
    return points


@dataclass(frozen=True)
class GreedyVsMarginal:
    """Greedy path probability against the sampled (marginal) probability of answers."""

    greedy_answer: str | None
    greedy_sequence_probability: float
    greedy_answer_probability: float | None
    majority_answer: str | None
    majority_answer_probability: float | None


def greedy_vs_marginal(
    greedy_answer: str | None, greedy_logprob: float, sample_answers: Sequence[str | None]
) -> GreedyVsMarginal:
    """exp(greedy log-probability) vs the share of all samples reaching the greedy answer.

    Shares are over all samples, including those without an answer. The majority answer of the
    samples and its share are given for comparison; shares are None without samples.
    """
    total = len(sample_answers)
    vote = majority_vote(sample_answers)
    greedy_share = None
    if total and greedy_answer is not None:
        greedy_share = sum(1 for a in sample_answers if a == greedy_answer) / total
    return GreedyVsMarginal(
        greedy_answer=greedy_answer,
        greedy_sequence_probability=math.exp(greedy_logprob),
        greedy_answer_probability=greedy_share,
        majority_answer=vote.answer,
        majority_answer_probability=vote.count / total if total else None,
    )
