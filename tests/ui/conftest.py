"""A main window on the real default model, with its own database and preferences file."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from inspector.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _no_message_box_waits(monkeypatch):
    """A message box no test expected fails the test with its text instead of waiting for a
    click that never comes (offscreen, a modal box would hang the run). Tests that expect one
    patch it themselves."""
    from PySide6.QtWidgets import QMessageBox

    def refuse(_parent, title, text, *_args, **_kwargs):
        raise AssertionError(f"an unexpected message box would wait for a click: {title}: {text}")

    for name in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, refuse)


def preferences(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "preferences.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, model_path, tmp_path):
    window = MainWindow(str(model_path), tmp_path / "sessions.db", preferences(tmp_path))
    qtbot.addWidget(window)
    window.show()
    # the model loads in about a second on a quiet machine; much longer on a loaded one
    qtbot.waitUntil(lambda: window.models.engine is not None, timeout=120_000)
    yield window
    window.shutdown()


def run_and_wait(qtbot, window, **values) -> None:
    """Fill the run panel, run, and wait for the worker to report back."""
    panel = window.explore.run_panel
    panel.strategy.setCurrentText(values.get("strategy", "cot-decoding"))
    panel.k.setValue(values.get("k", 3))
    panel.samples.setValue(values.get("samples", 3))
    panel.max_tokens.setValue(values.get("max_tokens", 8))
    panel.gold.setText(values.get("gold", "8"))
    if "question" in values:
        panel.question.setPlainText(values["question"])
    window.explore.start_run()
    assert window.explore.worker is not None and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.explore.worker is None, timeout=60_000)
