"""Take the adaptive-branching screenshots: an adaptive run of the apple question with the
default settings, at 1600×1000 and at 1024×700, and a 200+ leaf run (branch depth 6, 16
tokens a branch) folded.

Run from the checkout: ``.venv/bin/python docs/screenshots/make_adaptive_screenshots.py
[DB]``. Needs Xvfb and ImageMagick's ``import``, like ``make_screenshots.py`` (whose helpers it
uses). The runs are made on the default model into DB (a temporary file when not given); a DB
that already holds them is used as it is.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_screenshots import QUESTION, SMALL, pump, shoot, start_display, wait_for  # noqa: E402

LARGE = (1600, 1000)
# the runs shown: the defaults, and a deep one (289 leaves on the default model)
RUNS = {
    "adaptive": {},
    "adaptive-large": {"branch_depth": 6, "max_tokens": 16, "token_budget": 4400},
}


def prepare(db_path: Path) -> dict[str, str]:
    """Each run of RUNS: found in the database by its settings, or made on the default model."""
    from inspector.core.session import RunSettings
    from inspector.engine import Engine
    from inspector.service import run_and_save
    from inspector.store import Store

    made: dict[str, str] = {}
    with Store.open(db_path) as store:
        for name, changes in RUNS.items():
            wanted = RunSettings(strategy="adaptive", **changes)  # type: ignore[arg-type]
            for row in store.list_sessions():
                saved = store.load_session(row.id)
                same = all(
                    getattr(saved.settings, k) == getattr(wanted, k)
                    for k in ("strategy", "branch_depth", "branch_width", "token_budget")
                )
                if same and saved.question == QUESTION and saved.status == "complete":
                    made[name] = saved.id
            if name not in made:
                with Engine.load() as engine:
                    made[name] = run_and_save(store, engine, QUESTION, wanted, gold="8").id
    return made


def main() -> int:
    server = start_display(LARGE, ":96")
    work = Path(tempfile.mkdtemp(prefix="inspector-adaptive-shots-"))
    db_path = Path(sys.argv[1]) if len(sys.argv) > 1 else work / "sessions.db"
    try:
        made = prepare(db_path)
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from inspector.ui.main_window import MainWindow
        from inspector.ui.shared.theme import apply_theme

        app = QApplication([sys.argv[0]])
        apply_theme(app, "light")
        preferences = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(db_path=db_path, preferences=preferences)
        window.setGeometry(0, 0, *LARGE)
        window.show()
        wait_for(app, lambda: window.models.engine is not None)
        for name in ("adaptive", "adaptive-large"):
            window.explore.open_session(made[name])
            wanted = made[name]
            wait_for(app, lambda w=wanted: getattr(window.explore.session, "id", None) == w)
            pump(app, 0.5)
            window.explore.tree_view.fit()
            shoot(app, name, LARGE)
        window.explore.open_session(made["adaptive"])
        wait_for(app, lambda: window.explore.session.id == made["adaptive"])
        window.setGeometry(0, 0, *SMALL)
        pump(app, 0.8)
        window.explore.tree_view.fit()
        shoot(app, "adaptive-small", SMALL)
        window.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
