"""JSON format version 2 (issue 11): answer rules, thinking sections, unfinished paths and the
answer probe are exported, imported exactly, and checked field by field; version 1 files
still import."""

from __future__ import annotations

import copy
import json

import pytest

from inspector.store import Store
from inspector.store.export import export
from inspector.store.export.json import build_document, dump_document
from inspector.store.imports import ImportFileError, import_json
from tests.store.conftest import assert_same_session, cot_session, probe_session


@pytest.fixture
def exported(store, tmp_path):
    session = probe_session()
    store.save_session(session)
    out = tmp_path / "probe.json"
    export(store, out, "json", session_id=session.id)
    return session, out


def test_probe_session_round_trips_exactly(exported, tmp_path):
    session, out = exported
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["version"] == 3
    thinking, unsure, cut, limit = document["sessions"][0]["paths"]
    assert (thinking["answer_rule"], thinking["thinking_tokens"]) == ("answer-is", [0, 4])
    assert (thinking["thinking_ended"], thinking["completed"]) == (True, True)
    assert unsure["answer_rule"] == "probe" and unsure["answer_tokens"] is None
    probe = unsure["probe"]
    assert (probe["text"], probe["n_forced"], probe["answer"]) == (" So the answer is", 4, "8")
    assert probe["answer_tokens"] == [4, 5] and len(probe["tokens"]) == 6
    assert probe["tokens"][4]["text"] == " 8" and probe["tokens"][0]["top"][2]["logprob"] == "-inf"
    assert (cut["thinking_ended"], cut["completed"], cut["answer"]) == (False, False, None)
    assert (limit["completed"], limit["answer_rule"]) == (False, None)

    with Store.open(tmp_path / "other.db") as other:
        assert import_json(other, out) == [session.id]
        assert_same_session(other.load_session(session.id), session)
        again = tmp_path / "again.json"
        export(other, again, "json", session_id=session.id)
    assert again.read_bytes() == out.read_bytes()


def test_a_version_1_file_still_imports(store, tmp_path):
    session = cot_session()
    store.save_session(session)
    document = build_document(store, session_id=session.id)
    document["version"] = 1
    for path in document["sessions"][0]["paths"]:
        for key in ("answer_rule", "thinking_tokens", "thinking_ended", "completed"):
            del path[key]
        del path["answer_logprob"], path["probe"]
    old = tmp_path / "v1.json"
    old.write_text(dump_document(document), encoding="utf-8")
    with Store.open(tmp_path / "other.db") as other:
        import_json(other, old)
        loaded = other.load_session(session.id)
    # the session's rule is auto: the step that finds each stored answer again (the paths
    # end on a stop string and state no marker: the last number)
    assert [p.answer_rule for p in loaded.paths] == ["last-number"] * 3
    assert [p.answer for p in loaded.paths] == [p.answer for p in session.paths]
    assert all(p.thinking_ended and p.thinking_tokens is None for p in loaded.paths)
    assert all(p.answer_logprob is None and p.probe is None for p in loaded.paths)


def _set(document: dict, where: str, value) -> dict:
    document = copy.deepcopy(document)
    *parents, last = where.split(".")
    target = document
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return document


P = "sessions.0.paths"
BAD = {
    "unknown rule": (f"{P}.0.answer_rule", "guess", "unknown answer rule 'guess'"),
    "rule without an answer": (f"{P}.3.answer_rule", "boxed", "names a rule but the path has"),
    "rule is not a string": (f"{P}.0.answer_rule", 3, "expected a string, got an integer"),
    "thinking past the path": (f"{P}.0.thinking_tokens", [0, 99], "ends past the path's 7"),
    "thinking backwards": (f"{P}.0.thinking_tokens", [4, 1], "expected at least 4", "[1]"),
    "thinking_ended not a bool": (f"{P}.0.thinking_ended", 1, "expected true or false"),
    "completed disagrees": (f"{P}.3.completed", True, "finish_reason 'length'"),
    "positive answer logprob": (f"{P}.0.answer_logprob", 0.5, "not a log-probability"),
    "infinite answer logprob": (f"{P}.0.answer_logprob", "-inf", "not a log-probability"),
    "infinite Δ": (f"{P}.0.confidence", "inf", "inf is outside 0–1"),
    "probe rule without a probe": (
        f"{P}.1.probe",
        None,
        "is 'probe' but the probe",
        "sessions[0].paths[1].answer_rule",
    ),
    "probe not an object": (f"{P}.1.probe", "So", "expected an object, got a string"),
    "empty probe text": (f"{P}.1.probe.text", "", "a probe text cannot be empty"),
    "n_forced past the tokens": (f"{P}.1.probe.n_forced", 7, "7 forced tokens but the probe"),
    "negative n_forced": (f"{P}.1.probe.n_forced", -1, "expected at least 0"),
    "probe answer inside the forced text": (
        f"{P}.1.probe.answer_tokens",
        [2, 5],
        "within the decoded tokens [4, 6]",
    ),
    "probe answer past its tokens": (f"{P}.1.probe.answer_tokens", [4, 9], "[4, 6]"),
    "probe answer without a span": (f"{P}.1.probe.answer_tokens", None, "both be set"),
    "positive probe logprob": (f"{P}.1.probe.tokens.4.logprob", 0.1, "not a log-probability"),
    "infinite probe logprob": (f"{P}.1.probe.tokens.4.logprob", "-inf", "finite, at most 0"),
    "NaN probe logprob": (f"{P}.1.probe.tokens.4.logprob", "nan", "not a log-probability"),
    "positive alternative": (f"{P}.1.probe.tokens.4.top.1.logprob", 2.0, "at most 0"),
    "infinite probe Δ": (f"{P}.1.probe.confidence", "nan", "expected a finite number"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_new_fields_are_named(store, tmp_path, case):
    session = probe_session()
    store.save_session(session)
    document = build_document(store, session_id=session.id)
    where, value, problem, *at = BAD[case]
    bad = tmp_path / "bad.json"
    bad.write_text(dump_document(_set(document, where, value)), encoding="utf-8")
    with Store.open(tmp_path / "empty.db") as other, pytest.raises(ImportFileError) as caught:
        import_json(other, bad)
    location, expected = caught.value.where, _location(where)
    if at:  # another field named: "[1]" is an index of this one, else a full location
        expected = expected + at[0] if at[0].startswith("[") else at[0]
    # the field itself, or the object holding it when two fields disagree
    assert location in (expected, expected.rsplit(".", 1)[0]), location
    assert str(caught.value).startswith(f"{bad}: {location}: ")
    assert problem in caught.value.problem, caught.value.problem
    with Store.open(tmp_path / "empty.db") as other:
        assert other.list_sessions() == []


def _location(where: str) -> str:
    """sessions.0.paths.1.probe.tokens.4 -> sessions[0].paths[1].probe.tokens[4]"""
    out = ""
    for part in where.split("."):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out.lstrip(".")
