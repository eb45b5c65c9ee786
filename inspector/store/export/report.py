"""What the human-readable exports (html, md, csv, jsonl) show, gathered from the store once.

Plots are rendered by an optional :class:`PlotRenderer` (the CLI passes the Qt one from
``inspector.ui.plot_render``); the store itself never imports Qt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from inspector.core import metrics
from inspector.core.answers import answers_match
from inspector.core.display import fmt, verdict
from inspector.core.run_stats import (
    SELECTION_LABELS,
    SELECTION_RULES,
    SelectionGap,
    run_stats,
    selection_gap,
)
from inspector.core.session import AnswerProbe, ReasoningPath, Session, SessionSummary
from inspector.engine.records import TokenRecord
from inspector.store.database import Store
from inspector.store.rows import Annotation, ExperimentResult

MAX_SESSION_PLOTS = 50  # experiments with more sessions show their votes as tables only
CALIBRATION_BINS = 10


class PlotRenderer(Protocol):
    """Turns plain data into PNG bytes (implemented with Qt in ``inspector.ui``)."""

    def votes(self, votes: Mapping[str, int]) -> bytes: ...

    def calibration(self, bins: Sequence[metrics.CalibrationBin], ece: float | None) -> bytes: ...

    def accuracy_curve(self, points: Sequence[metrics.SamplingPoint]) -> bytes: ...


@dataclass
class SessionReport:
    session: Session
    summary: SessionSummary
    annotations: list[Annotation]
    deleted: bool = False
    votes_png: bytes | None = None

    def path_annotations(self, path_id: int | None) -> list[Annotation]:
        return [a for a in self.annotations if a.path_id == path_id]

    def path(self, path_id: int) -> tuple[ReasoningPath, str]:
        """The path and, for the CoT-decoding pick, a marker text (else "")."""
        path = next(p for p in self.session.paths if p.id == path_id)
        return path, " · CoT-decoding pick" if path.id == self.summary.cot_path_id else ""


@dataclass
class ExperimentReport:
    id: int
    name: str
    strategy: str
    status: str
    created: str
    settings: dict[str, Any]
    model: dict[str, Any]
    dataset: str
    n_questions: int
    results: list[ExperimentResult]
    calibration: metrics.CalibrationReport
    curve: list[metrics.SamplingPoint]
    selection: list[SelectionGap] = field(default_factory=list)
    calibration_png: bytes | None = None
    curve_png: bytes | None = None

    @property
    def accuracy(self) -> float | None:
        return metrics.accuracy(r.correct for r in self.results if r.correct is not None)


@dataclass
class Report:
    sessions: list[SessionReport] = field(default_factory=list)
    experiment: ExperimentReport | None = None

    @property
    def title(self) -> str:
        if self.experiment is not None:
            return f"Experiment {self.experiment.id}: {self.experiment.name}"
        session = self.sessions[0].session
        return session.title or session.question


def collect_report(
    store: Store,
    *,
    session_id: str | None = None,
    experiment_id: int | None = None,
    render: PlotRenderer | None = None,
) -> Report:
    """One session, or an experiment with its (non-deleted) sessions, plots rendered."""
    with store.snapshot():
        report = Report()
        if experiment_id is not None:
            report.experiment = _experiment(store, experiment_id)
            ids = [r.session_id for r in report.experiment.results]
        elif session_id is not None:
            ids = [session_id]
        else:
            raise ValueError("export needs a session or an experiment")
        for sid in ids:
            session = store.load_session(sid)
            deleted = store.session_stamps(sid).deleted_at is not None
            report.sessions.append(
                SessionReport(session, session.summary(), store.annotations(sid), deleted)
            )
    if render is not None:
        _render(report, render)
    return report


def _render(report: Report, render: PlotRenderer) -> None:
    if report.experiment is None or len(report.sessions) <= MAX_SESSION_PLOTS:
        for item in report.sessions:
            if item.summary.votes:
                item.votes_png = render.votes(item.summary.votes)
    experiment = report.experiment
    if experiment is not None:
        calibration = experiment.calibration
        experiment.calibration_png = render.calibration(calibration.bins, calibration.ece)
        if experiment.curve:
            experiment.curve_png = render.accuracy_curve(experiment.curve)


def _experiment(store: Store, experiment_id: int) -> ExperimentReport:
    record = store.experiment(experiment_id)
    records = store.run_records(experiment_id=experiment_id)
    stats = run_stats(records, n_bins=CALIBRATION_BINS)
    return ExperimentReport(
        id=experiment_id,
        name=record.name,
        strategy=record.strategy,
        status=record.status,
        created=record.created,
        settings=record.settings,
        model=record.model,
        dataset=record.dataset_name,
        n_questions=record.n_questions,
        results=store.experiment_results(experiment_id),
        calibration=stats.calibration,
        curve=list(stats.curve),
        selection=selection_gap(records),
    )


# -- helpers shared by the formats ------------------------------------------------------------
def annotation_target(annotation: Annotation) -> str:
    if annotation.path_id is None:
        return "session"
    if annotation.token_start is None:
        return f"path {annotation.path_id}"
    return f"path {annotation.path_id}, tokens {annotation.token_start}–{annotation.token_end}"


def display_text(text: str) -> str:
    """A token's text with its quotes and escapes shown (whitespace made visible)."""
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class TokenView:
    """A path's token with what the reports show about it."""

    index: int
    token: TokenRecord
    in_answer: bool
    after_stop: bool  # generated after the stop string began (not part of the path's text)

    def alternatives(self) -> str:
        lines = [f"{display_text(a.text)}  p={a.prob:.4f}" for a in self.token.top]
        head = f"p={self.token.prob:.4f} · entropy {fmt(self.token.entropy, 3)} nats"
        return "\n".join([head, "alternatives:", *lines]) if lines else head


