"""Store errors: each carries one clear, user-facing message naming the file.

They subclass ``ValueError`` so the CLI reports them as one line, like other bad input.
"""

from __future__ import annotations

from pathlib import Path


class StoreError(ValueError):
    """Any problem with the session database."""

    def __init__(self, path: Path | str | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)


class NotSQLiteError(StoreError):
    """The file exists but is not an SQLite database."""


class CorruptDatabaseError(StoreError):
    """The file is an SQLite database that fails its integrity check."""


class NewerSchemaError(StoreError):
    """The database was written by a newer version of the application."""


class ForeignDatabaseError(StoreError):
    """An SQLite database that belongs to some other application."""


class ReadOnlyError(StoreError):
    """Writing is needed but the file, its directory or the store is read-only."""


class StoreBusyError(StoreError):
    """Another program held the database lock for longer than the busy timeout."""


class StoreFullError(StoreError):
    """The disk (or the quota) holding the database is full."""


class ExperimentBusyError(StoreError):
    """Another live process is running this experiment."""


class NotFoundError(StoreError):
    """No such session, experiment, data set or annotation."""
