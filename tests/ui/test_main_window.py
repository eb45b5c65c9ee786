"""The main window loads the model off the GUI thread and shows what it is."""

from __future__ import annotations

from inspector.ui.main_window import MainWindow


def test_window_shows_the_loaded_model(qtbot, model_path):
    window = MainWindow(str(model_path))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engine is not None, timeout=20_000)
    assert window._info_labels["architecture"].text() == "gemma3"
    assert window._info_labels["n_vocab"].text() == "262,144 tokens"
    assert "Model loaded" in window.statusBar().currentMessage()


def test_a_bad_model_is_a_message_not_a_crash(qtbot, tmp_path):
    bogus = tmp_path / "bad.gguf"
    bogus.write_text("not a model")
    window = MainWindow(str(bogus))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "Could not load" in window.statusBar().currentMessage(), timeout=10_000)
    assert window.engine is None
    assert "not a GGUF model file" in window.statusBar().currentMessage()
