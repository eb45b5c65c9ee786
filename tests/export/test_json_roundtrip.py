"""The JSON export is lossless: export -> import into an empty database -> export is identical."""

from __future__ import annotations

import json

import pytest

from inspector.store import Store
from inspector.store.export import export
from inspector.store.imports import ImportConflictError, import_json, read_import
from tests.export.conftest import make_experiment
from tests.store.conftest import assert_same_session


def _strict(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_session_round_trip_is_exact(store, annotated, tmp_path):
    first = tmp_path / "first.json"
    export(store, first, "json", session_id=annotated.id)
    document = _strict(first.read_text(encoding="utf-8"))
    assert document["format"] == "reasoning-inspector" and document["version"] == 3
    assert document["experiment"] is None
    token = document["sessions"][0]["nodes"][1]["tokens"][0]
    assert set(token) == {"id", "text", "piece", "logprob", "entropy", "top"}
    assert token["top"][2]["logprob"] == "-inf"  # strict JSON for non-finite floats
    assert len(document["annotations"]) == 3

    with Store.open(tmp_path / "empty.db") as other:
        assert import_json(other, first) == [annotated.id]
        assert_same_session(other.load_session(annotated.id), annotated)
        assert [a.note for a in other.annotations(annotated.id)] == [
            a.note for a in store.annotations(annotated.id)
        ]
        second = tmp_path / "second.json"
        export(other, second, "json", session_id=annotated.id)
    assert second.read_bytes() == first.read_bytes()


def test_experiment_round_trip_is_exact(store, tmp_path):
    exp, sessions = make_experiment(store)
    store.delete_session(sessions[1].id)  # soft-deleted sessions travel too, still deleted
    store.set_experiment_asked(exp, 2)  # its latest run asked for 2 questions: kept too
    first = tmp_path / "first.json"
    export(store, first, "json", experiment_id=exp)
    document = _strict(first.read_text(encoding="utf-8"))
    assert [run["question_index"] for run in document["experiment"]["runs"]] == [0, 1, 2]
    assert len(document["experiment"]["dataset"]["questions"]) == 3
    assert document["experiment"]["asked"] == 2

    with Store.open(tmp_path / "empty.db") as other:
        ids = import_json(other, first)
        assert ids == [s.id for s in sessions]
        (new_exp,) = [r[0] for r in other.db.execute("SELECT id FROM experiments")]
        assert other.experiment(new_exp).asked == 2
        assert [r.session_id for r in other.experiment_results(new_exp)] == [
            sessions[0].id,
            sessions[2].id,
        ]
        second = tmp_path / "second.json"
        export(other, second, "json", experiment_id=new_exp)
    assert second.read_bytes() == first.read_bytes()


def test_existing_session_is_refused_unless_replaced(store, annotated, tmp_path):
    path = tmp_path / "s.json"
    export(store, path, "json", session_id=annotated.id)
    with pytest.raises(ImportConflictError, match=r"already exists.*--replace"):
        import_json(store, path)
    assert len(store.annotations(annotated.id)) == 3

    store.rename_session(annotated.id, "renamed")
    assert import_json(store, path, replace=True) == [annotated.id]
    assert store.load_session(annotated.id).title == annotated.title
    assert len(store.annotations(annotated.id)) == 3  # replaced, not duplicated
    again = tmp_path / "again.json"
    export(store, again, "json", session_id=annotated.id)
    assert again.read_bytes() == path.read_bytes()


def test_read_import_writes_nothing(store, annotated, tmp_path):
    path = tmp_path / "s.json"
    export(store, path, "json", session_id=annotated.id)
    document = read_import(path)
    assert [s.session.id for s in document.sessions] == [annotated.id]
    assert len(document.annotations) == 3
