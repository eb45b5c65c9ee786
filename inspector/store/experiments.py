"""Data sets, experiments and the runs that make an experiment resumable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.core.datasets import Dataset, DatasetQuestion, questions_digest
from inspector.core.session import RunSettings
from inspector.store import writers
from inspector.store.base import StoreBase, now, to_json
from inspector.store.errors import ExperimentBusyError, NotFoundError
from inspector.store.rows import (
    ExperimentCopy,
    ExperimentRecord,
    ExperimentResult,
    ExperimentRow,
    ExperimentRun,
    as_bool,
)

EXPERIMENT_STATUSES = ("running", "complete", "cancelled", "interrupted")


def dataset_digest(dataset: Dataset) -> str:
    """SHA-256 of the questions' content: the same questions give the same data set row (of
    the whole file, also when only its first questions were loaded)."""
    return dataset.digest or questions_digest(dataset.questions)


class ExperimentsMixin(StoreBase):
    """Data sets with their questions; experiments = data set × settings × model."""

    def save_dataset(self, dataset: Dataset) -> int:
        """The id of this data set, inserting it (with its questions) if not stored yet."""
        return self.put_dataset(dataset, dataset_digest(dataset), str(dataset.path))

    def _insert_questions(self, dataset_id: int, questions: list[DatasetQuestion]) -> None:
        """Store questions not stored yet (a later run may need more of a partly read file)."""
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO dataset_questions (dataset_id, idx, question, answer, "
            "solution, ext_id) VALUES (?, ?, ?, ?, ?, ?)",
            [(dataset_id, q.index, q.question, q.answer, q.solution, q.id) for q in questions],
        )

    def put_dataset(self, dataset: Dataset, sha256: str, source_path: str | None) -> int:
        """The id of the stored data set whose questions have digest ``sha256``, inserted
        (as ``dataset`` with its questions, from ``source_path``) if there is none."""
        with self.transaction() as db:
            row = db.execute("SELECT id FROM datasets WHERE sha256 = ?", [sha256]).fetchone()
            if row is not None:
                dataset_id = int(row[0])
            else:
                cursor = db.execute(
                    "INSERT INTO datasets (name, source_path, sha256, n_questions, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [dataset.name, source_path, sha256, dataset.size, now()],
                )
                dataset_id = int(cursor.lastrowid or 0)
            self._insert_questions(dataset_id, dataset.questions)
            return dataset_id

    def dataset_questions(self, dataset_id: int) -> list[DatasetQuestion]:
        """A stored data set's questions, in order."""
        return [
            DatasetQuestion(q["idx"], q["question"], q["answer"], q["solution"], q["ext_id"])
            for q in self.db.query(
                "SELECT idx, question, answer, solution, ext_id FROM dataset_questions "
                "WHERE dataset_id = ? ORDER BY idx",
                [dataset_id],
            )
        ]

    def create_experiment(
        self, name: str, dataset_id: int, settings: RunSettings, model: dict[str, Any]
    ) -> int:
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM datasets WHERE id = ?", [dataset_id]).fetchone() is None:
                raise NotFoundError(self.path, f"no data set {dataset_id}")
            stamp = now()
            cursor = db.execute(
                "INSERT INTO experiments (name, dataset_id, settings, strategy, model_id, "
                "status, created, updated) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                [
                    name,
                    dataset_id,
                    to_json(settings.to_dict()),
                    settings.strategy,
                    self._model_id(model),
                    stamp,
                    stamp,
                ],
            )
            return int(cursor.lastrowid or 0)

    def find_experiment(
        self, dataset_id: int, settings: RunSettings, model_path: str | None
    ) -> int | None:
        """The latest experiment with this data set, these exact settings and this model
        file (the one a re-run resumes), or None."""
        row = self.db.execute(
            "SELECT e.id FROM experiments e LEFT JOIN models m ON m.id = e.model_id "
            "WHERE e.dataset_id = ? AND e.settings = ? AND m.path IS ? "
            "ORDER BY e.id DESC LIMIT 1",
            [dataset_id, to_json(settings.to_dict()), model_path],
        ).fetchone()
        return None if row is None else int(row[0])

    def claim_experiment(self, experiment_id: int) -> None:
        """Mark this process as the experiment's one runner, or raise
        :class:`ExperimentBusyError` naming the live process that already runs it (a claim
        left by a process that died is taken over)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT runner, runner_since FROM experiments WHERE id = ?", [experiment_id]
            ).fetchone()
            if row is None:
                raise NotFoundError(self.path, f"no experiment {experiment_id}")
            runner, since = row
            if runner and runner != self._writer and writers.writer_alive(runner):
                raise ExperimentBusyError(
                    self.path,
                    f"experiment {experiment_id} is already being run by "
                    f"{writers.describe(runner)} since {since}; wait for it to finish or "
                    "cancel it there, then run this again to resume",
                )
            db.execute(
                "UPDATE experiments SET runner = ?, runner_since = ? WHERE id = ?",
                [self._writer, now(), experiment_id],
            )

    def release_experiment(self, experiment_id: int) -> None:
        """This process no longer runs the experiment (a claim of another is left alone)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE experiments SET runner = NULL, runner_since = NULL "
                "WHERE id = ? AND runner = ?",
                [experiment_id, self._writer],
            )

    def set_experiment_status(self, experiment_id: int, status: str) -> None:
        if status not in EXPERIMENT_STATUSES:
            raise ValueError(f"unknown experiment status {status!r}")
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE experiments SET status = ?, updated = ? WHERE id = ?",
                [status, now(), experiment_id],
            )
            if cursor.rowcount == 0:
                raise NotFoundError(self.path, f"no experiment {experiment_id}")

    def set_experiment_asked(self, experiment_id: int, asked: int | None) -> None:
        """Note how many questions a run of the experiment asks for (None: all of them)."""
        if asked is not None and asked < 1:
            raise ValueError(f"an experiment asks for at least one question, not {asked}")
        with self.transaction() as db:
            db.execute("UPDATE experiments SET asked = ? WHERE id = ?", [asked, experiment_id])

    def record_run(self, experiment_id: int, question_index: int, session_id: str) -> None:
        """Note that ``session_id`` answered this question (replacing an earlier run)."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM sessions WHERE id = ?", [session_id]).fetchone() is None:
                raise NotFoundError(self.path, f"no session {session_id!r}")
            db.execute(
                "INSERT INTO experiment_runs (experiment_id, question_index, session_id, created)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (experiment_id, question_index) DO UPDATE SET"
                " session_id = excluded.session_id, created = excluded.created",
                [experiment_id, question_index, session_id, now()],
            )
            db.execute("UPDATE experiments SET updated = ? WHERE id = ?", [now(), experiment_id])

    def finished_questions(self, experiment_id: int) -> set[int]:
        """Questions whose recorded session is complete and not deleted (a re-run skips them)."""
        rows = self.db.execute(
            "SELECT r.question_index FROM experiment_runs r JOIN sessions s "
            "ON s.id = r.session_id WHERE r.experiment_id = ? AND s.status = 'complete' "
            "AND s.deleted_at IS NULL",
            [experiment_id],
        )
        return {int(row[0]) for row in rows}

    def experiment_results(self, experiment_id: int) -> list[ExperimentResult]:
        """One row per answered question (deleted sessions left out), in data set order."""
        rows = self.db.query(
            "SELECT r.question_index, coalesce(q.question, s.question) AS question, "
            "coalesce(s.gold, q.answer) AS gold, s.chosen_answer, s.correct, s.consistency, "
            "s.id AS session_id FROM experiment_runs r "
            "JOIN experiments e ON e.id = r.experiment_id "
            "JOIN sessions s ON s.id = r.session_id "
            "LEFT JOIN dataset_questions q ON q.dataset_id = e.dataset_id "
            "AND q.idx = r.question_index "
            "WHERE r.experiment_id = ? AND s.deleted_at IS NULL ORDER BY r.question_index",
            [experiment_id],
        )
        return [
            ExperimentResult(
                question_index=r["question_index"],
                question=r["question"],
                gold=r["gold"],
                chosen_answer=r["chosen_answer"],
                correct=as_bool(r["correct"]),
                consistency=r["consistency"],
                session_id=r["session_id"],
            )
            for r in rows
        ]

    def list_experiments(self) -> list[ExperimentRow]:
        """Every experiment, newest first, with how many questions are done and correct."""
        rows = self.db.query(
            "SELECT e.id, e.name, d.name AS dataset, d.n_questions, e.strategy, e.settings, "
            "coalesce(m.description, m.path) AS model, e.status, e.created, e.updated, "
            "e.asked, count(s.id) AS done, coalesce(sum(s.correct = 1), 0) AS correct "
            "FROM experiments e JOIN datasets d ON d.id = e.dataset_id "
            "LEFT JOIN models m ON m.id = e.model_id "
            "LEFT JOIN experiment_runs r ON r.experiment_id = e.id "
            "LEFT JOIN sessions s ON s.id = r.session_id AND s.status = 'complete' "
            "AND s.deleted_at IS NULL GROUP BY e.id ORDER BY e.id DESC"
        )
        return [
            ExperimentRow(
                id=r["id"],
                name=r["name"],
                dataset=r["dataset"],
                n_questions=r["n_questions"],
                strategy=r["strategy"],
                prompt_style=json.loads(r["settings"]).get("prompt_style", ""),
                model=r["model"],
                status=r["status"],
                done=r["done"],
                correct=r["correct"],
                created=r["created"],
                updated=r["updated"],
                asked=r["asked"],
            )
            for r in rows
        ]

    def experiment(self, experiment_id: int) -> ExperimentRecord:
        """One experiment with its data set's and model's details (``NotFoundError`` if
        there is none)."""
        rows = list(self.db.query(_EXPERIMENT, [experiment_id]))
        if not rows:
            raise NotFoundError(self.path, f"no experiment {experiment_id}")
        row = rows[0]
        return ExperimentRecord(
            id=row["id"],
            name=row["name"],
            strategy=row["strategy"],
            settings=json.loads(row["settings"]),
            model=json.loads(row["model_metadata"]) if row["model_metadata"] else {},
            model_path=row["model_path"],
            status=row["status"],
            created=row["created"],
            updated=row["updated"],
            dataset_id=row["dataset_id"],
            dataset_name=row["dataset_name"],
            dataset_source=row["source_path"],
            dataset_sha256=row["sha256"],
            n_questions=row["n_questions"],
            asked=row["asked"],
        )

    def experiment_runs(self, experiment_id: int) -> list[ExperimentRun]:
        """Every recorded run of an experiment (deleted sessions included), by question."""
        return [
            ExperimentRun(r["question_index"], r["session_id"], r["created"])
            for r in self.db.query(
                "SELECT question_index, session_id, created FROM experiment_runs "
                "WHERE experiment_id = ? ORDER BY question_index",
                [experiment_id],
            )
        ]

    def experiment_plan(self, experiment_id: int) -> ExperimentPlan:
        """What is needed to resume an experiment: its questions, settings and model file."""
        with self.snapshot():
            record = self.experiment(experiment_id)
            questions = self.dataset_questions(record.dataset_id)
        dataset = Dataset(record.dataset_name, Path(record.dataset_source or ""), questions)
        settings = RunSettings.from_dict(record.settings)
        return ExperimentPlan(record.name, dataset, settings, record.model_path, record.asked)

    def restore_experiment(self, copy: ExperimentCopy, *, replace: bool = False) -> int:
        """Store an exported experiment (with its data set, if new) and its runs; return its
        id. With ``replace``, an experiment of the same data set, settings, name and creation
        time is updated and its runs rewritten instead of a new one being added. The runs'
        sessions must be stored already (call inside the same ``transaction()``)."""
        with self.transaction() as db:
            dataset_id = self.put_dataset(copy.dataset, copy.sha256, copy.source_path)
            settings = to_json(copy.settings)
            found = db.execute(
                "SELECT id FROM experiments WHERE dataset_id = ? AND settings = ? AND name = ? "
                "AND created = ? ORDER BY id DESC LIMIT 1",
                [dataset_id, settings, copy.name, copy.created],
            ).fetchone()
            model_id = self._model_id(copy.model)
            if found is not None and replace:
                experiment_id = int(found[0])
                db.execute(
                    "UPDATE experiments SET strategy = ?, model_id = ?, status = ?, updated = ? "
                    "WHERE id = ?",
                    [copy.strategy, model_id, copy.status, copy.updated, experiment_id],
                )
                db.execute("DELETE FROM experiment_runs WHERE experiment_id = ?", [experiment_id])
            else:
                cursor = db.execute(
                    "INSERT INTO experiments (name, dataset_id, settings, strategy, model_id, "
                    "status, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        *(copy.name, dataset_id, settings, copy.strategy),
                        *(model_id, copy.status, copy.created, copy.updated),
                    ],
                )
                experiment_id = int(cursor.lastrowid or 0)
            db.execute("UPDATE experiments SET asked = ? WHERE id = ?", [copy.asked, experiment_id])
            db.conn.executemany(
                "INSERT INTO experiment_runs (experiment_id, question_index, session_id, "
                "created) VALUES (?, ?, ?, ?)",
                [
                    (experiment_id, run.question_index, run.session_id, run.created)
                    for run in copy.runs
                ],
            )
            return experiment_id

    def model_names(self) -> list[str]:
        """The description (or path) of every model that made a saved session, sorted."""
        rows = self.db.execute(
            "SELECT DISTINCT coalesce(m.description, m.path) FROM sessions s "
            "JOIN models m ON m.id = s.model_id WHERE s.deleted_at IS NULL"
        )
        return sorted(name for (name,) in rows if name)


# the one lookup of an experiment (the exports and resuming read it through experiment())
_EXPERIMENT = """
SELECT e.id, e.name, e.strategy, e.settings, e.status, e.created, e.updated, e.dataset_id,
    e.asked, m.path AS model_path, m.metadata AS model_metadata, d.name AS dataset_name,
    d.source_path, d.sha256, d.n_questions
FROM experiments e JOIN datasets d ON d.id = e.dataset_id
LEFT JOIN models m ON m.id = e.model_id WHERE e.id = ?
"""


@dataclass(frozen=True)
class ExperimentPlan:
    name: str
    dataset: Dataset
    settings: RunSettings
    model_path: str | None
    limit: int | None = None  # the questions its latest run asked for (None: all)
