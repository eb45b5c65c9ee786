"""PNG plots for the exports, rendered offscreen with pyqtgraph's ImageExporter.

Each function takes plain data and returns PNG bytes. A ``QApplication`` is created if none
exists (with ``QT_QPA_PLATFORM=offscreen`` when there is no display), so the CLI can render
without a window. :class:`QtPlotRenderer` is the ``PlotRenderer`` the store's exporter takes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from inspector.core.metrics import CalibrationBin, SamplingPoint
from inspector.core.study_views import ForkPlotData, StepView

WIDTH, HEIGHT = 640, 400
INK = "#222222"
MAX_BARS = 30  # more answers than this: the rest are summed into "other"


def ensure_app() -> Any:
    """The running QApplication, or a new one (offscreen if there is no display)."""
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    return app if app is not None else QApplication([])


def _plot(title: str = "", left: str = "", bottom: str = ""):
    import pyqtgraph as pg

    from inspector.ui.shared.plot_drawing import style_plot

    ensure_app()
    widget = pg.PlotWidget(background="w")
    widget.resize(WIDTH, HEIGHT)
    plot = widget.getPlotItem()
    plot.setGeometry(0, 0, WIDTH, HEIGHT)  # the widget is never shown, so lay out by hand
    style_plot(plot, title, left, bottom, INK)
    plot.setMenuEnabled(False)
    return widget, plot


def _png(widget) -> bytes:
    return _scene_png(widget, widget.getPlotItem(), WIDTH)


def render_votes(
    votes: Mapping[str, int], correct: Mapping[str, bool | None] | None = None
) -> bytes:
    """Bar chart: answer -> number of paths, most first, coloured and marked ✓/✗ by
    ``correct`` (grey without a gold answer); counts on whole-number ticks. Past
    ``MAX_BARS`` answers the rest are summed into "other"."""
    from inspector.ui.shared.plot_drawing import draw_votes

    items = sorted(votes.items(), key=lambda item: -item[1])
    if len(items) > MAX_BARS:
        rest = sum(count for _, count in items[MAX_BARS - 1 :])
        items = [*items[: MAX_BARS - 1], ("other", rest)]
    widget, plot = _plot()
    draw_votes(plot, dict(items), dict(correct or {}), INK)
    return _png(widget)


def render_calibration(bins: Sequence[CalibrationBin], ece: float | None) -> bytes:
    """Reliability diagram: accuracy per confidence bin (bars labelled with counts), the
    diagonal of perfect calibration, and the ECE in the title."""
    from inspector.ui.shared.plot_drawing import draw_calibration

    widget, plot = _plot()
    draw_calibration(plot, bins, ece, INK)
    return _png(widget)


def render_accuracy_curve(points: Sequence[SamplingPoint]) -> bytes:
    """Majority-vote accuracy against the number of sampled paths."""
    from inspector.ui.shared.plot_drawing import draw_accuracy_curve

    widget, plot = _plot()
    draw_accuracy_curve(plot, points, INK)
    return _png(widget)


def render_fork_plot(data: ForkPlotData) -> bytes:
    """The forking plot as the study window draws it: the stacked outcome distribution over
    the forking score."""
    import pyqtgraph as pg

    from inspector.ui.studies.plot_drawing import draw_forks

    ensure_app()
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground("w")
    widget.resize(WIDTH + 160, HEIGHT + 80)
    area = widget.addPlot(row=0, col=0)
    score = widget.addPlot(row=1, col=0)
    widget.ci.layout.setRowStretchFactor(0, 3)
    widget.ci.layout.setRowStretchFactor(1, 1)
    score.setXLink(area)
    for plot in (area, score):
        plot.getAxis("left").setWidth(56)
        plot.setMenuEnabled(False)
    widget.ci.setGeometry(0, 0, WIDTH + 160, HEIGHT + 80)
    draw_forks(area, score, data, INK)
    return _scene_png(widget, widget.ci, WIDTH + 160)


def render_step_plot(view: StepView) -> bytes:
    """A bar per step (step 1 on top), the most important ones orange."""
    from inspector.ui.studies.plot_drawing import draw_steps

    widget, plot = _plot()
    draw_steps(plot, view, INK)
    return _png(widget)


def _scene_png(widget, item, width: int) -> bytes:
    import pyqtgraph.exporters
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    ensure_app().processEvents()
    exporter = pyqtgraph.exporters.ImageExporter(item)
    exporter.parameters()["width"] = width
    image = exporter.export(toBytes=True)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    widget.deleteLater()
    return bytes(data.data())


class QtPlotRenderer:
    """The exporter's ``PlotRenderer``, drawing with pyqtgraph."""

    def votes(
        self, votes: Mapping[str, int], correct: Mapping[str, bool | None] | None = None
    ) -> bytes:
        return render_votes(votes, correct)

    def calibration(self, bins: Sequence[CalibrationBin], ece: float | None) -> bytes:
        return render_calibration(bins, ece)

    def accuracy_curve(self, points: Sequence[SamplingPoint]) -> bytes:
        return render_accuracy_curve(points)

    def fork_plot(self, data: ForkPlotData) -> bytes:
        return render_fork_plot(data)

    def step_plot(self, view: StepView) -> bytes:
        return render_step_plot(view)
