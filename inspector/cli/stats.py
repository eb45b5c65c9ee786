"""`inspector stats`: accuracy and calibration over the saved runs with a gold answer."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from inspector.cli.options import BINS, bounded
from inspector.cli.output import open_store, print_json
from inspector.core.display import fmt
from inspector.core.session import STRATEGIES

if TYPE_CHECKING:
    from inspector.core.run_stats import SelectionGap


def register(commands: Any) -> None:
    """Add ``stats`` to ``commands`` (argparse subparsers)."""
    stats = commands.add_parser("stats", help="accuracy and calibration over saved runs")
    stats.add_argument("--db", metavar="PATH", help="session database")
    stats.add_argument("--strategy", choices=STRATEGIES, help="only this strategy")
    stats.add_argument("--model", dest="model_filter", metavar="TEXT", help="only models matching")
    stats.add_argument("--experiment", type=int, help="only this experiment")
    stats.add_argument(
        "--confidence",
        choices=("consistency", "delta"),
        default="consistency",
        help="what to calibrate: vote consistency or CoT-decoding Δ",
    )
    stats.add_argument(
        "--bins", type=bounded(BINS), default=10, help="calibration bins (default 10)"
    )
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.set_defaults(handler=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    from inspector.core.run_stats import run_stats, selection_gap, selection_gap_doc

    store, db_path = open_store(args, read_only=True)
    records = store.run_records(
        strategy=args.strategy, model=args.model_filter, experiment_id=args.experiment
    )
    stats = run_stats(records, args.confidence, n_bins=args.bins)
    gaps = selection_gap(records)
    report, curve = stats.calibration, stats.curve
    data = {
        "database": str(db_path),
        "runs": len(records),
        "accuracy": stats.accuracy,
        "confidence": args.confidence,
        "ece": report.ece,
        "brier": report.brier,
        "bins": [
            {
                "lower": b.lower,
                "upper": b.upper,
                "count": b.count,
                "mean_confidence": b.mean_confidence,
                "accuracy": b.accuracy,
            }
            for b in report.bins
        ],
        "accuracy_vs_samples": [
            {"n": p.n, "accuracy": p.accuracy, "questions": p.questions} for p in curve
        ],
        "selection": selection_gap_doc(gaps),
    }
    if args.json:
        print_json(data)
        return 0
    print(f"{len(records)} saved runs with a gold answer in {db_path}")
    print(
        f"accuracy {fmt(data['accuracy'])} · ECE {fmt(report.ece)} · Brier {fmt(report.brier)}"
        f"  (confidence = {args.confidence})"
    )
    print(f"  {'bin':<11}{'count':>6}{'mean conf':>11}{'accuracy':>10}")
    for b in report.bins:
        print(
            f"  {b.lower:.1f}–{b.upper:.1f}  {b.count:>6}{fmt(b.mean_confidence):>11}"
            f"{fmt(b.accuracy):>10}"
        )
    if curve:
        print("accuracy vs number of samples (majority vote over random subsets):")
        for p in curve:
            print(f"  n={p.n:<3} accuracy {fmt(p.accuracy)} over {p.questions} questions")
    print_selection_gap(gaps)
    return 0


def print_selection_gap(gaps: Sequence[SelectionGap]) -> None:
    """Each strategy's selection rules side by side with pass@k (the selection gap)."""
    from inspector.core.run_stats import SELECTION_LABELS, shown_rules

    if not gaps:
        return
    print("accuracy of each selection rule, per strategy:")
    rules = shown_rules(gaps)
    labels = [*(SELECTION_LABELS[r] for r in rules), "pass@k", "gap"]
    widths = [max(10, len(label) + 2) for label in labels]
    head = "".join(f"{label:>{w}}" for label, w in zip(labels, widths, strict=True))
    print(f"  {'strategy':<18}{'runs':>5}{head}")
    for g in gaps:
        cells = [g.accuracy[r] for r in rules] + [g.pass_at_k, g.gap]
        row = "".join(f"{fmt(c):>{w}}" for c, w in zip(cells, widths, strict=True))
        print(f"  {g.strategy:<18}{g.runs:>5}" + row)
        print(
            f"  {'':<18}     paths: {g.completed} of {g.paths} finished, {g.answered} "
            f"answered, {g.hit_limit} hit the token limit"
        )
    print("  pass@k: some path of the run is correct; gap: pass@k − the strategy's own accuracy")
