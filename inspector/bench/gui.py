"""How long the GUI's event loop can stall while the model runs (a benchmark, not a test).

A 5 ms QTimer heartbeat runs during a real run in a real main window; the largest gap between
two beats, minus the timer's own period, is the longest the window could not react.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from inspector.ui.shared.event_loop import (
    application,
    file_preferences,
    heartbeat_gaps,
    spin_until,
)

HEARTBEAT_MS = 5


def measure_gui_stall(strategy: str = "cot-decoding", max_tokens: int = 64) -> dict[str, float]:
    """Run ``strategy`` on the default model in a main window, then a 4-question
    self-consistency experiment in its Experiments tab; report event-loop stalls of both."""
    from inspector.ui.main_window import MainWindow

    application()
    with tempfile.TemporaryDirectory() as tmp:
        prefs = file_preferences(Path(tmp) / "prefs.ini")
        window = MainWindow(None, Path(tmp) / "bench.db", prefs)
        window.show()
        spin_until(lambda: window.models.engine is not None, 60)
        window.explore.run_panel.settings.strategy.setCurrentText(strategy)
        window.explore.run_panel.settings.max_tokens.setValue(max_tokens)
        run = heartbeat_gaps(
            window.explore.start_run, lambda: window.explore.worker is None, HEARTBEAT_MS
        )
        experiment = heartbeat_gaps(
            lambda: _start_experiment(window),
            lambda: not window.experiments.runner.running,
            HEARTBEAT_MS,
        )
        window.shutdown()
        window.close()
    return {**_stalls(run, ""), **_stalls(experiment, "experiment_")}


def _stalls(gaps: list[float], prefix: str) -> dict[str, float]:
    return {
        f"{prefix}heartbeats": len(gaps),
        f"{prefix}max_stall_ms": round(max(gaps) - HEARTBEAT_MS, 1),
        f"{prefix}p99_stall_ms": round(sorted(gaps)[int(len(gaps) * 0.99)] - HEARTBEAT_MS, 1),
        f"{prefix}median_gap_ms": round(statistics.median(gaps), 2),
    }


def _start_experiment(window) -> None:
    from inspector.core.datasets import load_dataset
    from inspector.core.prompts import RESOURCES

    window.pages.setCurrentWidget(window.experiments)
    runner = window.experiments.runner
    runner.set_dataset(load_dataset(RESOURCES / "datasets" / "arithmetic24.jsonl"))
    runner.settings.strategy.setCurrentText("self-consistency")
    runner.settings.samples.setValue(8)
    runner.settings.max_tokens.setValue(48)
    runner.limit.setValue(4)
    runner.run()


def measure_big_tree(n_paths: int = 1000, tokens_per_path: int = 50) -> dict[str, float]:
    """Open a synthetic session of ``n_paths`` paths in the tree view; time a zoom and a pan
    (each including a full repaint of the view)."""
    from inspector.bench.synthetic import big_session
    from inspector.ui.explore.tree_view import ReasoningTreeView

    app = application()
    session = big_session(n_paths, tokens_per_path)
    view = ReasoningTreeView()
    view.resize(1200, 800)
    view.show()
    started = time.perf_counter()
    view.show_session(session)
    view.viewport().grab()
    app.processEvents()
    opened = time.perf_counter() - started
    zooms, pans = [], []
    for step in range(10):
        started = time.perf_counter()
        view.zoom(1.25 if step < 5 else 0.8)
        view.viewport().grab()
        zooms.append(time.perf_counter() - started)
        started = time.perf_counter()
        view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 80)
        view.verticalScrollBar().setValue(view.verticalScrollBar().value() + 80)
        view.viewport().grab()
        pans.append(time.perf_counter() - started)
    view.close()
    return {
        "tree_paths": n_paths,
        "tree_tokens": session.tree.n_tokens,
        "tree_open_ms": round(opened * 1000, 1),
        "zoom_frame_ms_max": round(max(zooms) * 1000, 1),
        "pan_frame_ms_max": round(max(pans) * 1000, 1),
    }
