"""The numbers behind the plots over saved runs: calibration, accuracy vs samples, the
consistency of correct against incorrect answers, and the selection gap (each selection
rule's accuracy beside pass@k).

Plain Python over run records (the store's ``RunRecord`` or anything with the same fields),
shared by ``inspector stats``, the experiment reports and the GUI's plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from inspector.core import metrics
from inspector.core.session import STRATEGIES

SAMPLE_COUNTS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
CALIBRATION_BINS = 10
CONFIDENCE_SOURCES: tuple[str, ...] = ("consistency", "delta")
#: the selection rules compared side by side (``SessionSummary.selections``' keys)
SELECTION_RULES: tuple[str, ...] = (
    "greedy",
    "cot-decoding",
    "cot-no-probe",
    "cot-aggregated",
    "majority",
    "weighted",
)
SELECTION_LABELS: dict[str, str] = {
    "greedy": "greedy",
    "cot-decoding": "CoT pick",
    "cot-no-probe": "CoT, no probe",
    "cot-aggregated": "CoT agg.",
    "majority": "majority",
    "weighted": "weighted",
}
#: selection rules recorded only for some runs (the pick without the probe: runs with a probe)
OPTIONAL_RULES: tuple[str, ...] = ("cot-no-probe",)
SELECTION_HELP = (
    "greedy: the greedy path's answer · CoT pick: the answered path with the highest Δ "
    "(CoT-decoding; with the answer probe, the probe's Δ) · CoT, no probe: in a run with the "
    "answer probe, the pick by each path's own answer Δ, as without the probe · CoT agg.: the "
    "answer with the largest sum of Δ · majority: the most frequent answer · weighted: the "
    "answer with the largest probability-weighted vote · "
    "pass@k: some path of the run is correct"
)


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


class SelectionRunLike(Protocol):
    """What the selection gap needs of a saved run (the store's ``RunRecord`` has it)."""

    @property
    def strategy(self) -> str: ...
    @property
    def correct(self) -> bool | None: ...
    @property
    def any_correct(self) -> bool | None: ...
    @property
    def selection_correct(self) -> Mapping[str, bool | None]: ...
    @property
    def n_voting(self) -> int: ...
    @property
    def n_completed(self) -> int: ...
    @property
    def n_answered(self) -> int: ...
    @property
    def n_hit_limit(self) -> int: ...


@dataclass(frozen=True)
class SelectionGap:
    """One strategy's runs: how often each selection rule picks a correct answer, against how
    often some path is correct (pass@k) — "the paths exist; choosing is the problem"."""

    strategy: str
    runs: int
    chosen: float | None  # accuracy of what the strategy itself answers
    accuracy: dict[str, float | None]  # selection rule -> accuracy
    correct: dict[str, int]  # selection rule -> runs it got right
    pass_at_k: float | None  # share of runs where some voting path is correct
    paths: int = 0  # voting paths over all runs
    completed: int = 0  # of those, finished by themselves
    answered: int = 0  # of those, with an answer
    hit_limit: int = 0  # of those, cut by the token limit or the context

    @property
    def gap(self) -> float | None:
        """pass@k minus the accuracy of the strategy's own answer."""
        if self.pass_at_k is None or self.chosen is None:
            return None
        return self.pass_at_k - self.chosen

    @property
    def best_rule(self) -> str | None:
        """The most accurate selection rule (the first in ``SELECTION_RULES`` on a tie)."""
        known = [
            (a, -i, r) for i, r in enumerate(SELECTION_RULES) if (a := self.accuracy[r]) is not None
        ]
        return max(known)[2] if known else None


def _share(values: Sequence[bool | None]) -> tuple[float | None, int]:
    known = [v for v in values if v is not None]
    right = sum(1 for v in known if v)
    return (right / len(known) if known else None), right


def selection_gap(records: Sequence[SelectionRunLike]) -> list[SelectionGap]:
    """Per strategy (in ``STRATEGIES`` order, then any other), each selection rule's accuracy
    side by side with pass@k. A rule without an answer on a run counts as wrong there; a run
    without a gold answer (``correct`` None) is not counted for that rule."""
    groups: dict[str, list[SelectionRunLike]] = {}
    for record in records:
        groups.setdefault(record.strategy, []).append(record)
    order = [s for s in STRATEGIES if s in groups] + sorted(set(groups) - set(STRATEGIES))
    result = []
    for strategy in order:
        runs = groups[strategy]
        accuracy: dict[str, float | None] = {}
        correct: dict[str, int] = {}
        for rule in SELECTION_RULES:
            accuracy[rule], correct[rule] = _share([r.selection_correct.get(rule) for r in runs])
        result.append(
            SelectionGap(
                strategy=strategy,
                runs=len(runs),
                chosen=_share([r.correct for r in runs])[0],
                accuracy=accuracy,
                correct=correct,
                pass_at_k=_share([r.any_correct for r in runs])[0],
                paths=sum(r.n_voting for r in runs),
                completed=sum(r.n_completed for r in runs),
                answered=sum(r.n_answered for r in runs),
                hit_limit=sum(r.n_hit_limit for r in runs),
            )
        )
    return result


def shown_rules(gaps: Sequence[SelectionGap]) -> tuple[str, ...]:
    """The selection rules a table of ``gaps`` needs: every rule, less an optional one that no
    run recorded (the pick without the probe, when no run had a probe)."""
    return tuple(
        rule
        for rule in SELECTION_RULES
        if rule not in OPTIONAL_RULES or any(g.accuracy[rule] is not None for g in gaps)
    )


def selection_gap_doc(gaps: Sequence[SelectionGap]) -> list[dict[str, object]]:
    """The selection gap as plain JSON-ready data (``inspector stats --json``)."""
    return [
        {
            "strategy": g.strategy,
            "runs": g.runs,
            "accuracy": dict(g.accuracy),
            "correct": dict(g.correct),
            "chosen_accuracy": g.chosen,
            "pass_at_k": g.pass_at_k,
            "gap": g.gap,
            "best_rule": g.best_rule,
            "paths": {
                "voting": g.paths,
                "completed": g.completed,
                "answered": g.answered,
                "hit_limit": g.hit_limit,
            },
        }
        for g in gaps
    ]
