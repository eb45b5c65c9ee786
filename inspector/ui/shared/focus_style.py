"""A focus ring that can be seen: the widget with the keyboard focus gets a 2-px outline in the
palette's highlight colour (Fusion's own is a faint dotted rectangle, or nothing at all on a
text or tree view).

:func:`install_focus_ring` wraps the application's style; call it again after anything that
sets the style anew (:func:`~inspector.ui.shared.theme.apply_theme` does).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

RING_WIDTH = 2.0
# what gets the ring when its widget has the focus: a text box, a tree, a table, a button
_FRAMES = (
    QStyle.PrimitiveElement.PE_Frame,
    QStyle.PrimitiveElement.PE_FrameLineEdit,
    QStyle.PrimitiveElement.PE_PanelButtonCommand,
)


class FocusRingStyle(QProxyStyle):
    """The base style, with a thick focus rectangle and a ring around focused frames (frames
    are made 2 px wide, so a view's contents do not cover half of its ring)."""

    def pixelMetric(
        self,
        metric: QStyle.PixelMetric,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
    ) -> int:
        value = super().pixelMetric(metric, option, widget)
        if metric == QStyle.PixelMetric.PM_DefaultFrameWidth:
            return max(value, int(RING_WIDTH))
        return value

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element == QStyle.PrimitiveElement.PE_FrameFocusRect:
            self._ring(option, painter)
            return
        super().drawPrimitive(element, option, painter, widget)
        if element in _FRAMES and option.state & QStyle.StateFlag.State_HasFocus:
            self._ring(option, painter)

    def drawControl(
        self,
        element: QStyle.ControlElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawControl(element, option, painter, widget)
        # a text view, the tree, a table: Fusion draws their frame here, not as PE_Frame
        framed = element == QStyle.ControlElement.CE_ShapedFrame
        if framed and option.state & QStyle.StateFlag.State_HasFocus:
            self._ring(option, painter)

    @staticmethod
    def _ring(option: QStyleOption, painter: QPainter) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(option.palette.color(QPalette.ColorRole.Highlight), RING_WIDTH)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        inset = RING_WIDTH / 2
        painter.drawRoundedRect(QRectF(option.rect).adjusted(inset, inset, -inset, -inset), 2, 2)
        painter.restore()


def install_focus_ring(app: QApplication) -> None:
    """Wrap the application's current style (Fusion) in :class:`FocusRingStyle`."""
    if isinstance(app.style(), FocusRingStyle):
        return
    palette = app.palette()  # a new style would bring its own standard palette
    app.setStyle(FocusRingStyle(app.style().name()))
    app.setPalette(palette)
