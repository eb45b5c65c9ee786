"""Issue 14 item 9: every field's domain and the document's consistency are checked on
import, and an export's checksum tells a file changed after export. Each case leaves the
database as it was and names the place."""

from __future__ import annotations

import copy
import json

import pytest

from inspector.store.export.json import document_checksum, dump_document
from tests.export.test_import_errors import _assert_refused, _mutated, _set, setup  # noqa: F401

S = "sessions.0"
W = "sessions[0]"


@pytest.mark.parametrize(
    ("field", "value", "where", "problem"),
    [
        (f"{S}.paths.0.confidence", "nan", f"{W}.paths[0].confidence", "is outside 0–1"),
        (f"{S}.paths.0.confidence", 5.0, f"{W}.paths[0].confidence", "5.0 is outside 0–1"),
        (f"{S}.paths.0.confidence", "inf", f"{W}.paths[0].confidence", "is outside 0–1"),
        (f"{S}.nodes.1.tokens.0.logprob", 5.0, f"{W}.nodes[1].tokens[0].logprob", "at most 0"),
        (f"{S}.nodes.1.tokens.0.top.0.logprob", 0.5, f"{W}.nodes[1].tokens[0].top[0]", "at most 0"),
        (f"{S}.nodes.1.tokens.0.entropy", "inf", f"{W}.nodes[1].tokens[0].entropy", "entropy"),
        (f"{S}.nodes.1.tokens.0.entropy", -2.0, f"{W}.nodes[1].tokens[0].entropy", "entropy"),
        (f"{S}.created", "not a date", f"{W}.created", "'not a date' is not a date and time"),
        (f"{S}.updated", "yesterday", f"{W}.updated", "is not a date and time"),
        (f"{S}.id", "../../etc/passwd", f"{W}.id", "'../../etc/passwd' is not a session id"),
        (f"{S}.id", "<b>x</b>", f"{W}.id", "is not a session id"),
        (f"{S}.id", "", f"{W}.id", "is not a session id"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_a_value_outside_its_domain_is_refused(setup, tmp_path, field, value, where, problem):  # noqa: F811
    db, good, _ = setup
    _assert_refused(db, tmp_path, _mutated(good, _set(field, value)), where, problem)


def test_a_branch_of_a_path_that_does_not_exist_is_refused(setup, tmp_path):  # noqa: F811
    db, good, _ = setup

    def branch(document: dict) -> None:
        path = document["sessions"][0]["paths"][1]
        path["parent_path"], path["branch_depth"] = 42, 0

    _assert_refused(db, tmp_path, _mutated(good, branch), f"{W}.paths[1].parent_path", "no path 42")


def test_a_text_that_no_longer_matches_its_tokens_is_refused(setup, tmp_path):  # noqa: F811
    db, good, _ = setup

    def flip(document: dict) -> None:
        path = document["sessions"][0]["paths"][0]
        path["text"] = path["text"][:-1] + chr(ord(path["text"][-1]) ^ 1)

    _assert_refused(
        db, tmp_path, _mutated(good, flip), f"{W}.paths[0].text", "does not match the path's"
    )


def test_correct_against_another_gold_is_refused(setup, tmp_path):  # noqa: F811
    db, good, _ = setup
    session = good["sessions"][0]
    scored = [i for i, p in enumerate(session["paths"]) if p["correct"] is not None]
    assert scored and session["gold"] is not None

    def regold(document: dict) -> None:
        document["sessions"][0]["gold"] = "12345"  # the paths still say what the old gold gave

    where = f"{W}.paths[{next(i for i in scored if session['paths'][i]['correct'])}].correct"
    _assert_refused(db, tmp_path, _mutated(good, regold), where, "against the gold '12345'")


def test_a_change_that_every_field_check_accepts_is_caught_by_the_checksum(setup, tmp_path):  # noqa: F811
    db, good, _ = setup
    text = dump_document(good)
    stated = json.loads(text)["checksum"]
    assert stated == document_checksum(good) and stated.startswith("sha256:")
    edited = text.replace(f'"title": {json.dumps(good["sessions"][0]["title"])}', '"title": "x"')
    assert edited != text
    _assert_refused(db, tmp_path, edited, "checksum", "the file was changed after it was exported")
    unsigned = copy.deepcopy(good)
    _assert_refused(db, tmp_path, json.dumps(unsigned), "", "missing field 'checksum'")


def test_a_signed_export_imports(setup, tmp_path):  # noqa: F811
    from inspector.store import Store
    from inspector.store.imports import import_json

    db, good, _ = setup
    path = tmp_path / "good.json"
    path.write_text(dump_document(good), encoding="utf-8")
    with Store.open(db) as store:
        assert import_json(store, path) == [good["sessions"][0]["id"]]
