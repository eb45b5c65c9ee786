"""Which questions an experiment still has to run, its progress figures, and whole experiments
replayed from recorded real-model runs (no model loaded)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.experiment import ExperimentProgress, questions_to_run, run_experiment
from inspector.core.session import Session
from inspector.core.strategies import RunHooks
from inspector.engine import CancelToken
from tests.core.recorded_backend import replay
from tests.core.recorded_scenarios import (
    ANALOGICAL,
    QUESTIONS,
    RELATED,
    TOY,
    analogical_experiment,
    few_shot_experiment,
)


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


# -- whole experiments on recorded real-model runs (tests/core/recorded_backend.py) -------------
RELATED_PROMPT = (
    "Q: What is 2 + 3?\nFirst recall two related problems you have solved before and their "
    "solutions. Then solve the problem step by step.\nA: Related problems:"
)


def test_an_experiment_runs_each_pending_question_once_and_reports_its_pace() -> None:
    backend = replay("experiment-analogical")
    before = time.perf_counter()
    run = analogical_experiment(backend)
    wall = time.perf_counter() - before
    outcome = run.outcome
    assert backend.pending == 0  # question 1 was done before: three runs, nothing else asked
    assert (outcome.skipped, outcome.cancelled, len(outcome.sessions)) == (1, False, 3)
    first, third, fourth = outcome.sessions
    # each session is shown before its run (titled, still running) and saved after it
    assert run.started == [(0, "toy #1", "running"), (2, "toy #3", "running"),
                           (3, "toy #4", "running")]  # fmt: skip
    assert run.saved == [(0, first.id), (2, third.id), (3, fourth.id)]
    assert [s.status for s in outcome.sessions] == ["complete"] * 3
    assert [(s.question, s.gold) for s in outcome.sessions] == [
        ("What is 2 + 3?", "5"), ("What is 10 - 7?", "3"), ("What is 6 + 1?", "7"),
    ]  # fmt: skip
    # question 2 had a related example retrieved, questions 0 and 3 none (they recall their own)
    assert first.prompt == RELATED_PROMPT
    assert third.prompt == (
        "Q: What is 9 - 4?\nA: 9 - 4 = 5. The answer is 5.\n\nQ: What is 10 - 7?\nA:"
    )
    assert fourth.prompt == RELATED_PROMPT.replace("2 + 3", "6 + 1")
    assert [len(s.paths) for s in outcome.sessions] == [1, 1, 1]
    assert first.settings.max_tokens == 16 and first.settings.prompt_style == "analogical"
    # progress: the skipped question counts as done from the start; then one per question
    start, after_first, after_second, after_last = run.progress
    assert (start.done, start.total, start.question, start.session) == (1, 4, None, None)
    assert (start.elapsed, start.remaining) == (0.0, None)
    assert [p.done for p in run.progress] == [1, 2, 3, 4] and {p.total for p in run.progress} == {4}
    assert [p.question for p in run.progress[1:]] == [QUESTIONS[0], QUESTIONS[2], QUESTIONS[3]]
    assert [p.session for p in run.progress[1:]] == outcome.sessions
    assert 0 < after_first.elapsed <= after_second.elapsed <= after_last.elapsed <= wall
    # the pace so far times the questions left: one question in `elapsed`, two to go; two
    # in `elapsed`, one to go; none left after the last
    assert after_first.remaining == 2 * after_first.elapsed
    assert after_second.remaining == after_second.elapsed / 2
    assert after_last.remaining == 0.0 and after_last.fraction == 1.0


def test_an_experiment_passes_its_examples_and_stops_at_the_limit() -> None:
    backend = replay("experiment-few-shot")
    run = few_shot_experiment(backend)
    shot = "Q: What is 1 + 1?\nA: 1 + 1 = 2. The answer is 2.\n\n"
    assert [s.prompt for s in run.outcome.sessions] == [
        shot + "Q: What is 2 + 3?\nA:", shot + "Q: What is 4 + 4?\nA:",
    ]  # fmt: skip
    assert run.outcome.skipped == 0 and [p.done for p in run.progress] == [0, 1, 2]
    assert {p.total for p in run.progress} == {2}
    # after the first of two: it took `elapsed`, one more to go
    assert run.progress[1].remaining == run.progress[1].elapsed


def test_an_experiment_hands_its_hooks_to_every_run() -> None:
    seen: list[tuple[str, int]] = []
    tokens: list[int] = []
    hooks = RunHooks(
        on_path=lambda session, path: seen.append((session.id, path.id)),
        on_token=lambda event: tokens.append(event.branch),
    )
    run = analogical_experiment(replay("experiment-analogical"), hooks=hooks)
    sessions = run.outcome.sessions
    # a greedy run hands its one path over as it starts and again as it ends
    assert seen == [(s.id, 0) for s in sessions for _ in range(2)] and len(seen) == 6
    assert len(tokens) == sum(p.n_tokens for s in sessions for p in s.paths)


def test_a_cancel_between_questions_stops_the_experiment() -> None:
    hooks = RunHooks()  # no cancel token given: the experiment makes one, there to be set

    def stop(_question: DatasetQuestion, _session: Session) -> None:
        assert hooks.cancel is not None
        hooks.cancel.cancel()

    run = analogical_experiment(replay("experiment-analogical"), hooks=hooks, on_session=stop)
    assert run.outcome.cancelled and len(run.outcome.sessions) == 1
    assert [i for i, _, _ in run.started] == [0] and len(run.progress) == 2
    assert run.outcome.sessions[0].status == "complete"  # it ended before the cancel
    given = CancelToken()
    given.cancel()
    early = analogical_experiment(replay("experiment-analogical"), hooks=RunHooks(cancel=given))
    assert early.outcome.cancelled and early.outcome.sessions == [] and early.started == []


def test_a_cancel_inside_the_last_question_keeps_its_session_marked() -> None:
    cancel = CancelToken()
    current: list[int] = []
    streamed: list[int] = []

    def cut(event) -> None:
        streamed.append(current[-1])
        if streamed.count(3) == 2:  # two tokens into the last question (it ends on its third)
            cancel.cancel()

    hooks = RunHooks(on_token=cut, cancel=cancel)
    run = analogical_experiment(
        replay("experiment-analogical"), hooks=hooks, on_start=lambda q, _s: current.append(q.index)
    )
    *done, last = run.outcome.sessions
    assert run.outcome.cancelled and [i for i, _ in run.saved] == [0, 2, 3]
    assert [s.status for s in done] == ["complete", "complete"] and last.status == "cancelled"
    assert last.paths[0].finish_reason == "cancelled" and last.paths[0].n_tokens == 2


def test_an_experiment_without_callbacks_returns_its_sessions() -> None:
    outcome = run_experiment(replay("experiment-analogical"), TOY, ANALOGICAL, finished={1},
                             retrieve=lambda q: RELATED.get(q))  # fmt: skip
    assert [s.title for s in outcome.sessions] == ["toy #1", "toy #3", "toy #4"]
    assert outcome.skipped == 1 and not outcome.cancelled
