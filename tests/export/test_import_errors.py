"""A bad import file is refused before anything is written, with what is wrong and where."""

from __future__ import annotations

import copy
import json

import pytest

from inspector.cli import main
from inspector.store import Store
from inspector.store.export.json import build_document, dump_document
from inspector.store.imports import ImportConflictError, ImportFileError, import_json
from inspector.store.imports import checks as importing_checks
from inspector.store.imports import reading as importing
from tests.export.conftest import hostile_session, make_experiment


@pytest.fixture
def setup(tmp_path):
    """A database holding one session (closed, so its bytes are settled) and a good export
    of a different session and of an experiment."""
    db = tmp_path / "sessions.db"
    source = tmp_path / "source.db"
    with Store.open(source) as store:
        session = hostile_session()
        store.save_session(session)
        store.add_annotation(session.id, "correct", path_id=2, note="n")
        good = build_document(store, session_id=session.id)
        exp, _ = make_experiment(store)
        experiment = build_document(store, experiment_id=exp)
    with Store.open(db) as store:
        store.save_session(hostile_session())
    return db, good, experiment


def _dump(db) -> list[str]:
    with Store.open(db, read_only=True) as store:
        return list(store.db.conn.iterdump())


def _assert_refused(db, tmp_path, text: str, where: str, problem: str) -> None:
    before, dump = db.read_bytes(), _dump(db)
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with Store.open(db) as store, pytest.raises(ImportFileError) as caught:
        import_json(store, path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}"), message
    assert problem in message
    assert db.read_bytes() == before and _dump(db) == dump


def _mutated(document: dict, change) -> str:
    document = copy.deepcopy(document)
    change(document)
    return dump_document(document)


