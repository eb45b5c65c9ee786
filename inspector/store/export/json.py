"""The lossless JSON export: format ``reasoning-inspector``, version 2 (see ``docs/exports.md``).

Everything a session holds is written as saved (node ids, token ids, texts, raw pieces in
base64, log-probabilities, entropies, top-k alternatives, paths with their derived fields,
settings, model, status, timestamps), so exporting, importing into an empty database and
exporting again gives the same bytes. Database-local row ids (annotations, experiments, data
sets, models) are left out. Non-finite floats are written as the strings ``"nan"``, ``"inf"``
and ``"-inf"``, so the file is strict JSON.

Version 2 (issue 11) adds to each path the rule that found its answer, its thinking section,
whether it completed, its answer's mean log-probability and its answer probe; version 1 files
are still imported.

Version 3 (issue 12) adds ``studies``: each resampling study of an exported session (forking
tokens, step importance) with its settings, status and every continuation it sampled; files
of versions 1 and 2 (without studies) are still imported.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from inspector.core.session import AnswerProbe, ReasoningPath, Session
from inspector.engine.records import TokenRecord
from inspector.store.database import Store
from inspector.store.rows import Annotation, SessionStamps

FORMAT_NAME = "reasoning-inspector"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # what the importer reads
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_float(value: float | None) -> float | str | None:
    """A finite float as itself; NaN and infinities as ``"nan"``, ``"inf"``, ``"-inf"``."""
    if value is None or math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def token_doc(token: TokenRecord) -> dict[str, Any]:
    return {
        "id": token.token_id,
        "text": token.text,
        "piece": base64.b64encode(token.piece).decode("ascii"),
        "logprob": encode_float(token.logprob),
        "entropy": encode_float(token.entropy),
        "top": [
            {"id": alt.token_id, "text": alt.text, "logprob": encode_float(alt.logprob)}
            for alt in token.top
        ],
    }


def path_doc(path: ReasoningPath, *, strict: bool = True) -> dict[str, Any]:
    """A path as JSON: the one serialisation of a path (the JSON export, ``inspector run
    --json``). ``strict`` writes non-finite floats as strings (:func:`encode_float`); without
    it they stay floats, for output that handles them itself."""
    number = encode_float if strict else _same
    return {
        "id": path.id,
        "node": path.node_id,
        "origin": path.origin,
        "label": path.label,
        "finish_reason": path.finish_reason,
        "stop_string": path.stop_string,
        "parent_path": path.parent_path,
        "branch_depth": path.branch_depth,
        "text": path.text,
        "logprob": number(path.logprob),
        "n_tokens": path.n_tokens,
        "answer": path.answer,
        "answer_text": path.answer_text,
        "answer_span": list(path.answer_span) if path.answer_span else None,
        "answer_tokens": list(path.answer_tokens) if path.answer_tokens else None,
        "confidence": number(path.confidence),
        "correct": path.correct,
        "answer_rule": path.answer_rule,
        "thinking_tokens": list(path.thinking_tokens) if path.thinking_tokens else None,
        "thinking_ended": path.thinking_ended,
        "completed": path.completed,
        "answer_logprob": number(path.answer_logprob),
        "probe": None if path.probe is None else probe_doc(path.probe, strict=strict),
    }


def probe_doc(probe: AnswerProbe, *, strict: bool = True) -> dict[str, Any]:
    """The answer probe: its text, how many of its tokens are that text (forced), every
    token (forced, then decoded), and the answer and Δ measured on it."""
    number = encode_float if strict else _same
    return {
        "text": probe.text,
        "n_forced": probe.n_forced,
        "tokens": [token_doc(t) for t in probe.tokens],
        "answer": probe.answer,
        "answer_text": probe.answer_text,
        "answer_tokens": list(probe.answer_tokens) if probe.answer_tokens else None,
        "confidence": number(probe.confidence),
    }


def _same(value: float | None) -> float | None:
    return value


def session_doc(session: Session, stamps: SessionStamps) -> dict[str, Any]:
    """One session; nodes are listed parents first, children in their tree order."""
    return {
        "id": session.id,
        "title": session.title,
        "question": session.question,
        "gold": session.gold,
        "prompt": session.prompt,
        "prompt_tokens": list(session.prompt_tokens),
        "status": session.status,
        "created": session.created,
        "updated": stamps.updated,
        "deleted_at": stamps.deleted_at,
        "settings": session.settings.to_dict(),
        "model": session.model,
        "nodes": [
            {
                "id": node.id,
                "parent": node.parent,
                "depth": node.depth,
                "tokens": [token_doc(t) for t in node.tokens],
            }
            for node in session.tree.walk()
        ],
        "paths": [path_doc(p) for p in session.paths],
    }


def annotation_doc(annotation: Annotation) -> dict[str, Any]:
    return {
        "session_id": annotation.session_id,
        "path_id": annotation.path_id,
        "token_start": annotation.token_start,
        "token_end": annotation.token_end,
        "label": annotation.label,
        "note": annotation.note,
        "tags": list(annotation.tags),
        "created": annotation.created,
        "updated": annotation.updated,
    }


def session_study_ids(store: Store, session_id: str) -> list[tuple[int, str]]:
    """(id, updated) of every study of the session, oldest first (a soft-deleted session's
    too: an experiment's export holds those sessions)."""
    rows = store.db.execute(
        "SELECT id, updated FROM studies WHERE session_id = ? ORDER BY id", [session_id]
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def study_doc(store: Store, study_id: int, updated: str) -> dict[str, Any]:
    """One study and its continuations (in the store's order: position, token, sample)."""
    study = store.load_study(study_id)
    return {
        "session_id": study.session_id,
        "kind": study.settings.kind,
        "path_id": study.settings.path_id,
        "settings": study.settings.to_dict(),
        "status": study.status,
        "created": study.created_at,
        "updated": updated,
        "samples": [
            {
                "position": s.point.position,
                "token_id": s.point.token_id,
                "sample": s.point.sample,
                "token_text": s.point.token_text,
                "token_prob": s.point.token_prob,
                "text": s.text,
                "token_ids": list(s.token_ids),
                "finish_reason": s.finish_reason,
                "logprob": encode_float(s.logprob),
                "answer": s.answer,
                "correct": s.correct,
            }
            for s in study.samples
        ],
    }


def experiment_doc(store: Store, experiment_id: int) -> dict[str, Any]:
    """The experiment, its data set (with every question) and its runs."""
    record = store.experiment(experiment_id)
    return {
        "name": record.name,
        "strategy": record.strategy,
        "settings": record.settings,
        "model": record.model,
        "status": record.status,
        "asked": record.asked,  # questions its latest run asked for (null: all)
        "created": record.created,
        "updated": record.updated,
        "dataset": {
            "name": record.dataset_name,
            "source_path": record.dataset_source,
            "sha256": record.dataset_sha256,
            "questions": [
                {
                    "index": q.index,
                    "question": q.question,
                    "answer": q.answer,
                    "solution": q.solution,
                    "id": q.id,
                }
                for q in store.dataset_questions(record.dataset_id)
            ],
        },
        "runs": [asdict(run) for run in store.experiment_runs(experiment_id)],
    }


def build_document(
    store: Store, *, session_id: str | None = None, experiment_id: int | None = None
) -> dict[str, Any]:
    """The whole export of one session, or of an experiment with every session it ran
    (soft-deleted ones included, marked by ``deleted_at``)."""
    with store.snapshot():
        experiment = None
        if experiment_id is not None:
            experiment = experiment_doc(store, experiment_id)
            ids = list(dict.fromkeys(run["session_id"] for run in experiment["runs"]))
        elif session_id is not None:
            ids = [session_id]
        else:
            raise ValueError("export needs a session or an experiment")
        sessions, annotations, studies = [], [], []
        for sid in ids:
            session = store.load_session(sid)
            sessions.append(session_doc(session, store.session_stamps(sid)))
            annotations += [annotation_doc(a) for a in store.annotations(sid)]
            studies += [study_doc(store, i, u) for i, u in session_study_ids(store, sid)]
        used = sorted({a["label"] for a in annotations if a["label"] is not None})
        labels = [
            {"name": name, "description": description}
            for name, description in store.label_descriptions()
            if name in used
        ]
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "sessions": sessions,
        "experiment": experiment,
        "labels": labels,
        "annotations": annotations,
        "studies": studies,
    }


def document_checksum(document: dict[str, Any]) -> str:
    """``sha256:`` and the SHA-256 of the document's canonical JSON without its checksum:
    what the importer recomputes to tell a file changed after export."""
    content = {key: value for key, value in document.items() if key != "checksum"}
    canonical = json.dumps(
        content, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dump_document(document: dict[str, Any]) -> str:
    """Strict JSON (no NaN/Infinity literals), keys in a fixed order, one trailing newline;
    signed with :func:`document_checksum` (the last key)."""
    signed = {key: value for key, value in document.items() if key != "checksum"}
    signed["checksum"] = document_checksum(signed)
    return json.dumps(signed, ensure_ascii=False, allow_nan=False, indent=1) + "\n"


def write_json(document: dict[str, Any], out: Path) -> None:
    out.write_text(dump_document(document), encoding="utf-8")
