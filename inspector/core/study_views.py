"""What the study views and reports show of a study, as plain data (no Qt).

The forking plot, the step-importance view and the HTML/Markdown reports all read these, so
the GUI and the exports show the same numbers, every one computed by ``core/studies.py`` from
the saved continuations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inspector.core.answers import answers_match
from inspector.core.display import shown_token
from inspector.core.session import Session
from inspector.core.studies import (
    NO_ANSWER,
    PositionOutcome,
    Step,
    StepOutcome,
    Study,
    fork_outcomes,
    forks,
    important_steps,
    split_steps,
    step_outcomes,
    studied_tokens,
)

FORK_THRESHOLD = 0.3  # a position whose forking score is at least this is a fork
MAX_ANSWERS = 8  # answers beyond the most frequent ones are stacked together as "other"
OTHER = "\x00other"  # the stack of the answers past MAX_ANSWERS (never a real answer)
KIND_WORDS = {"forks": "forking tokens", "steps": "step importance"}


def answer_label(answer: str) -> str:
    """An outcome as shown: the answer, "no answer" for NO_ANSWER, "other answers"."""
    if answer == OTHER:
        return "other answers"
    return "no answer" if answer == NO_ANSWER else answer


def gold_outcome(session: Session, answers: Sequence[str]) -> str | None:
    """The outcome among ``answers`` that matches the session's gold answer, if any."""
    if session.gold is None:
        return None
    rule = session.settings.answer_rule
    return next(
        (a for a in answers if a != NO_ANSWER and answers_match(a, session.gold, rule)), None
    )


@dataclass(frozen=True)
class ForkPlotData:
    """The forking plot: x is the token index along the path.

    ``shares[answer][i]`` is the mixture's share of ``answer`` at ``positions[i]`` (the
    stacked area, answers in ``answers`` order); ``scores[i]`` is the forking score there
    (None at the first studied position)."""

    tokens: list[str]  # the path's studied tokens, as shown
    positions: list[int]
    answers: list[str]
    shares: dict[str, list[float]]
    scores: list[float | None]
    gold: str | None  # the answer (in ``answers``) that is the gold one
    forks: list[int]  # positions marked as forks, highest score first
    outcomes: list[PositionOutcome]

    def outcome_at(self, position: int) -> PositionOutcome | None:
        return next((o for o in self.outcomes if o.position == position), None)


def fork_plot_data(
    session: Session, study: Study, threshold: float = FORK_THRESHOLD
) -> ForkPlotData:
    path = session.paths[study.settings.path_id]
    tokens = studied_tokens(session, path)
    outcomes = fork_outcomes(study, tokens)
    totals: dict[str, float] = {}
    for o in outcomes:
        for answer, p in o.distribution.items():
            totals[answer] = totals.get(answer, 0.0) + p
    ranked = sorted(totals, key=lambda a: (-totals[a], a))
    gold = gold_outcome(session, ranked)
    kept = ranked[:MAX_ANSWERS]
    if gold is not None and gold not in kept:
        kept = [*kept[: MAX_ANSWERS - 1], gold]
    rest = [a for a in ranked if a not in kept]
    answers = [*kept, OTHER] if rest else kept
    shares: dict[str, list[float]] = {a: [] for a in answers}
    for o in outcomes:
        for answer in kept:
            shares[answer].append(o.distribution.get(answer, 0.0))
        if rest:
            shares[OTHER].append(sum(o.distribution.get(a, 0.0) for a in rest))
    return ForkPlotData(
        tokens=[shown_token(t.text) for t in tokens],
        positions=[o.position for o in outcomes],
        answers=answers,
        shares=shares,
        scores=[o.score for o in outcomes],
        gold=gold,
        forks=forks(outcomes, threshold),
        outcomes=outcomes,
    )


@dataclass(frozen=True)
class StepView:
    """The step-importance view: every step's outcome and the most important ones."""

    steps: list[Step]
    outcomes: list[StepOutcome]
    important: list[int]
    gold: str | None


def step_view(session: Session, study: Study) -> StepView:
    path = session.paths[study.settings.path_id]
    tokens = studied_tokens(session, path)
    steps = split_steps([t.text for t in tokens], study.settings.split)
    outcomes = step_outcomes(study, steps, path, session.gold)
    return StepView(steps, outcomes, important_steps(outcomes), session.gold)


def distribution_words(distribution: dict[str, float], limit: int = 4) -> str:
    """ "8 75% · no answer 25%"; "—" when there is nothing."""
    if not distribution:
        return "—"
    items = list(distribution.items())
    words = [f"{answer_label(a)} {p:.0%}" for a, p in items[:limit]]
    if len(items) > limit:
        words.append(f"+{len(items) - limit} more")
    return " · ".join(words)


def study_title(study: Study) -> str:
    s = study.settings
    number = "(new)" if study.id is None else str(study.id)
    return f"Study {number}: {KIND_WORDS[s.kind]} of path #{s.path_id}"


def settings_words(study: Study) -> str:
    """The study's settings in one line, as the dialog names them."""
    s = study.settings
    common = f"{s.samples} samples · up to {s.max_tokens} tokens · temperature {s.temperature:g}"
    if s.kind == "steps":
        return f"steps split by {s.split} · {common}"
    if s.min_entropy is not None:
        where = f"positions with entropy ≥ {s.min_entropy:g} nats"
    elif s.first is None and s.last is None:
        where = "every position"
    else:
        first = 0 if s.first is None else s.first
        where = f"positions {first} to {'the end' if s.last is None else s.last}"
    tokens = f"the taken token + up to {s.alternatives} alternatives with p ≥ {s.min_prob:g}"
    return f"{where} · {tokens} · {common}"
