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
from inspector.core.adaptive import MarginalDistribution, share_words
from inspector.core.answers import answers_match
from inspector.core.display import (
    UNKNOWN,
    answer_or_none,
    fmt,
    path_number,
    text_or_dash,
    token_range,
    verdict,
)
from inspector.core.run_stats import (
    OPTIONAL_RULES,
    SELECTION_LABELS,
    SELECTION_RULES,
    SelectionGap,
    run_stats,
    selection_gap,
    shown_rules,
)
from inspector.core.session import AnswerProbe, ReasoningPath, Session, SessionSummary
from inspector.core.study_views import ForkPlotData, StepView
from inspector.engine.records import TokenRecord
from inspector.store.database import Store
from inspector.store.export.study_report import StudyReport, collect_studies
from inspector.store.rows import Annotation, ExperimentResult

MAX_SESSION_PLOTS = 50  # experiments with more sessions show their votes as tables only
CALIBRATION_BINS = 10


class PlotRenderer(Protocol):
    """Turns plain data into PNG bytes (implemented with Qt in ``inspector.ui``)."""

    def votes(
        self, votes: Mapping[str, int], correct: Mapping[str, bool | None] | None = None
    ) -> bytes: ...

    def calibration(self, bins: Sequence[metrics.CalibrationBin], ece: float | None) -> bytes: ...

    def accuracy_curve(self, points: Sequence[metrics.SamplingPoint]) -> bytes: ...

    def fork_plot(self, data: ForkPlotData) -> bytes: ...

    def step_plot(self, view: StepView) -> bytes: ...


@dataclass
class SessionReport:
    session: Session
    summary: SessionSummary
    annotations: list[Annotation]
    deleted: bool = False
    votes_png: bytes | None = None
    studies: list[StudyReport] = field(default_factory=list)

    def path_annotations(self, path_id: int | None) -> list[Annotation]:
        return [a for a in self.annotations if a.path_id == path_id]

    def path(self, path_id: int) -> tuple[ReasoningPath, str]:
        """The path and a marker text: " · CoT-decoding pick" for the path a CoT-decoding run
        chose, " · reference, does not vote" for a self-consistency run's greedy path."""
        path = next(p for p in self.session.paths if p.id == path_id)
        strategy = self.session.settings.strategy
        if strategy == "cot-decoding" and path.id == self.summary.cot_path_id:
            return path, " · CoT-decoding pick"
        if strategy == "self-consistency" and path.origin == "greedy":
            return path, " · reference, does not vote"
        return path, ""

    def vote_correctness(self) -> dict[str, bool | None]:
        """Each voted answer against the gold answer (None without a gold answer)."""
        session = self.session
        if session.gold is None:
            return {answer: None for answer in self.summary.votes}
        rule = session.settings.answer_rule
        return {a: answers_match(a, session.gold, rule) for a in self.summary.votes}


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
    asked: int | None = None  # the questions its latest run asked for (None: all)

    @property
    def questions_line(self) -> str:
        """ "2 answered of the 2 asked for (data set: 24)" or "3 answered of 3"."""
        done = len(self.results)
        if self.asked is None or self.asked >= self.n_questions:
            return f"{done} answered of {self.n_questions}"
        asked = max(self.asked, done)
        return f"{done} answered of the {asked} asked for (data set: {self.n_questions})"

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
            item = SessionReport(session, session.summary(), store.annotations(sid), deleted)
            item.studies = collect_studies(store, session)
            report.sessions.append(item)
    if render is not None:
        _render(report, render)
    return report


def _render(report: Report, render: PlotRenderer) -> None:
    if report.experiment is None or len(report.sessions) <= MAX_SESSION_PLOTS:
        for item in report.sessions:
            if item.summary.votes:
                item.votes_png = render.votes(sorted_votes(item.summary), item.vote_correctness())
            for study in item.studies:
                if study.forks is not None and study.forks.positions:
                    study.png = render.fork_plot(study.forks)
                elif study.steps is not None and study.steps.outcomes:
                    study.png = render.step_plot(study.steps)
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
        asked=record.asked,
    )


