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
    import pyqtgraph.exporters
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    ensure_app().processEvents()  # let the plot's layout settle (title, axis labels)
    exporter = pyqtgraph.exporters.ImageExporter(widget.getPlotItem())
    exporter.parameters()["width"] = WIDTH
    image = exporter.export(toBytes=True)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    widget.deleteLater()
    return bytes(data.data())


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
