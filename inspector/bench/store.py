"""Store figures: plot queries over 10,000 sessions, opening a 1,000-path session, listing and
searching, and what saving costs a real generation (``inspector bench --store``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector.bench.synthetic import big_session, fill_store
from inspector.store.database import Store

APPLES = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"


def _median_ms(action: Callable[[], Any], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def query_figures(path: Path, n_sessions: int) -> dict[str, Any]:
    """Build the synthetic database, then time the queries behind the plots and lists."""
    figures: dict[str, Any] = {"n_sessions": n_sessions}
    with Store.open(path) as store:
        info = fill_store(store, n_sessions)
        figures["build_s"] = round(info.seconds, 2)
        experiment = info.experiment_ids[0]
        figures["run_records_all_ms"] = _median_ms(store.run_records)
        figures["run_records_strategy_ms"] = _median_ms(
            lambda: store.run_records(strategy="self-consistency")
        )
        figures["run_records_model_ms"] = _median_ms(lambda: store.run_records(model="qwen"))
        figures["run_records_experiment_ms"] = _median_ms(
            lambda: store.run_records(experiment_id=experiment)
        )
        figures["list_sessions_ms"] = _median_ms(store.list_sessions)
        figures["list_sessions_search_ms"] = _median_ms(
            lambda: store.list_sessions(search="apples total")
        )
        figures["db_size_mb"] = round(path.stat().st_size / 1e6, 1)
    return figures


def load_figures(path: Path, tokens_per_path: int = 64) -> dict[str, Any]:
    """Save one 1,000-path session and time opening it."""
    session = big_session(1000, tokens_per_path)
    with Store.open(path) as store:
        started = time.perf_counter()
        store.save_session(session)
        save_ms = (time.perf_counter() - started) * 1000
        load_ms = _median_ms(lambda: store.load_session(session.id), repeats=3)
    return {
        "big_session_tokens": session.tree.n_tokens,
        "save_big_session_ms": round(save_ms, 1),
        "load_session_1000_paths_ms": load_ms,
    }


def saving_overhead(
    path: Path, repeats: int = 3, samples: int = 8, max_tokens: int = 64
) -> dict[str, Any]:
    """Self-consistency on the default model with and without saving as ``inspector run``
    does (at start, after each path, at the end); runs alternate, medians compared."""
    from inspector.core.session import RunSettings, Session
    from inspector.core.strategies import RunHooks, new_session, run_strategy
    from inspector.engine import Engine

    settings = RunSettings(
        strategy="self-consistency", samples=samples, max_tokens=max_tokens, seed=7
    )
    timings: dict[bool, list[float]] = {False: [], True: []}
    saving: list[float] = []  # seconds inside save_session per saved run
    with Engine.load() as engine, Store.open(path) as store:

        def save(session: Session) -> None:
            started = time.perf_counter()
            store.save_session(session)
            saving[-1] += time.perf_counter() - started

        def run(with_saving: bool) -> float:
            engine.forget_cache()
            saving.append(0.0)
            started = time.perf_counter()
            session = new_session(engine, APPLES, settings, "8")
            hooks = RunHooks(on_path=lambda s, _p: save(s)) if with_saving else None
            if with_saving:
                save(session)
            run_strategy(engine, session, hooks)
            if with_saving:
                save(session)
            return time.perf_counter() - started

        run(False)  # warm-up
        for i in range(repeats):
            for with_saving in (bool(i % 2), not i % 2):  # alternate which goes first
                timings[with_saving].append(run(with_saving))
    plain, saved = statistics.median(timings[False]), statistics.median(timings[True])
    in_saves = statistics.median([s for s in saving if s > 0])
    return {
        "generation_s": round(plain, 3),
        "generation_with_saving_s": round(saved, 3),
        "saving_overhead_ratio": round(saved / plain, 3),
        "time_in_save_session_s": round(in_saves, 3),
        "save_share_of_run": round(in_saves / saved, 4),
    }


def run_store_benchmark(
    tmp_dir: Path | str, n_sessions: int = 10_000, *, with_model: bool = True
) -> dict[str, Any]:
    """Every store figure (milliseconds are medians); files are made under ``tmp_dir``."""
    tmp = Path(tmp_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("synthetic.db", "big.db", "generation.db"):
        for stale in tmp.glob(f"{name}*"):  # start from empty files (and their -wal/-shm)
            stale.unlink()
    figures = query_figures(tmp / "synthetic.db", n_sessions)
    figures.update(load_figures(tmp / "big.db"))
    if with_model:
        figures.update(saving_overhead(tmp / "generation.db"))
    return figures


def format_figures(figures: dict[str, Any]) -> str:
    width = max(len(name) for name in figures)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in figures.items())
