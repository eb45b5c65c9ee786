"""run_saved_experiment on the real default model: saved as it goes, status kept, resumable."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.session import RunSettings
from inspector.core.strategies import RunHooks
from inspector.engine import CancelToken, PromptTooLongError
from inspector.service.experiments import run_saved_experiment

SETTINGS = RunSettings(strategy="greedy", max_tokens=6)


def tiny(*questions: str) -> Dataset:
    items = [DatasetQuestion(i, q, "5", None, None) for i, q in enumerate(questions)]
    return Dataset("tiny", Path("tiny.jsonl"), items)


def status(store, experiment_id: int) -> str:
    return store.db.execute(
        "SELECT status FROM experiments WHERE id = ?", [experiment_id]
    ).fetchone()[0]


def test_complete_then_resume_runs_only_the_rest(store, engine):
    data = tiny("What is 2 + 3?", "What is 1 + 4?", "What is 0 + 5?")
    first = run_saved_experiment(store, engine, data, SETTINGS, limit=2)
    assert len(first.outcome.sessions) == 2 and status(store, first.experiment_id) == "complete"
    again = run_saved_experiment(store, engine, data, SETTINGS)
    assert again.experiment_id == first.experiment_id
    assert (again.outcome.skipped, len(again.outcome.sessions)) == (2, 1)
    assert store.finished_questions(first.experiment_id) == {0, 1, 2}


def test_a_cancelled_experiment_says_so(store, engine):
    cancel = CancelToken()
    cancel.cancel()
    saved = run_saved_experiment(
        store, engine, tiny("What is 2 + 3?"), SETTINGS, hooks=RunHooks(cancel=cancel)
    )
    assert saved.outcome.cancelled and status(store, saved.experiment_id) == "cancelled"
    assert store.finished_questions(saved.experiment_id) == set()


def test_a_failure_marks_the_experiment_interrupted(store, engine):
    seen = []
    with pytest.raises(PromptTooLongError):
        run_saved_experiment(
            store, engine, tiny("apples " * 6000), SETTINGS, on_experiment=seen.append
        )
    assert status(store, seen[0]) == "interrupted"


def test_the_local_engine_runs_one_question_at_a_time_whatever_is_asked(store, engine):
    from inspector.service.experiments import effective_concurrency

    assert effective_concurrency(engine, 16) == 1 and effective_concurrency(engine) == 1
    data = tiny("What is 2 + 3?", "What is 1 + 4?")
    saved = run_saved_experiment(store, engine, data, SETTINGS, concurrency=8)
    assert store.finished_questions(saved.experiment_id) == {0, 1}
    assert [s.paths[0].text for s in saved.outcome.sessions] == [
        engine.generate(s.prompt_tokens, _greedy(s)).content for s in saved.outcome.sessions
    ]


def _greedy(session):
    from inspector.core.strategies import greedy_settings

    return greedy_settings(session.settings)
