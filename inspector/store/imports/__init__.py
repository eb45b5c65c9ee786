"""Import a JSON export (``inspector export --format json``) into a session database.

The whole file is read and validated first (:mod:`.reading`, with the field checks of
:mod:`.checks` and :mod:`.records`); only then is it written, in one transaction
(:mod:`.writing`). A bad file raises :class:`ImportFileError` naming the JSON location of the
problem and leaves the database as it was. A session id that already exists is refused unless
``replace=True``, which overwrites that session (its tree, paths, votes and annotations) with
the file's version.
"""

from __future__ import annotations

from pathlib import Path

from inspector.store.database import Store
from inspector.store.imports.reading import ImportDocument, ImportFileError, read_import
from inspector.store.imports.writing import ImportConflictError, ImportResult, apply_import

__all__ = [
    "ImportConflictError",
    "ImportDocument",
    "ImportFileError",
    "ImportResult",
    "apply_import",
    "import_json",
    "read_import",
]


def import_json(store: Store, path: Path | str, *, replace: bool = False) -> list[str]:
    """Validate ``path`` completely, then import it in one transaction; return the session
    ids imported. A bad file or a conflict raises and changes nothing."""
    return apply_import(store, read_import(path), replace=replace).session_ids
