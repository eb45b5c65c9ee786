"""The session database: SQLite via sqlite-utils, no Qt. See ``docs/schema.md``."""

from inspector.store.database import Store
from inspector.store.errors import (
    CorruptDatabaseError,
    ExperimentBusyError,
    ForeignDatabaseError,
    NewerSchemaError,
    NotFoundError,
    NotSQLiteError,
    ReadOnlyError,
    StoreBusyError,
    StoreError,
    StoreFullError,
)
from inspector.store.location import default_db_path, resolve_db_path
from inspector.store.rows import Annotation, ExperimentResult, RunRecord, SessionRow
from inspector.store.schema import DEFAULT_LABELS, latest_version

__all__ = [
    "DEFAULT_LABELS",
    "Annotation",
    "CorruptDatabaseError",
    "ExperimentBusyError",
    "ExperimentResult",
    "ForeignDatabaseError",
    "NewerSchemaError",
    "NotFoundError",
    "NotSQLiteError",
    "ReadOnlyError",
    "RunRecord",
    "SessionRow",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreFullError",
    "default_db_path",
    "latest_version",
    "resolve_db_path",
]
