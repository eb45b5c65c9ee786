"""Small widget helpers shared by the panels and dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox


def spin_box(low: int, high: int, value: int) -> QSpinBox:
    """An integer spin box with its range and starting value."""
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin
