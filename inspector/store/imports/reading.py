"""Reading an import file: the whole JSON export parsed and validated, nothing written.

Checks format and version, every field's presence and type, sizes, nesting depth, duplicate
ids, and the references between sessions, nodes, paths, annotations and runs. A bad file
raises :class:`ImportFileError` naming the JSON location of the problem.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.core.answers import answers_match
from inspector.core.session import (
    AnswerProbe,
    ReasoningPath,
    RunSettings,
    Session,
    SessionSummary,
)
from inspector.core.tree import ROOT_ID, ReasoningTree, TreeNode
from inspector.engine.records import Alternative, TokenRecord
from inspector.store.backfill import legacy_rule
from inspector.store.export.json import (
    FORMAT_NAME,
    FORMAT_VERSION,
    READABLE_VERSIONS,
    document_checksum,
)
from inspector.store.imports.checks import (
    MAX_ALTERNATIVES,
    MAX_ITEMS,
    MAX_NODES,
    MAX_PATHS,
    MAX_SESSIONS,
    MAX_TOKENS,
    Invalid,
    check_int,
    check_json_strings,
    fail,
    get,
    get_bool,
    get_choice,
    get_float,
    get_id,
    get_int,
    get_list,
    get_obj,
    get_pair,
    get_str,
    get_timestamp,
    get_unit,
    load_json,
    obj_at,
)
from inspector.store.imports.records import (
    annotation_row,
    experiment_from,
    labels_from,
    parse_settings,
)
from inspector.store.imports.studies import StudyCopy, parse_studies
from inspector.store.rows import AnnotationRow, ExperimentCopy

SESSION_STATUSES = ("running", "complete", "cancelled", "interrupted")
#: what may have found a path's answer (``auto`` records the step that did)
ANSWER_RULE_NAMES = ("boxed", "gsm8k", "answer-is", "last-number", "choice", "regex", "probe")


class ImportFileError(ValueError):
    """The import file is not a valid export; ``str()`` is ``FILE: LOCATION: problem``."""

    def __init__(self, path: Path, invalid: Invalid) -> None:
        self.path, self.where, self.problem = path, invalid.where, invalid.problem
        super().__init__(f"{path}: {invalid}")


@dataclass
class ImportedSession:
    session: Session
    summary: SessionSummary
    updated: str
    deleted_at: str | None


@dataclass
class ImportDocument:
    sessions: list[ImportedSession]
    experiment: ExperimentCopy | None
    labels: list[tuple[str, str]]
    annotations: list[AnnotationRow]
    studies: list[StudyCopy] = field(default_factory=list)  # version 3 on


class _Counts:
    def __init__(self) -> None:
        self.paths = self.tokens = self.nodes = 0

    def add(self, where: str, kind: str, amount: int, limit: int) -> None:
        total = getattr(self, kind) + amount
        if total > limit:
            fail(where, f"more than {limit:,} {kind} in the file")
        setattr(self, kind, total)


# -- reading ----------------------------------------------------------------------------------
def read_import(path: Path | str) -> ImportDocument:
    """Load and validate the whole file (nothing is written)."""
    path = Path(path).expanduser()
    try:
        data = load_json(path)
        document = parse_document(data)
        verify_checksum(data)
        return document
    except Invalid as invalid:
        raise ImportFileError(path, invalid) from None


def parse_document(data: Any) -> ImportDocument:
    """Validate an already parsed export; raises :class:`Invalid`."""
    root = obj_at(data, "")
    if get(root, "format", "") != FORMAT_NAME:
        fail("format", f"expected {FORMAT_NAME!r}: this is not a Reasoning Inspector export")
    version = check_int(get(root, "version", ""), "version")
    if version not in READABLE_VERSIONS:
        newer = " (written by a newer Reasoning Inspector)" if version > FORMAT_VERSION else ""
        readable = " and ".join(str(v) for v in READABLE_VERSIONS)
        fail(
            "version", f"version {version} is not supported{newer}; this reads versions {readable}"
        )
    counts = _Counts()
    sessions: list[ImportedSession] = []
    seen: set[str] = set()
    for i, item in enumerate(get_list(root, "sessions", "", MAX_SESSIONS)):
        imported = parse_session(item, f"sessions[{i}]", counts, version)
        if imported.session.id in seen:
            fail(f"sessions[{i}].id", f"duplicate session id {imported.session.id!r}")
        seen.add(imported.session.id)
        sessions.append(imported)
    if not sessions:
        fail("sessions", "the file holds no sessions")
    by_id = {s.session.id: s.session for s in sessions}
    labels = labels_from(root.get("labels", []), "labels")
    notes = get_list(root, "annotations", "", MAX_ITEMS)
    annotations = [annotation_row(a, f"annotations[{i}]", by_id) for i, a in enumerate(notes)]
    experiment = None
    if get(root, "experiment", "") is not None:
        experiment = experiment_from(get_obj(root, "experiment", ""), "experiment", by_id)
    studies: list[StudyCopy] = []
    if version >= 3:
        studies = parse_studies(get(root, "studies", ""), "studies", by_id)
    return ImportDocument(sessions, experiment, labels, annotations, studies)


def parse_session(
    data: Any, where: str, counts: _Counts, version: int = FORMAT_VERSION
) -> ImportedSession:
    obj = obj_at(data, where)
    session_id = get_id(obj, "id", where)
    model = get_obj(obj, "model", where)
    check_json_strings(model, f"{where}.model")
    prompt_tokens = get_list(obj, "prompt_tokens", where, MAX_ITEMS)
    settings = parse_settings(get_obj(obj, "settings", where), f"{where}.settings")
    tree = parse_tree(get_list(obj, "nodes", where, MAX_NODES), f"{where}.nodes", counts)
    raw_paths = get_list(obj, "paths", where, MAX_PATHS)
    counts.add(f"{where}.paths", "paths", len(raw_paths), MAX_PATHS)
    paths = [
        parse_path(
            p, f"{where}.paths[{i}]", tree, version=version, settings=settings, counts=counts
        )
        for i, p in enumerate(raw_paths)
    ]
    ids: set[int] = set()
    for i, path in enumerate(paths):
        if path.id in ids:
            fail(f"{where}.paths[{i}].id", f"duplicate path id {path.id}")
        ids.add(path.id)
    session = Session(
        question=get_str(obj, "question", where),
        prompt=get_str(obj, "prompt", where),
        prompt_tokens=[
            check_int(t, f"{where}.prompt_tokens[{i}]") for i, t in enumerate(prompt_tokens)
        ],
        settings=settings,
        model=model,
        gold=get_str(obj, "gold", where, null=True),
        id=session_id,
        title=get_str(obj, "title", where),
        created=get_timestamp(obj, "created", where),
        status=get_choice(obj, "status", where, SESSION_STATUSES),  # type: ignore[arg-type]
        tree=tree,
        paths=paths,
    )
    check_consistency(session, where)
    try:
        summary = session.summary()
    except (ValueError, ArithmeticError) as exc:
        fail(f"{where}.paths", f"the paths cannot be summarised: {exc}")
    updated = get_timestamp(obj, "updated", where)
    deleted_at = get_timestamp(obj, "deleted_at", where, null=True)
    return ImportedSession(session, summary, updated, deleted_at)


def check_consistency(session: Session, where: str) -> None:
    """What a session's paths say must follow from their tokens and the session: the text is
    the tokens' text, the counts and log-probabilities add up, a branch names a path that
    exists, and "correct" is the answer compared with the gold answer (a changed byte would
    otherwise import silently)."""
    by_id = {p.id: p for p in session.paths}
    for i, path in enumerate(session.paths):
        at = f"{where}.paths[{i}]"
        tokens = session.path_tokens(path)
        text = "".join(t.text for t in tokens)
        if path.stop_string and path.stop_string in text:
            text = text[: text.index(path.stop_string)]
        if path.text != text:
            fail(f"{at}.text", "does not match the path's tokens (the file was changed)")
        if path.n_tokens != len(tokens):
            fail(f"{at}.n_tokens", f"is {path.n_tokens} but the path has {len(tokens)} tokens")
        total = sum(t.logprob for t in tokens)
        if not math.isclose(path.logprob, total, rel_tol=1e-9, abs_tol=1e-6):
            fail(f"{at}.logprob", f"is {path.logprob} but its tokens add up to {total}")
        if path.parent_path is not None:
            parent = by_id.get(path.parent_path)
            if parent is None:
                fail(f"{at}.parent_path", f"no path {path.parent_path} in this session")
            if path.parent_path >= path.id:  # a branch is made after its parent: no cycles
                fail(
                    f"{at}.parent_path",
                    f"path {path.parent_path} is not an earlier path than this one ({path.id})",
                )
            if path.branch_depth is None or not 0 <= path.branch_depth < parent.n_tokens:
                fail(f"{at}.branch_depth", f"not a position of path {path.parent_path}")
        if session.gold is not None and path.finished:
            expected = answers_match(path.answer, session.gold, session.settings.answer_rule)
            if path.correct != expected:
                fail(
                    f"{at}.correct",
                    f"says {path.correct} but the answer {path.answer!r} against the gold "
                    f"{session.gold!r} is {expected}",
                )


def verify_checksum(data: Any) -> None:
    """A version-2 export carries the SHA-256 of its content: a file changed after export
    (by hand or by damage) is refused, after every field has been checked on its own."""
    root = obj_at(data, "")
    if check_int(get(root, "version", ""), "version") < 2:
        return
    stated = get_str(root, "checksum", "")
    if stated != document_checksum(root):
        fail(
            "checksum",
            "does not match the content: the file was changed after it was exported "
            "(export the session again rather than editing the file)",
        )


def parse_tree(nodes: list[Any], where: str, counts: _Counts) -> ReasoningTree:
    """Nodes listed parents first; the first is the root (id 0, no parent, no tokens)."""
    if not nodes:
        fail(where, "a session needs at least its root node")
    counts.add(where, "nodes", len(nodes), MAX_NODES)
    tree = ReasoningTree()
    tree.nodes = {}
    for i, data in enumerate(nodes):
        at = f"{where}[{i}]"
        obj = obj_at(data, at)
        node_id = get_int(obj, "id", at, minimum=0)
        parent = get_int(obj, "parent", at, null=True, minimum=0)
        depth = get_int(obj, "depth", at, minimum=0)
        raw = get_list(obj, "tokens", at, MAX_TOKENS)
        counts.add(f"{at}.tokens", "tokens", len(raw), MAX_TOKENS)
        tokens = [parse_token(t, f"{at}.tokens[{j}]") for j, t in enumerate(raw)]
        if node_id in tree.nodes:
            fail(f"{at}.id", f"duplicate node id {node_id}")
        if i == 0:
            if (node_id, parent, depth, len(tokens)) != (ROOT_ID, None, 0, 0):
                fail(at, "the first node must be the root: id 0, parent null, depth 0, no tokens")
        elif parent is None:
            fail(f"{at}.parent", "only the first node may be the root (parent null)")
        elif parent not in tree.nodes:
            fail(f"{at}.parent", f"node {parent} is not listed before this node")
        elif depth != tree.nodes[parent].end_depth:
            fail(f"{at}.depth", f"expected {tree.nodes[parent].end_depth} (its parent's end)")
        tree.nodes[node_id] = TreeNode(node_id, parent, depth, tokens)
        if parent is not None:
            tree.nodes[parent].children.append(node_id)
    tree._next_id = max(tree.nodes) + 1
    return tree


# a log-probability the model computed in float32 may round to a hair above 0
_LOGPROB_SLACK = 1e-4


def _logprob(obj: dict[str, Any], key: str, where: str) -> float:
    """A log-probability: at most 0 (−∞ allowed: a token the model ruled out)."""
    value = get_float(obj, key, where)
    if math.isnan(value) or value > _LOGPROB_SLACK:
        fail(f"{where}.{key}", f"{value} is not a log-probability (at most 0)")
    return float(value)


def _entropy(obj: dict[str, Any], key: str, where: str) -> float:
    """An entropy in nats: finite and not negative, or NaN (a server that reports none)."""
    value = get_float(obj, key, where)
    if not math.isnan(value) and not (math.isfinite(value) and value >= -_LOGPROB_SLACK):
        fail(f"{where}.{key}", f"{value} is not an entropy (finite, at least 0)")
    return float(value)


def parse_token(data: Any, where: str) -> TokenRecord:
    obj = obj_at(data, where)
    try:
        piece = base64.b64decode(get_str(obj, "piece", where), validate=True)
    except (binascii.Error, ValueError):
        fail(f"{where}.piece", "expected base64 bytes")
    top = get_list(obj, "top", where, MAX_ALTERNATIVES)
    return TokenRecord(
        token_id=get_int(obj, "id", where),
        text=get_str(obj, "text", where),
        piece=piece,
        logprob=_logprob(obj, "logprob", where),
        entropy=_entropy(obj, "entropy", where),
        top=tuple(parse_alternative(a, f"{where}.top[{k}]") for k, a in enumerate(top)),
    )


def parse_alternative(data: Any, where: str) -> Alternative:
    obj = obj_at(data, where)
    return Alternative(
        get_int(obj, "id", where), get_str(obj, "text", where), _logprob(obj, "logprob", where)
    )


def parse_path(
    data: Any,
    where: str,
    tree: ReasoningTree,
    *,
    version: int = FORMAT_VERSION,
    settings: RunSettings | None = None,
    counts: _Counts | None = None,
) -> ReasoningPath:
    """A path; version 2 adds its answer rule, thinking section, completion, answer
    log-probability and probe (a version 1 path gets what a schema-v3 upgrade gives it)."""
    obj = obj_at(data, where)
    node = get_int(obj, "node", where, minimum=0)
    if node not in tree.nodes:
        fail(f"{where}.node", f"no node {node} in this session's tree")
    path = ReasoningPath(
        id=get_int(obj, "id", where, minimum=0),
        node_id=node,
        origin=get_str(obj, "origin", where),
        label=get_str(obj, "label", where),
        finish_reason=get_str(obj, "finish_reason", where, null=True),
        stop_string=get_str(obj, "stop_string", where, null=True),
        parent_path=get_int(obj, "parent_path", where, null=True),
        branch_depth=get_int(obj, "branch_depth", where, null=True),
        text=get_str(obj, "text", where),
        logprob=_logprob(obj, "logprob", where),
        n_tokens=get_int(obj, "n_tokens", where, minimum=0),
        answer=get_str(obj, "answer", where, null=True),
        answer_text=get_str(obj, "answer_text", where, null=True),
        answer_span=get_pair(obj, "answer_span", where),
        answer_tokens=get_pair(obj, "answer_tokens", where),
        confidence=get_unit(obj, "confidence", where, null=True),
        correct=get_bool(obj, "correct", where, null=True),
    )
    if version < 2:
        path.answer_rule = legacy_rule((settings or RunSettings()).answer_rule, path)
        return path
    _parse_answer_fields(obj, where, path, counts or _Counts())
    return path


def _parse_answer_fields(
    obj: dict[str, Any], where: str, path: ReasoningPath, counts: _Counts
) -> None:
    """Version 2's fields of a path, each checked against the others."""
    rule = get_str(obj, "answer_rule", where, null=True)
    if rule is not None and rule not in ANSWER_RULE_NAMES:
        names = ", ".join(ANSWER_RULE_NAMES)
        fail(f"{where}.answer_rule", f"unknown answer rule {rule!r} (expected one of {names})")
    if rule is not None and path.answer is None:
        fail(f"{where}.answer_rule", "names a rule but the path has no answer")
    path.answer_rule = rule
    thinking = get_pair(obj, "thinking_tokens", where)
    if thinking is not None and thinking[1] > path.n_tokens:
        fail(f"{where}.thinking_tokens", f"ends past the path's {path.n_tokens} tokens")
    path.thinking_tokens = thinking
    path.thinking_ended = get_bool(obj, "thinking_ended", where)
    completed = get_bool(obj, "completed", where)
    if completed != path.completed:
        fail(
            f"{where}.completed",
            f"is {str(completed).lower()} but finish_reason {path.finish_reason!r} and "
            f"thinking_ended {str(path.thinking_ended).lower()} make it "
            f"{str(path.completed).lower()}",
        )
    path.answer_logprob = _finite_logprob(obj, "answer_logprob", where, null=True)
    _finite(obj, "confidence", where)
    probe = get(obj, "probe", where)
    if probe is not None:
        path.probe = parse_probe(probe, f"{where}.probe", counts)
    if rule == "probe" and (path.probe is None or path.probe.answer != path.answer):
        fail(f"{where}.answer_rule", "is 'probe' but the probe does not give the path's answer")


