"""What the HTML and Markdown reports show of a session's studies (shared by both formats).

Each study: a heading, its settings, its plot (rendered by the report's ``PlotRenderer``,
when there is one) and its numbers as a table — per studied position the forking score, the
share of probability studied and the outcome distribution; per step its importance, the
answers before, with and without it and the change in accuracy. Every figure is computed by
``core/studies.py`` from the saved continuations (``core/study_views.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.core.display import fmt
from inspector.core.session import Session
from inspector.core.studies import Study
from inspector.core.study_views import (
    KIND_WORDS,
    ForkPlotData,
    StepView,
    answer_label,
    distribution_words,
    fork_plot_data,
    settings_words,
    step_view,
)
from inspector.store.database import Store
from inspector.store.export.json import session_study_ids

FORK_HEADER = ("position", "token", "forking score", "fork", "probability studied", "outcome")
STEP_HEADER = ("step", "importance", "text", "before it", "with it", "without it", "accuracy Δ")
FORK_NOTE = (
    "Forking score: the total-variation distance between a position's outcome distribution "
    "and the previous studied position's; a fork is a score of at least 0.3. A position's "
    "outcome distribution mixes the answers of its tokens' continuations, weighted by the "
    "model's probabilities renormalised over the tokens studied."
)
STEP_NOTE = (
    "Importance: the KL divergence (nats, smoothed) between the answers of resamples from "
    "just after the step and those from just before it whose first step differs from it; "
    "★ marks the most important steps."
)


@dataclass
class StudyReport:
    study: Study
    forks: ForkPlotData | None = None
    steps: StepView | None = None
    png: bytes | None = None

    @property
    def heading(self) -> str:
        s = self.study.settings
        return f"{KIND_WORDS[s.kind].capitalize()} of path #{s.path_id}"

    @property
    def details(self) -> str:
        return f"study {self.study.id} · {self.study.status} · {len(self.study.samples)} " + (
            f"continuations · {settings_words(self.study)}"
        )

    @property
    def header(self) -> tuple[str, ...]:
        return FORK_HEADER if self.forks is not None else STEP_HEADER

    @property
    def note(self) -> str:
        return FORK_NOTE if self.forks is not None else STEP_NOTE

    @property
    def alt(self) -> str:
        return "forking plot" if self.forks is not None else "step importance"

    def rows(self) -> list[tuple[str, ...]]:
        if self.forks is not None:
            data = self.forks
            return [
                (
                    str(o.position),
                    data.tokens[o.position],
                    fmt(o.score),
                    "fork" if o.position in data.forks else "",
                    f"{o.share:.1%}",
                    distribution_words(o.distribution, limit=6),
                )
                for o in data.outcomes
            ]
        assert self.steps is not None
        view = self.steps
        gold = view.gold is not None
        return [
            (
                f"{o.step.index + 1}{' ★' if o.step.index in view.important else ''}",
                fmt(o.importance),
                " ".join(o.step.text.split()),
                distribution_words(o.before),
                distribution_words(o.with_step),
                f"{distribution_words(o.without_step)} (n = {o.n_without})",
                ("—" if o.accuracy_change is None else f"{o.accuracy_change:+.0%}")
                if gold
                else "no gold answer",
            )
            for o in view.outcomes
        ]

    def gold_line(self) -> str:
        if self.forks is not None and self.forks.gold is not None:
            return f"gold answer: {answer_label(self.forks.gold)}"
        return ""


def collect_studies(store: Store, session: Session) -> list[StudyReport]:
    reports = []
    for study_id, _updated in session_study_ids(store, session.id):
        study = store.load_study(study_id)
        if study.settings.path_id >= len(session.paths):
            continue
        if study.settings.kind == "forks":
            reports.append(StudyReport(study, forks=fork_plot_data(session, study)))
        else:
            reports.append(StudyReport(study, steps=step_view(session, study)))
    return reports
