"""Several questions of an experiment at once, for a backend that serves many requests at a time
(an inference server); the local engine runs one question at a time
(:func:`inspector.core.experiment.run_experiment`).

Each question runs on its own thread of a pool of ``concurrency`` (the engine's requests in
flight: every question has at least one request ready, so the server's slots stay busy); every
callback (the saves above all: one SQLite connection serves them all) is made under one lock, so
the store sees one writer at a time. Sessions are saved as each question starts, as each path
ends and when it is done, in whatever order the questions finish. A cancel stops every question
at its next step (those sessions are kept, marked cancelled, not counted as finished); the first
failure lets the questions already running finish (marked ``interrupted`` if they fail too),
starts no other, and is raised at the end. Progress counts questions as they end; the time left
is the pace so far times the questions left, which stays right at any concurrency.

The saves as paths end come at most every :data:`PATH_SAVE_INTERVAL` seconds per session
(a server answers a question's samples together, and saving the session once per path would
cost more than the requests); the save at the end of each question is never skipped. What a
killed process loses is at most that interval of a question that was not complete, which a
re-run redoes anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.experiment import ExperimentOutcome, ExperimentProgress, questions_to_run
from inspector.core.prompts import WorkedExample
from inspector.core.session import RunSettings, Session
from inspector.core.strategies import RunHooks, new_session, run_strategy
from inspector.engine import Backend, CancelToken

PATH_SAVE_INTERVAL = 0.5  # seconds between two path saves of one session, at least

QuestionCallback = Callable[[DatasetQuestion, Session], None]
PathCallback = Callable[[Session, Any], None]
F = TypeVar("F", bound=Callable[..., Any])


def locked(lock: threading.RLock, callback: F | None) -> F | None:
    """``callback`` made under ``lock`` (None stays None)."""
    if callback is None:
        return None

    def call(*args: Any) -> Any:
        with lock:
            return callback(*args)

    return call  # type: ignore[return-value]


class Throttle:
    """A path callback made for a session at most once every ``interval`` seconds after the
    session was last saved (:meth:`saved`)."""

    def __init__(self, callback: PathCallback | None, interval: float) -> None:
        self._callback = callback
        self._interval = interval
        self._last: dict[str, float] = {}

    def saved(self, session: Session) -> None:
        self._last[session.id] = time.monotonic()

    def forget(self, session: Session) -> None:
        self._last.pop(session.id, None)

    def __call__(self, session: Session, path: Any) -> None:
        now = time.monotonic()
        if self._callback is not None and now - self._last.get(session.id, -1e9) >= self._interval:
            self._last[session.id] = now
            self._callback(session, path)


def run_experiment_concurrently(
    engine: Backend,
    dataset: Dataset,
    settings: RunSettings,
    *,
    concurrency: int,
    lock: threading.RLock,
    finished: Collection[int] = (),
    limit: int | None = None,
    on_start: QuestionCallback | None = None,
    on_session: QuestionCallback | None = None,
    on_failed: QuestionCallback | None = None,
    on_progress: Callable[[ExperimentProgress], None] | None = None,
    hooks: RunHooks | None = None,
    examples: Sequence[WorkedExample] | None = None,
    retrieve: Callable[[str], Sequence[WorkedExample]] | None = None,
) -> ExperimentOutcome:
    """Like :func:`~inspector.core.experiment.run_experiment`, ``concurrency`` questions at
    a time; ``on_failed`` sees the session of a question whose run raised (then re-raised)."""
    hooks = hooks or RunHooks()
    cancel = hooks.cancel or CancelToken()
    hooks.cancel = cancel
    throttle = Throttle(hooks.on_path, PATH_SAVE_INTERVAL)
    question_hooks = RunHooks(
        on_token=locked(lock, hooks.on_token),
        on_path=locked(lock, throttle) if hooks.on_path is not None else None,
        cancel=cancel,
    )
    pending, skipped = questions_to_run(dataset, finished, limit)
    outcome = ExperimentOutcome(skipped=skipped)
    total, started = len(pending) + skipped, time.perf_counter()
    report = on_progress or (lambda _progress: None)
    failures: list[BaseException] = []
    ended: dict[int, Session] = {}
    report(ExperimentProgress(skipped, total, None, None, 0.0, None))

    def run_one(question: DatasetQuestion) -> None:
        if cancel.cancelled or failures:
            return
        with lock:
            retrieved = retrieve(question.question) if retrieve else None
        try:
            session = new_session(
                engine, question.question, settings, question.answer, examples, retrieved
            )
        except BaseException as error:
            with lock:
                failures.append(error)
            return
        session.title = f"{dataset.name} #{question.index + 1}"
        with lock:
            if on_start is not None:
                on_start(question, session)
                throttle.saved(session)
        try:
            run_strategy(engine, session, question_hooks)
        except BaseException as error:
            session.status = "interrupted"  # kept with its paths so far; a re-run redoes it
            with lock:
                failures.append(error)
                if on_failed is not None:
                    on_failed(question, session)
            return
        with lock:
            throttle.forget(session)
            ended[question.index] = session
            if on_session is not None:
                on_session(question, session)
            number = len(ended)
            elapsed = time.perf_counter() - started
            remaining = elapsed / number * (len(pending) - number)
            progress = ExperimentProgress(
                skipped + number, total, question, session, elapsed, remaining
            )
            report(progress)

    def guarded(question: DatasetQuestion) -> None:
        try:
            run_one(question)
        except BaseException as error:  # a save that failed: no other question starts
            with lock:
                failures.append(error)

    with ThreadPoolExecutor(max(1, concurrency), "inspector-question") as pool:
        for future in [pool.submit(guarded, question) for question in pending]:
            future.result()
    outcome.sessions = [ended[q.index] for q in pending if q.index in ended]
    outcome.cancelled = cancel.cancelled
    if failures:
        raise failures[0]
    return outcome
