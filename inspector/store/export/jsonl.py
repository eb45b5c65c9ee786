"""The JSONL export: training data (STaR-style), one record per verified-correct path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inspector.store.export.report import Report

#: a path a person labelled with one of these is never exported as training data
REJECTING_LABELS = frozenset({"incorrect", "flawed reasoning", "lucky guess"})


def training_records(report: Report, *, pairs: bool = False) -> Iterator[dict[str, Any]]:
    """One record per verified-correct path (finished, matching the gold answer), skipping
    paths a person labelled incorrect / flawed reasoning / lucky guess and repeats of the same
    text within a session."""
    for item in report.sessions:
        session, seen = item.session, set()
        rejected = {a.path_id for a in item.annotations if a.label in REJECTING_LABELS}
        for path in session.paths:
            if path.correct is not True or path.id in rejected or path.text in seen:
                continue
            seen.add(path.text)
            if pairs:
                record: dict[str, Any] = {"prompt": session.prompt, "completion": path.text}
            else:
                record = {
                    "messages": [
                        {"role": "user", "content": session.question},
                        {"role": "assistant", "content": path.text.strip()},
                    ]
                }
            record.update(session_id=session.id, path_id=path.id)
            yield record


def write_jsonl(report: Report, out: Path, *, pairs: bool = False) -> int:
    """Write the training records; return how many."""
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for record in training_records(report, pairs=pairs):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
