"""Filling the columns a migration adds from what older versions stored (schema v3).

Run inside the migration's transaction by :mod:`inspector.store.schema`; a later save of a
session rewrites these columns from the session itself.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from inspector.core.answers import extract_path_answer
from inspector.core.session import COMPLETED_REASONS, ReasoningPath, RunSettings, Session
from inspector.store import codec


def legacy_rule(rule: str, path: ReasoningPath) -> str | None:
    """Which rule found an answer saved before rules were recorded: the session's rule (a
    user regex is ``regex``); for ``auto``, the step that finds the same answer in the path's
    text again (None if none does)."""
    if path.answer is None:
        return None
    if rule.startswith("regex:"):
        return "regex"
    if rule != "auto":
        return rule
    try:
        found = extract_path_answer(
            path.text, rule, finished=path.finish_reason in COMPLETED_REASONS
        ).answer
    except ValueError:
        return None
    return found.rule if found is not None and found.normalized == path.answer else None


def fill_v3(db: Database) -> None:
    """Each answered path's rule, then every session's v3 summary columns."""
    sessions = db.execute("SELECT id, settings, prompt, gold FROM sessions").fetchall()
    for session_id, settings_json, prompt, gold in sessions:
        stored: dict[str, Any] = json.loads(settings_json)
        rule = str(stored.get("answer_rule", "last-number"))
        settings = RunSettings.from_dict({**stored, "answer_rule": rule})
        paths = [
            codec.path_from_row(row)
            for row in db.query(
                "SELECT * FROM paths WHERE session_id = ? ORDER BY path_id", [session_id]
            )
        ]
        updates = []
        for path in paths:
            path.answer_rule = legacy_rule(rule, path)
            if path.answer_rule is not None:
                updates.append((path.answer_rule, session_id, path.id))
        db.conn.executemany(
            "UPDATE paths SET answer_rule = ? WHERE session_id = ? AND path_id = ?", updates
        )
        session = Session("", prompt, [], settings, {}, gold, id=session_id, paths=paths)
        try:
            columns = codec.summary_columns(session, session.summary())
        except (ValueError, ArithmeticError):
            continue  # odd stored numbers: the defaults stay until the session is saved
        assignments = ", ".join(f"{name} = ?" for name in columns)
        db.execute(
            f"UPDATE sessions SET {assignments} WHERE id = ?", [*columns.values(), session_id]
        )
