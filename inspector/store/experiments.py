"""Data sets, experiments and the runs that make an experiment resumable."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.session import RunSettings
from inspector.store.base import StoreBase, now, to_json
from inspector.store.errors import NotFoundError
from inspector.store.rows import ExperimentResult, ExperimentRow, as_bool

EXPERIMENT_STATUSES = ("running", "complete", "cancelled", "interrupted")


def dataset_digest(dataset: Dataset) -> str:
    """SHA-256 of the questions' content: the same questions give the same data set row."""
    content = [[q.question, q.answer, q.solution, q.id] for q in dataset.questions]
    return hashlib.sha256(to_json(content).encode("utf-8")).hexdigest()


class ExperimentsMixin(StoreBase):
    """Data sets with their questions; experiments = data set × settings × model."""

    def save_dataset(self, dataset: Dataset) -> int:
        """The id of this data set, inserting it (with its questions) if not stored yet."""
        digest = dataset_digest(dataset)
        with self._write() as db:
            row = db.execute("SELECT id FROM datasets WHERE sha256 = ?", [digest]).fetchone()
            if row is not None:
                return int(row[0])
            cursor = db.execute(
                "INSERT INTO datasets (name, source_path, sha256, n_questions, created) "
                "VALUES (?, ?, ?, ?, ?)",
                [dataset.name, str(dataset.path), digest, len(dataset.questions), now()],
            )
            dataset_id = int(cursor.lastrowid or 0)
            db["dataset_questions"].insert_all(
                {
                    "dataset_id": dataset_id,
                    "idx": q.index,
                    "question": q.question,
                    "answer": q.answer,
                    "solution": q.solution,
                    "ext_id": q.id,
                }
                for q in dataset.questions
            )
            return dataset_id

    def create_experiment(
        self, name: str, dataset_id: int, settings: RunSettings, model: dict[str, Any]
    ) -> int:
        with self._write() as db:
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

    def set_experiment_status(self, experiment_id: int, status: str) -> None:
        if status not in EXPERIMENT_STATUSES:
            raise ValueError(f"unknown experiment status {status!r}")
        with self._write() as db:
            cursor = db.execute(
                "UPDATE experiments SET status = ?, updated = ? WHERE id = ?",
                [status, now(), experiment_id],
            )
            if cursor.rowcount == 0:
                raise NotFoundError(self.path, f"no experiment {experiment_id}")

    def record_run(self, experiment_id: int, question_index: int, session_id: str) -> None:
        """Note that ``session_id`` answered this question (replacing an earlier run)."""
        with self._write() as db:
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
            "count(s.id) AS done, coalesce(sum(s.correct = 1), 0) AS correct "
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
            )
            for r in rows
        ]

    def experiment_plan(self, experiment_id: int) -> ExperimentPlan:
        """What is needed to resume an experiment: its questions, settings and model file."""
        rows = list(
            self.db.query(
                "SELECT e.name, e.settings, m.path AS model_path, d.id AS dataset_id, "
                "d.name AS dataset, d.source_path FROM experiments e "
                "JOIN datasets d ON d.id = e.dataset_id LEFT JOIN models m ON m.id = e.model_id "
                "WHERE e.id = ?",
                [experiment_id],
            )
        )
        if not rows:
            raise NotFoundError(self.path, f"no experiment {experiment_id}")
        row = rows[0]
        questions = [
            DatasetQuestion(q["idx"], q["question"], q["answer"], q["solution"], q["ext_id"])
            for q in self.db.query(
                "SELECT idx, question, answer, solution, ext_id FROM dataset_questions "
                "WHERE dataset_id = ? ORDER BY idx",
                [row["dataset_id"]],
            )
        ]
        dataset = Dataset(row["dataset"], Path(row["source_path"] or ""), questions)
        settings = RunSettings.from_dict(json.loads(row["settings"]))
        return ExperimentPlan(row["name"], dataset, settings, row["model_path"])

    def model_names(self) -> list[str]:
        """The description (or path) of every model that made a saved session, sorted."""
        rows = self.db.execute(
            "SELECT DISTINCT coalesce(m.description, m.path) FROM sessions s "
            "JOIN models m ON m.id = s.model_id WHERE s.deleted_at IS NULL"
        )
        return sorted(name for (name,) in rows if name)


@dataclass(frozen=True)
class ExperimentPlan:
    name: str
    dataset: Dataset
    settings: RunSettings
    model_path: str | None
