"""Resampling studies (``core/studies.py``): saved one continuation at a time, resumable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from inspector.core.studies import (
    Study,
    StudyPoint,
    StudySample,
    StudySettings,
    StudyStatus,
)
from inspector.store import writers
from inspector.store.base import StoreBase, now, to_json
from inspector.store.errors import NotFoundError


@dataclass(frozen=True)
class StudyRow:
    """A study as the Sessions panel and ``inspector studies`` list it."""

    id: int
    session_id: str
    path_id: int
    kind: str
    status: str
    n_samples: int
    n_planned: int
    created: str
    updated: str


class StudiesMixin(StoreBase):
    def create_study(self, study: Study, session_id: str, n_planned: int) -> int:
        """Insert ``study`` (status running, this process its writer); sets ``study.id``."""
        stamp = now()
        with self.transaction() as db:
            self._require_session(db, session_id)
            cursor = db.execute(
                "INSERT INTO studies (session_id, path_id, kind, settings, status, writer, "
                "n_planned, n_samples, created, updated) VALUES (?, ?, ?, ?, 'running', ?, ?, 0, "
                "?, ?)",
                [
                    session_id, study.settings.path_id, study.settings.kind,
                    to_json(study.settings.to_dict()), self._writer, n_planned, stamp, stamp,
                ],
            )  # fmt: skip
        study.id = int(cursor.lastrowid or 0)
        study.created_at = stamp
        study.status = "running"
        for sample in study.samples:  # an imported or copied study brings its samples
            self.add_study_sample(study.id, sample)
        return study.id

    def _require_session(self, db: Any, session_id: str) -> None:
        row = db.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone()
        if row is None:
            raise NotFoundError(self.path, f"no session {session_id!r}")

    def find_study(self, session_id: str, settings: StudySettings) -> int | None:
        """The latest study of ``session_id`` with exactly these settings (to resume)."""
        row = self.db.execute(
            "SELECT id FROM studies WHERE session_id = ? AND settings = ? ORDER BY id DESC",
            [session_id, to_json(settings.to_dict())],
        ).fetchone()
        return None if row is None else int(row[0])

    def add_study_sample(self, study_id: int, sample: StudySample) -> bool:
        """Save one continuation (once: a point already saved is left as it is)."""
        point = sample.point
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO study_samples (study_id, position, token_id, sample, "
                "token_text, token_prob, text, token_ids, finish_reason, logprob, answer, correct) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    study_id, point.position, point.token_id, point.sample, point.token_text,
                    point.token_prob, sample.text, json.dumps(sample.token_ids),
                    sample.finish_reason, sample.logprob, sample.answer,
                    None if sample.correct is None else int(sample.correct),
                ],
            )  # fmt: skip
            added = cursor.rowcount > 0
            if added:
                db.execute(
                    "UPDATE studies SET n_samples = n_samples + 1, updated = ? WHERE id = ?",
                    [now(), study_id],
                )
        return added

    def set_study_status(
        self, study_id: int, status: StudyStatus, n_planned: int | None = None
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE studies SET status = ?, updated = ?, writer = ?, "
                "n_planned = COALESCE(?, n_planned) WHERE id = ?",
                [status, now(), self._writer if status == "running" else None, n_planned, study_id],
            )

    def load_study(self, study_id: int) -> Study:
        row = self.db.execute(
            "SELECT session_id, settings, status, writer, created FROM studies WHERE id = ?",
            [study_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(self.path, f"no study {study_id}")
        session_id, settings, status, writer, created = row
        study = Study(
            session_id=session_id,
            settings=StudySettings.from_dict(json.loads(settings)),
            id=study_id,
            status=_shown_status(status, writer),
            created_at=created,
        )
        for r in self.db.execute(
            "SELECT position, token_id, sample, token_text, token_prob, text, token_ids, "
            "finish_reason, logprob, answer, correct FROM study_samples WHERE study_id = ? "
            "ORDER BY position, IFNULL(token_id, -1), sample",
            [study_id],
        ).fetchall():
            point = StudyPoint(r[0], r[1], r[2], r[3], r[4])
            correct = None if r[10] is None else bool(r[10])
            study.samples.append(
                StudySample(point, r[5], json.loads(r[6]), r[7], r[8], r[9], correct)
            )
        return study

    def study_session(self, study_id: int) -> str:
        row = self.db.execute("SELECT session_id FROM studies WHERE id = ?", [study_id]).fetchone()
        if row is None:
            raise NotFoundError(self.path, f"no study {study_id}")
        return str(row[0])

    def list_studies(self, session_id: str | None = None) -> list[StudyRow]:
        """Studies (of one session, or of every session not deleted), newest first."""
        rows = self.db.execute(
            "SELECT s.id, s.session_id, s.path_id, s.kind, s.status, s.writer, s.n_samples, "
            "s.n_planned, s.created, s.updated FROM studies s JOIN sessions ON sessions.id = "
            "s.session_id WHERE sessions.deleted_at IS NULL AND (? IS NULL OR s.session_id = ?) "
            "ORDER BY s.id DESC",
            [session_id, session_id],
        ).fetchall()
        return [
            StudyRow(r[0], r[1], r[2], r[3], _shown_status(r[4], r[5]), r[6], r[7], r[8], r[9])
            for r in rows
        ]

    def delete_study(self, study_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM studies WHERE id = ?", [study_id])


def _shown_status(status: str, writer: str | None) -> StudyStatus:
    """A study left running by a process that is gone was interrupted."""
    if status == "running" and not writers.writer_alive(writer):
        return "interrupted"
    return status  # type: ignore[return-value]
