"""Draw a study onto pyqtgraph plots: the forking plot and the step-importance bars.

Used by the live views (:mod:`.fork_plot`, :mod:`.step_view`) and by the PNG renderer of the
exports, so both show the same thing. Each function clears its plots, draws, and returns the
items it added, keyed by what they show (tests read their data).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from inspector.core.studies import NO_ANSWER
from inspector.core.study_views import FORK_THRESHOLD, OTHER, ForkPlotData, StepView, answer_label
from inspector.ui.shared.plot_drawing import style_plot

# one colour per answer (a colour-blind-safe set), grey for "no answer" and the rest
ANSWER_COLORS = (
    "#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b", "#9d755d",
)  # fmt: skip
NO_ANSWER_COLOR = "#bdbdbd"
OTHER_COLOR = "#e0e0e0"
GOLD_EDGE = "#1b5e20"
SCORE_BAR = "#78909c"
FORK_BAR = "#d84315"
IMPORTANT_BAR = "#d84315"
STEP_BAR = "#4c78a8"


def answer_colors(answers: list[str]) -> dict[str, str]:
    colors: dict[str, str] = {}
    palette = iter(ANSWER_COLORS * (1 + len(answers) // len(ANSWER_COLORS)))
    for answer in answers:
        if answer == NO_ANSWER:
            colors[answer] = NO_ANSWER_COLOR
        elif answer == OTHER:
            colors[answer] = OTHER_COLOR
        else:
            colors[answer] = next(palette)
    return colors


def legend_name(answer: str, gold: str | None) -> str:
    label = html.escape(answer_label(answer))
    return f"{label} (gold ✓)" if answer == gold else label


def token_ticks(data: ForkPlotData) -> list[tuple[int, str]]:
    """Every studied position labelled by its token (pyqtgraph leaves out labels that would
    overlap, so a long path shows as many as fit)."""
    return [(t, data.tokens[t]) for t in data.positions]


LEGEND_ROOM = 1.16  # the outcome plot's y range: the shares (0 to 1) and the legend's row


def draw_forks(area: Any, score: Any, data: ForkPlotData, ink: str) -> dict[str, Any]:
    """The stacked outcome distribution on ``area`` (x: token position, y: share of the
    continuations' answers, one band per answer, the gold one edged in green) and the forking
    score as bars on ``score`` (forks, at or above the threshold, in orange)."""
    area.clear()
    score.clear()
    if area.legend is not None:
        area.legend.clear()
    items: dict[str, Any] = {"bands": {}, "tops": {}}
    x = np.array(data.positions, dtype=float)
    colors = answer_colors(data.answers)
    if area.legend is None:
        area.addLegend(offset=(-4, 2), labelTextColor=ink, brush=pg.mkBrush(255, 255, 255, 210))
    # one row above the bands (the y range leaves room for it), never over the data
    area.legend.setColumnCount(max(1, len(data.answers)))
    if len(x):
        lower = np.zeros(len(x))
        for answer in data.answers:
            upper = lower + np.array(data.shares[answer])
            color = QColor(colors[answer])
            gold = answer == data.gold
            edge = pg.mkPen(GOLD_EDGE, width=3) if gold else pg.mkPen(color.darker(130), width=1)
            low_curve = pg.PlotCurveItem(x, lower, pen=pg.mkPen(None))
            top_curve = pg.PlotCurveItem(x, upper, pen=edge)
            band = pg.FillBetweenItem(low_curve, top_curve, brush=pg.mkBrush(color))
            area.addItem(low_curve)
            area.addItem(band)
            area.addItem(top_curve)
            # the legend's swatch: the band's fill and edge (a sample never drawn in the plot)
            swatch = pg.PlotDataItem([0.0], [0.0], pen=edge, fillLevel=0.0, brush=color)
            area.legend.addItem(swatch, legend_name(answer, data.gold))
            items["bands"][answer] = band
            items["tops"][answer] = top_curve
            lower = upper
        scores = np.array([0.0 if s is None else s for s in data.scores])
        marked = set(data.forks)
        brushes = [FORK_BAR if t in marked else SCORE_BAR for t in data.positions]
        bars = pg.BarGraphItem(x=x, height=scores, width=0.8, brushes=brushes, pens=brushes)
        score.addItem(bars)
        items["scores"] = bars
        threshold = pg.InfiniteLine(
            pos=FORK_THRESHOLD, angle=0, pen=pg.mkPen(FORK_BAR, style=Qt.PenStyle.DashLine)
        )
        score.addItem(threshold)
        span = (x.min() - 0.6, x.max() + 0.6)
        area.setXRange(*span, padding=0)
    area.setYRange(0, LEGEND_ROOM, padding=0)
    area.getAxis("left").setTicks([[(v / 5, f"{v / 5:.1f}") for v in range(6)], []])
    score.setYRange(0, 1, padding=0.02)
    style_plot(area, "Outcome distribution along the path", "share of answers", "", ink)
    style_plot(score, "", "forking score", "token (position along the path)", ink)
    ticks = token_ticks(data)
    score.getAxis("bottom").setTicks([ticks, []])
    area.getAxis("bottom").setTicks([[(t, "") for t, _ in ticks], []])
    return items


def draw_steps(plot: Any, view: StepView, ink: str) -> dict[str, Any]:
    """One horizontal bar per step (step 1 on top), its length the step's importance (KL
    divergence of the answers with and without it, nats); the most important in orange."""
    plot.clear()
    n = len(view.outcomes)
    y = np.arange(n, dtype=float)[::-1]
    widths = np.array([o.importance for o in view.outcomes])
    marked = set(view.important)
    brushes = [IMPORTANT_BAR if o.step.index in marked else STEP_BAR for o in view.outcomes]
    bars = pg.BarGraphItem(x0=0, y=y, height=0.7, width=widths, brushes=brushes, pens=brushes)
    plot.addItem(bars)
    plot.getAxis("left").setTicks([[(float(y[i]), str(i + 1)) for i in range(n)], []])
    top = float(widths.max()) if n and widths.max() > 0 else 1.0
    plot.setXRange(0, top * 1.05, padding=0)
    plot.setYRange(-0.6, n - 0.4, padding=0)
    style_plot(plot, "Step importance", "step", "importance: KL(with ‖ without), nats", ink)
    return {"bars": bars}
