"""`inspector run / experiment / stats` on the real default model, with a temporary database."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from inspector.cli import main

APPLE = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"


def run_json(capsys, *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "sessions.db")


def test_run_prints_the_contract_and_saves_the_session(capsys, db, model_path):
    out = run_json(
        capsys,
        "run",
        APPLE,
        "--strategy",
        "cot-decoding",
        "--k",
        "3",
        "--max-tokens",
        "16",
        "--gold",
        "8",
        "--db",
        db,
        "--model",
        str(model_path),
    )
    from inspector.store import Store

    with Store.open(db) as store:
        saved = store.load_session(out["session_id"])
    summary = saved.summary()
    # every figure printed is the saved session's own
    assert out["strategy"] == saved.settings.strategy == "cot-decoding"
    assert out["prompt"] == saved.prompt and saved.status == "complete"
    assert out["votes"] == summary.votes and out["chosen_answer"] == summary.chosen_answer
    assert out["consistency"] == summary.consistency and out["correct"] == summary.correct
    assert len(out["paths"]) == len(saved.paths) == 3
    for printed, path in zip(out["paths"], saved.paths, strict=True):
        assert (printed["id"], printed["text"], printed["answer"]) == (
            path.id,
            path.text,
            path.answer,
        )
        assert printed["confidence"] == path.confidence and printed["correct"] == path.correct
        assert printed["n_tokens"] == path.n_tokens == len(printed["tokens"])
        assert printed["logprob"] == pytest.approx(path.logprob)
        tokens = saved.path_tokens(path)
        assert [t["text"] for t in printed["tokens"]] == [t.text for t in tokens]
        assert [t["logprob"] for t in printed["tokens"]] == pytest.approx(
            [t.logprob for t in tokens]
        )
        first = printed["tokens"][0]["top"]
        assert [(a["text"], a["logprob"]) for a in first] == [
            (a.text, pytest.approx(a.logprob)) for a in tokens[0].top
        ]
        assert sum(t["logprob"] for t in printed["tokens"]) == pytest.approx(printed["logprob"])


def test_run_table_output(capsys, db, model_path):
    assert (
        main(
            [
                "run",
                APPLE,
                "--strategy",
                "greedy",
                "--max-tokens",
                "8",
                "--db",
                db,
                "--model",
                str(model_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    session_id = out.split()[1]  # "session <id> (complete) saved in …"
    from inspector.store import Store

    with Store.open(db) as store:
        saved = store.load_session(session_id)
    summary = saved.summary()
    lines = out.splitlines()
    assert lines[0] == f"session {saved.id} (complete) saved in {db}"
    [row] = [line for line in lines if line.startswith("    0  ")]  # the one path's row
    assert f"{saved.paths[0].logprob:.2f}" in row
    chosen = summary.chosen_answer if summary.chosen_answer is not None else "no answer"
    assert f"chosen answer: {chosen} · " in out
    assert "CoT-decoding pick" not in out  # a greedy run has no such pick
    assert "None" not in out and "nan" not in out


def test_experiment_resumes_and_stats_summarise(capsys, tmp_path, db, model_path):
    data = tmp_path / "set.jsonl"
    rows = [("What is 2 + 3?", "5"), ("What is 4 + 4?", "8"), ("What is 9 - 2?", "7")]
    data.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in rows))
    common = [
        "--strategy",
        "self-consistency",
        "--samples",
        "3",
        "--max-tokens",
        "24",
        "--db",
        db,
        "--model",
        str(model_path),
    ]
    first = run_json(capsys, "experiment", str(data), "--limit", "2", *common)
    assert first["ran"] == 2 and first["skipped"] == 0 and len(first["results"]) == 2
    second = run_json(capsys, "experiment", str(data), *common)
    assert second["ran"] == 1 and second["skipped"] == 2 and len(second["results"]) == 3
    assert second["experiment_id"] == first["experiment_id"]
    stats = run_json(capsys, "stats", "--db", db)
    assert stats["runs"] == 3
    # a run whose samples were all cut by the token limit has no answer, so no consistency,
    # and stays out of the calibration bins
    calibrated = [r for r in second["results"] if r["consistency"] is not None]
    assert calibrated and sum(b["count"] for b in stats["bins"]) == len(calibrated)
    assert [p["n"] for p in stats["accuracy_vs_samples"]] == [1, 2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "2+2?", "--answer-rule", "regex:("], "regex"),
        # (out-of-range numbers are refused by argparse itself: tests/test_cli_limits.py)
        (["run", "2+2?", "--strategy", "cot-decoding", "--alternatives", "1"], "at least 2"),
        (["run", "word " * 400, "--ctx", "256"], "context holds"),
        (["run", "2+2?", "--model", "/nonexistent.gguf"], "not found"),
        (
            ["run", "2+2?", "--few-shot", "/nonexistent.json"],
            "/nonexistent.json: cannot read the worked-examples file (No such file or directory)",
        ),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, message):
    result = cli(*args, "--db", str(tmp_path / "s.db"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_malformed_data_set_names_file_and_line(tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"question": "ok?", "answer": "1"}\n{"question": "broken"\n')
    result = cli("experiment", str(data), "--db", str(tmp_path / "s.db"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "bad.jsonl" in result.stderr and ":2" in result.stderr


def test_bad_database_is_one_line(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("not a database")
    before = bogus.read_bytes()
    result = cli("stats", "--db", str(bogus))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert bogus.read_bytes() == before


def test_analogical_prompt_uses_verified_paths_from_the_database(capsys, db, model_path):
    from inspector.core.session import RunSettings, Session
    from inspector.engine.records import Alternative, GeneratedSequence, TokenRecord
    from inspector.store import Store

    earlier = Session("Tom has 2 apples and buys 3 more. How many apples?", "Q: …\nA:", [2],
                      RunSettings(strategy="greedy"), {"path": "m"}, gold="5")  # fmt: skip
    tokens = [
        TokenRecord(7 + i, text, text.encode(), -0.1, 0.5, (Alternative(7 + i, text, -0.1),))
        for i, text in enumerate([" 2 + 3 = 5.", " The answer is 5."])
    ]
    earlier.add_path(GeneratedSequence(0, tokens, "stop"), "greedy", "greedy")
    earlier.status = "complete"
    with Store.open(db) as store:
        store.save_session(earlier)
    out = run_json(capsys, "run", "Tom has 4 apples and buys 3 more. How many apples?",
                   "--prompt", "analogical", "--max-tokens", "4", "--db", db,
                   "--model", str(model_path))  # fmt: skip
    assert out["prompt"].startswith(f"Q: {earlier.question}\nA: 2 + 3 = 5. The answer is 5.")
    assert out["prompt"].endswith("Q: Tom has 4 apples and buys 3 more. How many apples?\nA:")
