"""`inspector bench --remote`: the same self-consistency experiment against a server at
several concurrencies, with every session saved as a real run saves it.

By default the server is :mod:`inspector.bench.loopback` (an injected latency, up to 16
requests at once); ``--base-url`` points the benchmark at a real server instead (e.g.
``python -m llama_cpp.server`` on the default model). Each concurrency runs on a fresh
database and a fresh connection; the figures are wall-clock seconds for the whole experiment,
completions a second, and the speed-up over concurrency 1. Concurrency is requests in flight at
once (what a server's parallel slots count): at 1 a question's samples and its greedy
reference go one after the other, as the remote backend sent them before issue 15. Every run is
checked: all questions saved complete, the database's integrity check ``ok``, one session per
question, and (on the loopback server) never more requests in flight than the concurrency.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.session import RunSettings
from inspector.engine.remote import RemoteEngine
from inspector.engine.remote_http import HttpSettings, JsonClient
from inspector.service.experiments import run_saved_experiment


@dataclass(frozen=True)
class RemoteBenchPlan:
    questions: int = 32
    samples: int = 8
    concurrencies: tuple[int, ...] = (1, 16)
    max_tokens: int = 24
    latency: float = 0.15  # the loopback server's, per request
    slots: int = 16  # requests the loopback server serves at once


def arithmetic_dataset(questions: int) -> Dataset:
    items = [
        DatasetQuestion(i, f"What is {i + 3} + {2 * i + 5}?", str(3 * i + 8), None, None)
        for i in range(questions)
    ]
    return Dataset("bench-arithmetic", Path("bench-arithmetic.jsonl"), items)


def _one_run(
    url: str, api_key: str | None, http: HttpSettings, dataset: Dataset, settings: RunSettings,
    concurrency: int, folder: Path,
) -> dict[str, Any]:  # fmt: skip
    from inspector.store import Store

    with Store.open(folder / f"c{concurrency}.db") as store:
        with RemoteEngine.connect(url, api_key, http=http) as engine:
            started, cpu = time.perf_counter(), time.process_time()
            saved = run_saved_experiment(store, engine, dataset, settings, concurrency=concurrency)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            notices = list(engine.notices)
        finished = store.finished_questions(saved.experiment_id)
        sessions = store.db.execute("SELECT count(*) FROM sessions").fetchone()[0]
        integrity = store.integrity_check()
    paths = sum(len(s.paths) for s in saved.outcome.sessions)
    return {
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "client_cpu_s": round(cpu, 2),  # this process's CPU time (all its threads)
        "completions_per_s": round(paths / seconds, 2),
        "complete": len(finished) == len(dataset.questions),
        "sessions": int(sessions),
        "integrity": ",".join(integrity),
        "notices": notices,
    }


def run_remote_benchmark(
    plan: RemoteBenchPlan,
    base_url: str | None = None,
    api_key: str | None = None,
    http: HttpSettings | None = None,
    on_line: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The figures of ``plan``, against ``base_url`` or a loopback server started here."""
    from contextlib import ExitStack

    from inspector.bench.loopback import loopback_process

    dataset = arithmetic_dataset(plan.questions)
    settings = RunSettings(
        strategy="self-consistency", samples=plan.samples, max_tokens=plan.max_tokens, seed=1
    )
    http = http or HttpSettings()
    figures: dict[str, Any] = {
        "server": base_url or f"loopback ({plan.latency * 1000:g} ms, {plan.slots} at once)",
        "experiment": f"{plan.questions} questions × {plan.samples} samples (+ greedy), "
        f"self-consistency, ≤ {plan.max_tokens} tokens",
        "runs": [],
    }
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="inspector-bench-") as tmp:
        loopback = base_url is None
        if base_url is None:
            base_url = stack.enter_context(loopback_process(plan.latency, plan.slots))
        for concurrency in plan.concurrencies:
            before = _traffic(base_url, reset=True) if loopback else None
            run = _one_run(base_url, api_key, http, dataset, settings, concurrency, Path(tmp))
            if before is not None:
                after = _traffic(base_url)
                run["requests"] = after["requests"] - before["requests"]
                run["in_flight_peak"] = after["open_peak"]  # most sent at once in this run
            figures["runs"].append(run)
            if on_line is not None:
                on_line(format_run(run))
    first = figures["runs"][0]["seconds"]
    for run in figures["runs"]:
        run["speedup"] = round(first / run["seconds"], 1) if run["seconds"] else None
    return figures


def _traffic(url: str, reset: bool = False) -> dict[str, int]:
    """The loopback server's counts (``reset``: and its peaks start again)."""
    client = JsonClient(url)
    try:
        counts = client.get("/reset/traffic" if reset else "/traffic")
    finally:
        client.close()
    return {k: int(v) for k, v in counts.items()}


def format_run(run: dict[str, Any]) -> str:
    requests = f", {run['requests']} requests" if "requests" in run else ""
    check = "all saved, integrity ok" if run["complete"] and run["integrity"] == "ok" else (
        f"INCOMPLETE (integrity {run['integrity']})"
    )  # fmt: skip
    if "in_flight_peak" in run:
        requests += f" ({run['in_flight_peak']} at once at most)"
    return (
        f"  concurrency {run['concurrency']:>3}: {run['seconds']:>6.2f} s "
        f"(client CPU {run['client_cpu_s']:.2f} s), "
        f"{run['completions_per_s']:>6.2f} completions/s{requests}; {run['sessions']} "
        f"sessions, {check}"
    )


def format_figures(figures: dict[str, Any]) -> str:
    lines = [f"server: {figures['server']}", f"experiment: {figures['experiment']}"]
    lines += [
        format_run(run) + f"; ×{run['speedup']} over concurrency 1" for run in figures["runs"]
    ]
    notices: Sequence[str] = sorted({n for run in figures["runs"] for n in run["notices"]})
    lines += [f"  note: {notice}" for notice in notices]
    return "\n".join(lines)
