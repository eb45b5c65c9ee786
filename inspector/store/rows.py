"""Plain records the store returns from queries (sessions themselves come back as Session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from inspector.core.datasets import Dataset


@dataclass(frozen=True)
class SessionRow:
    """One line of the session list: enough to show and filter it without loading the tree."""

    id: str
    title: str
    question: str
    strategy: str
    prompt_style: str
    status: str
    chosen_answer: str | None
    correct: bool | None
    consistency: float | None
    n_paths: int
    created: str
    updated: str
    model: str | None  # the model's description (or its path)
    deleted: bool = False


@dataclass(frozen=True)
class RunRecord:
    """A saved run with a gold answer, for accuracy, calibration and accuracy-vs-samples.

    ``gold`` is normalised by the session's answer rule (comparable with ``answers``);
    ``gold_text`` is the gold answer as given. ``answers`` are the voting paths' answers in
    path order (``None`` for a path without one). The counts are of voting paths: ended,
    completed (by themselves, outside any thinking), answered, cut by the token limit.
    """

    session_id: str
    strategy: str
    model: str | None
    gold: str | None
    gold_text: str
    chosen_answer: str | None
    correct: bool | None
    consistency: float | None
    cot_confidence: float | None
    answers: list[str | None] = field(default_factory=list)
    greedy_answer: str | None = None
    greedy_logprob: float | None = None
    created: str = ""
    # each selection rule's answer and whether it is correct (greedy, cot-decoding,
    # cot-aggregated, majority, weighted), and pass@k: some voting path is correct
    selections: dict[str, str | None] = field(default_factory=dict)
    selection_correct: dict[str, bool | None] = field(default_factory=dict)
    any_correct: bool | None = None
    n_voting: int = 0
    n_completed: int = 0
    n_answered: int = 0
    n_hit_limit: int = 0


@dataclass(frozen=True)
class ExperimentRow:
    """One line of the experiments list: what ran, on what, how far and how well."""

    id: int
    name: str
    dataset: str
    n_questions: int
    strategy: str
    prompt_style: str
    model: str | None
    status: str
    done: int  # questions with a complete, non-deleted session
    correct: int
    created: str
    updated: str
    asked: int | None = None  # questions the latest run asked for; None: the whole data set

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.done if self.done else None

    @property
    def target(self) -> int:
        """The questions asked for (never fewer than those done)."""
        wanted = self.n_questions if self.asked is None else min(self.asked, self.n_questions)
        return max(wanted, self.done)

    @property
    def unfinished(self) -> bool:
        """Some question asked for has no complete session yet (Resume has work to do)."""
        return self.done < self.target


@dataclass(frozen=True)
class ExperimentResult:
    """One question of an experiment with the session that answered it."""

    question_index: int
    question: str
    gold: str | None
    chosen_answer: str | None
    correct: bool | None
    consistency: float | None
    session_id: str


@dataclass(frozen=True)
class Annotation:
    """A person's judgement of a session, a path (``path_id``) or a token range of a path
    (``token_start`` ≤ i < ``token_end``, positions in the path's tokens)."""

    id: int
    session_id: str
    path_id: int | None
    token_start: int | None
    token_end: int | None
    label: str | None
    note: str
    tags: tuple[str, ...]
    created: str
    updated: str

    @property
    def target(self) -> str:
        if self.path_id is None:
            return "session"
        return "path" if self.token_start is None else "tokens"


@dataclass(frozen=True)
class SessionStamps:
    """When a saved session was last written, and when it was (soft) deleted."""

    updated: str
    deleted_at: str | None


@dataclass(frozen=True)
class ExperimentRun:
    """The session that answered one question of an experiment."""

    question_index: int
    session_id: str
    created: str


@dataclass(frozen=True)
class ExperimentRecord:
    """One experiment as stored, with its data set's and model's details."""

    id: int
    name: str
    strategy: str
    settings: dict[str, Any]  # ``RunSettings.to_dict()``
    model: dict[str, Any]  # the model description ({} when unknown)
    model_path: str | None
    status: str
    created: str
    updated: str
    dataset_id: int
    dataset_name: str
    dataset_source: str | None
    dataset_sha256: str
    n_questions: int
    asked: int | None = None  # questions its latest run asked for; None: the whole data set


@dataclass(frozen=True)
class ExperimentCopy:
    """An experiment without database ids, its data set whole (what a JSON export holds)."""

    name: str
    strategy: str
    settings: dict[str, Any]
    model: dict[str, Any]
    status: str
    created: str
    updated: str
    dataset: Dataset
    source_path: str | None
    sha256: str
    runs: list[ExperimentRun]
    asked: int | None = None  # questions its latest run asked for; None: the whole data set


class AnnotationRow(TypedDict):
    """An ``annotations`` row without its id (``tags`` as JSON text)."""

    session_id: str
    path_id: int | None
    token_start: int | None
    token_end: int | None
    label: str | None
    note: str
    tags: str
    created: str
    updated: str


def as_bool(value: int | None) -> bool | None:
    """SQLite's 0/1/NULL as a Python bool or None."""
    return None if value is None else bool(value)
