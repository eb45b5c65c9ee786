"""Writing a validated import in one transaction (see ``importing`` for the checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inspector.store import codec
from inspector.store.base import now, to_json
from inspector.store.errors import StoreError

if TYPE_CHECKING:
    from inspector.store.importing import ImportDocument, ImportedSession
    from inspector.store.importing_records import ImportedExperiment


class ImportConflictError(StoreError):
    """A session in the file already exists in the database (and ``replace`` was not set)."""


@dataclass
class ImportResult:
    session_ids: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    experiment_id: int | None = None
    annotations: int = 0


def apply_import(store: Any, document: ImportDocument, *, replace: bool = False) -> ImportResult:
    """Write a validated document (one transaction: all of it or nothing)."""
    ids = [item.session.id for item in document.sessions]
    result = ImportResult(session_ids=ids)
    with store._write() as db:
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
            for table in ("annotations", "votes", "paths", "tokens", "nodes"):
                db.execute(f"DELETE FROM {table} WHERE session_id = ?", [sid])
        _write_labels(db, document)
        for item in document.sessions:
            _write_session(store, db, item)
        _write_annotations(db, document.annotations)
        result.annotations = len(document.annotations)
        if document.experiment is not None:
            result.experiment_id = _write_experiment(store, db, document.experiment, replace)
    for sid in ids:
        store._saved.pop(sid, None)
    return result


def _write_labels(db: Any, document: ImportDocument) -> None:
    described = dict(document.labels)
    used = {a["label"] for a in document.annotations if a["label"] is not None}
    for name in [*described, *sorted(used - described.keys())]:
        db.execute(
            "INSERT INTO labels (name, description, position) VALUES (?, ?, "
            "(SELECT coalesce(max(position) + 1, 0) FROM labels)) ON CONFLICT (name) DO NOTHING",
            [name, described.get(name, "")],
        )


def _write_session(store: Any, db: Any, item: ImportedSession) -> None:
    session = item.session
    row = codec.session_row(session, item.summary, store._model_id(session.model), item.updated)
    row["deleted_at"] = item.deleted_at
    db["sessions"].upsert(row, pk="id")
    store._write_nodes(session, codec.node_layout(session), {})
    db["paths"].insert_all(codec.path_row(session.id, p) for p in session.paths)
    db["votes"].insert_all(codec.vote_rows(session.id, item.summary))


def _write_annotations(db: Any, annotations: list[dict[str, Any]]) -> None:
    columns = (
        "session_id",
        "path_id",
        "token_start",
        "token_end",
        "label",
        "note",
        "tags",
        "created",
        "updated",
    )
    db.conn.executemany(
        f"INSERT INTO annotations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[a[c] for c in columns] for a in annotations],
    )


def _write_experiment(store: Any, db: Any, exp: ImportedExperiment, replace: bool) -> int:
    dataset_id = _write_dataset(db, exp)
    settings = to_json(exp.settings)
    found = db.execute(
        "SELECT id FROM experiments WHERE dataset_id = ? AND settings = ? AND name = ? "
        "AND created = ? ORDER BY id DESC LIMIT 1",
        [dataset_id, settings, exp.name, exp.created],
    ).fetchone()
    model_id = store._model_id(exp.model)
    if found is not None and replace:
        experiment_id = int(found[0])
        db.execute(
            "UPDATE experiments SET strategy = ?, model_id = ?, status = ?, updated = ? "
            "WHERE id = ?",
            [exp.strategy, model_id, exp.status, exp.updated, experiment_id],
        )
        db.execute("DELETE FROM experiment_runs WHERE experiment_id = ?", [experiment_id])
    else:
        cursor = db.execute(
            "INSERT INTO experiments (name, dataset_id, settings, strategy, model_id, status, "
            "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                *(exp.name, dataset_id, settings, exp.strategy),
                *(model_id, exp.status, exp.created, exp.updated),
            ],
        )
        experiment_id = int(cursor.lastrowid or 0)
    db.conn.executemany(
        "INSERT INTO experiment_runs (experiment_id, question_index, session_id, created) "
        "VALUES (?, ?, ?, ?)",
        [(experiment_id, *run) for run in exp.runs],
    )
    return experiment_id


def _write_dataset(db: Any, exp: ImportedExperiment) -> int:
    """The stored data set with these questions (by sha256), inserted if new."""
    row = db.execute("SELECT id FROM datasets WHERE sha256 = ?", [exp.sha256]).fetchone()
    if row is not None:
        return int(row[0])
    cursor = db.execute(
        "INSERT INTO datasets (name, source_path, sha256, n_questions, created) "
        "VALUES (?, ?, ?, ?, ?)",
        [exp.dataset.name, exp.source_path, exp.sha256, len(exp.dataset.questions), now()],
    )
    dataset_id = int(cursor.lastrowid or 0)
    db.conn.executemany(
        "INSERT INTO dataset_questions (dataset_id, idx, question, answer, solution, ext_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (dataset_id, q.index, q.question, q.answer, q.solution, q.id)
            for q in exp.dataset.questions
        ],
    )
    return dataset_id
