# ruff: noqa: E501
"""Studies in the exports: the JSON round trip (same bytes), the importer's checks on every
study field and reference, and the HTML/Markdown reports' study sections."""

from __future__ import annotations

import json

import pytest

from inspector.core.studies import Study
from inspector.store import Store
from inspector.store.export import export
from inspector.store.export.json import build_document, dump_document
from inspector.store.imports import ImportFileError, import_json
from tests.ui.studies.made import forks_study, made_session, sample


def saved(db_path) -> str:
    session = made_session()
    with Store.open(db_path) as store:
        store.save_session(session)
        study = forks_study(session.id)
        store.create_study(study, session.id, 12)
        assert study.id is not None
        store.set_study_status(study.id, "cancelled")
        steps = Study(session.id, forks_study(session.id).settings.__class__("steps", 0, samples=2))
        steps.samples = [sample(0, None, 0, "7", " 3 + 4 = 7."), sample(6, None, 1, None, " So?")]
        store.create_study(steps, session.id, 4)
        assert steps.id is not None
        store.set_study_status(steps.id, "complete")
    return session.id


def exported(db_path, session_id: str) -> str:
    with Store.open(db_path) as store:
        return dump_document(build_document(store, session_id=session_id))


def test_round_trip_gives_the_same_bytes_and_the_same_studies(tmp_path):
    first = tmp_path / "first.db"
    sid = saved(first)
    text = exported(first, sid)
    document = json.loads(text)
    assert [s["kind"] for s in document["studies"]] == ["forks", "steps"]
    assert len(document["studies"][0]["samples"]) == 12
    assert document["studies"][0]["status"] == "cancelled"
    out = tmp_path / "export.json"
    out.write_text(text, encoding="utf-8")
    second = tmp_path / "second.db"
    with Store.open(second) as store:
        import_json(store, out)
        rows = store.list_studies(sid)
        assert sorted((r.kind, r.status, r.n_samples, r.n_planned) for r in rows) == [
            ("forks", "cancelled", 12, 12),
            ("steps", "complete", 2, 4),
        ]
        with Store.open(first) as original:
            for mine, theirs in zip(
                sorted(original.list_studies(sid), key=lambda r: r.id),
                sorted(rows, key=lambda r: r.id),
                strict=True,
            ):
                a, b = original.load_study(mine.id), store.load_study(theirs.id)
                assert a.settings == b.settings and a.samples == b.samples
    assert exported(second, sid) == text


def test_replace_does_not_duplicate_studies(tmp_path):
    db = tmp_path / "s.db"
    sid = saved(db)
    out = tmp_path / "export.json"
    out.write_text(exported(db, sid), encoding="utf-8")
    with Store.open(db) as store:
        import_json(store, out, replace=True)
        assert len(store.list_studies(sid)) == 2


def broken(tmp_path, change) -> tuple:
    db = tmp_path / "s.db"
    sid = saved(db)
    document = json.loads(exported(db, sid))
    document.pop("checksum")
    change(document)
    out = tmp_path / "bad.json"
    out.write_text(dump_document(document), encoding="utf-8")
    return db, out


def _set(path: str, value):
    def change(document):
        *head, last = path.split(".")
        target = document
        for key in head:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()
