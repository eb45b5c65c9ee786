"""The numbers behind the plots, checked by hand on small made-up runs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from inspector.core.run_stats import (
    SELECTION_RULES,
    consistency_histogram,
    run_stats,
    sample_counts,
    selection_gap,
    selection_gap_doc,
    shown_rules,
)


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


# -- the selection gap ------------------------------------------------------------------------
@dataclass(frozen=True)
class Picks:
    """A run as the selection gap sees it: which rules were right, and pass@k."""

    strategy: str
    correct: bool | None
    any_correct: bool | None
    selection_correct: dict[str, bool | None]
    n_voting: int = 4
    n_completed: int = 3
    n_answered: int = 2
    n_hit_limit: int = 1


def picks(
    strategy: str, right: str, any_correct: bool | None, correct: bool | None, probed=False
) -> Picks:
    """``right`` lists the rules that were right by initial: g c p a m w (p, the pick without
    the probe, is recorded only for a run with the answer probe)."""
    initials = dict(zip("gcpamw", SELECTION_RULES, strict=True))
    known: dict[str, bool | None] = {rule: (i in right) for i, rule in initials.items()}
    if not probed:
        del known["cot-no-probe"]
    if any_correct is None:  # no gold answer
        known = dict.fromkeys(known)
    return Picks(strategy, correct, any_correct, known)


SELECTION_RUNS = [
    # CoT-decoding, 4 runs: a correct path existed in 3 of them, the Δ pick was right once
    picks("cot-decoding", "gmw", True, False),
    picks("cot-decoding", "cam", True, True),
    picks("cot-decoding", "", True, False),
    picks("cot-decoding", "", False, False),
    # self-consistency, 2 runs: the majority right in both, greedy in one
    picks("self-consistency", "mwca", True, True),
    picks("self-consistency", "gm", True, True),
    # a run without a gold answer counts for nothing but its paths
    picks("self-consistency", "", None, None),
]


def test_selection_gap_per_strategy_by_hand():
    cot, sc = selection_gap(SELECTION_RUNS)
    assert (cot.strategy, cot.runs, sc.strategy, sc.runs) == (
        "cot-decoding",
        4,
        "self-consistency",
        3,
    )
    # greedy right in run 1; the Δ pick in run 2; aggregated in 2; majority 1, 2; weighted 1
    assert cot.correct == {
        "greedy": 1, "cot-decoding": 1, "cot-no-probe": 0, "cot-aggregated": 1, "majority": 2,
        "weighted": 1,
    }  # fmt: skip
    assert cot.accuracy["majority"] == pytest.approx(2 / 4)
    assert cot.accuracy["cot-decoding"] == pytest.approx(1 / 4)
    assert cot.pass_at_k == pytest.approx(3 / 4)
    assert cot.chosen == pytest.approx(1 / 4)
    assert cot.gap == pytest.approx(3 / 4 - 1 / 4)  # the paths exist; choosing is the problem
    assert cot.best_rule == "majority"
    assert (cot.paths, cot.completed, cot.answered, cot.hit_limit) == (16, 12, 8, 4)
    # the gold-less run is left out of every share but counts its paths
    assert sc.accuracy == {
        "greedy": 0.5, "cot-decoding": 0.5, "cot-no-probe": None, "cot-aggregated": 0.5,
        "majority": 1.0, "weighted": 0.5,
    }  # fmt: skip
    assert (sc.pass_at_k, sc.chosen, sc.gap, sc.paths) == (1.0, 1.0, 0.0, 12)


def test_the_pick_without_the_probe_counts_only_runs_that_had_a_probe():
    runs = [
        picks("cot-decoding", "pm", True, False, probed=True),
        picks("cot-decoding", "cpa", True, True, probed=True),
        picks("cot-decoding", "c", True, True),  # no probe: no such pick
    ]
    [cot] = selection_gap(runs)
    assert cot.accuracy["cot-no-probe"] == pytest.approx(2 / 2)
    assert cot.correct["cot-no-probe"] == 2
    assert cot.accuracy["cot-decoding"] == pytest.approx(2 / 3)
    [plain] = selection_gap(SELECTION_RUNS[:4])
    assert plain.accuracy["cot-no-probe"] is None and plain.correct["cot-no-probe"] == 0


def test_selection_gap_of_nothing_and_its_json():
    assert selection_gap([]) == []
    [only] = selection_gap([picks("greedy", "", None, None)])
    assert only.accuracy == dict.fromkeys(SELECTION_RULES) and only.pass_at_k is None
    assert only.gap is None and only.best_rule is None
    [doc] = selection_gap_doc(selection_gap(SELECTION_RUNS[:2]))
    assert doc["strategy"] == "cot-decoding" and doc["runs"] == 2
    assert doc["accuracy"]["majority"] == 1.0 and doc["pass_at_k"] == 1.0
    assert doc["gap"] == 0.5 and doc["paths"] == {
        "voting": 8, "completed": 6, "answered": 4, "hit_limit": 2,
    }  # fmt: skip


def test_shown_rules_leave_out_the_pick_without_the_probe_when_no_run_had_a_probe():
    plain = ("greedy", "cot-decoding", "cot-aggregated", "majority", "weighted")
    assert shown_rules(selection_gap(SELECTION_RUNS)) == plain
    assert shown_rules([]) == plain
    probed = [picks("cot-decoding", "p", True, False, probed=True)]
    assert shown_rules(selection_gap(SELECTION_RUNS + probed)) == (
        "greedy", "cot-decoding", "cot-no-probe", "cot-aggregated", "majority", "weighted",
    )  # fmt: skip


def test_histogram_counts_every_run_in_its_bin_and_skips_only_unknowns():
    runs = [
        Run("4", None, 0.7),  # no gold: not counted
        Run("4", True, None),  # no consistency: not counted
        *RUNS,
        Run("9", True, 0.6),
    ]
    hist = consistency_histogram(runs, n_bins=2)
    # correct: 1.0, 0.55 and 0.6 all in [0.5, 1]; incorrect: 0.05 | 0.5
    assert hist.correct == (0, 3) and hist.incorrect == (1, 1)
    one = consistency_histogram(runs, n_bins=1)
    assert (one.edges, one.correct, one.incorrect) == ((0.0, 1.0), (3,), (2,))


def test_run_stats_defaults_to_consistency_and_bins_the_histogram_alike():
    stats = run_stats(RUNS, n_bins=4)  # the export's call
    assert stats.confidence == "consistency"
    assert stats.calibration.n == 4  # four runs have a consistency (three a Δ)
    assert stats.histogram.edges == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert (stats.histogram.correct, stats.histogram.incorrect) == ((0, 0, 1, 1), (1, 0, 1, 0))
    assert run_stats(RUNS, "delta").confidence == "delta"


def test_selection_gap_json_names_every_figure():
    [doc] = selection_gap_doc(selection_gap(SELECTION_RUNS[:2]))
    assert set(doc) == {
        "strategy", "runs", "accuracy", "correct", "chosen_accuracy", "pass_at_k", "gap",
        "best_rule", "paths",
    }  # fmt: skip
    # run 1 right by greedy, majority and weighted; run 2 by the Δ pick, aggregated, majority
    assert doc["correct"] == {
        "greedy": 1, "cot-decoding": 1, "cot-no-probe": 0, "cot-aggregated": 1, "majority": 2,
        "weighted": 1,
    }  # fmt: skip
    assert doc["chosen_accuracy"] == 0.5 and doc["best_rule"] == "majority"
