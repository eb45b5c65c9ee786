"""The forking plot: the outcome distribution along the path, the forking score under it.

Click anywhere over a position (on either plot) to select it: a line marks it and
``positionClicked`` tells the window, which shows that position's o(t, w) table.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from inspector.core.study_views import ForkPlotData
from inspector.ui.studies.plot_drawing import draw_forks


class ForkPlot(QWidget):
    positionClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: ForkPlotData | None = None
        self.items: dict[str, Any] = {}
        self.selected: int | None = None
        self.graphics = pg.GraphicsLayoutWidget()
        self.area = self.graphics.addPlot(row=0, col=0)
        self.score = self.graphics.addPlot(row=1, col=0)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)
        self.score.setXLink(self.area)
        for plot in (self.area, self.score):
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseEnabled(x=True, y=False)
            plot.showGrid(x=False, y=True, alpha=0.2)
            plot.getAxis("left").setWidth(56)
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#212121", width=1))
        self.score_marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#212121", width=1))
        self.graphics.scene().sigMouseClicked.connect(self._clicked)
        self.setMinimumHeight(260)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

    def ink(self) -> str:
        return self.palette().color(QPalette.ColorRole.Text).name()

    def show_data(self, data: ForkPlotData) -> None:
        self.data = data
        background = self.palette().color(QPalette.ColorRole.Base)
        self.graphics.setBackground(background)
        self.items = draw_forks(self.area, self.score, data, self.ink())
        if self.selected is not None and self.selected in data.positions:
            self.select(self.selected)
        else:
            self.selected = None

    def select(self, position: int) -> None:
        """Mark ``position`` (a studied one) on both plots."""
        self.selected = position
        for plot, marker in ((self.area, self.marker), (self.score, self.score_marker)):
            if marker.scene() is None:
                plot.addItem(marker)
            marker.setValue(position)

    def position_near(self, x: float) -> int | None:
        """The studied position nearest to ``x`` (within one token)."""
        if self.data is None or not self.data.positions:
            return None
        nearest = min(self.data.positions, key=lambda t: abs(t - x))
        return nearest if abs(nearest - x) <= 1.0 else None

    def _clicked(self, event: Any) -> None:
        scene_pos: QPointF = event.scenePos()
        for plot in (self.area, self.score):
            box = plot.getViewBox()
            if box.sceneBoundingRect().contains(scene_pos):
                position = self.position_near(box.mapSceneToView(scene_pos).x())
                if position is not None:
                    self.select(position)
                    self.positionClicked.emit(position)
                return
