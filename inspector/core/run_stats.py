"""The numbers behind the plots over saved runs: calibration, accuracy vs samples, and the
consistency of correct against incorrect answers.

Plain Python over run records (the store's ``RunRecord`` or anything with the same fields),
shared by ``inspector stats``, the experiment reports and the GUI's plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from inspector.core import metrics

SAMPLE_COUNTS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
CALIBRATION_BINS = 10
CONFIDENCE_SOURCES: tuple[str, ...] = ("consistency", "delta")


class RunLike(Protocol):
    """What a saved run must offer: its votes, its confidences and whether it was right."""

    @property
    def gold(self) -> str | None: ...
    @property
    def correct(self) -> bool | None: ...
    @property
    def consistency(self) -> float | None: ...
    @property
    def cot_confidence(self) -> float | None: ...
    @property
    def answers(self) -> Sequence[str | None]: ...


@dataclass(frozen=True)
class ConsistencyHistogram:
    """How many correct and how many incorrect runs fall in each consistency bin."""

    edges: tuple[float, ...]  # n_bins + 1 bin edges over [0, 1]
    correct: tuple[int, ...]
    incorrect: tuple[int, ...]


@dataclass(frozen=True)
class RunStats:
    runs: int
    accuracy: float | None
    confidence: str  # which confidence the calibration uses: "consistency" or "delta"
    calibration: metrics.CalibrationReport
    curve: tuple[metrics.SamplingPoint, ...]
    histogram: ConsistencyHistogram


def confidence_of(record: RunLike, source: str) -> float | None:
    """The run's confidence, clipped to [0, 1] (Δ can exceed 1 on odd vocabularies)."""
    if source not in CONFIDENCE_SOURCES:
        raise ValueError(f"unknown confidence {source!r}; use one of {CONFIDENCE_SOURCES}")
    value = record.consistency if source == "consistency" else record.cot_confidence
    return None if value is None else min(1.0, max(0.0, value))


def consistency_histogram(records: Sequence[RunLike], n_bins: int = 10) -> ConsistencyHistogram:
    """Equal-width bins of consistency (the last includes 1.0), split by correctness."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    correct, incorrect = [0] * n_bins, [0] * n_bins
    for record in records:
        value = confidence_of(record, "consistency")
        if value is None or record.correct is None:
            continue
        target = correct if record.correct else incorrect
        target[min(int(value * n_bins), n_bins - 1)] += 1
    edges = tuple(i / n_bins for i in range(n_bins + 1))
    return ConsistencyHistogram(edges, tuple(correct), tuple(incorrect))


def sample_counts(records: Sequence[RunLike]) -> list[int]:
    """The sample sizes of the accuracy curve that at least one run has enough paths for."""
    return [n for n in SAMPLE_COUNTS if any(len(r.answers) >= n for r in records)]


def run_stats(
    records: Sequence[RunLike], confidence: str = "consistency", n_bins: int = CALIBRATION_BINS
) -> RunStats:
    """Accuracy, calibration (with ``confidence``), accuracy vs samples and the histogram."""
    pairs = []
    for record in records:
        value = confidence_of(record, confidence)
        if value is not None:
            pairs.append((value, bool(record.correct)))
    curve = metrics.accuracy_vs_samples(
        [r.answers for r in records], [r.gold for r in records], sample_counts(records)
    )
    return RunStats(
        runs=len(records),
        accuracy=metrics.accuracy(bool(r.correct) for r in records),
        confidence=confidence,
        calibration=metrics.calibration(pairs, n_bins=n_bins),
        curve=tuple(curve),
        histogram=consistency_histogram(records, n_bins),
    )
