"""Small widget helpers shared by the panels and dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QSpinBox


def spin_box(low: int, high: int, value: int) -> QSpinBox:
    """An integer spin box with its range and starting value."""
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin


def ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    """OK and Cancel buttons that accept or reject ``dialog``."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons
