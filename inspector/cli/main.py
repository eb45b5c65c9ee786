"""The `inspector` command: no subcommand opens the GUI; subcommands run headless.

Each subcommand group lives in its own module of this package and adds itself to the parser
(``register``); every expected failure (a bad model file, a bad option) ends with one line on
stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from inspector import __version__
from inspector.cli import bench, model, run, stats, store, studies
from inspector.engine import EngineError


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
    parser.set_defaults(handler=cmd_gui)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (model, bench, run, stats, store, studies):
        group.register(commands)
    return parser


def cmd_gui(args: argparse.Namespace) -> int:
    from inspector.store import resolve_db_path
    from inspector.ui.app import run_app

    return run_app(model_path=args.model, db_path=resolve_db_path(args.gui_db))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_text_arguments(args)
        status = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        return _reader_went_away()
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


# argparse destinations holding text that is saved or sent to a model (not file paths, which
# may legitimately hold undecodable bytes)
TEXT_ARGUMENTS = ("question", "gold", "name", "answer_rule", "remote_model")


def check_text_arguments(args: argparse.Namespace) -> None:
    """Text that is not valid UTF-8 (undecodable bytes in argv) gets one clear message before
    anything runs, instead of failing deep inside the database."""
    for dest in TEXT_ARGUMENTS:
        value = getattr(args, dest, None)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                option = dest if dest == "question" else "--" + dest.replace("_", "-")
                raise ValueError(
                    f"{option} is not valid UTF-8 text: check the terminal's encoding"
                ) from None


def _reader_went_away() -> int:
    """stdout's reader closed early (``inspector stats | head -1``): stop quietly, as Unix
    tools do, with the status of a process ended by SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141


if __name__ == "__main__":
    sys.exit(main())
