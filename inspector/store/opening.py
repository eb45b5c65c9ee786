"""Open a database file safely: inspect it read-only first, refuse what we must not touch.

Every check runs before anything could write to the file, so a file that is not SQLite,
corrupt, from a newer version, some other application's database or read-only is reported
with one clear message and left byte-for-byte as it was.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from inspector.store.errors import (
    CorruptDatabaseError,
    ForeignDatabaseError,
    NewerSchemaError,
    NotSQLiteError,
    ReadOnlyError,
    StoreError,
)
from inspector.store.schema import APPLICATION_ID, latest_version

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class FileState:
    """What a read-only look at an existing file found."""

    version: int
    empty: bool  # no tables at all (a new or zero-length file)


def _read_header(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(path, f"cannot read the database file: {exc.strerror or exc}") from exc


def _uri(path: Path, mode: str, *, immutable: bool = False) -> str:
    flags = "&immutable=1" if immutable else ""
    return f"file:{quote(str(path.resolve()))}?mode={mode}{flags}"


def _side_files_exist(path: Path) -> bool:
    """True if a WAL or shared-memory file sits next to ``path`` (the file is in use, or a
    crashed process left committed pages there that a reader must see)."""
    return any(path.with_name(path.name + suffix).exists() for suffix in ("-wal", "-shm"))


def inspect_file(path: Path) -> FileState:
    """Look at an existing file without writing to it; raise a ``StoreError`` if unusable."""
    if path.is_dir():
        raise StoreError(path, "is a directory, not a database file")
    header = _read_header(path)
    if not header:
        return FileState(version=0, empty=True)
    if header != SQLITE_HEADER:
        raise NotSQLiteError(path, "is not an SQLite database (wrong file header)")
    # Without side files, read it as immutable: a WAL-mode file opened even read-only would
    # otherwise get new -wal/-shm files next to it.
    uri = _uri(path, "ro", immutable=not _side_files_exist(path))
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(path, f"cannot open the database: {exc}") from exc
    try:
        return _check_contents(path, conn)
    finally:
        conn.close()


def _check_contents(path: Path, conn: sqlite3.Connection) -> FileState:
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        tables = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(path, f"the database is busy: {exc}") from exc
        raise CorruptDatabaseError(path, f"the database is corrupt ({exc})") from exc
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(path, f"the database is corrupt ({exc})") from exc
    if problems != ["ok"]:
        detail = "; ".join(problems[:3])
        raise CorruptDatabaseError(path, f"the database is corrupt (integrity check: {detail})")
    if app_id not in (0, APPLICATION_ID) or (version == 0 and tables):
        raise ForeignDatabaseError(
            path, "is an SQLite database of another application, not a session database"
        )
    if version > latest_version():
        raise NewerSchemaError(
            path,
            f"was written by a newer version of Reasoning Inspector (schema {version}; "
            f"this version knows up to {latest_version()}); upgrade the application",
        )
    return FileState(version=version, empty=tables == 0)


def check_writable(path: Path) -> None:
    """Raise ``ReadOnlyError`` unless the file (if it exists) and its directory are writable
    (WAL mode keeps two side files next to the database)."""
    directory = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        raise ReadOnlyError(path, "the database file is read-only; open it read-only to browse")
    if not os.access(directory, os.W_OK):
        raise ReadOnlyError(path, f"the directory {directory} is not writable")


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL mode (kept in the file, so usually already on). Two first openers of a
    new file race for this switch and SQLite answers "locked" at once, without its busy
    handler: retry within the busy timeout like any other write."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """A connection with foreign keys on and a busy timeout (and WAL mode when writing)."""
    if read_only:
        # a read-only directory cannot hold the WAL side files: read the file as immutable
        frozen = not os.access(path.parent, os.W_OK) and not _side_files_exist(path)
        target = _uri(path, "ro", immutable=frozen)
    else:
        target = _uri(path, "rwc")
    try:
        conn = sqlite3.connect(
            target, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        raise StoreError(path, f"cannot open the database: {exc}") from exc
    return conn
