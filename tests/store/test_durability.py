"""Nothing is lost: upgrading a schema-1 file, processes killed with SIGKILL, two writers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from inspector.store import Store, latest_version, writers

ROOT = Path(__file__).resolve().parents[2]
V1_FIXTURE = Path(__file__).with_name("data") / "schema_v1.db"


def child(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.child", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def poll(db: Path, sql: str, timeout: float, process: subprocess.Popen) -> None:
    """Wait until ``sql`` (read-only) returns a positive number."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
                if conn.execute(sql).fetchone()[0] > 0:
                    return
        except sqlite3.Error:
            pass  # not created or not migrated yet
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {sql!r}")


# -- schema 1 ---------------------------------------------------------------------------------
def test_a_schema_1_database_is_upgraded_with_its_sessions_intact(tmp_path):
    """``data/schema_v1.db`` was written by the first store (cot, self-consistency and a
    running session, an experiment, an annotation)."""
    path = tmp_path / "old.db"
    shutil.copyfile(V1_FIXTURE, path)
    with Store.open(path) as store:
        assert store.schema_version == latest_version() == 6
        assert store.integrity_check() == ["ok"]
        assert "writer" in store.db["sessions"].columns_dict
        assert store.list_studies() == []  # v6: the studies tables exist, empty
        # v3 columns filled from what v1 stored: every answer was found by the session's
        # rule (last-number), no thinking, every path ended on a stop string
        rules = store.db.execute("SELECT DISTINCT answer_rule, completed FROM paths").fetchall()
        assert rules == [("last-number", 1)]
        row = store.db.execute(
            "SELECT n_voting, n_completed, n_answered, n_hit_limit, delta_min, delta_max, "
            "selections, any_correct FROM sessions WHERE id = 'v1-cot'"
        ).fetchone()
        assert row[:4] == (3, 3, 3, 0) and row[7] == 1
        assert (round(row[4], 6), row[5]) == (0.05, 0.91)  # Δ of paths 0 and 2
        # Δ picks path 2 (8); the majority is 5 (paths 0 and 1), and so is the weighted vote
        # (path 2, the longest, is the least likely)
        assert json.loads(row[6]) == {
            # the first CoT-decoding branch is the most likely first token's: greedy's path
            # (found by its place among the branches, not by its label)
            "greedy": {"answer": "5", "correct": False},
            "cot-decoding": {"answer": "8", "correct": True},
            "cot-aggregated": {"answer": "8", "correct": True},
            "majority": {"answer": "5", "correct": False},
            "weighted": {"answer": "5", "correct": False},
        }
        statuses = {r.id: r.status for r in store.list_sessions()}
        # the running session's process is long gone
        assert statuses == {"v1-cot": "complete", "v1-sc": "complete", "v1-running": "interrupted"}
        cot = store.load_session("v1-cot")
        assert (cot.title, len(cot.paths), cot.summary().chosen_answer) == ("apples", 3, "8")
        assert cot.paths[2].text.endswith("8") and cot.paths[2].correct is True
        assert cot.tree.nodes[1].tokens[0].top[2].logprob == float("-inf")
        sc = store.load_session("v1-sc")
        assert [p.answer for p in sc.paths] == ["5", "8", "8", "5"]
        assert store.annotations("v1-cot")[0].note == "zebra reasoning note"
        assert [r.id for r in store.list_sessions(search="zebra")] == ["v1-cot"]
        [result] = store.experiment_results(1)
        assert (result.session_id, result.chosen_answer) == ("v1-sc", "8")
        assert {r.session_id for r in store.run_records()} == {"v1-cot", "v1-sc"}
        store.save_session(sc)  # and it takes new writes
    assert V1_FIXTURE.read_bytes()[:16] == b"SQLite format 3\x00"


# -- interrupted sessions ---------------------------------------------------------------------
def test_writer_tags():
    me = writers.this_writer()
    assert writers.writer_alive(me)
    assert not writers.writer_alive(None)
    host, pid, start = me.rsplit(":", 2)
    assert not writers.writer_alive(f"{host}:{2**22 + 12345}:{start}")  # no such pid
    if start:  # Linux: a reused pid has another start time
        assert not writers.writer_alive(f"{host}:{pid}:{int(start) + 1}")
    assert writers.writer_alive(f"another-machine:{pid}:1")  # cannot check: left alone


