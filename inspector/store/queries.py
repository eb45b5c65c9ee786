"""Read-only queries over many sessions: the records behind stats and analogical retrieval."""

from __future__ import annotations

import json
from functools import lru_cache
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
    return _normalized_gold(gold, json.loads(settings_json).get("answer_rule", "last-number"))


@lru_cache(maxsize=4096)
def _normalized_gold(gold: str, rule: str) -> str | None:
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
        one strategy, models whose path/description contains ``model``, or one experiment.

        One query: each session's votes and greedy reference come from correlated subqueries
        that read only the ``paths_votes`` covering index (schema v2); the selection rules'
        answers, pass@k and the path counts from the session's row (schema v3).
        """
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
        sql = _GREEDY.format(records=_RUN_RECORDS.format(where=" AND ".join(where)))
        with self.snapshot() as db:
            rows = db.conn.execute(sql, params).fetchall()
        return [_record(row) for row in rows]

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


_RUN_RECORDS = f"""
SELECT s.id, s.strategy, coalesce(m.description, m.path), s.gold,
    coalesce(json_extract(s.settings, '$.answer_rule'), 'last-number'), s.chosen_answer,
    s.correct, s.consistency, s.cot_confidence, s.created,
    s.selections, s.any_correct, s.n_voting, s.n_completed, s.n_answered, s.n_hit_limit,
    (SELECT json_group_array(answer) FROM (
        SELECT p.answer FROM paths p WHERE p.session_id = s.id AND {_VOTES}
        ORDER BY p.path_id)),
    (SELECT p.path_id FROM paths p
        WHERE p.session_id = s.id AND p.origin = 'greedy' AND {_FINISHED}
        ORDER BY p.path_id LIMIT 1) AS greedy
FROM {_SESSIONS} WHERE {{where}} ORDER BY s.created, s.id
"""
# the greedy reference's answer and exact log-probability (REAL, not JSON text)
_GREEDY = """
SELECT r.*, g.answer, g.logprob FROM ({records}) r
LEFT JOIN paths g ON g.session_id = r.id AND g.path_id = r.greedy ORDER BY r.created, r.id
"""


def _record(row: tuple[Any, ...]) -> RunRecord:
    sid, strategy, model, gold, rule, chosen, correct, consistency, delta, created = row[:10]
    selections_json, any_correct, n_voting, n_completed, n_answered, n_hit_limit = row[10:16]
    answers_json, _, greedy_answer, greedy_logprob = row[16:20]
    selections: dict[str, dict[str, Any]] = json.loads(selections_json)
    return RunRecord(
        session_id=sid,
        strategy=strategy,
        model=model,
        gold=_normalized_gold(gold, rule),
        gold_text=gold,
        chosen_answer=chosen,
        correct=as_bool(correct),
        consistency=consistency,
        cot_confidence=delta,
        answers=json.loads(answers_json),
        greedy_answer=greedy_answer,
        greedy_logprob=greedy_logprob,
        created=created,
        selections={name: item["answer"] for name, item in selections.items()},
        selection_correct={name: item["correct"] for name, item in selections.items()},
        any_correct=as_bool(any_correct),
        n_voting=n_voting,
        n_completed=n_completed,
        n_answered=n_answered,
        n_hit_limit=n_hit_limit,
    )
