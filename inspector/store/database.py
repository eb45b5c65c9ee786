"""``Store``: the session database (one SQLite file, opened safely, migrated in place)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from types import TracebackType

from sqlite_utils import Database

from inspector.store.annotations import AnnotationsMixin
from inspector.store.errors import ReadOnlyError, StoreBusyError, StoreError
from inspector.store.experiments import ExperimentsMixin
from inspector.store.opening import FileState, check_writable, connect, inspect_file
from inspector.store.queries import QueriesMixin
from inspector.store.schema import latest_version, migrate, user_version
from inspector.store.sessions import SessionsMixin
from inspector.store.studies import StudiesMixin


class Store(SessionsMixin, ExperimentsMixin, QueriesMixin, AnnotationsMixin, StudiesMixin):
    """Sessions, data sets, experiments, annotations and studies in one SQLite file.

    Use :meth:`open`. One ``Store`` may be used from one thread at a time; several stores
    (in this or other processes) may share a file: writes are serialised by SQLite (WAL
    mode, a 5 s busy timeout, each operation one transaction).
    """

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False) -> Store:
        """Open (or create) the database at ``path``, upgrading an older schema in place.

        Raises a ``StoreError`` subclass, leaving the file untouched, if the file is not
        SQLite, is corrupt, belongs to another application, has a newer schema, or is
        read-only while ``read_only`` is false. ``read_only=True`` never writes (and needs
        an existing, current database). Sessions left ``running`` by a process that no
        longer exists are marked ``interrupted`` (see :mod:`inspector.store.writers`).
        """
        path = Path(path).expanduser()
        if read_only:
            return cls._open_read_only(path)
        if path.exists():
            inspect_file(path)
        else:
            _make_parent(path)
        check_writable(path)
        conn = connect(path, read_only=False)
        try:
            migrate(Database(conn, execute_plugins=False))
        except sqlite3.Error as exc:
            conn.close()
            kind = ReadOnlyError if "readonly" in str(exc) else StoreError
            raise kind(path, f"cannot prepare the database: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        store = cls(Database(conn, execute_plugins=False), path, read_only=False)
        store._recover()
        return store

    @classmethod
    def open_for_reading(cls, path: Path | str, *, create: bool = False) -> Store:
        """Open the database for a command that only reads it (``export``, ``stats``).

        A current database is opened read-only, so a read-only or immutable file (or one in
        a read-only directory) works. One with an older schema is upgraded in place when it
        can be written, else refused with what to do. A missing or empty file is created
        (an empty database) with ``create``, else refused.
        """
        path = Path(path).expanduser()
        if not path.exists():
            if create:
                return cls.open(path)
            raise StoreError(path, "no such database file")
        state = inspect_file(path)
        if state.empty and not create:
            raise StoreError(path, "is empty: not a session database yet")
        if not state.empty and state.version >= latest_version():
            return cls._open_read_only(path, state)
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            what = "is empty" if state.empty else f"has schema {state.version}"
            raise ReadOnlyError(
                path,
                f"{what} and needs upgrading to schema {latest_version()}, but it is "
                "read-only; make the file and its directory writable once (or copy it "
                "somewhere writable) so it can be upgraded",
            )
        return cls.open(path)

    def _recover(self) -> None:
        """Mark sessions left ``running`` by a dead process as interrupted (skipped, not
        fatal, if another program holds the write lock past the busy timeout)."""
        with contextlib.suppress(StoreBusyError):
            self.mark_orphaned()

    @classmethod
    def _open_read_only(cls, path: Path, state: FileState | None = None) -> Store:
        if state is None:
            if not path.exists():
                raise StoreError(path, "no such database file")
            state = inspect_file(path)
        if state.empty:
            raise StoreError(path, "is empty: not a session database yet")
        if state.version < latest_version():
            raise StoreError(
                path,
                f"has schema {state.version} and needs upgrading to {latest_version()}; "
                "open it once without read-only mode",
            )
        db = Database(connect(path, read_only=True), execute_plugins=False)
        return cls(db, path, read_only=True)

    @property
    def schema_version(self) -> int:
        return user_version(self.db)

    def integrity_check(self) -> list[str]:
        """``PRAGMA integrity_check``: ``["ok"]`` for a sound file."""
        return [row[0] for row in self.db.execute("PRAGMA integrity_check")]

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReadOnlyError(
            path, f"cannot create the directory {path.parent}: {exc.strerror or exc}"
        ) from exc
