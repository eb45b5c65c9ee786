"""What every subcommand shares: the session database it opens, JSON and progress output."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.store import Store, resolve_db_path

if TYPE_CHECKING:
    from inspector.engine.backend import Backend


def open_store(args: argparse.Namespace, *, read_only: bool = False) -> tuple[Store, Path]:
    """The database of ``--db`` (or ``$INSPECTOR_DB``, or the user data directory);
    ``read_only`` for a command that only reads (it then works on a read-only file)."""
    path = resolve_db_path(args.db)
    if read_only:
        return Store.open_for_reading(path, create=True), path
    return Store.open(path), path


def print_notices(engine: Backend) -> None:
    """What a remote server could not provide (fewer alternatives, no ``n``), on stderr."""
    for notice in engine.notices:
        print(f"inspector: note: {notice}", file=sys.stderr)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


def progress_line(text: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[K{text}")
        sys.stderr.flush()
