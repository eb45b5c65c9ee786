"""Annotations (a label, a note, tags) on a session, a path or a token range, and the labels."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from inspector.store.base import StoreBase, now
from inspector.store.errors import NotFoundError, StoreError
from inspector.store.rows import Annotation, AnnotationRow

_UNSET: Any = object()
_COLUMNS = (
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


class AnnotationsMixin(StoreBase):
    """CRUD for annotations; labels come from the configurable ``labels`` table."""

    def labels(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM labels ORDER BY position, name")]

    def label_descriptions(self) -> list[tuple[str, str]]:
        """(name, description) of every label, in the labels' order."""
        rows = self.db.execute("SELECT name, description FROM labels ORDER BY position, name")
        return [(name, description) for name, description in rows]

    def ensure_labels(self, labels: Iterable[tuple[str, str]]) -> None:
        """Add each (name, description) not defined yet, after the existing labels (those
        already defined keep their description)."""
        with self.transaction() as db:
            db.conn.executemany(
                "INSERT INTO labels (name, description, position) VALUES (?, ?, "
                "(SELECT coalesce(max(position) + 1, 0) FROM labels)) "
                "ON CONFLICT (name) DO NOTHING",
                list(labels),
            )

    def add_label(self, name: str, description: str = "") -> None:
        name = name.strip()
        if not name:
            raise StoreError(self.path, "a label needs a name")
        with self.transaction() as db:
            position = db.execute("SELECT coalesce(max(position) + 1, 0) FROM labels").fetchone()
            db.execute(
                "INSERT INTO labels (name, description, position) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET description = excluded.description",
                [name, description, position[0]],
            )

    def add_annotation(
        self,
        session_id: str,
        label: str | None = None,
        *,
        path_id: int | None = None,
        token_start: int | None = None,
        token_end: int | None = None,
        note: str = "",
        tags: Iterable[str] = (),
    ) -> int:
        """Annotate a session (no ``path_id``), a path, or tokens [start, end) of a path."""
        _check_target(path_id, token_start, token_end)
        stamp = now()
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone() is None:
                raise NotFoundError(self.path, f"no session {session_id!r}")
            self._check_label(label)
            cursor = db.execute(
                "INSERT INTO annotations (session_id, path_id, token_start, token_end, label, "
                "note, tags, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    session_id,
                    path_id,
                    token_start,
                    token_end,
                    label,
                    note,
                    _tags(tags),
                    stamp,
                    stamp,
                ],
            )
            return int(cursor.lastrowid or 0)

    def insert_annotations(self, rows: Iterable[AnnotationRow]) -> None:
        """Insert annotations exactly as given (an import; their sessions, paths and labels
        must exist)."""
        with self.transaction() as db:
            db.conn.executemany(
                f"INSERT INTO annotations ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                [
                    (
                        *(r["session_id"], r["path_id"], r["token_start"], r["token_end"]),
                        *(r["label"], r["note"], r["tags"], r["created"], r["updated"]),
                    )
                    for r in rows
                ],
            )

    def annotations(self, session_id: str, path_id: int | None = None) -> list[Annotation]:
        """A session's annotations (only one path's with ``path_id``), oldest first."""
        sql = "SELECT * FROM annotations WHERE session_id = ?"
        params: list[Any] = [session_id]
        if path_id is not None:
            sql += " AND path_id = ?"
            params.append(path_id)
        return [_annotation(r) for r in self.db.query(sql + " ORDER BY created, id", params)]

    def annotation(self, annotation_id: int) -> Annotation:
        rows = list(self.db.query("SELECT * FROM annotations WHERE id = ?", [annotation_id]))
        if not rows:
            raise NotFoundError(self.path, f"no annotation {annotation_id}")
        return _annotation(rows[0])

    def update_annotation(
        self,
        annotation_id: int,
        *,
        label: str | None = _UNSET,
        note: str = _UNSET,
        tags: Iterable[str] = _UNSET,
    ) -> None:
        """Change the given fields (``label=None`` clears the label)."""
        changes: dict[str, Any] = {}
        if label is not _UNSET:
            changes["label"] = label
        if note is not _UNSET:
            changes["note"] = note
        if tags is not _UNSET:
            changes["tags"] = _tags(tags)
        with self.transaction() as db:
            if "label" in changes:
                self._check_label(label)
            assignments = ", ".join(f"{column} = ?" for column in [*changes, "updated"])
            cursor = db.execute(
                f"UPDATE annotations SET {assignments} WHERE id = ?",
                [*changes.values(), now(), annotation_id],
            )
            if cursor.rowcount == 0:
                raise NotFoundError(self.path, f"no annotation {annotation_id}")

    def delete_annotation(self, annotation_id: int) -> None:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM annotations WHERE id = ?", [annotation_id])
            if cursor.rowcount == 0:
                raise NotFoundError(self.path, f"no annotation {annotation_id}")

    def _check_label(self, label: str | None) -> None:
        if label is None:
            return
        if self.db.execute("SELECT 1 FROM labels WHERE name = ?", [label]).fetchone() is None:
            known = ", ".join(self.labels())
            raise StoreError(self.path, f"unknown label {label!r} (known: {known})")


def _check_target(path_id: int | None, start: int | None, end: int | None) -> None:
    if (start is None) != (end is None):
        raise ValueError("a token range needs both token_start and token_end")
    if start is not None and end is not None:
        if path_id is None:
            raise ValueError("a token range needs the path it belongs to (path_id)")
        if not 0 <= start < end:
            raise ValueError(f"bad token range [{start}, {end})")


def _tags(tags: Iterable[str]) -> str:
    if isinstance(tags, str):
        raise ValueError("tags must be a list of strings, not one string")
    return json.dumps([str(tag) for tag in tags], ensure_ascii=False)


def _annotation(row: dict[str, Any]) -> Annotation:
    return Annotation(
        id=row["id"],
        session_id=row["session_id"],
        path_id=row["path_id"],
        token_start=row["token_start"],
        token_end=row["token_end"],
        label=row["label"],
        note=row["note"],
        tags=tuple(json.loads(row["tags"])),
        created=row["created"],
        updated=row["updated"],
    )
