"""The CSV export for spreadsheets: one row per path (a session) or per question (an
experiment), every cell that a spreadsheet would run as a formula made inert."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inspector.core.run_stats import SELECTION_RULES
from inspector.store.export.report import Report, SessionReport, token_split

#: a cell starting with one of these is a formula in Excel, LibreOffice or Google Sheets
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

SESSION_COLUMNS = (
    "session_id",
    "question",
    "gold",
    "path_id",
    "label",
    "origin",
    "finish_reason",
    "completed",
    "answer",
    "answer_rule",
    "correct",
    "confidence",
    "logprob",
    "n_tokens",
    "thinking_tokens",
    "answer_part_tokens",
    "cot_pick",
    "annotations",
    "probe_text",
    "probe_answer",
    "probe_confidence",
    "text",
)
EXPERIMENT_COLUMNS = (
    "question_index",
    "question",
    "gold",
    "chosen_answer",
    "correct",
    "consistency",
    "n_paths",
    "paths_finished",
    "paths_answered",
    "pass_at_k",
    *[f"{rule}_answer" for rule in SELECTION_RULES],
    "votes",
    "session_id",
)


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading ``'`` (numbers, and
    text that is just a number such as ``-3``, are left alone)."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return spreadsheet_safe(value)


def csv_rows(report: Report) -> tuple[tuple[str, ...], Iterator[list[Any]]]:
    """The header and rows: one per question for an experiment, else one per path."""
    if report.experiment is not None:
        sessions = {item.session.id: item for item in report.sessions}

        def experiment_rows() -> Iterator[list[Any]]:
            for r in report.experiment.results:  # type: ignore[union-attr]
                item = sessions.get(r.session_id)
                summary = item.summary if item else None
                votes = summary.votes if summary else {}
                yield [
                    r.question_index,
                    r.question,
                    r.gold,
                    r.chosen_answer,
                    r.correct,
                    r.consistency,
                    len(item.session.paths) if item else None,
                    summary.n_completed if summary else None,
                    summary.n_answered if summary else None,
                    summary.any_correct if summary else None,
                    *[
                        summary.selections.get(rule) if summary else None
                        for rule in SELECTION_RULES
                    ],
                    "; ".join(f"{answer}: {count}" for answer, count in votes.items()),
                    r.session_id,
                ]

        return EXPERIMENT_COLUMNS, experiment_rows()
    return SESSION_COLUMNS, (row for item in report.sessions for row in _path_rows(item))


def _path_rows(item: SessionReport) -> Iterator[list[Any]]:
    session = item.session
    for path in session.paths:
        labels = [a.label or a.note for a in item.path_annotations(path.id)]
        thinking, rest = token_split(path)
        probe = path.probe
        yield [
            session.id,
            session.question,
            session.gold,
            path.id,
            path.label,
            path.origin,
            path.finish_reason,
            path.completed,
            path.answer,
            path.answer_rule,
            path.correct,
            path.confidence,
            path.logprob,
            path.n_tokens,
            thinking,
            rest,
            path.id == item.summary.cot_path_id,
            "; ".join(labels),
            probe.text if probe else None,
            probe.answer if probe else None,
            probe.confidence if probe else None,
            path.text,
        ]


def write_csv(report: Report, out: Path) -> None:
    header, rows = csv_rows(report)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([_cell(value) for value in row] for row in rows)
