"""Run one strategy with fixed settings over a data set, one session per question.

Persistence is the caller's: ``on_session`` is called as each question's session completes
(the CLI and GUI save it there), and ``finished`` lists questions done in an earlier run so a
re-run resumes instead of starting over.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.prompts import WorkedExample
from inspector.core.session import RunSettings, Session
from inspector.core.strategies import RunHooks, new_session, run_strategy
from inspector.engine import Backend, CancelToken


@dataclass(frozen=True)
class ExperimentProgress:
    """Where an experiment stands after a question (or when it starts, with ``session=None``)."""

    done: int
    total: int
    question: DatasetQuestion | None
    session: Session | None
    elapsed: float
    remaining: float | None  # seconds, estimated from this run's pace

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


@dataclass
class ExperimentOutcome:
    sessions: list[Session] = field(default_factory=list)
    skipped: int = 0
    cancelled: bool = False


def questions_to_run(
    dataset: Dataset, finished: Collection[int], limit: int | None = None
) -> tuple[list[DatasetQuestion], int]:
    """The first ``limit`` questions of the data set that are not finished yet, and how many
    of those first ``limit`` were already done."""
    chosen = dataset.questions[:limit] if limit is not None else dataset.questions
    pending = [q for q in chosen if q.index not in finished]
    return pending, len(chosen) - len(pending)


def run_experiment(
    engine: Backend,
    dataset: Dataset,
    settings: RunSettings,
    *,
    finished: Collection[int] = (),
    limit: int | None = None,
    on_start: Callable[[DatasetQuestion, Session], None] | None = None,
    on_session: Callable[[DatasetQuestion, Session], None] | None = None,
    on_progress: Callable[[ExperimentProgress], None] | None = None,
    hooks: RunHooks | None = None,
    examples: Sequence[WorkedExample] | None = None,
    retrieve: Callable[[str], Sequence[WorkedExample]] | None = None,
) -> ExperimentOutcome:
    """Run every pending question; a cancel stops after the current step (that session is
    kept, marked cancelled, and counted as not finished so a re-run redoes it).

    ``on_start`` sees each session before any token is generated (save it there so that a
    killed process leaves it behind, to be marked interrupted), ``on_session`` once it is done.
    """
    hooks = hooks or RunHooks()
    cancel = hooks.cancel or CancelToken()
    hooks.cancel = cancel
    pending, skipped = questions_to_run(dataset, finished, limit)
    outcome = ExperimentOutcome(skipped=skipped)
    total, started = len(pending) + skipped, time.perf_counter()
    report = on_progress or (lambda _progress: None)
    report(ExperimentProgress(skipped, total, None, None, 0.0, None))
    for number, question in enumerate(pending, start=1):
        if cancel.cancelled:
            outcome.cancelled = True
            break
        retrieved = retrieve(question.question) if retrieve else None
        session = new_session(
            engine, question.question, settings, question.answer, examples, retrieved
        )
        session.title = f"{dataset.name} #{question.index + 1}"
        if on_start is not None:
            on_start(question, session)
        run_strategy(engine, session, hooks)
        outcome.sessions.append(session)
        if on_session is not None:
            on_session(question, session)
        elapsed = time.perf_counter() - started
        remaining = elapsed / number * (len(pending) - number)
        report(ExperimentProgress(skipped + number, total, question, session, elapsed, remaining))
    outcome.cancelled = outcome.cancelled or cancel.cancelled
    return outcome
