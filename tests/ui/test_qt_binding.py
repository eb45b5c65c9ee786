"""Guards against a Qt binding that corrupts reference counts (PySide6 6.12.0 did).

With it, every call of a void Qt method dropped one reference to None; after a few thousand
calls Python freed None and the app crashed ("none_dealloc"). pyproject.toml excludes it.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel, QProgressBar


def test_void_qt_methods_keep_reference_counts(qtbot):
    bar, label = QProgressBar(), QLabel()
    qtbot.addWidget(bar)
    qtbot.addWidget(label)
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for value in range(2000):
        bar.setValue(value % 100)
        label.setText("x")
        label.setVisible(False)
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    assert all(abs(a - b) < 50 for a, b in zip(after, before, strict=True))
