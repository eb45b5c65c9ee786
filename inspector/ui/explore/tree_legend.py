"""The tree's legend, under it: what a node's fill and an answer label's colour mean.

A node's fill is the mean probability of its tokens (red unlikely → green certain, the colours
of :func:`probability_color`); an answer label is green ✓ for a correct answer, red ✗ for a
wrong one and grey without a gold answer, so the meaning never rests on colour alone.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from inspector.ui.shared.colors import LEGEND_STOPS, correctness_color, probability_color
from inspector.ui.shared.theme import is_dark


def swatch(color: str, text: str) -> str:
    return (
        f"<span style='background-color: {color}; color: black;'>&nbsp;{html.escape(text)}"
        "&nbsp;</span>"
    )


def legend_html(dark: bool) -> str:
    fills = "".join(swatch(probability_color(p).name(), f"{p:.0%}") for p in LEGEND_STOPS)
    answers = " ".join(
        f"<b style='color: {correctness_color(correct, dark).name()}'>{text}</b>"
        for correct, text in ((True, "✓ correct"), (False, "✗ wrong"), (None, "no gold answer"))
    )
    return (
        f"node fill = mean token probability {fills} &nbsp;·&nbsp; answer: {answers}"
        " &nbsp;·&nbsp; ★ CoT-decoding pick · ✎ annotated · dotted red box: unfinished"
    )


class TreeLegend(QWidget):
    """One wrapped line of legend; redrawn when the palette changes (light / dark)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.text)
        self._draw()

    def _draw(self) -> None:
        self.text.setText(f"<small>{legend_html(is_dark(self))}</small>")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "text"):
            self._draw()
