"""`inspector export` and `inspector import`: sessions and experiments in and out of the store.

Formats are described in ``docs/exports.md``. Errors (unknown session, bad import file,
conflicting ids, unwritable output) are ``ValueError``/``OSError`` and reach the user as one
line through ``inspector.cli.main``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inspector.store.export import EXPORT_FORMATS


def register(commands: Any) -> None:
    """Add the ``export`` and ``import`` subcommands to ``commands`` (argparse subparsers)."""
    export = commands.add_parser(
        "export", help="export a session or an experiment (json, html, md, csv, jsonl)"
    )
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--session", metavar="ID", help="the session to export")
    target.add_argument("--experiment", type=int, metavar="ID", help="the experiment to export")
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True, dest="fmt")
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    export.add_argument("--db", metavar="PATH", help="session database")
    export.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists (never a database)"
    )
    export.add_argument(
        "--pairs",
        action="store_true",
        help="jsonl: prompt/completion records instead of chat messages",
    )
    export.add_argument(
        "--no-plots", action="store_true", help="html/md: tables only, no rendered plots"
    )
    export.set_defaults(handler=cmd_export)

    imp = commands.add_parser("import", help="import a JSON export into the session database")
    imp.add_argument("file", help="a file written by `inspector export --format json`")
    imp.add_argument("--db", metavar="PATH", help="session database")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="overwrite sessions whose ids already exist (default: refuse)",
    )
    imp.set_defaults(handler=cmd_import)


def _renderer(args: argparse.Namespace) -> Any:
    if args.fmt not in ("html", "md") or args.no_plots:
        return None
    try:
        from inspector.ui.shared.plot_render import QtPlotRenderer
    except ImportError as exc:  # Qt missing: still export, with tables instead of plots
        print(f"inspector: warning: no plots ({exc})", file=sys.stderr)
        return None
    return QtPlotRenderer()


def cmd_export(args: argparse.Namespace) -> int:
    from inspector.store import Store, resolve_db_path
    from inspector.store.export import export

    db_path = resolve_db_path(args.db)
    with Store.open_for_reading(db_path) as store:
        result = export(
            store,
            Path(args.output),
            args.fmt,
            session_id=args.session,
            experiment_id=args.experiment,
            render=_renderer(args),
            pairs=args.pairs,
            force=args.force,
        )
    what = f"session {args.session}" if args.session else f"experiment {args.experiment}"
    extra = ""
    if result.records is not None:
        extra = f" ({result.records} training record{'s' if result.records != 1 else ''})"
    elif len(result.files) > 1:
        extra = f" (+ {len(result.files) - 1} image(s) in {result.files[1].parent})"
    print(f"exported {what} to {result.files[0]}{extra}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from inspector.store import Store, resolve_db_path
    from inspector.store.imports import apply_import, read_import

    document = read_import(args.file)  # the whole file is checked before the database opens
    db_path = resolve_db_path(args.db)
    with Store.open(db_path) as store:
        result = apply_import(store, document, replace=args.replace)
    n = len(result.session_ids)
    print(f"imported {n} session{'s' if n != 1 else ''} into {db_path}")
    for sid in result.session_ids:
        print(f"  {sid}{' (replaced)' if sid in result.replaced else ''}")
    if result.experiment_id is not None:
        print(f"experiment {result.experiment_id}")
    return 0
