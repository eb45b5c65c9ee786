"""Take the README's screenshots: the app under Xvfb on prepared sessions, one PNG per view.

Run from the checkout: ``.venv/bin/python docs/screenshots/make_screenshots.py``. Needs Xvfb
and ImageMagick's ``import`` (Debian: ``xvfb imagemagick``); a display that is already set is
used as it is. A temporary database is filled first with a CoT-decoding run, a greedy run of
the same question and a small self-consistency experiment on the default model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
QUESTION = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"
SIZE = (1400, 900)
SMALL = (1024, 700)


def start_display(size: tuple[int, int] = SIZE, display: str = ":97") -> subprocess.Popen | None:
    """An Xvfb screen of ``size`` (none when $DISPLAY is set already)."""
    if os.environ.get("DISPLAY"):
        return None
    if shutil.which("Xvfb") is None:
        sys.exit("Xvfb is not installed (Debian: apt-get install xvfb imagemagick)")
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"]
    )
    os.environ["DISPLAY"] = display
    time.sleep(1.5)
    return server


def prepare(db_path: Path) -> dict[str, str]:
    """Sessions and an experiment made by the real default model."""
    from inspector.core.datasets import load_dataset
    from inspector.core.session import RunSettings
    from inspector.core.strategies import new_session, run_strategy
    from inspector.engine import Engine
    from inspector.service import run_saved_experiment
    from inspector.store import Store

    made = {}
    with Engine.load() as engine, Store.open(db_path) as store:
        for strategy in ("cot-decoding", "greedy"):
            settings = RunSettings(strategy=strategy, k=8, max_tokens=40)
            session = new_session(engine, QUESTION, settings, "8")
            run_strategy(engine, session)
            store.save_session(session)
            made[strategy] = session.id
        store.add_annotation(
            made["cot-decoding"], "flawed reasoning", path_id=0, note="never adds the two counts"
        )
        dataset = load_dataset(ROOT / "resources" / "datasets" / "arithmetic24.jsonl")
        settings = RunSettings(
            strategy="self-consistency", prompt_style="few-shot-cot", samples=8, max_tokens=64
        )
        run_saved_experiment(store, engine, dataset, settings, limit=12)
    return made


def pump(app, seconds: float) -> None:
    from inspector.ui.shared.event_loop import spin_until

    deadline = time.monotonic() + seconds
    spin_until(lambda: time.monotonic() > deadline, seconds + 5)


def wait_for(app, condition, timeout: float = 60.0) -> None:
    from inspector.ui.shared.event_loop import spin_until

    spin_until(condition, timeout)


def shoot(app, name: str, size: tuple[int, int] | None = None) -> None:
    """The screen as a PNG; ``size``: only its top-left part (a window of that size at 0, 0)."""
    pump(app, 0.6)
    target = HERE / f"{name}.png"
    crop = ["-crop", f"{size[0]}x{size[1]}+0+0", "+repage"] if size else []
    subprocess.run(["import", "-window", "root", *crop, str(target)], check=True)
    print(f"wrote {target.relative_to(ROOT)}")


def show_token_tooltip(window, index: int) -> None:
    """Hover a token: its alternatives and entropy, as the mouse would show them."""
    from PySide6.QtWidgets import QToolTip

    from inspector.ui.explore.path_view import alternatives_html

    view = window.explore.path_view
    rect = view.token_rect(index)
    point = view.viewport().mapToGlobal(rect.bottomRight())
    QToolTip.showText(point, alternatives_html(view.tokens[index]), view)


def main() -> int:
    server = start_display()
    work = Path(tempfile.mkdtemp(prefix="inspector-shots-"))
    try:
        made = prepare(work / "sessions.db")
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from inspector.ui.main_window import MainWindow
        from inspector.ui.shared.theme import apply_theme

        app = QApplication([sys.argv[0]])
        apply_theme(app, "light")
        preferences = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(db_path=work / "sessions.db", preferences=preferences)
        window.setGeometry(0, 0, *SIZE)
        window.show()
        wait_for(app, lambda: window.models.engine is not None)
        window.explore.open_session(made["cot-decoding"])
        wait_for(app, lambda: window.explore.session is not None)
        window.explore.show_path(2)
        pump(app, 0.5)
        answer = window.explore.path_view.path.answer_tokens
        show_token_tooltip(window, answer[0] if answer else 2)  # the answer's alternatives
        shoot(app, "explore")
        window.pages.setCurrentIndex(1)
        wait_for(app, lambda: window.experiments.plots.stats is not None)
        window.experiments.experiments_view.selectRow(0)
        wait_for(app, lambda: window.experiments.results_model.rowCount() > 0)
        window.sessions_dock.hide()  # View ▸ Sessions list (Ctrl+3): the plots get the height
        shoot(app, "experiments")
        window.sessions_dock.show()
        window.pages.setCurrentIndex(0)
        window.compare_sessions(made["greedy"], made["cot-decoding"])
        wait_for(app, lambda: getattr(window, "compare_dialog", None) is not None)
        window.compare_dialog.setGeometry(100, 80, 1200, 700)
        shoot(app, "compare")
        window.compare_dialog.close()
        apply_theme(app, "dark")
        shoot(app, "explore-dark")
        apply_theme(app, "light")
        window.setGeometry(0, 0, *SMALL)  # the smallest window the layout is made for
        window.explore.show_path(2)
        shoot(app, "explore-small", SMALL)
        window.pages.setCurrentIndex(1)
        shoot(app, "experiments-small", SMALL)
        window.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
