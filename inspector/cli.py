"""The `inspector` command: no subcommand opens the GUI; subcommands run headless.

Every expected failure (a bad model file, a bad option) ends with one line on stderr and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from inspector import __version__
from inspector.cli_run import add_run_options, cmd_experiment, cmd_run, cmd_stats
from inspector.cli_store import register as register_store_commands
from inspector.core.session import STRATEGIES
from inspector.engine import Engine, EngineError, ModelSettings

if TYPE_CHECKING:
    from inspector.engine.remote import RemoteEngine


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="PATH",
        default=argparse.SUPPRESS,  # keep a --model given before the subcommand
        help="a GGUF file (default: $INSPECTOR_MODEL or the bundled Gemma 3 270M)",
    )
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores, up to 8)")
    parser.add_argument(
        "--ctx", type=int, default=8192, help="context size in tokens (default 8192)"
    )
    parser.add_argument(
        "--gpu-layers", type=int, default=0, help="layers to offload to a GPU (-1 = all)"
    )
    remote = parser.add_argument_group("remote server (an OpenAI-compatible completions API)")
    remote.add_argument(
        "--backend", choices=("local", "openai"), default="local",
        help="local: llama.cpp in this process (default); openai: a server at --base-url",
    )  # fmt: skip
    remote.add_argument("--base-url", metavar="URL", help="e.g. http://gpu-box:8080/v1")
    remote.add_argument(
        "--api-key", metavar="KEY", default=argparse.SUPPRESS,
        help="sent as a bearer token, never saved (default: $INSPECTOR_API_KEY)",
    )  # fmt: skip
    remote.add_argument(
        "--remote-model",
        metavar="NAME",
        help="the model the server should use (default: its first)",
    )
    remote.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for one request (default 120)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Reasoning Inspector: explore a local model's branching reasoning paths. "
        "Run without a subcommand to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--model", metavar="PATH", help="GGUF model for the desktop app")
    parser.add_argument(
        "--db", dest="gui_db", metavar="PATH", help="session database for the desktop app"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = commands.add_parser("info", help="describe a model file and this llama.cpp build")
    _model_options(info)
    info.add_argument("--json", action="store_true", help="machine-readable output")

    bench = commands.add_parser("bench", help="measure capture cost and batching speed-ups")
    _model_options(bench)
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.add_argument("--repeats", type=int, default=3, help="timings per figure (median taken)")
    bench.add_argument("--quick", action="store_true", help="shorter runs (a smoke test)")
    bench.add_argument(
        "--store", action="store_true", help="session database figures (10,000 synthetic sessions)"
    )
    bench.add_argument(
        "--gui", action="store_true", help="how long the window's event loop stalls during a run"
    )

    run = commands.add_parser("run", help="run a strategy on one question and save the session")
    run.add_argument("question", help="the question to ask")
    run.add_argument("--gold", help="the known answer (to score the paths)")
    _model_options(run)
    add_run_options(run)

    experiment = commands.add_parser("experiment", help="run a strategy over a question set")
    experiment.add_argument("file", help="JSONL, CSV or GSM8K file with question and answer")
    experiment.add_argument("--limit", type=int, help="only the first N questions")
    experiment.add_argument("--name", help="a name for the experiment")
    _model_options(experiment)
    add_run_options(experiment)

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
    stats.add_argument("--bins", type=int, default=10, help="calibration bins (default 10)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    register_store_commands(commands)
    return parser


def _model_settings(args: argparse.Namespace) -> ModelSettings:
    extra = {"n_threads": args.threads} if args.threads is not None else {}
    return ModelSettings(n_ctx=args.ctx, n_gpu_layers=args.gpu_layers, **extra)


def cmd_info(args: argparse.Namespace) -> int:
    with load_engine(args) as engine:
        info = engine.info()
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    if info.architecture == "remote":
        print(f"server   {info.path.split('#')[0]}\nmodel    {info.path.split('#', 1)[1]}")
        print(f"connect  {info.load_seconds:.2f} s (OpenAI-compatible completions API)")
        return 0
    rows = [
        ("path", info.path),
        ("model", info.description),
        ("architecture", info.architecture),
        ("parameters", f"{info.n_params:,}"),
        ("vocabulary", f"{info.n_vocab:,} tokens"),
        ("context length", f"{info.context_length:,} tokens (trained)"),
        ("quantisation", info.quantization),
        ("file size", f"{info.file_size / 1e6:,.1f} MB"),
        ("chat template", "yes" if info.has_chat_template else "no"),
        ("GPU offload", "supported by this build" if info.gpu_offload_supported else "CPU only"),
        ("load time", f"{info.load_seconds:.2f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name.ljust(width)}  {value}" for name, value in rows))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from inspector.engine.benchmark import format_table, run_benchmark

    if args.repeats < 1:
        raise SystemExit("inspector bench: error: --repeats must be at least 1")
    if args.backend != "local":
        raise ValueError("bench measures the local engine; it does not take --backend openai")
    if args.store:
        return _bench_store(args)
    if args.gui:
        return _bench_gui(args)
    with load_engine(args) as engine:
        if not args.json:
            print(
                f"model: {engine.info().description}, threads: {engine.runtime.settings.n_threads}"
            )
        result = run_benchmark(engine, repeats=args.repeats, quick=args.quick)
    print(json.dumps(result.figures, indent=2) if args.json else format_table(result))
    return 0


def _bench_gui(args: argparse.Namespace) -> int:
    from inspector.ui.responsiveness import measure_big_tree, measure_gui_stall

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

    from inspector.store.benchmark import format_figures, run_store_benchmark

    with tempfile.TemporaryDirectory(prefix="inspector-bench-") as tmp:
        figures = run_store_benchmark(tmp, 1000 if args.quick else 10_000)
    print(json.dumps(figures, indent=2) if args.json else format_figures(figures))
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from inspector.store import resolve_db_path
    from inspector.ui.app import run_app

    return run_app(model_path=args.model, db_path=resolve_db_path(args.gui_db))


def load_engine(args: argparse.Namespace) -> Engine | RemoteEngine:
    if getattr(args, "backend", "local") == "openai":
        return connect_remote(args)
    return Engine.load(getattr(args, "model", None), _model_settings(args))


def connect_remote(args: argparse.Namespace) -> RemoteEngine:
    from inspector.engine.remote import RemoteEngine
    from inspector.engine.remote_http import HttpSettings

    if not args.base_url:
        raise ValueError("--backend openai needs --base-url (e.g. http://localhost:8080/v1)")
    if args.timeout <= 0:
        raise ValueError("--timeout must be positive")
    key = getattr(args, "api_key", None) or os.environ.get("INSPECTOR_API_KEY") or None
    http = HttpSettings(timeout=args.timeout)
    return RemoteEngine.connect(args.base_url, key, args.remote_model, http)


COMMANDS = {
    "info": cmd_info,
    "bench": cmd_bench,
    "run": lambda args: cmd_run(args, load_engine),
    "experiment": lambda args: cmd_experiment(args, load_engine),
    "stats": cmd_stats,
    "export": lambda args: args.store_command(args),
    "import": lambda args: args.store_command(args),
    None: cmd_gui,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (EngineError, ValueError, OSError) as error:
        # data set, prompt, answer-rule and store errors are ValueErrors with a clear message
        print(f"inspector: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("inspector: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: still one line, with the traceback only on request
        if os.environ.get("INSPECTOR_DEBUG"):
            raise
        print(
            f"inspector: unexpected error ({type(error).__name__}): {error} "
            "(set INSPECTOR_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
