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
from inspector.core.display import fmt
from inspector.core.run_stats import run_stats
from inspector.core.session import ReasoningPath, Session, SessionSummary
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
    stats = run_stats(store.run_records(experiment_id=experiment_id), n_bins=CALIBRATION_BINS)
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