def token_views(session: Session, path: ReasoningPath) -> list[TokenView]:
    span = path.answer_tokens or (0, 0)
    views, seen = [], 0
    for index, token in enumerate(session.path_tokens(path)):
        after = seen >= len(path.text) and bool(token.text)
        seen += len(token.text)
        views.append(TokenView(index, token, span[0] <= index < span[1], after))
    return views


def settings_rows(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
        for k, v in settings.items()
    ]


# -- issue 11: how each answer was found, unfinished paths, the probe, the selections ---------
FINISH_WORDS = {
    "length": "hit the token limit",
    "context": "ran out of context",
    "cancelled": "cancelled",
    None: "still running",
}
SELECTION_HEADER = ("strategy", "runs", *[SELECTION_LABELS[r] for r in SELECTION_RULES])
SELECTION_TAIL = ("pass@k", "gap", "paths finished / answered")


def unfinished_reason(path: ReasoningPath) -> str | None:
    """Why a path did not finish its reasoning ("hit the token limit", "stopped inside its
    thinking", …), or None for a completed path."""
    if path.completed:
        return None
    if not path.thinking_ended and path.finish_reason in ("eos", "stop"):
        return "stopped inside its thinking"
    reason = FINISH_WORDS.get(path.finish_reason, path.finish_reason or "still running")
    return f"{reason}, inside its thinking" if not path.thinking_ended else reason


def answer_source(path: ReasoningPath) -> str:
    """Which rule found the answer, in words ("" without an answer)."""
    if path.answer is None:
        return ""
    if path.answer_rule == "probe":
        return "from the answer probe"
    return f"found by {path.answer_rule}" if path.answer_rule else "rule not recorded"


def token_split(path: ReasoningPath) -> tuple[int, int]:
    """(thinking tokens, tokens outside the thinking) of a path."""
    thinking = path.thinking_tokens[1] - path.thinking_tokens[0] if path.thinking_tokens else 0
    return thinking, path.n_tokens - thinking


def token_counts(path: ReasoningPath) -> str:
    thinking, rest = token_split(path)
    if not path.thinking_tokens:
        return f"{path.n_tokens} tokens"
    return f"{path.n_tokens} tokens: {thinking} thinking, {rest} answer"


def paths_line(summary: SessionSummary) -> str:
    """ "7 of 10 paths finished, 6 answered · Δ of answered paths 0.997–1.000"."""
    text = (
        f"{summary.n_completed} of {summary.n_voting} paths finished, {summary.n_answered} answered"
    )
    if summary.n_hit_limit:
        text += f" ({summary.n_hit_limit} hit the token limit)"
    if summary.delta_range is not None:
        low, high = summary.delta_range
        text += f" · Δ of answered paths {fmt(low)}–{fmt(high)}"
    return text


def selection_rows(session: Session, summary: SessionSummary) -> list[tuple[str, str, str]]:
    """(rule, its answer, verdict) for each selection rule of one session."""
    rows = []
    for rule in SELECTION_RULES:
        answer = summary.selections.get(rule)
        correct = None
        if session.gold is not None:
            correct = answers_match(answer, session.gold, session.settings.answer_rule)
        rows.append((SELECTION_LABELS[rule], "—" if answer is None else answer, verdict(correct)))
    return rows


def selection_gap_rows(gaps: Sequence[SelectionGap]) -> list[tuple[object, ...]]:
    """One row per strategy: runs, each rule's accuracy, pass@k, the gap, the path counts."""
    return [
        (
            g.strategy,
            g.runs,
            *[fmt(g.accuracy[r]) for r in SELECTION_RULES],
            fmt(g.pass_at_k),
            fmt(g.gap),
            f"{g.completed} / {g.answered} of {g.paths}",
        )
        for g in gaps
    ]


@dataclass(frozen=True)
class ProbeTokenView:
    """A token of an answer probe: part of the probe text (forced) or decoded after it."""

    index: int
    token: TokenRecord
    forced: bool
    in_answer: bool


def probe_views(probe: AnswerProbe) -> list[ProbeTokenView]:
    span = probe.answer_tokens or (0, 0)
    return [
        ProbeTokenView(i, t, i < probe.n_forced, span[0] <= i < span[1])
        for i, t in enumerate(probe.tokens)
    ]


def probe_summary(probe: AnswerProbe) -> str:
    """'probe " So the answer is" → " 8." · answer 8 · Δ 0.500'."""
    answer = "—" if probe.answer is None else probe.answer
    return (
        f"probe {display_text(probe.text)} → {display_text(probe.continuation)} · "
        f"answer {answer} · Δ {fmt(probe.confidence)}"
    )
