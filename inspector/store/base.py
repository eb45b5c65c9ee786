"""The connection and the write transaction every part of the store shares."""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from inspector.store import writers
from inspector.store.errors import (
    ReadOnlyError,
    StoreBusyError,
    StoreError,
    StoreFullError,
)


def now() -> str:
    """The current UTC time as ISO 8601 (the format of ``Session.created``)."""
    return datetime.now(timezone.utc).isoformat()


def to_json(value: Any) -> str:
    """Canonical JSON (sorted keys) so equal settings give equal text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class StoreBase:
    """Holds the sqlite-utils ``Database``; subclasses add the operations."""

    def __init__(self, db: Database, path: Path, *, read_only: bool) -> None:
        self.db = db
        self.path = path
        self.read_only = read_only
        # session id -> (updated stamp, node layout) of this store's last save of it
        self._saved: OrderedDict[str, tuple[str, dict[int, Any]]] = OrderedDict()
        self._writer = writers.this_writer()
        self._depth = 0  # nesting of transaction() blocks

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One ``BEGIN IMMEDIATE`` transaction (committed on success, rolled back on error).

        Taking the write lock up front means a concurrent writer waits up to the busy timeout
        instead of failing half-way; a lock held longer raises ``StoreBusyError``. Store
        methods called inside the block join it, so several writes are all-or-nothing::

            with store.transaction():
                store.clear_session(sid)
                store.write_session(session, summary, updated=stamp)
        """
        if self.read_only:
            raise ReadOnlyError(self.path, "the database was opened read-only")
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._translate(exc) from exc
        self._depth = 1
        try:
            yield self.db
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise self._translate(exc) from exc
        except BaseException:
            self._rollback()
            raise
        finally:
            self._depth = 0

    _write = transaction  # the former private name (inspector.bench still uses it)

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """A read transaction: the queries inside see one consistent state of the file.

        Inside a write transaction it simply joins it. A lock held by another program past
        the busy timeout, or a failing disk, raises a ``StoreError`` naming the file.
        """
        conn = self.db.conn
        if conn.in_transaction:
            yield self.db
            return
        try:
            conn.execute("BEGIN")
            yield self.db
        except sqlite3.OperationalError as exc:
            raise self._translate(exc) from exc
        finally:
            self._rollback()

    def _rollback(self) -> None:
        if self.db.conn.in_transaction:
            self.db.conn.execute("ROLLBACK")

    def _translate(self, exc: sqlite3.OperationalError) -> StoreError | sqlite3.Error:
        """A ``StoreError`` naming the file and what to do for a lock, a read-only file, a
        full disk or a failing disk; any other error (a bug) unchanged."""
        return translate_error(self.path, exc)

    def _model_id(self, model: dict[str, Any]) -> int:
        """The ``models`` row for this exact model description, inserted if new."""
        metadata = to_json(model)
        path = model.get("path")
        path = str(path) if path is not None else None
        row = self.db.execute(
            "SELECT id FROM models WHERE path IS ? AND metadata = ?", [path, metadata]
        ).fetchone()
        if row is not None:
            return int(row[0])
        description = model.get("description")
        cursor = self.db.execute(
            "INSERT INTO models (path, description, metadata, created) VALUES (?, ?, ?, ?)",
            [path, None if description is None else str(description), metadata, now()],
        )
        return int(cursor.lastrowid or 0)


def translate_error(path: Path, exc: sqlite3.OperationalError) -> StoreError | sqlite3.Error:
    """What an ``OperationalError`` from SQLite means for the user of the file at ``path``."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreBusyError(
            path,
            "the database is busy (another program is using it); close that program or "
            "wait for it to finish, then try again",
        )
    if "readonly" in text or "read-only" in text:
        return ReadOnlyError(path, f"cannot write to the database ({text})")
    if "disk is full" in text:
        return StoreFullError(
            path,
            "the disk holding the database is full (nothing was saved by the failed step); "
            "free some space and try again",
        )
    if "disk I/O error" in text or "unable to open database file" in text:
        return StoreError(path, f"cannot read or write the database file ({text})")
    return exc
