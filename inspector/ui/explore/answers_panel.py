"""The answers panel: vote distribution (pyqtgraph), the strategies' choices, and every path.

The summary says how many paths finished and how many answered (only answered paths vote),
defines consistency where it shows it, gives the spread of Δ over the answered paths and how
CoT-decoding breaks ties on Δ (only for a CoT-decoding run: the other strategies have no such
pick); the table marks unfinished paths and counts thinking tokens apart from the tokens after
the thinking. The vote bars are sorted by votes, most first (ties in first-appearance order).
A run where no path ended (interrupted, or cancelled early) says so, and names the answers its
unfinished paths reached without counting them.

An adaptive run's chart is the marginal answer distribution instead of the vote counts (each
answer's share of the explored probability mass); its summary adds the explored mass, the
distribution and the lower bounds of P(answer | question), next to the majority and weighted
votes. The table gives every path's probability (the product of its token probabilities).

The chart and the summary sit side by side above the table; each has a minimum size that keeps
it legible, and the summary scrolls when it is longer than its room.
"""

from __future__ import annotations

import html
import math

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.core.adaptive import marginal_lines, share_words
from inspector.core.display import UNKNOWN, fmt, verdict
from inspector.core.model_defaults import token_limit_note
from inspector.core.session import ReasoningPath, Session, SessionSummary
from inspector.core.strategies import token_limit
from inspector.ui.explore.path_words import (
    answer_token_count,
    finished_mark,
    limit_words,
    rule_words,
    thinking_count,
    unfinished_note,
)
from inspector.ui.shared.colors import UNKNOWN as UNKNOWN_COLOR
from inspector.ui.shared.colors import correctness_color
from inspector.ui.shared.theme import background

PATH_COLUMNS = (
    "path", "origin", "answer", "found by", "finished", "Δ", "log p", "path p", "thinking",
    "answer tokens", "correct",
)  # fmt: skip
COLUMN_TIPS = {
    "answer": "the path's answer (— : none found; a path without an answer does not vote)",
    "found by": "the rule that found the answer: \\boxed, a #### marker, “the answer is”, "
    "the last number (finished paths only) or the answer probe",
    "finished": "✓ the path ended by itself, outside its thinking · … it was cut (token limit, "
    "context, cancel) or stopped inside its thinking: unfinished, it answers only from an "
    "explicit marker",
    "Δ": "CoT-decoding's confidence: p(top-1) − p(top-2) averaged over the answer's tokens "
    "(the probe's answer when the answer probe ran)",
    "path p": "the path's probability under the model: the product of its token "
    "probabilities (an adaptive run's explored mass is their sum over the leaves)",
    "thinking": "tokens of the <think>…</think> section",
    "answer tokens": "tokens after the thinking section (all of the path's tokens without one)",
}
CONSISTENCY_DEFINITION = "share of answered paths that agree with the majority"
TIE_BREAK = "ties on Δ go to the answer's mean log-probability"
# Δ spread below this cannot separate the paths (a confident model: Δ ≈ 1 everywhere)
NARROW_DELTA = 0.01
# the least room each part keeps (pixels): the chart, the summary beside it, the table's rows
CHART_MIN = (200, 120)
SUMMARY_MIN_WIDTH = 220
TABLE_MIN_ROWS = 3


def sorted_votes(votes: dict[str, int]) -> list[tuple[str, int]]:
    """Answers by votes, most first; ties keep their first-appearance order."""
    return sorted(votes.items(), key=lambda item: -item[1])


def unfinished_answers(session: Session) -> str | None:
    """For a run where no path ended: "path #0 reached 8 (cancelled, not counted)", or None."""
    if session.voting_paths():
        return None
    reached = [
        f"path #{p.id} reached {html.escape(p.answer)}"
        for p in session.paths
        if p.answer is not None and not p.finished
    ]
    if not reached:
        return None
    return "; ".join(reached) + " — unfinished, so not counted"


def answer_words(answer: str | None) -> str:
    return html.escape(answer) if answer is not None else "no answer"


def counts_line(summary: SessionSummary) -> str:
    """ "7 of 10 paths finished, 6 answered (only answered paths vote)"."""
    if summary.n_voting == 0:
        return "no path has ended yet"
    return (
        f"{summary.n_completed} of {summary.n_voting} paths finished, "
        f"{summary.n_answered} answered (only answered paths vote)"
    )


def delta_line(summary: SessionSummary) -> str | None:
    """ "Δ of answered paths 0.997–1.000", with a warning when the spread is too narrow."""
    if summary.delta_range is None:
        return None
    low, high = summary.delta_range
    line = f"Δ of answered paths {fmt(low)}–{fmt(high)}"
    if summary.n_answered > 1 and high - low < NARROW_DELTA:
        line += " — too close to separate the paths"
    return line


