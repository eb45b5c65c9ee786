"""Draw the plots over saved runs onto a pyqtgraph PlotItem: used by the live plots in the
Experiments tab and by the PNG renderer of the exports, so both show the same thing.

Each function clears the plot, draws, and returns the items it added (tests read their data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt

from inspector.core.metrics import CalibrationBin, SamplingPoint
from inspector.core.run_stats import ConsistencyHistogram

BAR = "#4c78a8"
CORRECT_BAR = "#2e7d32"
INCORRECT_BAR = "#c62828"
DIAGONAL = "#c62828"
CONFIDENCE_LABELS = {"consistency": "confidence (consistency)", "delta": "confidence (Δ)"}


def style_plot(plot: Any, title: str, left: str, bottom: str, ink: str) -> None:
    """Title and axis labels in ``ink`` (titles and labels are fixed text, never user text)."""
    plot.setTitle(title, color=ink, size="11pt")
    for name, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(name)
        axis.setLabel(label, color=ink)
        axis.setPen(ink)
        axis.setTextPen(ink)


def draw_calibration(
    plot: Any,
    bins: Sequence[CalibrationBin],
    ece: float | None,
    ink: str,
    confidence: str = "consistency",
) -> dict[str, Any]:
    """Reliability diagram: accuracy per confidence bin (bars labelled with their counts), the
    diagonal of perfect calibration, and the ECE in the title."""
    plot.clear()
    title = "Calibration" + (f" · ECE {ece:.3f}" if ece is not None else " · no runs")
    bottom = CONFIDENCE_LABELS.get(confidence, confidence) + " · bar labels: runs"
    style_plot(plot, title, "accuracy", bottom, ink)
    filled = [b for b in bins if b.count and b.accuracy is not None]
    items: dict[str, Any] = {"bins": filled, "labels": []}
    if filled:
        bars = pg.BarGraphItem(
            x0=[b.lower for b in filled],
            x1=[b.upper for b in filled],
            height=[b.accuracy for b in filled],
            brush=BAR,
            pen=pg.mkPen(ink, width=0.5),
        )
        plot.addItem(bars)
        items["bars"] = bars
    for b in filled:
        label = pg.TextItem(str(b.count), color=ink, anchor=(0.5, 1.0))  # runs in the bin
        label.setPos((b.lower + b.upper) / 2, min(1.0, b.accuracy or 0.0) + 0.01)
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


def draw_accuracy_curve(plot: Any, points: Sequence[SamplingPoint], ink: str) -> dict[str, Any]:
    """Majority-vote accuracy against the number of sampled paths."""
    plot.clear()
    shown = [p for p in points if p.accuracy is not None]
    title = "Accuracy vs samples" + ("" if shown else " · no sampled runs")
    style_plot(plot, title, "accuracy", "samples (n)", ink)
    items: dict[str, Any] = {"points": shown}
    if shown:
        items["curve"] = plot.plot(
            [p.n for p in shown],
            [p.accuracy for p in shown],
            pen=pg.mkPen(BAR, width=2),
            symbol="o",
            symbolBrush=BAR,
        )
    plot.setLogMode(x=len(shown) > 1 and max(p.n for p in shown) > 8, y=False)
    plot.setYRange(0, 1.05, padding=0)
    return items


def draw_consistency_histogram(
    plot: Any, histogram: ConsistencyHistogram, ink: str
) -> dict[str, Any]:
    """Runs per consistency bin, correct and incorrect answers side by side."""
    plot.clear()
    style_plot(plot, "Consistency: correct vs incorrect", "runs", "consistency", ink)
    edges = histogram.edges
    width = (edges[1] - edges[0]) / 2 if len(edges) > 1 else 0.5
    items: dict[str, Any] = {}
    for key, counts, offset, brush in (
        ("correct", histogram.correct, 0.0, CORRECT_BAR),
        ("incorrect", histogram.incorrect, width, INCORRECT_BAR),
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
    legend.addItem(items["correct"], "correct")
    legend.addItem(items["incorrect"], "incorrect")
    top = max([*histogram.correct, *histogram.incorrect, 1])
    plot.setXRange(0, 1, padding=0.02)
    plot.setYRange(0, top * 1.15, padding=0)
    return items
