"""``Store``: the session database (one SQLite file, opened safely, migrated in place)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from types import TracebackType

from sqlite_utils import Database

from inspector.store.annotations import AnnotationsMixin
from inspector.store.errors import ReadOnlyError, StoreBusyError, StoreError
from inspector.store.experiments import ExperimentsMixin
from inspector.store.opening import check_writable, connect, inspect_file
from inspector.store.queries import QueriesMixin
from inspector.store.schema import latest_version, migrate, user_version
from inspector.store.sessions import SessionsMixin


class Store(SessionsMixin, ExperimentsMixin, QueriesMixin, AnnotationsMixin):
    """Sessions, data sets, experiments and annotations in one SQLite file.

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

    def _recover(self) -> None:
        """Mark sessions left ``running`` by a dead process as interrupted (skipped, not
        fatal, if another program holds the write lock past the busy timeout)."""
        with contextlib.suppress(StoreBusyError):
            self.mark_orphaned()

    @classmethod
    def _open_read_only(cls, path: Path) -> Store:
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
