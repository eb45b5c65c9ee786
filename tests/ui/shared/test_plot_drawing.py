"""What the plots draw (issue 13, items 17 and 18): whole-number ticks on counts and sample
numbers, bins of accuracy 0 outlined and counted, correctness shown by more than colour, and
a legend that reads on a dark background."""

from __future__ import annotations

import math

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from inspector.core.metrics import CalibrationBin, SamplingPoint
from inspector.core.run_stats import ConsistencyHistogram
from inspector.ui.shared.plot_drawing import (
    ZERO_OUTLINE,
    draw_accuracy_curve,
    draw_calibration,
    draw_consistency_histogram,
    draw_votes,
    integer_steps,
)

LIGHT_INK, DARK_INK = "#222222", "#e6e6e6"


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    yield widget.getPlotItem()  # the widget stays referenced while the test draws


def tick_labels(plot, axis: str) -> list[tuple[float, str]]:
    """The major ticks set on an axis (position, label)."""
    return list(plot.getAxis(axis)._tickLevels[0])


def test_accuracy_vs_samples_has_ticks_at_whole_samples_only(plot):
    points = [SamplingPoint(n, 0.5 + n / 10, 3) for n in (1, 2, 3)]
    draw_accuracy_curve(plot, points, LIGHT_INK)
    assert tick_labels(plot, "bottom") == [(1, "1"), (2, "2"), (3, "3")]
    many = [SamplingPoint(n, 0.5, 3) for n in range(1, 17)]  # log axis past 8 samples
    draw_accuracy_curve(plot, many, LIGHT_INK)
    ticks = tick_labels(plot, "bottom")
    assert [label for _, label in ticks] == ["1", "2", "4", "8", "16"]
    assert [pos for pos, _ in ticks] == pytest.approx([math.log10(n) for n in (1, 2, 4, 8, 16)])


def test_integer_steps_never_give_a_fraction():
    assert integer_steps(2) == [0, 1, 2]
    assert integer_steps(0) == [0, 1]
    steps = integer_steps(95)
    assert all(isinstance(s, int) for s in steps) and len(steps) <= 10 and steps[-1] <= 95 + 10


def test_a_bin_whose_runs_were_all_wrong_is_outlined_and_counted(plot):
    bins = [
        CalibrationBin(0.5, 0.6, 2, 0.55, 0.0),  # two runs, both wrong
        CalibrationBin(0.6, 0.7, 0, None, None),  # empty: nothing drawn
        CalibrationBin(0.9, 1.0, 1, 0.95, 1.0),
    ]
    items = draw_calibration(plot, bins, 0.4, LIGHT_INK)
    assert [b.lower for b in items["bins"]] == [0.5, 0.9]
    (outline,) = items["zero_outlines"]
    xs, ys = outline.getData()
    assert list(xs) == [0.5, 0.5, 0.6, 0.6] and max(ys) == ZERO_OUTLINE
    assert [label.toPlainText() for label in items["labels"]] == ["2", "1"]
    assert items["labels"][0].pos().y() > ZERO_OUTLINE  # the count sits above the outline


def test_the_consistency_legend_follows_the_ink_and_wrong_is_hatched(plot):
    histogram = ConsistencyHistogram((0.0, 0.5, 1.0), (1, 2), (3, 0))
    items = draw_consistency_histogram(plot, histogram, DARK_INK)
    legend = items["legend"]
    labels = [label for _, label in legend.items]
    assert [label.text for label in labels] == ["✓ correct", "✗ incorrect"]
    assert all(QColor(label.opts["color"]) == QColor(DARK_INK) for label in labels)
    assert QColor(legend.opts["brush"].color()).lightness() < 80  # a dark box under light text
    assert items["incorrect"].opts["brush"].style() == Qt.BrushStyle.DiagCrossPattern
    assert items["correct"].opts["brush"].style() == Qt.BrushStyle.SolidPattern
    items = draw_consistency_histogram(plot, histogram, LIGHT_INK)  # the theme changed back
    assert items["legend"] is legend
    assert all(QColor(label.opts["color"]) == QColor(LIGHT_INK) for _, label in legend.items)
    assert [pos for pos, _ in tick_labels(plot, "left")] == [0, 1, 2, 3]


def test_the_vote_chart_marks_right_and_wrong_beyond_colour(plot):
    items = draw_votes(plot, {"8": 3, "5": 1, "7": 1}, {"8": True, "5": False}, LIGHT_INK)
    assert [label for _, label in tick_labels(plot, "bottom")] == ["✓ 8", "✗ 5", "7"]
    styles = [bar.opts["brush"].style() for bar in items["bars"]]
    assert styles == [
        Qt.BrushStyle.SolidPattern,
        Qt.BrushStyle.DiagCrossPattern,
        Qt.BrushStyle.SolidPattern,
    ]
    assert [pos for pos, _ in tick_labels(plot, "left")] == [0, 1, 2, 3]  # no 1.5, no 2.5
