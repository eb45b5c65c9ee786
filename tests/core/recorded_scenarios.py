"""The scenarios whose model answers tests/core/data/recorded_streams.json holds (see
tests/core/recorded_backend.py). Each drives a backend exactly as the tests replaying it do;
changing one means recording again (``INSPECTOR_RECORD=1``, test_recorded_streams.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.experiment import ExperimentOutcome, ExperimentProgress, run_experiment
from inspector.core.probe import run_probes
from inspector.core.prompts import WorkedExample
from inspector.core.session import ReasoningPath, RunSettings, Session
from inspector.core.strategies import RunHooks, new_session, run_strategy, stop_strings

APPLE = "I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?"
PROBE = "So the answer is"
# CoT-decoding with the probe: four first tokens, two alternatives recorded per token (the
# probe asks for at least two: Δ needs them), eight probe tokens (three of the four probes
# then end on the stop string a step before the fourth ends on its length)
COT = RunSettings(
    strategy="cot-decoding", k=4, max_tokens=40, n_alternatives=2, answer_probe=PROBE,
    probe_tokens=8, use_chat_template=False,
)  # fmt: skip
# the declared context of the tight run: the prompt (31 tokens), the probe (5), its eight
# answer tokens and 31 tokens of path, so that a path of 31 tokens before its stop string
# (the recorded run's third) just fails to fit: the probe needs room for a path shorter
# than that
TIGHT_N_CTX = 31 + 5 + 8 + 31


def cot_run(backend: Any, hooks: RunHooks | None = None) -> Session:
    session = new_session(backend, APPLE, COT, gold="8")
    return run_strategy(backend, session, hooks)


def probe_again(backend: Any) -> tuple[Session, ReasoningPath, list[ReasoningPath]]:
    """A CoT run, then one more probe request: a path still being generated (reserved, no
    tokens yet) and the run's first path."""
    session = cot_run(backend)
    running = session.reserve_path("cot-decoding", "running")
    probed = run_probes(backend, session, [running, session.paths[0]], stop_strings(COT))
    return session, running, probed


QUESTIONS = [
    DatasetQuestion(0, "What is 2 + 3?", "5", None, "a"),
    DatasetQuestion(1, "What is 4 + 4?", "8", None, "b"),
    DatasetQuestion(2, "What is 10 - 7?", "3", None, "c"),
    DatasetQuestion(3, "What is 6 + 1?", "7", None, "d"),
]
TOY = Dataset("toy", Path("toy.jsonl"), QUESTIONS)
GREEDY = RunSettings(strategy="greedy", max_tokens=16, use_chat_template=False)
SHOT = WorkedExample("What is 1 + 1?", "1 + 1 = 2.", "2")
RELATED = {"What is 10 - 7?": [WorkedExample("What is 9 - 4?", "9 - 4 = 5.", "5")]}


@dataclass
class ExperimentRun:
    outcome: ExperimentOutcome
    progress: list[ExperimentProgress] = field(default_factory=list)
    started: list[tuple[int, str, str]] = field(default_factory=list)  # index, title, status
    saved: list[tuple[int, str]] = field(default_factory=list)  # index, session id


def experiment(
    backend: Any,
    settings: RunSettings,
    *,
    hooks: RunHooks | None = None,
    on_start: Callable[[DatasetQuestion, Session], None] | None = None,
    on_session: Callable[[DatasetQuestion, Session], None] | None = None,
    **options: Any,
) -> ExperimentRun:
    """``run_experiment`` over :data:`TOY`, keeping every callback's view."""
    seen: list[ExperimentProgress] = []
    started: list[tuple[int, str, str]] = []
    saved: list[tuple[int, str]] = []

    def start(question: DatasetQuestion, session: Session) -> None:
        started.append((question.index, session.title, session.status))
        if on_start is not None:
            on_start(question, session)

    def done(question: DatasetQuestion, session: Session) -> None:
        saved.append((question.index, session.id))
        if on_session is not None:
            on_session(question, session)

    outcome = run_experiment(
        backend, TOY, settings, on_start=start, on_session=done, on_progress=seen.append,
        hooks=hooks, **options,
    )  # fmt: skip
    return ExperimentRun(outcome, seen, started, saved)


ANALOGICAL = replace(GREEDY, prompt_style="analogical")


def analogical_experiment(backend: Any, **callbacks: Any) -> ExperimentRun:
    """Question 1 already done; question 2 with a related example retrieved, 0 and 3 without.
    ``callbacks``: ``hooks``, ``on_start`` and ``on_session`` (they change no request)."""
    return experiment(
        backend, ANALOGICAL, finished={1}, retrieve=lambda q: RELATED.get(q), **callbacks
    )


def few_shot_experiment(backend: Any) -> ExperimentRun:
    """The first two questions with one worked example given."""
    settings = replace(GREEDY, prompt_style="few-shot-cot")
    return experiment(backend, settings, limit=2, examples=[SHOT])


# name → (declared n_ctx, scenario)
SCENARIOS: dict[str, tuple[int, Callable[[Any], Any]]] = {
    "cot-probe": (4096, cot_run),
    "cot-probe-tight": (TIGHT_N_CTX, cot_run),
    "probe-again": (4096, probe_again),
    "experiment-analogical": (4096, analogical_experiment),
    "experiment-few-shot": (4096, few_shot_experiment),
}
