"""Validating an import's labels, annotations and experiment (sessions are in ``reading``)."""

from __future__ import annotations

import functools
import json
import types as types_module
import typing
from pathlib import Path
from typing import Any

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.session import RunSettings, Session
from inspector.store.experiments import EXPERIMENT_STATUSES, dataset_digest
from inspector.store.imports.checks import (
    MAX_ITEMS,
    check_float,
    check_int,
    check_json_strings,
    check_str,
    describe,
    fail,
    get_bool,
    get_choice,
    get_int,
    get_list,
    get_obj,
    get_str,
    get_timestamp,
    obj_at,
)
from inspector.store.rows import AnnotationRow, ExperimentCopy, ExperimentRun

MAX_TAGS = 1_000


@functools.cache
def _setting_types() -> dict[str, tuple[type, bool]]:
    """Each ``RunSettings`` field's type (the non-None one) and whether it may be null."""
    types: dict[str, tuple[type, bool]] = {}
    for name, hint in typing.get_type_hints(RunSettings).items():
        union = typing.get_origin(hint) in (typing.Union, types_module.UnionType)
        args = typing.get_args(hint) if union else ()
        if args:
            base = next(a for a in args if a is not type(None))
            types[name] = (typing.get_origin(base) or base, type(None) in args)
        else:
            types[name] = (typing.get_origin(hint) or hint, False)
    return types


def parse_settings(obj: dict[str, Any], where: str) -> RunSettings:
    """Known settings checked against their declared types (``int | None`` may be null);
    unknown keys are ignored."""
    values: dict[str, Any] = {}
    for name, (kind, nullable) in _setting_types().items():
        if name not in obj:
            continue
        value, at = obj[name], f"{where}.{name}"
        if value is None and nullable:
            values[name] = None
        elif kind is bool:
            values[name] = get_bool(obj, name, where)
        elif kind is int:
            values[name] = check_int(value, at)
        elif kind is float:
            values[name] = check_float(value, at)
        elif kind is tuple:
            items = get_list(obj, name, where, 1000)
            values[name] = [check_str(v, f"{at}[{i}]") for i, v in enumerate(items)]
        else:
            values[name] = check_str(value, at)
    return RunSettings.from_dict(values)


def labels_from(data: Any, where: str) -> list[tuple[str, str]]:
    """``[{"name", "description"}]`` -> [(name, description)], names unique and non-empty."""
    if not isinstance(data, list):
        fail(where, f"expected an array, got {describe(data)}")
    if len(data) > MAX_ITEMS:
        fail(where, f"{len(data):,} items is more than the limit of {MAX_ITEMS:,}")
    labels: dict[str, str] = {}
    for i, item in enumerate(data):
        at = f"{where}[{i}]"
        obj = obj_at(item, at)
        name = get_str(obj, "name", at)
        if not name.strip():
            fail(f"{at}.name", "a label needs a name")
        if name in labels:
            fail(f"{at}.name", f"duplicate label {name!r}")
        labels[name] = get_str(obj, "description", at)
    return list(labels.items())


def annotation_row(data: Any, where: str, sessions: dict[str, Session]) -> AnnotationRow:
    """One annotation as its ``annotations`` row (without the database id)."""
    obj = obj_at(data, where)
    session_id = get_str(obj, "session_id", where)
    session = sessions.get(session_id)
    if session is None:
        fail(f"{where}.session_id", f"no session {session_id!r} in this file")
    path_id = get_int(obj, "path_id", where, null=True, minimum=0)
    if path_id is not None and all(p.id != path_id for p in session.paths):
        fail(f"{where}.path_id", f"session {session_id!r} has no path {path_id}")
    start = get_int(obj, "token_start", where, null=True, minimum=0)
    end = get_int(obj, "token_end", where, null=True, minimum=0)
    if (start is None) != (end is None):
        fail(where, "token_start and token_end must both be set or both be null")
    if start is not None and (path_id is None or start >= end):
        fail(where, "a token range needs a path_id and token_start < token_end")
    tags = get_list(obj, "tags", where, MAX_TAGS)
    return {
        "session_id": session_id,
        "path_id": path_id,
        "token_start": start,
        "token_end": end,
        "label": get_str(obj, "label", where, null=True),
        "note": get_str(obj, "note", where),
        "tags": json.dumps(
            [check_str(t, f"{where}.tags[{i}]") for i, t in enumerate(tags)], ensure_ascii=False
        ),
        "created": get_timestamp(obj, "created", where),
        "updated": get_timestamp(obj, "updated", where),
    }


def experiment_from(
    obj: dict[str, Any], where: str, sessions: dict[str, Session]
) -> ExperimentCopy:
    """The experiment with its data set (checked against its sha256) and runs."""
    settings = parse_settings(get_obj(obj, "settings", where), f"{where}.settings")
    model = get_obj(obj, "model", where)
    check_json_strings(model, f"{where}.model")
    dataset, source, sha256 = _dataset(get_obj(obj, "dataset", where), f"{where}.dataset")
    indices = {q.index for q in dataset.questions}
    runs: list[ExperimentRun] = []
    seen: set[int] = set()
    for i, item in enumerate(get_list(obj, "runs", where, MAX_ITEMS)):
        at = f"{where}.runs[{i}]"
        run = obj_at(item, at)
        index = get_int(run, "question_index", at, minimum=0)
        if index in seen:
            fail(f"{at}.question_index", f"duplicate run for question {index}")
        if index not in indices:
            fail(f"{at}.question_index", f"the data set has no question {index}")
        session_id = get_str(run, "session_id", at)
        if session_id not in sessions:
            fail(f"{at}.session_id", f"no session {session_id!r} in this file")
        seen.add(index)
        runs.append(ExperimentRun(index, session_id, get_timestamp(run, "created", at)))
    return ExperimentCopy(
        name=get_str(obj, "name", where),
        strategy=get_str(obj, "strategy", where),
        settings=settings.to_dict(),
        model=model,
        status=get_choice(obj, "status", where, EXPERIMENT_STATUSES),
        created=get_timestamp(obj, "created", where),
        updated=get_timestamp(obj, "updated", where),
        dataset=dataset,
        source_path=source,
        sha256=sha256,
        runs=runs,
        # exports made before schema v5 have no "asked": the whole data set
        asked=get_int(obj, "asked", where, null=True, minimum=1) if "asked" in obj else None,
    )


def _dataset(obj: dict[str, Any], where: str) -> tuple[Dataset, str | None, str]:
    questions, seen = [], set()
    for i, item in enumerate(get_list(obj, "questions", where, MAX_ITEMS)):
        at = f"{where}.questions[{i}]"
        q = obj_at(item, at)
        index = get_int(q, "index", at, minimum=0)
        if index in seen:
            fail(f"{at}.index", f"duplicate question index {index}")
        seen.add(index)
        questions.append(
            DatasetQuestion(
                index=index,
                question=get_str(q, "question", at),
                answer=get_str(q, "answer", at),
                solution=get_str(q, "solution", at, null=True),
                id=get_str(q, "id", at, null=True),
            )
        )
    source = get_str(obj, "source_path", where, null=True)
    dataset = Dataset(get_str(obj, "name", where), Path(source or "."), questions)
    sha256 = get_str(obj, "sha256", where)
    if dataset_digest(dataset) != sha256:
        fail(f"{where}.sha256", "does not match the questions (was the file edited?)")
    return dataset, source, sha256
