"""Colours that encode probabilities and correctness, shared by every view and the legend."""

from __future__ import annotations

from PySide6.QtGui import QColor

CORRECT = QColor("#2e7d32")
INCORRECT = QColor("#c62828")
UNKNOWN = QColor("#757575")
ANSWER_HIGHLIGHT = QColor("#fff176")


def probability_color(prob: float, alpha: int = 255) -> QColor:
    """Red (unlikely) through amber to green (certain); hue is linear in probability."""
    prob = min(1.0, max(0.0, prob))
    color = QColor.fromHsvF(0.33 * prob, 0.45, 1.0)
    color.setAlpha(alpha)
    return color


CORRECT_ON_DARK = QColor("#81c784")
INCORRECT_ON_DARK = QColor("#ef9a9a")
UNKNOWN_ON_DARK = QColor("#bdbdbd")


def correctness_color(correct: bool | None, dark: bool = False) -> QColor:
    """Green, red or grey; lighter shades for text on a dark background."""
    if dark:
        return {True: CORRECT_ON_DARK, False: INCORRECT_ON_DARK, None: UNKNOWN_ON_DARK}[correct]
    return {True: CORRECT, False: INCORRECT, None: UNKNOWN}[correct]


LEGEND_STOPS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
