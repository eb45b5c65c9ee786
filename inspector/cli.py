"""The `inspector` command: no subcommand opens the GUI; subcommands run headless.

Every expected failure (a bad model file, a bad option) ends with one line on stderr and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from inspector import __version__
from inspector.engine import Engine, EngineError, ModelSettings


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Reasoning Inspector: explore a local model's branching reasoning paths. "
        "Run without a subcommand to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--model", metavar="PATH", help="GGUF model for the desktop app")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = commands.add_parser("info", help="describe a model file and this llama.cpp build")
    _model_options(info)
    info.add_argument("--json", action="store_true", help="machine-readable output")

    bench = commands.add_parser("bench", help="measure capture cost and batching speed-ups")
    _model_options(bench)
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.add_argument("--repeats", type=int, default=3, help="timings per figure (median taken)")
    bench.add_argument("--quick", action="store_true", help="shorter runs (a smoke test)")
    return parser


def _model_settings(args: argparse.Namespace) -> ModelSettings:
    extra = {"n_threads": args.threads} if args.threads is not None else {}
    return ModelSettings(n_ctx=args.ctx, n_gpu_layers=args.gpu_layers, **extra)


def cmd_info(args: argparse.Namespace) -> int:
    with Engine.load(args.model, _model_settings(args)) as engine:
        info = engine.info()
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
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
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name.ljust(width)}  {value}" for name, value in rows))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from inspector.engine.benchmark import format_table, run_benchmark

    if args.repeats < 1:
        raise SystemExit("inspector bench: error: --repeats must be at least 1")
    with Engine.load(args.model, _model_settings(args)) as engine:
        if not args.json:
            print(
                f"model: {engine.info().description}, threads: {engine.runtime.settings.n_threads}"
            )
        result = run_benchmark(engine, repeats=args.repeats, quick=args.quick)
    print(json.dumps(result.figures, indent=2) if args.json else format_table(result))
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from inspector.ui.app import run_app

    return run_app(model_path=args.model)


COMMANDS = {"info": cmd_info, "bench": cmd_bench, None: cmd_gui}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except EngineError as error:
        print(f"inspector: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("inspector: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
