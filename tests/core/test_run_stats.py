"""The numbers behind the plots, checked by hand on small made-up runs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from inspector.core.run_stats import consistency_histogram, run_stats, sample_counts


@dataclass(frozen=True)
class Run:
    gold: str | None
    correct: bool | None
    consistency: float | None
    cot_confidence: float | None = None
    answers: list[str | None] = field(default_factory=list)


RUNS = [
    Run("5", True, 1.0, 0.9, ["5", "5", "5", "5"]),
    Run("5", False, 0.5, 0.2, ["3", "3", "5", "5"]),
    Run("8", True, 0.55, 1.7, ["8", "8"]),
    Run("2", False, 0.05, None, ["1"]),
    Run("4", None, None, None, []),
]


def test_histogram_splits_consistency_by_correctness():
    hist = consistency_histogram(RUNS, n_bins=4)
    assert hist.edges == (0.0, 0.25, 0.5, 0.75, 1.0)
    # 1.0 lands in the last bin; 0.5 and 0.55 in [0.5, 0.75); 0.05 in the first; None skipped
    assert hist.correct == (0, 0, 1, 1)
    assert hist.incorrect == (1, 0, 1, 0)
    with pytest.raises(ValueError, match="n_bins"):
        consistency_histogram(RUNS, 0)


def test_run_stats_by_consistency():
    stats = run_stats(RUNS, "consistency", n_bins=4)
    assert stats.runs == 5 and stats.accuracy == pytest.approx(2 / 5)
    report = stats.calibration
    assert report.n == 4  # the run without a consistency has no confidence
    assert [b.count for b in report.bins] == [1, 0, 2, 1]
    # ECE = 1/4·|0 − 0.05| + 2/4·|0.5 − 0.525| + 1/4·|1 − 1|
    assert report.ece == pytest.approx(0.25 * 0.05 + 0.5 * 0.025)
    assert [p.n for p in stats.curve] == [1, 2, 4]
    assert stats.curve[-1].questions == 2 and stats.curve[-1].accuracy == pytest.approx(0.5)


def test_run_stats_by_delta_clips_to_one():
    stats = run_stats(RUNS, "delta", n_bins=2)
    assert stats.calibration.n == 3
    assert [b.count for b in stats.calibration.bins] == [1, 2]  # 0.2 | 0.9 and 1.7 -> 1.0
    assert stats.calibration.bins[1].mean_confidence == pytest.approx((0.9 + 1.0) / 2)
    with pytest.raises(ValueError, match="unknown confidence"):
        run_stats(RUNS, "vibes")


def test_sample_counts_and_empty_input():
    assert sample_counts(RUNS) == [1, 2, 4]
    empty = run_stats([])
    assert (empty.runs, empty.accuracy, empty.calibration.ece, empty.curve) == (0, None, None, ())
