"""Writing a validated import (see :mod:`.reading`) in one store transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.store.database import Store
from inspector.store.errors import StoreError
from inspector.store.imports.reading import ImportDocument
from inspector.store.imports.studies import write_studies


class ImportConflictError(StoreError):
    """A session in the file already exists in the database (and ``replace`` was not set)."""


@dataclass
class ImportResult:
    session_ids: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    experiment_id: int | None = None
    annotations: int = 0
    studies: int = 0


def apply_import(store: Store, document: ImportDocument, *, replace: bool = False) -> ImportResult:
    """Write a validated document (one transaction: all of it or nothing)."""
    ids = [item.session.id for item in document.sessions]
    result = ImportResult(session_ids=ids)
    with store.transaction():
        result.replaced = [sid for sid in ids if store.has_session(sid)]
        if result.replaced and not replace:
            more = len(result.replaced) - 1
            extra = f" (and {more} more)" if more else ""
            raise ImportConflictError(
                store.path,
                f"session {result.replaced[0]!r}{extra} already exists; nothing was imported "
                "(import with --replace to overwrite)",
            )
        for sid in result.replaced:
            store.clear_session(sid)
        store.ensure_labels(_labels(document))
        for item in document.sessions:
            store.write_session(
                item.session, item.summary, updated=item.updated, deleted_at=item.deleted_at
            )
        store.insert_annotations(document.annotations)
        result.annotations = len(document.annotations)
        write_studies(store, document.studies, result.replaced)
        result.studies = len(document.studies)
        if document.experiment is not None:
            result.experiment_id = store.restore_experiment(document.experiment, replace=replace)
    return result


def _labels(document: ImportDocument) -> list[tuple[str, str]]:
    """The file's labels, then those its annotations use without describing them."""
    described = dict(document.labels)
    used = {a["label"] for a in document.annotations if a["label"] is not None}
    return [
        (name, described.get(name, "")) for name in [*described, *sorted(used - described.keys())]
    ]
