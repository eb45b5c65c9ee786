"""`inspector bench`: capture cost and batching speed-ups of the local engine, the session
database at scale, and the window's responsiveness during a run."""

from __future__ import annotations

import argparse
import json
from typing import Any

from inspector.cli.model import add_model_options, model_settings
from inspector.cli.options import CONCURRENCY, REPEATS, bounded
from inspector.engine import Engine


def register(commands: Any) -> None:
    """Add ``bench`` to ``commands`` (argparse subparsers)."""
    bench = commands.add_parser("bench", help="measure capture cost and batching speed-ups")
    add_model_options(bench)
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.add_argument(
        "--repeats", type=bounded(REPEATS), default=3, help="timings per figure (median taken)"
    )
    bench.add_argument("--quick", action="store_true", help="shorter runs (a smoke test)")
    bench.add_argument(
        "--store", action="store_true", help="session database figures (10,000 synthetic sessions)"
    )
    bench.add_argument(
        "--gui", action="store_true", help="how long the window's event loop stalls during a run"
    )
    bench.add_argument(
        "--remote", action="store_true",
        help="a self-consistency experiment against a server at concurrency 1 and N "
        "(a loopback server with injected latency, or the server at --base-url)",
    )  # fmt: skip
    bench.add_argument(
        "--concurrency", type=bounded(CONCURRENCY), default=16, metavar="N",
        help="the concurrency (requests in flight) --remote compares with 1 (default 16)",
    )  # fmt: skip
    bench.set_defaults(handler=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from inspector.bench.engine import format_table, run_benchmark

    if args.remote:
        return _bench_remote(args)
    if args.backend != "local":
        raise ValueError("bench measures the local engine; it does not take --backend openai")
    if args.store:
        return _bench_store(args)
    if args.gui:
        return _bench_gui(args)
    with Engine.load(getattr(args, "model", None), model_settings(args)) as engine:
        if not args.json:
            print(
                f"model: {engine.info().description}, threads: {engine.runtime.settings.n_threads}"
            )
        result = run_benchmark(engine, repeats=args.repeats, quick=args.quick)
    print(json.dumps(result.figures, indent=2) if args.json else format_table(result))
    return 0


def _bench_remote(args: argparse.Namespace) -> int:
    import os

    from inspector.bench.remote import RemoteBenchPlan, format_figures, run_remote_benchmark
    from inspector.engine.remote_http import HttpSettings

    plan = RemoteBenchPlan(concurrencies=(1, args.concurrency))
    if args.quick:
        plan = RemoteBenchPlan(questions=8, samples=4, concurrencies=plan.concurrencies)
    key = getattr(args, "api_key", None) or os.environ.get("INSPECTOR_API_KEY") or None
    http = HttpSettings(timeout=args.timeout, ca_bundle=args.ca_bundle)
    if not args.json:
        print(f"remote bench: {plan.questions} questions × {plan.samples} samples", flush=True)
    line = None if args.json else (lambda text: print(text, flush=True))
    figures = run_remote_benchmark(plan, args.base_url, key, http, on_line=line)
    print(json.dumps(figures, indent=2) if args.json else format_figures(figures))
    return 0


def _bench_gui(args: argparse.Namespace) -> int:
    from inspector.bench.gui import measure_big_tree, measure_gui_stall

    figures = {**measure_gui_stall(), **measure_big_tree()}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print("GUI event loop (5 ms heartbeat) during a CoT-decoding run (k = 10 × 64 tokens)")
        print("and a self-consistency experiment (4 questions × 8 samples × 48 tokens), and a")
        print("synthetic 1,000-path tree (open, zoom and pan, each with a full repaint):")
        print("\n".join(f"  {key:<28} {value}" for key, value in figures.items()))
    return 0


def _bench_store(args: argparse.Namespace) -> int:
    import tempfile

    from inspector.bench.store import format_figures, run_store_benchmark

    with tempfile.TemporaryDirectory(prefix="inspector-bench-") as tmp:
        figures = run_store_benchmark(tmp, 1000 if args.quick else 10_000)
    print(json.dumps(figures, indent=2) if args.json else format_figures(figures))
    return 0
