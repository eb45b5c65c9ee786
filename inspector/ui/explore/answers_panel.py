"""The answers panel: vote distribution (pyqtgraph), the strategies' choices, and every path."""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.core.display import fmt
from inspector.core.session import Session
from inspector.ui.shared.colors import correctness_color
from inspector.ui.shared.theme import background

PATH_COLUMNS = ("path", "origin", "answer", "Δ", "log p", "tokens", "correct")


class AnswersPanel(QWidget):
    pathClicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.plot = pg.PlotWidget(background=background(self))
        self.plot.setMinimumHeight(160)
        self.plot.setLabel("left", "paths")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        layout.addWidget(self.plot, 2)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(PATH_COLUMNS))
        self.table.setHorizontalHeaderLabels(PATH_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.cellClicked.connect(lambda row, _col: self._clicked(row))
        layout.addWidget(self.table, 3)
        self.bars: pg.BarGraphItem | None = None
        self.session: Session | None = None
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
        if session is None:
            self.summary.setText("<i>No run yet.</i>")
            return
        summary = session.summary()
        answers = list(summary.votes)
        counts = [summary.votes[a] for a in answers]
        if answers:
            brushes = [
                correctness_color(None if session.gold is None else a == session.gold).lighter(130)
                for a in answers
            ]
            self.bars = pg.BarGraphItem(
                x=list(range(len(answers))), height=counts, width=0.6, brushes=brushes
            )
            self.plot.addItem(self.bars)
            axis = self.plot.getAxis("bottom")
            axis.setTicks([[(i, str(a)) for i, a in enumerate(answers)]])
            # room for at least four bars, so one answer is not one wall of colour
            self.plot.setXRange(-0.6, max(len(answers), 4) - 0.4, padding=0)
        self.summary.setText(self._summary_html(session))
        self._fill_table(session)

    def _summary_html(self, session: Session) -> str:
        s = session.summary()
        tie = f" (tie: {', '.join(map(html.escape, s.majority.tied))})" if s.majority.is_tie else ""
        lines = [
            f"<b>Chosen answer: {html.escape(str(s.chosen_answer))}</b>"
            f" ({html.escape(session.settings.strategy)})",
            f"majority {html.escape(str(s.majority.answer))}{tie} · "
            f"weighted {html.escape(str(s.weighted.answer))}"
            f" · consistency {fmt(s.consistency, 2)}",
            f"CoT-decoding pick: path #{s.cot_path_id} → {html.escape(str(s.cot_pick.answer))}"
            f" · aggregated Δ → {html.escape(str(s.cot_aggregated.answer))}",
        ]
        if session.gold is not None:
            verdict = {True: "correct", False: "wrong", None: "—"}[s.correct]
            lines.append(f"gold answer {html.escape(session.gold)}: <b>{verdict}</b>")
        return "<br>".join(lines)

    def _fill_table(self, session: Session) -> None:
        self.table.setRowCount(len(session.paths))
        for row, path in enumerate(session.paths):
            values = [
                f"#{path.id}", path.origin, str(path.answer), fmt(path.confidence),
                f"{path.logprob:.2f}", str(path.n_tokens),
                {True: "✓", False: "✗", None: ""}[path.correct],
            ]  # fmt: skip
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, path.id)
                if column == len(values) - 1:
                    item.setForeground(correctness_color(path.correct))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()

    def _clicked(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.pathClicked.emit(int(item.data(Qt.ItemDataRole.UserRole)))
