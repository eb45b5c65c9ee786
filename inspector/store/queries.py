"""Read-only queries over many sessions: the records behind stats and analogical retrieval."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from inspector.core.answers import normalize_answer
from inspector.core.prompts import WorkedExample
from inspector.store.base import StoreBase
from inspector.store.rows import RunRecord, as_bool
from inspector.store.sessions import like_pattern

_SESSIONS = "sessions s LEFT JOIN models m ON m.id = s.model_id"
_PATHS = "paths p JOIN sessions s ON s.id = p.session_id LEFT JOIN models m ON m.id = s.model_id"
_FINISHED = "p.finish_reason IS NOT NULL AND p.finish_reason != 'cancelled'"
# a path votes when finished; a self-consistency run's greedy reference does not
_VOTES = f"{_FINISHED} AND NOT (s.strategy = 'self-consistency' AND p.origin = 'greedy')"


def normalized_gold(gold: str, settings_json: str) -> str | None:
    """The gold answer as the session's answer rule normalises it (None if it cannot)."""
    rule = json.loads(settings_json).get("answer_rule", "last-number")
    try:
        return normalize_answer(gold, rule)
    except ValueError:
        return gold.strip() or None


class QueriesMixin(StoreBase):
    """Stats records and verified examples."""

    def run_records(
        self,
        strategy: str | None = None,
        model: str | None = None,
        experiment_id: int | None = None,
    ) -> list[RunRecord]:
        """Complete, non-deleted sessions with a gold answer, oldest first, optionally only
        one strategy, models whose path/description contains ``model``, or one experiment."""
        where = ["s.gold IS NOT NULL", "s.deleted_at IS NULL", "s.status = 'complete'"]
        params: list[Any] = []
        if strategy:
            where.append("s.strategy = ?")
            params.append(strategy)
        if model:
            where.append("(m.path LIKE ? ESCAPE '\\' OR m.description LIKE ? ESCAPE '\\')")
            params += [like_pattern(model)] * 2
        if experiment_id is not None:
            where.append("s.id IN (SELECT session_id FROM experiment_runs WHERE experiment_id = ?)")
            params.append(experiment_id)
        cond = " AND ".join(where)
        with self._read() as db:
            answers: dict[str, list[str | None]] = defaultdict(list)
            for session_id, answer in db.execute(
                f"SELECT p.session_id, p.answer FROM {_PATHS} WHERE {cond} AND {_VOTES} "
                "ORDER BY p.session_id, p.path_id",
                params,
            ):
                answers[session_id].append(answer)
            greedy: dict[str, tuple[str | None, float]] = {}
            for session_id, answer, logprob in db.execute(
                f"SELECT p.session_id, p.answer, p.logprob FROM {_PATHS} WHERE {cond} "
                f"AND p.origin = 'greedy' AND {_FINISHED} ORDER BY p.session_id, p.path_id",
                params,
            ):
                greedy.setdefault(session_id, (answer, logprob))
            rows = db.query(
                "SELECT s.*, coalesce(m.description, m.path) AS model_name "
                f"FROM {_SESSIONS} WHERE {cond} ORDER BY s.created, s.id",
                params,
            )
            return [_record(r, answers.get(r["id"], []), greedy.get(r["id"])) for r in rows]

    def verified_examples(self, limit: int = 200) -> list[tuple[str, WorkedExample]]:
        """(question, worked example) from verified-correct paths of non-deleted sessions,
        newest session first: per session its most confident correct path (then the first)."""
        rows = self.db.execute(
            "SELECT question, text, answer FROM ("
            " SELECT s.question, s.created, s.id, p.text, p.answer, row_number() OVER ("
            "  PARTITION BY p.session_id ORDER BY p.confidence IS NULL, p.confidence DESC,"
            "  p.path_id) AS rank"
            " FROM paths p JOIN sessions s ON s.id = p.session_id"
            " WHERE p.correct = 1 AND p.answer IS NOT NULL AND s.deleted_at IS NULL"
            ") WHERE rank = 1 ORDER BY created DESC, id LIMIT ?",
            [int(limit)],
        )
        return [
            (question, WorkedExample(question, text.strip(), answer))
            for question, text, answer in rows
        ]


def _record(
    row: dict[str, Any], answers: list[str | None], greedy: tuple[str | None, float] | None
) -> RunRecord:
    return RunRecord(
        session_id=row["id"],
        strategy=row["strategy"],
        model=row["model_name"],
        gold=normalized_gold(row["gold"], row["settings"]),
        gold_text=row["gold"],
        chosen_answer=row["chosen_answer"],
        correct=as_bool(row["correct"]),
        consistency=row["consistency"],
        cot_confidence=row["cot_confidence"],
        answers=answers,
        greedy_answer=greedy[0] if greedy else None,
        greedy_logprob=greedy[1] if greedy else None,
        created=row["created"],
    )
