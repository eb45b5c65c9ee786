"""Which questions an experiment still has to run, and its progress figures (no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.experiment import ExperimentProgress, questions_to_run


def dataset(n: int) -> Dataset:
    questions = [DatasetQuestion(i, f"q{i}", str(i), None, None) for i in range(n)]
    return Dataset("toy", Path("toy.jsonl"), questions)


def test_questions_to_run_skips_the_finished_ones_within_the_limit() -> None:
    toy = dataset(5)
    pending, skipped = questions_to_run(toy, finished={1, 3})
    assert [q.index for q in pending] == [0, 2, 4] and skipped == 2
    # the limit counts from the start of the set, finished questions included
    pending, skipped = questions_to_run(toy, finished={1, 3}, limit=3)
    assert [q.index for q in pending] == [0, 2] and skipped == 1
    pending, skipped = questions_to_run(toy, finished=(), limit=2)
    assert [q.index for q in pending] == [0, 1] and skipped == 0
    # a finished question beyond the limit is no skip of this run
    pending, skipped = questions_to_run(toy, finished={4}, limit=4)
    assert [q.index for q in pending] == [0, 1, 2, 3] and skipped == 0
    pending, skipped = questions_to_run(toy, finished=range(5))
    assert pending == [] and skipped == 5
    pending, skipped = questions_to_run(toy, finished={0}, limit=0)
    assert pending == [] and skipped == 0


def test_progress_fraction() -> None:
    assert ExperimentProgress(3, 4, None, None, 1.0, 0.3).fraction == pytest.approx(0.75)
    assert ExperimentProgress(0, 0, None, None, 0.0, None).fraction == 1.0
