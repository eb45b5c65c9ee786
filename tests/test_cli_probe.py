"""`inspector run --answer-probe [TEXT] --probe-tokens N` on the real default model."""

from __future__ import annotations

import json

import pytest

from inspector.cli import main
from inspector.store import Store

APPLE = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "sessions.db"


def run(db, model_path, *extra: str) -> int:
    return main(["run", APPLE, "--strategy", "cot-decoding", "--k", "2", "--max-tokens", "8",
                 "--db", str(db), "--model", str(model_path), *extra])  # fmt: skip


def test_the_probe_shows_per_path_and_its_json_keys_are_added(db, model_path, capsys):
    assert run(db, model_path, "--answer-probe", "--probe-tokens", "4", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["settings"]["answer_probe"] == "So the answer is"
    assert out["settings"]["probe_tokens"] == 4
    for path in out["paths"]:
        assert {"id", "text", "answer", "confidence", "tokens"} <= set(path)  # as before
        probe = path["probe"]
        forced = "".join(t["text"] for t in probe["tokens"][: probe["n_forced"]])
        assert forced == "\nSo the answer is" and probe["text"] == "So the answer is"
        assert 1 <= len(probe["tokens"]) - probe["n_forced"] <= 4
        assert set(probe) >= {"continuation", "answer", "answer_tokens", "confidence"}
    assert run(db, model_path, "--answer-probe=Therefore the answer is") == 0
    text = capsys.readouterr().out
    assert text.count("probe “Therefore the answer is” → ") == 2  # one line per path


def test_without_the_probe_paths_have_none(db, model_path, capsys):
    assert run(db, model_path, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert all(path["probe"] is None for path in out["paths"])
    assert out["settings"]["answer_probe"] == ""


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_probe_text_is_one_message_before_anything_opens(db, text, capsys):
    assert main(["run", APPLE, "--answer-probe", text, "--db", str(db)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[0]] and "answer probe text is empty" in err[0]
    assert not db.exists()


def test_a_probe_longer_than_the_context_is_refused_before_a_session_is_saved(
    db, model_path, capsys
):
    probe = "and so " * 300  # llama.cpp rounds a context of 64 up to 256
    assert run(db, model_path, "--ctx", "64", "--answer-probe", probe) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the prompt and the answer probe take" in err[0]
    assert "context holds" in err[0]
    with Store.open(db) as store:
        assert store.list_sessions() == []
