"""Light and dark palettes: follow the system's colour scheme, or a choice kept in QSettings.

The Fusion style is used everywhere so both palettes look the same on every platform. Views
that draw their own colours read :func:`ink` / :func:`is_dark` from their palette when they
draw, and redraw on ``QEvent.PaletteChange``.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

THEMES: tuple[str, ...] = ("system", "light", "dark")
THEME_KEY = "appearance/theme"

_DARK = {
    QPalette.ColorRole.Window: "#2b2d30",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1f2023",
    QPalette.ColorRole.AlternateBase: "#2b2d30",
    QPalette.ColorRole.ToolTipBase: "#3c3f41",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.PlaceholderText: "#8c8c8c",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#3a3d41",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Link: "#6cb6ff",
    QPalette.ColorRole.Highlight: "#2f65ca",
    QPalette.ColorRole.HighlightedText: "#ffffff",
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in _DARK.items():
        palette.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):  # fmt: skip
        palette.setColor(disabled, role, QColor("#7a7a7a"))
    return palette


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def saved_theme(preferences: QSettings) -> str:
    value = str(preferences.value(THEME_KEY, "system"))
    return value if value in THEMES else "system"


def apply_theme(app: QApplication, theme: str) -> bool:
    """Set the Fusion style and the palette for ``theme``; True if the result is dark."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; use one of {THEMES}")
    app.setStyle("Fusion")
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    return dark


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Base).lightness() < 128


def ink(widget: QWidget) -> QColor:
    """The colour of text drawn straight on the widget's background."""
    return widget.palette().color(QPalette.ColorRole.Text)


def background(widget: QWidget) -> QColor:
    return widget.palette().color(QPalette.ColorRole.Base)