def _set(path: str, value):
    """A change setting the field at a dotted/indexed path, e.g. sessions.0.title."""

    def change(document):
        *parents, last = path.split(".")
        target = document
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()
CASES = {
    "wrong version": (_set("version", 4), "version", "version 4 is not supported"),
    "wrong format": (_set("format", "other-app"), "format", "not a Reasoning Inspector export"),
    "missing field": (
        _set("sessions.0.paths.1.answer", _DELETE),
        "sessions[0].paths[1]",
        "missing field 'answer'",
    ),
    "wrong type": (
        _set("sessions.0.nodes.1.tokens.0.logprob", "high"),
        "sessions[0].nodes[1].tokens[0].logprob",
        "expected a number, got a string",
    ),
    "wrong type of a setting": (
        _set("sessions.0.settings.k", "ten"),
        "sessions[0].settings.k",
        "expected an integer",
    ),
    "bad status": (_set("sessions.0.status", "exploded"), "sessions[0].status", "one of"),
    "bad base64": (_set("sessions.0.nodes.1.tokens.0.piece", "!!"), "sessions[0]", "base64"),
    "huge string": (
        _set("sessions.0.question", "x" * (1024 * 1024 + 1)),
        "sessions[0].question",
        "the limit is 1,048,576",
    ),
    "too many paths": (
        _set("sessions.0.paths", [0] * 100_001),
        "sessions[0].paths",
        "more than the limit of 100,000",
    ),
    "duplicate session": (
        lambda d: d["sessions"].append(copy.deepcopy(d["sessions"][0])),
        "sessions[1].id",
        "duplicate session id",
    ),
    "duplicate path id": (_set("sessions.0.paths.1.id", 0), "sessions[0].paths[1].id", "duplicate"),
    "duplicate node id": (_set("sessions.0.nodes.2.id", 1), "sessions[0].nodes[2].id", "duplicate"),
    "dangling path node": (
        _set("sessions.0.paths.0.node", 999),
        "sessions[0].paths[0].node",
        "no node",
    ),
    "dangling annotation": (
        _set("annotations.0.path_id", 42),
        "annotations[0].path_id",
        "has no path 42",
    ),
    "node depth not its parent's end": (
        _set("sessions.0.nodes.3.depth", 1),
        "sessions[0].nodes[3].depth",
        "expected 2 (its parent's end)",
    ),
    "child listed before its parent": (
        lambda d: d["sessions"][0]["nodes"].insert(2, d["sessions"][0]["nodes"].pop(3)),
        "sessions[0].nodes[2].parent",
        "node 2 is not listed before this node",
    ),
    "node parent cycle": (
        _set("sessions.0.nodes.2.parent", 3),
        "sessions[0].nodes[2].parent",
        "node 3 is not listed before this node",
    ),
    "node its own parent": (
        _set("sessions.0.nodes.2.parent", 2),
        "sessions[0].nodes[2].parent",
        "node 2 is not listed before this node",
    ),
    "path parent cycle": (
        lambda d: [
            _set("sessions.0.paths.1.parent_path", 2)(d),
            _set("sessions.0.paths.1.branch_depth", 1)(d),
            _set("sessions.0.paths.2.parent_path", 1)(d),
            _set("sessions.0.paths.2.branch_depth", 1)(d),
        ],
        "sessions[0].paths[1].parent_path",
        "path 2 is not an earlier path than this one (1)",
    ),
    "NaN log-probability": (
        _set("sessions.0.paths.0.logprob", "nan"),
        "sessions[0].paths[0].logprob",
        "not a log-probability",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_field_is_named_and_nothing_changes(setup, tmp_path, case):
    db, good, _ = setup
    change, where, problem = CASES[case]
    _assert_refused(db, tmp_path, _mutated(good, change), where, problem)


def test_experiment_problems_are_named(setup, tmp_path):
    db, _, experiment = setup
    cases = [
        (_set("experiment.dataset.sha256", "0" * 64), "experiment.dataset.sha256", "does not"),
        (_set("experiment.runs.1.question_index", 0), "experiment.runs[1]", "duplicate run"),
        (_set("experiment.runs.0.session_id", "nope"), "experiment.runs[0].session_id", "no s"),
        (_set("experiment.status", 3), "experiment.status", "expected a string"),
    ]
    for change, where, problem in cases:
        _assert_refused(db, tmp_path, _mutated(experiment, change), where, problem)


def test_file_level_problems(setup, tmp_path, monkeypatch):
    db, good, _ = setup
    text = dump_document(good)
    deep = text.replace('"title":', '"junk": ' + "[" * 100_000 + "]" * 100_000 + ', "title":', 1)
    cases = [
        (text[: len(text) // 2], "not valid JSON", "truncated"),
        ("", "the file is empty", ""),
        ("[" * 1_000_000, "nested 1000000 levels deep", "line 1"),
        (deep, "nested 100003 levels deep (at most 32)", "from line"),
        ('{"format": "reasoning-inspector", "format": 1}', "key 'format' twice", ""),
        ("[1, 2]", "expected an object, got an array", ""),
        ('"\\ud800"', "expected an object", ""),
    ]
    for bad, problem, extra in cases:
        _assert_refused(db, tmp_path, bad, "", problem)
        if extra:
            with pytest.raises(ImportFileError, match=extra):
                importing.read_import(tmp_path / "bad.json")
    monkeypatch.setattr(importing_checks, "MAX_FILE_BYTES", 100)
    _assert_refused(db, tmp_path, text, "", "imports are limited to 100 bytes")


def test_token_total_is_limited(setup, tmp_path, monkeypatch):
    db, good, _ = setup
    monkeypatch.setattr(importing, "MAX_TOKENS", 3)
    _assert_refused(db, tmp_path, dump_document(good), "sessions[0].nodes[", "more than 3 tokens")


def test_unpaired_surrogate_in_a_string(setup, tmp_path):
    db, good, _ = setup
    document = copy.deepcopy(good)
    document["sessions"][0]["title"] = "\udc80"
    text = json.dumps(document)  # ASCII: the surrogate is written as the escape \udc80
    assert "\\udc80" in text
    _assert_refused(db, tmp_path, text, "sessions[0].title", "unpaired surrogate")


def test_not_utf8(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"format": "\xff"}')
    with pytest.raises(ImportFileError, match="not UTF-8"):
        importing.read_import(path)


def test_conflict_changes_nothing(setup, tmp_path):
    db, _, _ = setup
    with Store.open(db, read_only=True) as store:
        (sid,) = [r.id for r in store.list_sessions()]
        document = build_document(store, session_id=sid)
    document["sessions"].insert(0, copy.deepcopy(document["sessions"][0]))
    document["sessions"][0]["id"] = "brand-new"
    path = tmp_path / "conflict.json"
    path.write_text(dump_document(document), encoding="utf-8")
    before, dump = db.read_bytes(), _dump(db)
    with Store.open(db) as store, pytest.raises(ImportConflictError, match=sid):
        import_json(store, path)
    assert db.read_bytes() == before and _dump(db) == dump


def test_cli_reports_one_line(setup, tmp_path, capsys):
    db, good, _ = setup
    path = tmp_path / "bad.json"
    path.write_text(_mutated(good, _set("sessions.0.nodes.1.tokens.0.logprob", None)))
    before = db.read_bytes()
    assert main(["import", str(path), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "sessions[0].nodes[1].tokens[0].logprob: expected a number, got null" in err
    assert db.read_bytes() == before