def _finite(obj: dict[str, Any], key: str, where: str) -> float | None:
    value: float | None = get_float(obj, key, where, null=True)
    if value is not None and not math.isfinite(value):
        fail(f"{where}.{key}", f"expected a finite number, got {value}")
    return value


def _finite_logprob(obj: dict[str, Any], key: str, where: str, *, null: bool = False) -> Any:
    """A log-probability that is finite and at most 0 (``null`` allowed when asked)."""
    value = get_float(obj, key, where, null=null)
    if value is not None and not (math.isfinite(value) and value <= 0):
        fail(f"{where}.{key}", f"{value} is not a log-probability (finite, at most 0)")
    return value


def parse_probe(data: Any, where: str, counts: _Counts) -> AnswerProbe:
    """An answer probe: a non-empty text, its tokens (log-probabilities finite and at most 0;
    alternatives at most 0), ``n_forced`` within them and an answer span after them."""
    obj = obj_at(data, where)
    text = get_str(obj, "text", where)
    if not text:
        fail(f"{where}.text", "a probe text cannot be empty")
    raw = get_list(obj, "tokens", where, MAX_TOKENS)
    counts.add(f"{where}.tokens", "tokens", len(raw), MAX_TOKENS)
    tokens = []
    for j, item in enumerate(raw):
        at = f"{where}.tokens[{j}]"
        token = parse_token(item, at)
        _finite_logprob(obj_at(item, at), "logprob", at)
        for k, alt in enumerate(token.top):
            if alt.logprob > 0:
                fail(f"{at}.top[{k}].logprob", f"{alt.logprob} is not a log-probability (above 0)")
        tokens.append(token)
    n_forced = get_int(obj, "n_forced", where, minimum=0)
    if n_forced > len(tokens):
        fail(f"{where}.n_forced", f"{n_forced} forced tokens but the probe has {len(tokens)}")
    span = get_pair(obj, "answer_tokens", where)
    if span is not None and not (n_forced <= span[0] and span[1] <= len(tokens)):
        fail(
            f"{where}.answer_tokens",
            f"expected a range within the decoded tokens [{n_forced}, {len(tokens)}]",
        )
    answer = get_str(obj, "answer", where, null=True)
    if (answer is None) != (span is None):
        fail(where, "answer and answer_tokens must both be set or both be null")
    return AnswerProbe(
        text=text,
        tokens=tokens,
        n_forced=n_forced,
        answer=answer,
        answer_text=get_str(obj, "answer_text", where, null=True),
        answer_tokens=span,
        confidence=_finite(obj, "confidence", where),
    )
