"""The studies' tables (real Qt item models, checked with qtmodeltester).

* :class:`TokenOutcomeModel`: o(t, w) at one position, a row per token studied there.
* :class:`ContinuationModel`: the continuations sampled at that position, their texts.
* :class:`StepOutcomeModel`: a row per step of a step-importance study.
* :class:`StudyListModel`: the studies of a session (the Sessions panel's "Studies…").

Every number is the study's own (``core/studies.py``); "no answer" is shown for NO_ANSWER.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from inspector.core.display import fmt, shown_token
from inspector.core.studies import StepOutcome, StudySample, TokenOutcome
from inspector.core.study_views import KIND_WORDS, answer_label, distribution_words
from inspector.store.studies import StudyRow
from inspector.ui.shared.record_table import Index, RecordTableModel, mark, one_line

# the role giving a step's importance as a fraction of the largest (the bar's length)
BAR_ROLE = Qt.ItemDataRole.UserRole + 1


class TokenOutcomeModel(RecordTableModel):
    columns = (
        ("text", "Token"),
        ("taken", "Taken"),
        ("prob", "p(token)"),
        ("n", "n"),
        ("distribution", "Answers"),
    )

    def display(self, record: TokenOutcome, key: str) -> str:
        if key == "text":
            return shown_token(record.text)
        if key == "taken":
            return "the path's" if record.taken else ""
        if key == "prob":
            return f"{record.prob:.1%}"
        if key == "n":
            return str(record.n)
        return distribution_words(record.distribution, limit=6)

    def tooltip(self, record: TokenOutcome, key: str) -> str | None:
        if key == "distribution":
            return distribution_words(record.distribution, limit=50)
        return None

    def record_id(self, record: TokenOutcome) -> int:
        return record.token_id


class ContinuationModel(RecordTableModel):
    columns = (
        ("token", "Token"),
        ("sample", "#"),
        ("answer", "Answer"),
        ("correct", "Correct"),
        ("finish_reason", "Ended"),
        ("text", "Continuation"),
    )

    def display(self, record: StudySample, key: str) -> str:
        if key == "token":
            return shown_token(record.point.token_text) if record.point.token_id is not None else ""
        if key == "sample":
            return str(record.point.sample + 1)
        if key == "answer":
            return answer_label(record.outcome)
        if key == "correct":
            return mark(record.correct)
        if key == "text":
            return one_line(record.text, 400)
        return super().display(record, key)

    def tooltip(self, record: StudySample, key: str) -> str | None:
        return record.text if key == "text" else None

    def record_id(self, record: StudySample) -> tuple[int, int | None, int]:
        return record.point.key


class StepOutcomeModel(RecordTableModel):
    columns = (
        ("index", "Step"),
        ("importance", "Importance"),
        ("text", "Text"),
        ("before", "Before it"),
        ("with_step", "With it"),
        ("without_step", "Without it"),
        ("accuracy_change", "Accuracy Δ"),
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.important: list[int] = []
        self.has_gold = False

    def set_view(self, outcomes: list[StepOutcome], important: list[int], has_gold: bool) -> None:
        self.important, self.has_gold = list(important), has_gold
        self.set_rows(outcomes)

    def display(self, record: StepOutcome, key: str) -> str:
        if key == "index":
            star = " ★" if record.step.index in self.important else ""
            return f"{record.step.index + 1}{star}"
        if key == "importance":
            return fmt(record.importance)
        if key == "text":
            return one_line(record.step.text, 300)
        if key == "before":
            return distribution_words(record.before)
        if key == "with_step":
            return distribution_words(record.with_step)
        if key == "without_step":
            if not record.n_without:
                return "— (every resample repeated it)"
            return f"{distribution_words(record.without_step)} (n = {record.n_without})"
        change = record.accuracy_change
        if not self.has_gold:
            return "no gold answer"
        return "—" if change is None else f"{change:+.0%}"

    def tooltip(self, record: StepOutcome, key: str) -> str | None:
        if key == "text":
            return record.step.text
        if key == "accuracy_change" and record.accuracy_with is not None:
            without = record.accuracy_without
            return f"accuracy with the step {record.accuracy_with:.0%}, without it " + (
                "—" if without is None else f"{without:.0%}"
            )
        if key == "index" and record.step.index in self.important:
            return "one of the most important steps"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == BAR_ROLE and index.isValid() and 0 <= index.row() < len(self.rows):
            top = max((o.importance for o in self.rows), default=0.0)
            value: float = self.rows[index.row()].importance
            return value / top if top > 0 else 0.0
        return super().data(index, role)

    def record_id(self, record: StepOutcome) -> int:
        return record.step.index


class StudyListModel(RecordTableModel):
    columns = (
        ("id", "Study"),
        ("kind", "Kind"),
        ("path_id", "Path"),
        ("status", "Status"),
        ("progress", "Continuations"),
        ("updated", "Updated"),
    )

    def display(self, record: StudyRow, key: str) -> str:
        if key == "kind":
            return KIND_WORDS.get(record.kind, record.kind)
        if key == "path_id":
            return f"#{record.path_id}"
        if key == "progress":
            return f"{record.n_samples} of {record.n_planned}"
        if key == "updated":
            return record.updated[:16].replace("T", " ")
        return super().display(record, key)
