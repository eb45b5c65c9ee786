"""A real forking study on the default model, through the GUI's worker: the apple question's
greedy path, every position, 2 alternatives, 4 samples. It finishes, and the forking plot's
data equal what the stored continuations' answers give (recomputed here from the rows)."""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict

import pytest

from inspector.core.session import RunSettings
from inspector.core.studies import NO_ANSWER, StudySettings
from inspector.service import run_and_save
from inspector.store import Store
from inspector.ui.studies.runner import StudyRunner
from inspector.ui.studies.study_window import StudyWindow

QUESTION = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"


def test_real_study_plot_equals_the_stored_answers(qtbot, engine, tmp_path):
    db = tmp_path / "s.db"
    with Store.open(db) as store:
        session = run_and_save(
            store, engine, QUESTION, RunSettings(strategy="greedy", max_tokens=12), gold="8"
        )
    settings = StudySettings("forks", 0, samples=4, max_tokens=6, alternatives=2)
    runner = StudyRunner(db)
    progress = []
    runner.progress.connect(progress.append)
    with qtbot.waitSignal(runner.finished, timeout=600_000) as done:
        runner.start(engine, session.id, settings)
    study = done.args[0]
    assert study.status == "complete" and progress[-1].done == progress[-1].total
    with Store.open(db) as store:
        saved = store.load_study(study.id)
        shown_session = store.load_session(session.id)
    window = StudyWindow()
    qtbot.addWidget(window)
    window.show_study(shown_session, saved)
    tops = {a: list(c.getData()[1]) for a, c in window.fork_plot.items["tops"].items()}
    positions = list(window.fork_plot.items["tops"][next(iter(tops))].getData()[0])

    # the same distributions straight from the table: per (position, token) the answers'
    # shares, mixed by the token's p renormalised over the tokens studied
    rows = (
        sqlite3.connect(db)
        .execute(
            "SELECT position, token_id, token_prob, answer FROM study_samples WHERE study_id = ?",
            [study.id],
        )
        .fetchall()
    )
    n_tokens = len(shown_session.path_tokens(shown_session.paths[0]))
    assert len({r[0] for r in rows}) == len(positions) and len(positions) <= n_tokens
    answers: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    probs: dict[tuple[int, int], float] = {}
    for position, token, prob, answer in rows:
        answers[(position, token)][NO_ANSWER if answer is None else answer] += 1
        probs[(position, token)] = prob
    assert all(sum(c.values()) == 4 for c in answers.values())
    expected: dict[int, dict[str, float]] = {}
    for t in sorted({p for p, _ in answers}):
        keys = [k for k in answers if k[0] == t]
        share = sum(probs[k] for k in keys)
        mix: dict[str, float] = defaultdict(float)
        for k in keys:
            for answer, count in answers[k].items():
                mix[answer] += probs[k] / share * count / 4
        expected[t] = mix
    assert positions == sorted(expected)
    lower = [0.0] * len(positions)
    for answer, top in tops.items():  # each band's height is that answer's share
        for i, t in enumerate(positions):
            assert top[i] - lower[i] == pytest.approx(expected[int(t)].get(answer, 0.0), abs=1e-9)
        lower = top
    assert all(math.isclose(v, 1.0) for v in lower)
    # every continuation was sampled from the path: the taken token and at most 2 others
    assert all(len([k for k in answers if k[0] == t]) <= 3 for t in expected)
