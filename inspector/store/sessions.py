"""Saving, loading, listing, renaming and (soft) deleting sessions."""

from __future__ import annotations

import json
from typing import Any

from inspector.core.session import Session, SessionSummary
from inspector.store import codec, writers
from inspector.store.base import StoreBase, now
from inspector.store.errors import NotFoundError
from inspector.store.rows import SessionRow, SessionStamps, as_bool

_REMEMBERED_SESSIONS = 16  # node layouts kept for incremental saves


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '\\'`` with the user's own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SessionsMixin(StoreBase):
    """Sessions: the tree, its tokens, paths and votes, and the summary columns."""

    def save_session(self, session: Session) -> None:
        """Write the session's current state in one transaction.

        Idempotent: paths and votes are rewritten, and so are the nodes (with their tokens)
        that are new or were split since this store last saved the session; everything is
        rewritten when the row was changed by anyone else since (or never saved here).
        """
        summary = session.summary()
        layout = codec.node_layout(session)
        with self.transaction() as db:
            previous = self._previous_layout(session.id)
            stamp = now()
            model_id = self._model_id(session.model)
            row = codec.session_row(session, summary, model_id, stamp)
            row["writer"] = self._writer
            db.table("sessions").upsert(row, pk="id")
            for table in ("votes", "paths"):
                db.execute(f"DELETE FROM {table} WHERE session_id = ?", [session.id])
            self._write_nodes(session, layout, previous)
            db.table("paths").insert_all(codec.path_row(session.id, p) for p in session.paths)
            db.table("votes").insert_all(codec.vote_rows(session.id, summary))
        self._saved[session.id] = (stamp, layout)
        while len(self._saved) > _REMEMBERED_SESSIONS:
            self._saved.popitem(last=False)

    def write_session(
        self,
        session: Session,
        summary: SessionSummary,
        *,
        updated: str,
        deleted_at: str | None = None,
    ) -> None:
        """Write a whole session as given (an import): its row with these stamps, every node
        with its tokens, its paths and votes. Clear an earlier version first
        (:meth:`clear_session`, in the same ``transaction()``)."""
        with self.transaction() as db:
            row = codec.session_row(session, summary, self._model_id(session.model), updated)
            row["deleted_at"] = deleted_at
            db.table("sessions").upsert(row, pk="id")
            self._write_nodes(session, codec.node_layout(session), {})
            db.table("paths").insert_all(codec.path_row(session.id, p) for p in session.paths)
            db.table("votes").insert_all(codec.vote_rows(session.id, summary))
        self._saved.pop(session.id, None)

    def clear_session(self, session_id: str) -> None:
        """Remove a session's annotations, votes, paths, tokens and nodes (its row stays,
        to be overwritten by :meth:`write_session`)."""
        with self.transaction() as db:
            for table in ("annotations", "votes", "paths", "tokens", "nodes"):
                db.execute(f"DELETE FROM {table} WHERE session_id = ?", [session_id])
        self._saved.pop(session_id, None)

    def _previous_layout(self, session_id: str) -> dict[int, codec.NodeLayout]:
        """The node layout this store last wrote, if the row still carries that save's stamp
        (else {}: every node is rewritten)."""
        cached = self._saved.pop(session_id, None)
        row = self.db.execute("SELECT updated FROM sessions WHERE id = ?", [session_id]).fetchone()
        if cached is None or row is None or row[0] != cached[0]:
            for table in ("tokens", "nodes"):
                self.db.execute(f"DELETE FROM {table} WHERE session_id = ?", [session_id])
            return {}
        return cached[1]

    def _write_nodes(
        self,
        session: Session,
        layout: dict[int, codec.NodeLayout],
        previous: dict[int, codec.NodeLayout],
    ) -> None:
        conn, sid = self.db.conn, session.id
        gone = [(sid, n) for n in previous if n not in layout]
        changed = [n for n, place in layout.items() if previous.get(n) != place]
        conn.executemany("DELETE FROM tokens WHERE session_id = ? AND node_id = ?", gone)
        conn.executemany("DELETE FROM nodes WHERE session_id = ? AND node_id = ?", gone)
        conn.executemany(
            "DELETE FROM tokens WHERE session_id = ? AND node_id = ?",
            [(sid, n) for n in changed if n in previous],
        )
        conn.executemany(
            "INSERT INTO nodes (session_id, node_id, parent_id, position, depth) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id, node_id) DO UPDATE SET "
            "parent_id = excluded.parent_id, position = excluded.position, depth = excluded.depth",
            [(sid, n, *layout[n][:3]) for n in changed],
        )
        conn.executemany(
            f"INSERT INTO tokens ({codec.TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            codec.token_rows(session, changed),
        )

    def load_session(self, session_id: str) -> Session:
        """The session as saved: tree (same node ids), paths, settings, status, model."""
        with codec.gc_paused(), self.snapshot() as db:
            row = self._session_row(session_id)
            model = self._model_metadata(row["model_id"])
            nodes = db.conn.execute(
                "SELECT node_id, parent_id, depth FROM nodes WHERE session_id = ? "
                "ORDER BY parent_id, position",
                [session_id],
            ).fetchall()
            tokens = codec.tokens_by_node(
                db.conn.execute(codec.TOKEN_SELECT, [session_id]).fetchall()
            )
            paths = [
                codec.path_from_row(p)
                for p in db.query(
                    "SELECT * FROM paths WHERE session_id = ? ORDER BY path_id", [session_id]
                )
            ]
            tree = codec.build_tree(nodes, tokens)
        return codec.session_from_row(row, model, tree, paths)

    def _session_row(self, session_id: str) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM sessions WHERE id = ?", [session_id]))
        if not rows:
            raise NotFoundError(self.path, f"no session {session_id!r}")
        return rows[0]

    def _model_metadata(self, model_id: int | None) -> dict[str, Any]:
        if model_id is None:
            return {}
        row = self.db.execute("SELECT metadata FROM models WHERE id = ?", [model_id]).fetchone()
        return json.loads(row[0]) if row else {}

    def session_stamps(self, session_id: str) -> SessionStamps:
        """When a saved session was last written and (soft) deleted."""
        row = self.db.execute(
            "SELECT updated, deleted_at FROM sessions WHERE id = ?", [session_id]
        ).fetchone()
        if row is None:
            raise NotFoundError(self.path, f"no session {session_id!r}")
        return SessionStamps(row[0], row[1])

    def resolve_session_id(self, prefix: str) -> str:
        """The id of the one session (not deleted) whose id starts with ``prefix``."""
        rows = self.db.execute(
            "SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\' AND deleted_at IS NULL LIMIT 2",
            [like_pattern(prefix).removeprefix("%")],
        ).fetchall()
        if not rows or not prefix:
            raise NotFoundError(self.path, f"no session {prefix!r}")
        if len(rows) > 1:
            raise NotFoundError(
                self.path, f"several sessions start with {prefix!r}: give more of the id"
            )
        return str(rows[0][0])

    def has_session(self, session_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone()
        return row is not None

    def list_sessions(
        self,
        search: str | None = None,
        strategy: str | None = None,
        model: str | None = None,
        *,
        label: str | None = None,
        tag: str | None = None,
        include_deleted: bool = False,
        limit: int | None = 500,
    ) -> list[SessionRow]:
        """Newest first. ``search`` is full-text (all words, stemmed) over the question and
        title, any path's text and any annotation note; ``model`` matches a substring of the
        model's path or description; ``label`` and ``tag`` keep sessions with an annotation
        carrying them."""
        where, params = ["1"], []
        if not include_deleted:
            where.append("s.deleted_at IS NULL")
        if strategy:
            where.append("s.strategy = ?")
            params.append(strategy)
        if model:
            where.append("(m.path LIKE ? ESCAPE '\\' OR m.description LIKE ? ESCAPE '\\')")
            params += [like_pattern(model)] * 2
        if label:
            where.append(
                "EXISTS (SELECT 1 FROM annotations a WHERE a.session_id = s.id AND a.label = ?)"
            )
            params.append(label)
        if tag:
            where.append(
                "EXISTS (SELECT 1 FROM annotations a, json_each(a.tags) t "
                "WHERE a.session_id = s.id AND t.value = ?)"
            )
            params.append(tag)
        query = self.db.quote_fts(search.strip()) if search and search.strip() else ""
        if query:
            where.append(_SEARCH_CONDITION)
            params += [query] * 3
        sql = (
            "SELECT s.*, coalesce(m.description, m.path) AS model_name FROM sessions s "
            f"LEFT JOIN models m ON m.id = s.model_id WHERE {' AND '.join(where)} "
            "ORDER BY s.created DESC, s.id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_session_list_row(r) for r in self.db.query(sql, params)]

    def rename_session(self, session_id: str, title: str) -> None:
        self._update_session(session_id, "title = ?", [title])

    def delete_session(self, session_id: str) -> None:
        """Soft delete: hidden from lists, stats and retrieval until restored."""
        self._update_session(session_id, "deleted_at = ?", [now()])

    def restore_session(self, session_id: str) -> None:
        self._update_session(session_id, "deleted_at = NULL", [])

    def set_session_status(self, session_id: str, status: str) -> None:
        self._update_session(session_id, "status = ?", [status])

    def _update_session(self, session_id: str, assignment: str, params: list[Any]) -> None:
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE sessions SET {assignment}, updated = ? WHERE id = ?",
                [*params, now(), session_id],
            )
            if cursor.rowcount == 0:
                raise NotFoundError(self.path, f"no session {session_id!r}")

    def mark_interrupted(self, before: str | None = None) -> int:
        """Sessions still ``running`` (their process died) become ``interrupted``; with
        ``before`` (ISO time) only those last saved earlier. Returns how many changed."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE sessions SET status = 'interrupted', updated = ? "
                "WHERE status = 'running' AND (? IS NULL OR updated < ?)",
                [now(), before, before],
            )
            return cursor.rowcount

    def mark_orphaned(self) -> list[str]:
        """Mark ``interrupted`` the running sessions whose writing process is gone (killed or
        crashed); sessions a live process is writing are left alone. Returns their ids."""
        running = self.db.execute(
            "SELECT id, writer FROM sessions WHERE status = 'running'"
        ).fetchall()
        orphans = [(sid, w) for sid, w in running if not writers.writer_alive(w)]
        if not orphans:
            return []
        with self.transaction() as db:  # unless its writer changed (or it finished) meanwhile
            db.conn.executemany(
                "UPDATE sessions SET status = 'interrupted', updated = ? WHERE id = ? "
                "AND status = 'running' AND writer IS ?",
                [(now(), sid, writer) for sid, writer in orphans],
            )
        return [sid for sid, _ in orphans]


_SEARCH_CONDITION = """(
    s.rowid IN (SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ?)
    OR s.id IN (SELECT session_id FROM paths WHERE rowid IN
                (SELECT rowid FROM paths_fts WHERE paths_fts MATCH ?))
    OR s.id IN (SELECT session_id FROM annotations WHERE rowid IN
                (SELECT rowid FROM annotations_fts WHERE annotations_fts MATCH ?))
)"""


def _session_list_row(row: dict[str, Any]) -> SessionRow:
    return SessionRow(
        id=row["id"],
        title=row["title"],
        question=row["question"],
        strategy=row["strategy"],
        prompt_style=row["prompt_style"],
        status=row["status"],
        chosen_answer=row["chosen_answer"],
        correct=as_bool(row["correct"]),
        consistency=row["consistency"],
        n_paths=row["n_paths"],
        created=row["created"],
        updated=row["updated"],
        model=row["model_name"],
        deleted=row["deleted_at"] is not None,
    )
