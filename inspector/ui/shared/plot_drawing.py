"""Draw the plots over saved runs onto a pyqtgraph PlotItem: used by the live plots in the
Experiments tab and by the PNG renderer of the exports, so both show the same thing.

Each function clears the plot, draws, and returns the items it added (tests read their data).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from inspector.core.metrics import CalibrationBin, SamplingPoint
from inspector.core.run_stats import ConsistencyHistogram
from inspector.ui.shared.record_table import mark

BAR = "#4c78a8"
CORRECT_BAR = "#2e7d32"
INCORRECT_BAR = "#c62828"
DIAGONAL = "#c62828"
ZERO_OUTLINE = 0.04  # height of the dashed outline of a bin with accuracy 0
UNKNOWN_BAR = "#9e9e9e"
CONFIDENCE_LABELS = {"consistency": "confidence (consistency)", "delta": "confidence (Δ)"}
MAX_TICKS = 10  # at most this many labelled ticks on a count axis


def style_plot(plot: Any, title: str, left: str, bottom: str, ink: str, subtitle: str = "") -> None:
    """Title and axis labels in ``ink``. Titles and labels are fixed text; ``subtitle`` (the
    filter, which names an experiment) is escaped and set on a second, smaller line."""
    text = html.escape(title)
    if subtitle:
        text += f'<br><span style="font-size:9pt">{html.escape(subtitle)}</span>'
    plot.setTitle(text, color=ink, size="11pt")
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.setLabel(label, color=ink)
        axis.setPen(ink)
        axis.setTextPen(ink)


def integer_steps(top: float, most: int = MAX_TICKS) -> list[int]:
    """Whole numbers from 0 up to ``top`` (at least 1), at most ``most`` of them, evenly
    spaced by a whole step: the ticks of an axis that counts things."""
    top_int = max(1, math.ceil(top))
    step = max(1, math.ceil(top_int / (most - 1)))
    return list(range(0, top_int + 1, step))


def set_integer_ticks(axis: Any, values: Sequence[int], log: bool = False) -> None:
    """Ticks only at these whole numbers (positions in log10 when the axis is logarithmic)."""
    ticks = [(math.log10(v) if log else v, str(v)) for v in values if v > 0 or not log]
    axis.setTicks([ticks, []])


def sample_ticks(ns: Sequence[int], most: int = MAX_TICKS) -> list[int]:
    """Which sample counts to label: all of them when few, else powers of two and the last."""
    values = sorted(set(ns))
    if len(values) <= most:
        return values
    chosen = {v for v in values if v & (v - 1) == 0} | {values[0], values[-1]}
    return sorted(chosen)


def correctness_brush(correct: bool | None) -> QBrush:
    """Green for correct, red and cross-hatched for wrong, grey for unknown: the hatch keeps
    the meaning without colour (and in greyscale print)."""
    if correct is True:
        return QBrush(QColor(CORRECT_BAR))
    if correct is False:
        return QBrush(QColor(INCORRECT_BAR), Qt.BrushStyle.DiagCrossPattern)
    return QBrush(QColor(UNKNOWN_BAR))


def draw_calibration(
    plot: Any,
    bins: Sequence[CalibrationBin],
    ece: float | None,
    ink: str,
    confidence: str = "consistency",
    subtitle: str = "",
) -> dict[str, Any]:
    """Reliability diagram: accuracy per confidence bin (bars labelled with their counts), the
    diagonal of perfect calibration, and the ECE in the title."""
    plot.clear()
    title = "Calibration" + (f" · ECE {ece:.3f}" if ece is not None else " · no runs")
    bottom = CONFIDENCE_LABELS.get(confidence, confidence) + " · bar labels: runs"
    style_plot(plot, title, "accuracy", bottom, ink, subtitle)
    filled = [b for b in bins if b.count and b.accuracy is not None]
    items: dict[str, Any] = {"bins": filled, "labels": []}
    if filled:
        bars = pg.BarGraphItem(
            x0=[b.lower for b in filled],
            x1=[b.upper for b in filled],
            height=[b.accuracy for b in filled],
            brush=BAR,
            pen=pg.mkPen(ink, width=1),
        )
        plot.addItem(bars)
        items["bars"] = bars
    # a bin whose runs were all wrong has no bar: draw its outline, so it is not mistaken for
    # an empty bin (its count is labelled like the others)
    empty = [b for b in filled if not b.accuracy]
    items["zero_outlines"] = []
    for b in empty:
        outline = pg.PlotDataItem(
            [b.lower, b.lower, b.upper, b.upper],
            [0.0, ZERO_OUTLINE, ZERO_OUTLINE, 0.0],
            pen=pg.mkPen(ink, width=1.5, style=Qt.PenStyle.DashLine),
        )
        plot.addItem(outline)
        items["zero_outlines"].append(outline)
    for b in filled:
        label = pg.TextItem(str(b.count), color=ink, anchor=(0.5, 1.0))  # runs in the bin
        label.setPos((b.lower + b.upper) / 2, max(min(1.0, b.accuracy or 0.0), ZERO_OUTLINE) + 0.01)
        plot.addItem(label)
        items["labels"].append(label)
    diagonal = pg.PlotDataItem(
        [0, 1], [0, 1], pen=pg.mkPen(DIAGONAL, width=2, style=Qt.PenStyle.DashLine)
    )
    plot.addItem(diagonal)
    items["diagonal"] = diagonal
    plot.setXRange(0, 1, padding=0.02)
    plot.setYRange(0, 1.15, padding=0)
    return items


def draw_accuracy_curve(
    plot: Any, points: Sequence[SamplingPoint], ink: str, subtitle: str = ""
) -> dict[str, Any]:
    """Majority-vote accuracy against the number of sampled paths (ticks at whole numbers of
    samples only)."""
    plot.clear()
    shown = [p for p in points if p.accuracy is not None]
    title = "Accuracy vs samples" + ("" if shown else " · no sampled runs")
    style_plot(plot, title, "accuracy", "samples (n)", ink, subtitle)
    items: dict[str, Any] = {"points": shown}
    if shown:
        items["curve"] = plot.plot(
            [p.n for p in shown],
            [p.accuracy for p in shown],
            pen=pg.mkPen(BAR, width=2),
            symbol="o",
            symbolBrush=BAR,
        )
    log = len(shown) > 1 and max(p.n for p in shown) > 8
    plot.setLogMode(x=log, y=False)
    ticks = sample_ticks([p.n for p in shown]) or [1]
    set_integer_ticks(plot.getAxis("bottom"), ticks, log)
    items["ticks"] = ticks
    low, high = min(ticks), max(ticks)
    if log:
        plot.setXRange(math.log10(low), math.log10(high), padding=0.08)
    else:
        plot.setXRange(low, high, padding=0.08 if high > low else 0.5)
    plot.setYRange(0, 1.05, padding=0)
    return items


def draw_consistency_histogram(
    plot: Any, histogram: ConsistencyHistogram, ink: str, subtitle: str = ""
) -> dict[str, Any]:
    """Runs per consistency bin, correct and incorrect answers side by side (wrong ones also
    cross-hatched; the legend in ``ink``, so it reads on a dark background)."""
    plot.clear()
    style_plot(plot, "Consistency: correct vs incorrect", "runs", "consistency", ink, subtitle)
    edges = histogram.edges
    width = (edges[1] - edges[0]) / 2 if len(edges) > 1 else 0.5
    items: dict[str, Any] = {}
    for key, counts, offset, brush in (
        ("correct", histogram.correct, 0.0, correctness_brush(True)),
        ("incorrect", histogram.incorrect, width, correctness_brush(False)),
    ):
        bars = pg.BarGraphItem(
            x0=[edges[i] + offset for i in range(len(counts))],
            width=width,
            height=list(counts),
            brush=brush,
            pen=pg.mkPen(ink, width=0.5),
            name=key,
        )
        plot.addItem(bars)
        items[key] = bars
    legend = plot.addLegend(offset=(10, 10), labelTextColor=ink)
    legend.clear()
    legend.setLabelTextColor(ink)  # the legend outlives a theme change: recolour it
    dark = QColor(ink).lightness() > 128  # light ink: a dark background
    legend.setBrush(pg.mkBrush("#202124d0" if dark else "#ffffffd0"))
    legend.setPen(pg.mkPen(ink, width=0.5))
    legend.addItem(items["correct"], "✓ correct")
    legend.addItem(items["incorrect"], "✗ incorrect")
    items["legend"] = legend
    top = max([*histogram.correct, *histogram.incorrect, 1])
    set_integer_ticks(plot.getAxis("left"), integer_steps(top))
    plot.setXRange(0, 1, padding=0.02)
    plot.setYRange(0, top * 1.15, padding=0)
    return items


def draw_votes(
    plot: Any, votes: Mapping[str, int], correct: Mapping[str, bool | None], ink: str
) -> dict[str, Any]:
    """Paths per answer, most votes first; bars coloured by correctness and marked ✓/✗ under
    the answer, counts on whole-number ticks. Answers are drawn as plain text."""
    plot.clear()
    style_plot(plot, "Vote distribution", "paths", "answer", ink)
    items_ = list(votes.items())
    xs = list(range(len(items_)))
    drawn: dict[str, Any] = {"answers": [a for a, _ in items_], "bars": []}
    for x, (answer, count) in zip(xs, items_, strict=True):
        bar = pg.BarGraphItem(
            x=[x], height=[count], width=0.6, brush=correctness_brush(correct.get(answer)),
            pen=pg.mkPen(ink, width=1),
        )  # fmt: skip
        plot.addItem(bar)
        drawn["bars"].append(bar)
    labels = [(x, f"{mark(correct.get(a))} {elide(a)}".strip()) for x, (a, _) in enumerate(items_)]
    plot.getAxis("bottom").setTicks([labels, []])
    top = max([c for _, c in items_], default=1)
    set_integer_ticks(plot.getAxis("left"), integer_steps(top))
    plot.setYRange(0, top * 1.1, padding=0)
    plot.setXRange(-0.6, max(0, len(items_) - 1) + 0.6, padding=0)
    return drawn


def elide(text: str, limit: int = 14) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