def test_a_killed_writer_leaves_a_sound_database_and_an_interrupted_session(tmp_path):
    db = tmp_path / "s.db"
    process = child("hold", str(db), "3")
    try:
        assert process.stdout.readline().strip() == "ready"
        with Store.open(db) as store:  # the writer is alive: its session is left running
            assert {r.status for r in store.list_sessions()} == {"complete", "running"}
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        process.kill()
    with Store.open(db) as store:
        assert store.integrity_check() == ["ok"]
        rows = store.list_sessions()
        assert sorted(r.status for r in rows) == ["complete"] * 3 + ["interrupted"]
        for row in rows:
            assert len(store.load_session(row.id).paths) == row.n_paths > 0


# -- two processes ----------------------------------------------------------------------------
def test_two_processes_write_one_database_at_once(tmp_path):
    db = tmp_path / "shared.db"
    Store.open(db).close()
    processes = [child("write", str(db), tag, "15") for tag in ("a", "b")]
    outputs = [p.communicate(timeout=240) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert out.strip() == "done" and "locked" not in err
    with Store.open(db, read_only=True) as store:
        rows = store.list_sessions()
        assert sorted(r.id for r in rows) == sorted(f"{t}-{i}" for t in "ab" for i in range(15))
        assert {(r.status, r.n_paths) for r in rows} == {("complete", 6)}
        for row in rows[:6]:
            assert len(store.load_session(row.id).paths) == 6
        assert store.integrity_check() == ["ok"]


# -- kill -9 in the middle of `inspector experiment` -----------------------------------------
def experiment_command(data: Path, db: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "inspector",
        "experiment",
        str(data),
        "--db",
        str(db),
        "--strategy",
        "self-consistency",
        "--samples",
        "4",
        "--max-tokens",
        "48",
        "--json",
    ]


@pytest.mark.slow
def test_kill_9_during_an_experiment_then_resume(tmp_path):
    data, db = tmp_path / "six.jsonl", tmp_path / "exp.db"
    source = ROOT / "resources" / "datasets" / "arithmetic24.jsonl"
    data.write_text("".join(source.read_text().splitlines(keepends=True)[:6]))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        experiment_command(data, db), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        poll(db, "SELECT count(*) FROM experiment_runs", 240, process)
        # the next question's session is saved before its first token: kill it mid-run
        poll(db, "SELECT count(*) FROM sessions WHERE status = 'running'", 60, process)
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        process.kill()
    with Store.open(db) as store:
        assert store.integrity_check() == ["ok"]
        rows = store.list_sessions()
        complete = [r for r in rows if r.status == "complete"]
        assert complete and all(r.status in ("complete", "interrupted") for r in rows)
        for row in complete:
            session = store.load_session(row.id)
            assert len(session.paths) == row.n_paths == 5  # 4 samples + the greedy reference
            assert all(p.finished for p in session.paths)
        interrupted = [r for r in rows if r.status == "interrupted"]
        done_before = len(store.finished_questions(1))
    rerun = subprocess.run(
        experiment_command(data, db), cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["skipped"] == done_before >= 1
    assert report["ran"] == 6 - done_before and len(report["results"]) == 6
    assert len(interrupted) == 1  # the session killed mid-run is kept and marked


# -- one runner per experiment ------------------------------------------------------------------
def test_a_second_runner_of_an_experiment_is_told_who_runs_it(tmp_path):
    """Issue 14 item 13: two identical `inspector experiment` processes both ran every
    question. The claim is in the database: a live runner in another process refuses this
    one, naming it; once that process is gone (killed), its claim is taken over."""
    from inspector.core.datasets import Dataset, DatasetQuestion
    from inspector.core.session import RunSettings
    from inspector.store import ExperimentBusyError

    db = tmp_path / "s.db"
    with Store.open(db) as store:
        data = Dataset("d", tmp_path / "d.jsonl", [DatasetQuestion(0, "Q?", "1", None, None)])
        experiment = store.create_experiment(
            "e", store.save_dataset(data), RunSettings(), {"path": "/m.gguf"}
        )
    process = child("claim", str(db), str(experiment))
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        with Store.open(db) as store:
            with pytest.raises(ExperimentBusyError) as busy:
                store.claim_experiment(experiment)
            expected = (
                f"experiment {experiment} is already being run by process {process.pid} on "
                "this machine since "
            )
            assert expected in str(busy.value)
            store.release_experiment(experiment)  # not ours: left alone
            with pytest.raises(ExperimentBusyError):
                store.claim_experiment(experiment)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)  # waits, and closes its pipes
    with Store.open(db) as store:
        store.claim_experiment(experiment)  # the dead runner's claim is taken over
        store.claim_experiment(experiment)  # and claiming again in this process is fine
        store.release_experiment(experiment)
        row = store.db.execute("SELECT runner FROM experiments WHERE id = ?", [experiment])
        assert row.fetchone() == (None,)
