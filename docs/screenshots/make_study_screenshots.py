"""Take the resampling-study screenshots: a forking-tokens study and a step-importance study
of one greedy few-shot CoT path on the default model, in the study window at 1600×1000 and at
1024×700.

Run from the checkout: ``.venv/bin/python docs/screenshots/make_study_screenshots.py [DB]``.
Needs Xvfb and ImageMagick's ``import``, like ``make_screenshots.py`` (whose helpers it uses).
The session and both studies are made on the default model into DB (a temporary file when not
given); a DB that already holds them is used as it is (a stopped study is resumed).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_screenshots import SMALL, pump, shoot, start_display, wait_for  # noqa: E402

LARGE = (1600, 1000)
QUESTION = (
    "Tom has 5 marbles and buys 3 bags with 4 marbles each. How many marbles does he have now?"
)
GOLD = "17"
MAX_TOKENS = 80  # the path: about 50 tokens on the default model, ending with its answer


def study_settings():  # type: ignore[no-untyped-def]
    from inspector.core.studies import StudySettings

    forks = StudySettings(
        "forks", 0, samples=3, max_tokens=24, first=4, last=23, alternatives=2, min_prob=0.02
    )
    steps = StudySettings("steps", 0, samples=4, max_tokens=24, split="sentences")
    return forks, steps


def prepare(db_path: Path) -> str:
    """The session (found by its question and settings, or made) and both studies, complete."""
    from inspector.core.session import RunSettings
    from inspector.engine import Engine
    from inspector.service import run_and_save
    from inspector.service.studies import prepare_study, run_and_save_study
    from inspector.store import Store

    wanted = RunSettings(strategy="greedy", prompt_style="few-shot-cot", max_tokens=MAX_TOKENS)
    with Store.open(db_path) as store, Engine.load() as engine:
        session_id = None
        for row in store.list_sessions():
            saved = store.load_session(row.id)
            if saved.question == QUESTION and saved.settings.prompt_style == wanted.prompt_style:
                session_id = saved.id
        if session_id is None:
            session_id = run_and_save(store, engine, QUESTION, wanted, gold=GOLD).id
        for settings in study_settings():
            session, plan, study = prepare_study(store, session_id, settings)
            if study.status != "complete":
                print(f"{settings.kind}: {len(plan.remaining(study))} continuations to sample")
                run_and_save_study(store, engine, session, plan, study)
    return session_id


def main() -> int:
    server = start_display(LARGE, ":95")
    work = Path(tempfile.mkdtemp(prefix="inspector-study-shots-"))
    db_path = Path(sys.argv[1]) if len(sys.argv) > 1 else work / "sessions.db"
    try:
        session_id = prepare(db_path)
        from PySide6.QtWidgets import QApplication

        from inspector.store import Store
        from inspector.ui.shared.theme import apply_theme
        from inspector.ui.studies.study_window import StudyWindow

        app = QApplication([sys.argv[0]])
        apply_theme(app, "light")
        forks_settings, steps_settings = study_settings()
        with Store.open(db_path) as store:
            session = store.load_session(session_id)
            forks = store.load_study(store.find_study(session_id, forks_settings))
            steps = store.load_study(store.find_study(session_id, steps_settings))
        window = StudyWindow()
        window.setGeometry(0, 0, *LARGE)
        window.show()
        window.show_study(session, forks)
        data = window.fork_data
        assert data is not None
        # the position shown: the fork with the most tokens studied (alternatives to compare)
        by_position = {o.position: o for o in data.outcomes}
        candidates = data.forks or list(by_position)
        position = max(candidates, key=lambda t: len(by_position[t].tokens))
        window.fork_plot.select(position)
        window.show_position(position)
        if len(window.tokens_model.rows) > 1:  # an alternative's continuations, selected
            window.tokens_table.selectRow(1)
        wait_for(app, lambda: window.isVisible())
        shoot(app, "studies-forks", LARGE)
        window.setGeometry(0, 0, *SMALL)
        pump(app, 0.8)
        shoot(app, "studies-forks-small", SMALL)
        window.setGeometry(0, 0, *LARGE)
        window.show_study(session, steps)
        pump(app, 0.8)
        shoot(app, "studies-steps", LARGE)
        window.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