# -- helpers shared by the formats ------------------------------------------------------------
def annotation_target(annotation: Annotation) -> str:
    if annotation.path_id is None:
        return "session"
    if annotation.token_start is None or annotation.token_end is None:
        return f"path {annotation.path_id}"
    where = token_range(annotation.token_start, annotation.token_end)
    return f"path {annotation.path_id}, {where}"


def sorted_votes(summary: SessionSummary) -> dict[str, int]:
    """The votes, most votes first (ties in the order the answers first appeared)."""
    return dict(sorted(summary.votes.items(), key=lambda item: -item[1]))


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


def value_text(value: Any) -> str:
    """A setting's or a model field's value as shown: lists and mappings as JSON, anything
    missing as "—", never ``None`` or ``nan``."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    return text_or_dash(value)


def settings_rows(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), value_text(v)) for k, v in settings.items()]


SAMPLING_SETTINGS = frozenset({"samples", "temperature", "top_p", "top_k", "min_p", "seed"})
ADAPTIVE_SETTINGS = frozenset(
    {
        "branch_entropy", "branch_margin", "branch_min_prob", "branch_width", "branch_depth",
        "token_budget", "adaptive_sample",
    }
)  # fmt: skip


def applicable_settings(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The settings that shaped this run: k only for CoT-decoding, the sampling settings only
    for self-consistency, the zero-shot suffix only under the zero-shot-CoT prompt, the probe's
    token count only with a probe."""
    strategy, style = settings.get("strategy"), settings.get("prompt_style")
    skipped: set[str] = set()
    if strategy != "cot-decoding":
        skipped.add("k")
    if strategy != "self-consistency":
        skipped |= SAMPLING_SETTINGS
    if strategy == "adaptive" and settings.get("adaptive_sample"):
        skipped -= SAMPLING_SETTINGS - {"samples"}  # its continuations were sampled
    if strategy != "adaptive":
        skipped |= ADAPTIVE_SETTINGS
    if style != "zero-shot-cot":
        skipped.add("zero_shot_suffix")
    if not settings.get("answer_probe"):
        skipped.add("probe_tokens")
    rows = []
    for key, value in settings.items():
        if key in skipped:
            continue
        if key == "answer_probe":
            rows.append((key, display_text(value) if value else "off"))
        elif key == "use_chat_template":
            rows.append((key, {True: "on", False: "off"}.get(value, "the model's default")))
        else:
            rows.append((key, value_text(value)))
    return rows


def _vote_line(vote: metrics.VoteResult, share: str) -> str:
    """ "8 (share) · tied with 7" or "no answer"."""
    if vote.answer is None:
        return answer_or_none(None)
    tie = f" · tied with {', '.join(vote.tied[1:])}" if vote.is_tie else ""
    return f"{vote.answer} ({share}){tie}"


def weighted_line(summary: SessionSummary) -> str:
    """ "8 (0.71 of the probability mass)" or "no answer"."""
    return _vote_line(summary.weighted, f"{fmt(summary.weighted.count, 2)} of the probability mass")


def majority_line(summary: SessionSummary) -> str:
    """ "8 (5 of 7 answered paths)" or "no answer"."""
    majority = summary.majority
    return _vote_line(majority, f"{majority.count:g} of {summary.n_answered} answered paths")


def summary_rows(item: SessionReport) -> list[tuple[str, str]]:
    """Every summary figure of a session that applies to its strategy, in words."""
    session, summary = item.session, item.summary
    strategy = session.settings.strategy
    rows = [
        ("gold answer", text_or_dash(session.gold)),
        ("chosen answer", answer_or_none(summary.chosen_answer)),
        ("verdict", verdict(summary.correct)),
    ]
    if strategy == "cot-decoding":
        pick = summary.cot_pick
        rows.append(
            (
                "CoT-decoding pick",
                f"{path_number(summary.cot_path_id)} · answer {answer_or_none(pick.answer)} · "
                f"Δ {fmt(pick.score)}",
            )
        )
        aggregated = summary.cot_aggregated
        rows.append(
            (
                "CoT-decoding, aggregated",
                f"{answer_or_none(aggregated.answer)} (summed Δ {fmt(aggregated.count)})"
                if aggregated.answer is not None
                else answer_or_none(None),
            )
        )
    if strategy != "greedy":
        rows += [
            ("majority vote", majority_line(summary)),
            ("weighted vote", weighted_line(summary)),
            ("consistency", fmt(summary.consistency, 2)),
            ("vote entropy", f"{fmt(summary.vote_entropy)} nats" if summary.votes else UNKNOWN),
        ]
    marginal = summary.greedy_vs_marginal
    if marginal is not None:
        rows.append(
            (
                "greedy vs marginal",
                f"greedy answer {answer_or_none(marginal.greedy_answer)}: sequence probability "
                f"{marginal.greedy_sequence_probability:.2e}, share of samples reaching it "
                f"{fmt(marginal.greedy_answer_probability, 2)} · majority "
                f"{answer_or_none(marginal.majority_answer)}: share "
                f"{fmt(marginal.majority_answer_probability, 2)}",
            )
        )
    if summary.marginal is not None:
        rows += adaptive_rows(summary.marginal)
    rows.append(("paths", paths_line(summary)))
    return rows


