"""`inspector bench --remote` on a tiny plan: every run saves every question, the database is
sound, and the loopback server (its own process) counts the requests a run should make. The
figures themselves are measurements, not checked here."""

from __future__ import annotations

import json
import subprocess
import sys

from inspector.bench.remote import RemoteBenchPlan, run_remote_benchmark


def test_every_run_of_the_remote_bench_saves_every_question():
    plan = RemoteBenchPlan(questions=3, samples=2, concurrencies=(1, 3), latency=0.0)
    figures = run_remote_benchmark(plan)
    runs = figures["runs"]
    assert [r["concurrency"] for r in runs] == [1, 3]
    for run in runs:
        assert run["complete"] and run["integrity"] == "ok" and run["sessions"] == 3
        assert run["requests"] == 3 * 2  # per question: the n samples, the greedy reference
        assert run["seconds"] > 0
        assert run["speedup"] == round(runs[0]["seconds"] / run["seconds"], 1)
    # never more requests in flight than the concurrency (the server counts them on arrival)
    assert runs[0]["in_flight_peak"] == 1
    assert 1 <= runs[1]["in_flight_peak"] <= 3


def test_the_cli_prints_the_remote_figures_as_json():
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "bench", "--remote", "--quick", "--json",
         "--concurrency", "4"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert [r["concurrency"] for r in figures["runs"]] == [1, 4]
    assert all(r["complete"] and r["sessions"] == 8 for r in figures["runs"])