def origin_words(session: Session, path: ReasoningPath) -> str:
    """The table's "origin" cell: a self-consistency run's greedy path is its reference."""
    if session.settings.strategy == "self-consistency" and path.origin == "greedy":
        return "greedy reference (no vote)"
    return path.origin


def path_probability(path: ReasoningPath) -> str:
    """The table's "path p": the product of the path's token probabilities ("—" before it
    has a token)."""
    return share_words(math.exp(path.logprob)) if path.n_tokens else UNKNOWN


class AnswersPanel(QWidget):
    pathClicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(background=background(self))
        self.plot.setMinimumSize(*CHART_MIN)
        self.plot.setLabel("left", "paths")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_area = QScrollArea()
        self.summary_area.setWidget(self.summary)
        self.summary_area.setWidgetResizable(True)
        self.summary_area.setFrameShape(QFrame.Shape.NoFrame)
        self.summary_area.setMinimumSize(SUMMARY_MIN_WIDTH, CHART_MIN[1])
        overview = QHBoxLayout()
        overview.addWidget(self.plot, 1)
        overview.addWidget(self.summary_area, 1)
        layout.addLayout(overview, 2)
        self.table = QTableWidget(0, len(PATH_COLUMNS))
        self.table.setHorizontalHeaderLabels(PATH_COLUMNS)
        for column, name in enumerate(PATH_COLUMNS):
            header = self.table.horizontalHeaderItem(column)
            if header is not None and name in COLUMN_TIPS:
                header.setToolTip(COLUMN_TIPS[name])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.cellClicked.connect(lambda row, _col: self._clicked(row))
        rows = self.table.verticalHeader().defaultSectionSize() * TABLE_MIN_ROWS
        self.table.setMinimumHeight(rows + self.table.horizontalHeader().sizeHint().height() + 4)
        layout.addWidget(self.table, 3)
        self.bars: pg.BarGraphItem | None = None
        self.session: Session | None = None
        self.empty_text = "No run yet."  # shown without a session ("Running…" during a run)
        # "8 of 10 paths hit the 256-token limit: raise max tokens", for a run where most did
        self.limit_note: str | None = None
        self.show_session(None)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "plot"):
            self.plot.setBackground(background(self))
            self.show_session(self.session)

    def show_session(self, session: Session | None) -> None:
        self.session = session
        self.plot.clear()
        self.table.setRowCount(0)
        self.limit_note = None
        if session is None:
            self.summary.setText(f"<i>{html.escape(self.empty_text)}</i>")
            return
        summary = session.summary()
        self.limit_note = token_limit_note(summary, token_limit(session.settings))
        ranked = sorted_votes(summary.votes)
        answers = [answer for answer, _count in ranked]
        counts = [count for _answer, count in ranked]
        marginal = summary.marginal
        if marginal is not None and marginal.distribution:
            self._plot_marginal(session, marginal.distribution)
        elif answers:
            brushes = [
                correctness_color(None if session.gold is None else a == session.gold).lighter(130)
                for a in answers
            ]
            self.bars = pg.BarGraphItem(
                x=list(range(len(answers))), height=counts, width=0.6, brushes=brushes
            )
            self.plot.addItem(self.bars)
            self.plot.setLabel("left", "paths")
            axis = self.plot.getAxis("bottom")
            axis.setTicks([[(i, str(a)) for i, a in enumerate(answers)]])
            # votes are whole numbers: ticks at whole numbers only (at most about five)
            step = max(1, -(-max(counts) // 5))
            self.plot.getAxis("left").setTicks(
                [[(n, str(n)) for n in range(0, max(counts) + step, step)]]
            )
            # room for at least four bars, so one answer is not one wall of colour
            self.plot.setXRange(-0.6, max(len(answers), 4) - 0.4, padding=0)
        else:
            why = "no votes: no path answered" if summary.n_voting else "no votes: no path ended"
            empty = pg.TextItem(why, color=UNKNOWN_COLOR, anchor=(0.5, 0.5))
            empty.setPos(0.5, 0.5)
            self.plot.addItem(empty)
            self.plot.setXRange(0, 1, padding=0)
            self.plot.setYRange(0, 1, padding=0)
            self.plot.getAxis("bottom").setTicks([[]])
            self.plot.getAxis("left").setTicks([[]])
        self.summary.setText(self._summary_html(session))
        self._fill_table(session)

    def _plot_marginal(self, session: Session, distribution: dict[str, float]) -> None:
        """An adaptive run: each answer's share of the explored mass, most first."""
        ranked = sorted(distribution.items(), key=lambda item: -item[1])
        answers = [answer for answer, _share in ranked]
        brushes = [
            correctness_color(None if session.gold is None else a == session.gold).lighter(130)
            for a in answers
        ]
        self.bars = pg.BarGraphItem(
            x=list(range(len(answers))), height=[share for _a, share in ranked], width=0.6,
            brushes=brushes,
        )  # fmt: skip
        self.plot.addItem(self.bars)
        self.plot.setLabel("left", "P(answer)")
        self.plot.getAxis("bottom").setTicks([[(i, str(a)) for i, a in enumerate(answers)]])
        self.plot.getAxis("left").setTicks([[(v / 4, f"{v * 25}%") for v in range(5)]])
        self.plot.setXRange(-0.6, max(len(answers), 4) - 0.4, padding=0)
        self.plot.setYRange(0, 1, padding=0.02)

    def _summary_html(self, session: Session) -> str:
        s = session.summary()
        tie = f" (tie: {', '.join(map(html.escape, s.majority.tied))})" if s.majority.is_tie else ""
        counts = counts_line(s)
        if s.n_hit_limit:
            counts += f" · {s.n_hit_limit} hit {limit_words(session.settings)}"
        lines = [
            f"<b>Chosen answer: {answer_words(s.chosen_answer)}</b>"
            f" ({html.escape(session.settings.strategy)})",
            counts,
        ]
        reached = unfinished_answers(session)
        if reached is not None:
            lines.append(f"no path ended, so none votes: {reached}")
        lines.append(
            f"majority {answer_words(s.majority.answer)}{tie} · "
            f"weighted {answer_words(s.weighted.answer)}"
            f" · consistency {fmt(s.consistency, 2)} ({CONSISTENCY_DEFINITION})"
        )
        if session.settings.strategy == "cot-decoding":
            pick = (
                f"path #{s.cot_path_id} → {answer_words(s.cot_pick.answer)}"
                if s.cot_path_id is not None
                else "no answered path"
            )
            tied = f", {len(s.cot_pick.tied)} paths tied on Δ" if s.cot_pick.tied else ""
            lines.append(
                f"CoT-decoding pick: {pick} (highest Δ; {TIE_BREAK}{tied})"
                f" · aggregated Δ → {answer_words(s.cot_aggregated.answer)}"
            )
        reference = session.greedy_reference()
        if session.settings.strategy == "self-consistency" and reference is not None:
            lines.append(
                f"greedy reference path #{reference.id} → {answer_words(reference.answer)}"
                " (shown for comparison, does not vote)"
            )
        if s.marginal is not None:
            lines.extend(html.escape(line) for line in marginal_lines(s.marginal))
        spread = delta_line(s)
        if spread is not None:
            lines.append(spread)
        if session.gold is not None:
            some = {True: "yes", False: "no", None: UNKNOWN}[s.any_correct]
            lines.append(
                f"gold answer {html.escape(session.gold)}: <b>{verdict(s.correct)}</b>"
                f" · some path correct (pass@k): {some}"
            )
        if self.limit_note:
            lines.append(f"<span style='color: #c62828'>⚠ {html.escape(self.limit_note)}</span>")
        return "<br>".join(lines)

    def _fill_table(self, session: Session) -> None:
        self.table.setRowCount(len(session.paths))
        for row, path in enumerate(session.paths):
            values = [
                f"#{path.id}", origin_words(session, path),
                path.answer if path.answer is not None else UNKNOWN,
                rule_words(path.answer_rule), finished_mark(path, session.status),
                fmt(path.confidence),
                fmt(path.logprob, 2), path_probability(path),
                str(thinking_count(path)), str(answer_token_count(path)),
                {True: "✓", False: "✗", None: ""}[path.correct],
            ]  # fmt: skip
            note = unfinished_note(path, session.settings)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, path.id)
                if column == len(values) - 1:
                    item.setForeground(correctness_color(path.correct))
                if note is not None:
                    self._mark_unfinished(item, note, PATH_COLUMNS[column] == "finished")
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()

    @staticmethod
    def _mark_unfinished(item: QTableWidgetItem, note: str, finished_cell: bool) -> None:
        """An unfinished path's row: italic, its "finished" cell greyed, the reason on hover."""
        font = QFont(item.font())
        font.setItalic(True)
        item.setFont(font)
        item.setToolTip(note)
        if finished_cell:
            item.setForeground(UNKNOWN_COLOR)

    def path_row(self, path: ReasoningPath) -> int | None:
        """The table row showing ``path``."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == path.id:
                return row
        return None

    def cell(self, row: int, column: str) -> str:
        """The text of ``column`` in ``row`` (for tests and tours)."""
        item = self.table.item(row, PATH_COLUMNS.index(column))
        return item.text() if item is not None else ""

    def _clicked(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.pathClicked.emit(int(item.data(Qt.ItemDataRole.UserRole)))