CASES = {
    "unknown session": (
        _set("studies.0.session_id", "nosuchsession"), "studies[0].session_id", "no session"
    ),
    "path out of range": (_set("studies.0.path_id", 5), "studies[0].path_id", "differs"),
    "settings path out of range": (
        lambda d: (d["studies"][0].__setitem__("path_id", 5),
                   d["studies"][0]["settings"].__setitem__("path_id", 5)),
        "studies[0].path_id", "has no path 5",
    ),
    "position past the path": (
        _set("studies.0.samples.0.position", 40), "studies[0].samples[0]", "not a point"
    ),
    "token not studied there": (
        _set("studies.0.samples.0.token_id", 12345), "studies[0].samples[0]", "not a point"
    ),
    "sample number too high": (
        _set("studies.0.samples.0.sample", 7), "studies[0].samples[0]", "not a point"
    ),
    "duplicate sample": (
        lambda d: d["studies"][0]["samples"].__setitem__(1, d["studies"][0]["samples"][0]),
        "studies[0].samples[1]", "second sample",
    ),
    "bad kind": (_set("studies.1.kind", "magic"), "studies[1].kind", "expected one of"),
    "kind differs from settings": (_set("studies.1.kind", "forks"), "studies[1].kind", "differs"),
    "unknown setting": (_set("studies.0.settings.colour", 1), "studies[0].settings.colour", "not a study setting"),
    "bad samples setting": (_set("studies.0.settings.samples", 0), "studies[0].settings", "samples must be"),
    "text not a string": (_set("studies.0.samples.2.text", 5), "studies[0].samples[2].text", "expected a string"),
    "positive logprob": (_set("studies.0.samples.0.logprob", 0.5), "studies[0].samples[0].logprob", "at most 0"),
    "probability above 1": (_set("studies.0.samples.0.token_prob", 1.5), "studies[0].samples[0].token_prob", "outside 0–1"),
    "wrong token text": (_set("studies.0.samples.0.token_text", " 9"), "studies[0].samples[0].token_text", "not the path's token"),
    "bad status": (_set("studies.0.status", "done"), "studies[0].status", "expected one of"),
    "bad date": (_set("studies.0.created", "yesterday"), "studies[0].created", "not a date"),
    "missing samples": (_set("studies.0.samples", _DELETE), "studies[0]", "missing field 'samples'"),
    "missing studies": (_set("studies", _DELETE), "", "missing field 'studies'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_study_field_is_named_and_nothing_changes(tmp_path, case):
    change, where, problem = CASES[case]
    _db, out = broken(tmp_path, change)
    fresh = tmp_path / "fresh.db"
    with Store.open(fresh) as store, pytest.raises(ImportFileError) as caught:
        import_json(store, out)
    assert caught.value.where == where and problem in caught.value.problem, str(caught.value)
    with Store.open(fresh) as store:
        assert store.list_sessions() == [] and store.list_studies() == []


def test_version_2_files_import_without_studies(tmp_path):
    _db, out = broken(tmp_path, lambda d: (d.__setitem__("version", 2), d.pop("studies")))
    fresh = tmp_path / "fresh.db"
    with Store.open(fresh) as store:
        import_json(store, out)
        assert len(store.list_sessions()) == 1 and store.list_studies() == []


class Pictures:
    """A renderer that records what it was asked to draw."""

    def __init__(self) -> None:
        self.forks: list = []
        self.steps: list = []

    def votes(self, votes, correct=None):
        return b"\x89PNG votes"

    def calibration(self, bins, ece):
        return b"\x89PNG cal"

    def accuracy_curve(self, points):
        return b"\x89PNG curve"

    def fork_plot(self, data):
        self.forks.append(data)
        return b"\x89PNG forks"

    def step_plot(self, view):
        self.steps.append(view)
        return b"\x89PNG steps"


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_reports_hold_each_study_with_its_plot_and_numbers(tmp_path, fmt):
    db = tmp_path / "s.db"
    sid = saved(db)
    with Store.open(db) as store:  # a continuation whose text is markup
        study = store.load_study(store.list_studies(sid)[-1].id)
        assert study.settings.kind == "forks"
    pictures = Pictures()
    out = tmp_path / f"report.{fmt}"
    with Store.open(db) as store:
        export(store, out, fmt, session_id=sid, render=pictures)
    text = out.read_text(encoding="utf-8")
    assert len(pictures.forks) == 1 and len(pictures.steps) == 1
    data = pictures.forks[0]
    assert data.positions == [0, 1, 2] and data.forks == [2]
    assert "Forking tokens of path #0" in text and "Step importance of path #0" in text
    # the fork at position 2 with its score, and the step table's figures
    assert "0.421" in text and "no answer" in text
    assert "None" not in text and "nan" not in text
    if fmt == "md":
        assert (tmp_path / "report_files").is_dir()
        assert any("fork" in p.name for p in (tmp_path / "report_files").iterdir())
    else:
        assert "data:image/png;base64," in text


def test_model_text_in_a_study_is_escaped(tmp_path):
    db = tmp_path / "s.db"
    session = made_session()
    with Store.open(db) as store:
        store.save_session(session)
        study = forks_study(session.id)
        study.samples[0].answer = "<script>x</script>"
        store.create_study(study, session.id, 12)
    out = tmp_path / "r.html"
    with Store.open(db) as store:
        export(store, out, "html", session_id=session.id)
    text = out.read_text(encoding="utf-8")
    assert "<script>x" not in text and "&lt;script&gt;x" in text