def adaptive_rows(marginal: MarginalDistribution) -> list[tuple[str, str]]:
    """An adaptive run's explored mass and marginal answer distribution, most mass first."""
    ranked = sorted(marginal.mass, key=lambda a: -marginal.log_mass[a])
    none = answer_or_none(None)
    return [
        (
            "explored mass",
            f"{share_words(marginal.explored_mass)} over {marginal.n_leaves} leaves (answered "
            f"{share_words(marginal.answered_mass)}, no answer "
            f"{share_words(marginal.unanswered_mass)})",
        ),
        (
            "marginal distribution",
            " · ".join(f"{a} {share_words(marginal.distribution[a])}" for a in ranked) or none,
        ),
        (
            "lower bound of P(answer | question)",
            " · ".join(f"{a} ≥ {share_words(marginal.mass[a])}" for a in ranked) or none,
        ),
        (
            "marginal answer",
            answer_or_none(marginal.answer)
            + (f" · tied with {', '.join(marginal.tied[1:])}" if marginal.tied else ""),
        ),
    ]


def answer_token_rows(session: Session, path: ReasoningPath) -> list[tuple[str, ...]]:
    """The answer's tokens with their top-k alternatives: (position, token, p, alternatives)."""
    return [
        (
            str(view.index),
            display_text(view.token.text),
            f"{view.token.prob:.4f}",
            "; ".join(f"{display_text(a.text)} {a.prob:.4f}" for a in view.token.top) or UNKNOWN,
        )
        for view in token_views(session, path)
        if view.in_answer
    ]


# -- issue 11: how each answer was found, unfinished paths, the probe, the selections ---------
FINISH_WORDS = {
    "length": "hit the token limit",
    "context": "ran out of context",
    "cancelled": "cancelled",
    None: "still running",
}
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


def answer_where(path: ReasoningPath) -> str:
    """ "tokens 40–44" of a path's answer, or "" without one."""
    span = path.answer_tokens
    return token_range(*span) if span else ""


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
        if rule in OPTIONAL_RULES and rule not in summary.selections:
            continue  # the pick without the probe, in a run that had none
        answer = summary.selections.get(rule)
        correct = None
        if session.gold is not None:
            correct = answers_match(answer, session.gold, session.settings.answer_rule)
        rows.append((SELECTION_LABELS[rule], answer_or_none(answer), verdict(correct)))
    return rows


def selection_header(gaps: Sequence[SelectionGap]) -> tuple[str, ...]:
    """The selection table's header: the rules the runs recorded, then pass@k and the rest."""
    rules = [SELECTION_LABELS[r] for r in shown_rules(gaps)]
    return ("strategy", "runs", *rules, *SELECTION_TAIL)


def selection_gap_rows(gaps: Sequence[SelectionGap]) -> list[tuple[object, ...]]:
    """One row per strategy: runs, each rule's accuracy, pass@k, the gap, the path counts."""
    rules = shown_rules(gaps)
    return [
        (
            g.strategy,
            g.runs,
            *[fmt(g.accuracy[r]) for r in rules],
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
    answer = answer_or_none(None) if probe.answer is None else f"answer {probe.answer}"
    return (
        f"probe {display_text(probe.text)} → {display_text(probe.continuation)} · "
        f"{answer} · Δ {fmt(probe.confidence)}"
    )
