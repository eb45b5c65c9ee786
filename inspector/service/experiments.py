"""Run an experiment with every session saved as it happens (shared by the CLI and the GUI).

The experiment row is found again for the same data set, settings and model file, so a second
call resumes: questions whose session completed are skipped. Settings left to the model (the
chat template, the token limit) are resolved first, so an experiment is stored and found by what
its runs actually use: a default run and one that names the same values explicitly are the
same experiment.

Against a backend that serves many requests at once (a server: ``thread_safe``),
``concurrency`` (by default :data:`~inspector.engine.remote.DEFAULT_CONCURRENCY`) is the number
of requests in flight at once, what a server's parallel slots are counted in: the engine sends
no more than that, and as many questions run at a time (:mod:`inspector.service.parallel`), so
there is always a request ready for a slot that frees. The local engine runs one question at a
time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.experiment import ExperimentOutcome, ExperimentProgress, run_experiment
from inspector.core.model_defaults import resolve_settings
from inspector.core.prompts import WorkedExample
from inspector.core.session import RunSettings, Session
from inspector.core.strategies import RunHooks
from inspector.service.parallel import run_experiment_concurrently
from inspector.service.runs import retriever, saving_hooks

if TYPE_CHECKING:
    from inspector.engine.backend import Backend
    from inspector.store import Store


def effective_concurrency(engine: Backend, asked: int | None = None) -> int:
    """Requests in flight (and questions running) at once on ``engine``: 1 for a backend that
    is not thread-safe (the local engine), else ``asked`` (None: the default for a server)."""
    if not getattr(engine, "thread_safe", False):
        return 1
    if asked is None:
        from inspector.engine.remote import DEFAULT_CONCURRENCY

        return DEFAULT_CONCURRENCY
    return max(1, asked)


@dataclass(frozen=True)
class SavedExperiment:
    experiment_id: int
    outcome: ExperimentOutcome


def open_experiment(
    store: Store, dataset: Dataset, settings: RunSettings, engine: Backend, name: str | None = None
) -> int:
    """The id of the experiment for this data set, settings (resolved for the model) and
    model, created if new."""
    info = engine.info()
    settings = resolve_settings(settings, info)
    model = {"path": info.path, "description": info.description}
    with store.transaction():  # two runners starting at once find (or make) the same one
        dataset_id = store.save_dataset(dataset)
        experiment_id = store.find_experiment(dataset_id, settings, model["path"])
        if experiment_id is None:
            name = name or f"{dataset.name} · {settings.strategy} · {settings.prompt_style}"
            experiment_id = store.create_experiment(name, dataset_id, settings, model)
    return experiment_id


def run_saved_experiment(
    store: Store,
    engine: Backend,
    dataset: Dataset,
    settings: RunSettings,
    *,
    name: str | None = None,
    limit: int | None = None,
    hooks: RunHooks | None = None,
    on_progress: Callable[[ExperimentProgress], None] | None = None,
    on_experiment: Callable[[int], None] | None = None,
    examples: Sequence[WorkedExample] | None = None,
    concurrency: int | None = None,
) -> SavedExperiment:
    """Create or resume the experiment and run its pending questions, saving each session at
    its start, as each path ends, and when it is done; the experiment's status follows.

    The experiment is claimed for this process while it runs: another process running the
    same experiment gets :class:`~inspector.store.ExperimentBusyError`, naming this one.
    ``concurrency``: requests in flight at once (see :func:`effective_concurrency`); the
    engine keeps it afterwards."""
    settings = resolve_settings(settings, engine.info())
    experiment_id = open_experiment(store, dataset, settings, engine, name)
    store.claim_experiment(experiment_id)  # one runner at a time: a second one is told who
    store.set_experiment_asked(experiment_id, limit)
    if on_experiment is not None:
        on_experiment(experiment_id)
    hooks = saving_hooks(store, hooks)

    def on_session(question: DatasetQuestion, session: Session) -> None:
        store.save_session(session)
        if session.status == "complete":
            store.record_run(experiment_id, question.index, session.id)

    store.set_experiment_status(experiment_id, "running")
    at_once = effective_concurrency(engine, concurrency)
    try:
        if not getattr(engine, "thread_safe", False):
            outcome = run_experiment(
                engine,
                dataset,
                settings,
                finished=store.finished_questions(experiment_id),
                limit=limit,
                on_start=lambda _question, session: store.save_session(session),
                on_session=on_session,
                on_progress=on_progress,
                hooks=hooks,
                examples=examples,
                retrieve=retriever(store, settings),
            )
        else:
            from inspector.engine.remote import RemoteEngine

            if isinstance(engine, RemoteEngine):
                engine.concurrency = at_once
            outcome = run_experiment_concurrently(
                engine,
                dataset,
                settings,
                concurrency=at_once,
                lock=threading.RLock(),
                finished=store.finished_questions(experiment_id),
                limit=limit,
                on_start=lambda _question, session: store.save_session(session),
                on_session=on_session,
                on_failed=lambda _question, session: store.save_session(session),
                on_progress=on_progress,
                hooks=hooks,
                examples=examples,
                retrieve=retriever(store, settings),
            )
    except BaseException:
        store.set_experiment_status(experiment_id, "interrupted")
        raise
    finally:
        store.release_experiment(experiment_id)
    store.set_experiment_status(experiment_id, "cancelled" if outcome.cancelled else "complete")
    return SavedExperiment(experiment_id, outcome)
