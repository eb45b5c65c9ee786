"""Reading the ``studies`` of an import file (format version 3) and writing them.

Every field is checked, and every reference: a study's session is in the file, its path is
one of that session's, its settings plan (``plan_study`` accepts them), and each sample's
(position, token, sample) is a point of that plan — a position inside the studied path, a
token studied there (forks) or a step boundary (steps), a sample number below the study's
samples — once only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from inspector.core.session import Session
from inspector.core.studies import (
    STUDY_KINDS,
    Study,
    StudyPoint,
    StudySample,
    StudySettings,
    StudyStatus,
    plan_study,
)
from inspector.engine import InvalidParameterError
from inspector.store.database import Store
from inspector.store.imports.checks import (
    MAX_ITEMS,
    MAX_TOKENS,
    check_int,
    fail,
    get_bool,
    get_choice,
    get_float,
    get_id,
    get_int,
    get_list,
    get_obj,
    get_str,
    get_timestamp,
    get_unit,
    obj_at,
)

STUDY_STATUSES: tuple[StudyStatus, ...] = ("running", "complete", "cancelled", "interrupted")
MAX_SAMPLE_TOKENS = 4096  # a study's continuation is at most its max tokens (≤ 4096)
# each settings field: its type and whether null is allowed
_SETTINGS: dict[str, tuple[type, bool]] = {
    "kind": (str, False),
    "path_id": (int, False),
    "samples": (int, False),
    "max_tokens": (int, False),
    "temperature": (float, False),
    "top_p": (float, False),
    "seed": (int, False),
    "first": (int, True),
    "last": (int, True),
    "min_entropy": (float, True),
    "alternatives": (int, False),
    "min_prob": (float, False),
    "split": (str, False),
}


@dataclass
class StudyCopy:
    """A study read from a file, to be written as it was saved."""

    study: Study
    n_planned: int
    updated: str


def parse_studies(data: Any, where: str, sessions: dict[str, Session]) -> list[StudyCopy]:
    if not isinstance(data, list):
        fail(where, "expected an array of studies")
    if len(data) > MAX_ITEMS:
        fail(where, f"{len(data):,} studies is more than the limit of {MAX_ITEMS:,}")
    return [parse_study(item, f"{where}[{i}]", sessions) for i, item in enumerate(data)]


def parse_settings(data: Any, where: str) -> StudySettings:
    obj = obj_at(data, where)
    for key in obj:
        if key not in _SETTINGS:
            fail(f"{where}.{key}", "not a study setting")
    values: dict[str, Any] = {}
    for key, (kind, null) in _SETTINGS.items():
        if kind is int:
            values[key] = get_int(obj, key, where, null=null)
        elif kind is float:
            value = get_float(obj, key, where, null=null)
            if value is not None and not math.isfinite(value):
                fail(f"{where}.{key}", "expected a finite number")
            values[key] = value
        else:
            values[key] = get_str(obj, key, where, null=null)
    get_choice(obj, "kind", where, STUDY_KINDS)
    return StudySettings(**values)


def parse_study(data: Any, where: str, sessions: dict[str, Session]) -> StudyCopy:
    obj = obj_at(data, where)
    session_id = get_id(obj, "session_id", where)
    session = sessions.get(session_id)
    if session is None:
        fail(f"{where}.session_id", f"no session {session_id!r} in the file")
    settings = parse_settings(get_obj(obj, "settings", where), f"{where}.settings")
    kind = get_choice(obj, "kind", where, STUDY_KINDS)
    path_id = get_int(obj, "path_id", where, minimum=0)
    if kind != settings.kind:
        fail(f"{where}.kind", f"{kind!r} differs from its settings' kind {settings.kind!r}")
    if path_id != settings.path_id:
        fail(f"{where}.path_id", f"{path_id} differs from its settings' path {settings.path_id}")
    if path_id >= len(session.paths):
        fail(f"{where}.path_id", f"session {session_id!r} has no path {path_id}")
    try:
        plan = plan_study(session, settings)
    except InvalidParameterError as error:
        fail(f"{where}.settings", str(error))
    status = get_choice(obj, "status", where, STUDY_STATUSES)
    created = get_timestamp(obj, "created", where)
    updated = get_timestamp(obj, "updated", where)
    points = {p.key: p for p in plan.points}
    # a study running when it was exported has no writer here: it was interrupted
    shown: StudyStatus = next(
        (choice for choice in STUDY_STATUSES if choice == status and choice != "running"),
        "interrupted",
    )
    study = Study(session_id, settings, status=shown)
    study.created_at = created
    seen: set[tuple[int, int | None, int]] = set()
    for i, item in enumerate(get_list(obj, "samples", where, len(points))):
        sample = parse_sample(item, f"{where}.samples[{i}]", points)
        if sample.point.key in seen:
            fail(f"{where}.samples[{i}]", "a second sample of the same point")
        seen.add(sample.point.key)
        study.samples.append(sample)
    return StudyCopy(study, len(plan.points), updated)


def parse_sample(
    data: Any, where: str, points: dict[tuple[int, int | None, int], StudyPoint]
) -> StudySample:
    obj = obj_at(data, where)
    position = get_int(obj, "position", where, minimum=0)
    token_id = get_int(obj, "token_id", where, null=True, minimum=0)
    number = get_int(obj, "sample", where, minimum=0)
    planned = points.get((position, token_id, number))
    if planned is None:
        token = "no token" if token_id is None else f"token {token_id}"
        fail(
            where,
            f"(position {position}, {token}, sample {number}) is not a point of this study "
            "(a position of its path, a token studied there, a sample number below its "
            "samples)",
        )
    token_text = get_str(obj, "token_text", where)
    token_prob = get_unit(obj, "token_prob", where, null=True)
    ids = get_list(obj, "token_ids", where, min(MAX_TOKENS, MAX_SAMPLE_TOKENS + 1))
    token_ids = [check_int(t, f"{where}.token_ids[{j}]", 0) for j, t in enumerate(ids)]
    logprob = get_float(obj, "logprob", where)
    if logprob > 0 or math.isnan(logprob):
        fail(f"{where}.logprob", f"a log-probability is at most 0, got {logprob}")
    answer = get_str(obj, "answer", where, null=True)
    correct = get_bool(obj, "correct", where, null=True)
    if token_text != planned.token_text:
        fail(f"{where}.token_text", f"{token_text!r} is not the path's token there")
    expected = planned.token_prob
    if (token_prob is None) != (expected is None) or (
        token_prob is not None and expected is not None and abs(token_prob - expected) > 1e-6
    ):
        fail(f"{where}.token_prob", f"{token_prob} is not the token's probability in the path")
    return StudySample(
        point=StudyPoint(position, token_id, number, token_text, token_prob),
        text=get_str(obj, "text", where),
        token_ids=token_ids,
        finish_reason=get_str(obj, "finish_reason", where),
        logprob=logprob,
        answer=answer,
        correct=correct,
    )


def write_studies(store: Store, copies: list[StudyCopy], replaced: list[str]) -> None:
    """Inside the import's transaction: the replaced sessions' old studies go, the file's
    are written with their own status and dates."""
    with store.transaction() as db:
        for session_id in replaced:
            db.execute("DELETE FROM studies WHERE session_id = ?", [session_id])
        for copy in copies:
            study = copy.study
            assert study.session_id is not None
            created, status = study.created_at, study.status
            study_id = store.create_study(study, study.session_id, copy.n_planned)
            db.execute(
                "UPDATE studies SET status = ?, writer = NULL, created = ?, updated = ? "
                "WHERE id = ?",
                [status, created, copy.updated, study_id],
            )
            study.status, study.created_at = status, created
