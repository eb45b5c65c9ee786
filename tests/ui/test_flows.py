"""Whole flows through the widgets on the real default model (issue 5, §3): a CoT-decoding run
checked against the store, hover and click a token alternative to branch, annotate and find
the note by search, themes, labels, and the error cases."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QToolTip

from inspector.core.display import shown_token
from inspector.store import Store
from inspector.ui.main_window import MainWindow
from tests.ui.conftest import preferences, run_and_wait


def leaves(session) -> set[int]:
    return {node.id for node in session.tree.nodes.values() if not node.children}


def test_cot_decoding_tree_has_k_leaves_and_the_panel_matches_the_store(qtbot, window):
    run_and_wait(qtbot, window, strategy="cot-decoding", k=5, max_tokens=16)
    session = window.explore.session
    assert len(leaves(session)) == 5 == len(session.paths)
    assert leaves(session) == {p.node_id for p in session.paths}
    with Store.open(window.db_path) as store:
        saved = store.load_session(session.id)
    summary = saved.summary()
    table = window.explore.answers.table
    shown = [(table.item(row, 0).text(), table.item(row, 2).text()) for row in range(5)]
    assert shown == [(f"#{p.id}", p.answer if p.answer is not None else "—") for p in saved.paths]
    text = window.explore.answers.summary.text()
    assert f"Chosen answer: {summary.chosen_answer}" in text
    assert f"consistency {summary.consistency:.2f}" in text
    # the bars by votes, most first
    heights = sorted(summary.votes.values(), reverse=True)
    assert list(window.explore.answers.bars.opts["height"]) == heights


def hover(view, index: int) -> None:
    point = QPointF(view.token_rect(index).center())
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        point,
        view.viewport().mapToGlobal(point),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), event)


def test_hover_shows_alternatives_and_clicking_one_branches(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy", max_tokens=12)
    view = window.explore.path_view
    token = view.tokens[2]
    hover(view, 2)
    tip = QToolTip.text()
    assert f"entropy {token.entropy:.2f} nats" in tip
    assert all(f"{2.718281828459045**alt.logprob:.1%}" in tip for alt in token.top[:3])
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.token_rect(2).center())
    menu = QApplication.activePopupWidget()
    assert menu is not None
    first_alternative = next(a for a in token.top if a.token_id != token.token_id)
    action = menu.actions()[0]
    assert shown_token(first_alternative.text) in action.text()
    action.trigger()
    menu.close()
    qtbot.waitUntil(
        lambda: window.explore.worker is None and len(window.explore.session.paths) == 2,
        timeout=60_000,
    )
    branch = window.explore.session.paths[1]
    assert branch.parent_path == 0
    assert window.explore.session.path_tokens(branch)[2].token_id == first_alternative.token_id
    assert branch.node_id in window.explore.tree_view.node_items
    assert window.explore.answers.table.rowCount() == 2


def test_annotate_then_find_the_note_by_search(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy")
    run_and_wait(qtbot, window, strategy="cot-decoding", k=2)
    window.explore.show_path(1)
    window.explore.annotation.note.setText("the quokka step is wrong")
    window.explore.annotation.add()
    sessions = window.sessions
    sessions.refresh()
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 2, timeout=10_000)
    sessions.search.setText("quokka")
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1, timeout=10_000)
    assert sessions.model.session_id(0) == window.explore.session.id


def test_a_new_label_joins_the_label_set(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy")
    panel = window.explore.annotation
    assert panel.add_label("arithmetic slip")
    assert panel.label.currentText() == "arithmetic slip"
    panel.add()
    assert not panel.add_label("   ")  # an empty name is refused with a message
    with Store.open(window.db_path) as store:
        assert "arithmetic slip" in store.labels()
        assert [a.label for a in store.annotations(window.explore.session.id)] == [
            "arithmetic slip"
        ]


def test_dark_and_light_themes(qtbot, window):
    from inspector.ui.shared.theme import THEME_KEY, is_dark

    app = QApplication.instance()
    original = app.palette()
    try:
        run_and_wait(qtbot, window, strategy="cot-decoding", k=2)
        window.set_theme("dark")
        qtbot.waitUntil(
            lambda: is_dark(window.explore.tree_view) and is_dark(window.explore.answers)
        )
        assert window.preferences.value(THEME_KEY) == "dark"
        text = window.palette().color(QPalette.ColorRole.Text)
        labels = [
            item for item in window.explore.tree_view.scene().items() if hasattr(item, "brush")
            and item.brush().color() == text
        ]  # fmt: skip
        assert labels  # the branch labels are drawn in the palette's text colour
        background = window.explore.answers.plot.backgroundBrush().color()
        assert background.lightness() < 128
        window.set_theme("light")
        qtbot.waitUntil(lambda: not is_dark(window.explore.tree_view))
    finally:
        app.setPalette(original)


def test_a_prompt_longer_than_the_context_is_a_message(qtbot, window, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    question = "Count the apples. " * 3000
    run_and_wait(qtbot, window, strategy="greedy", question=question)
    assert warnings and "context" in warnings[0].lower()
    assert window.explore.run_panel.run_button.isEnabled()
    assert window.explore.session is None


def test_a_corrupt_database_is_a_message_and_stays_untouched(qtbot, model_path, tmp_path,
                                                            monkeypatch):  # fmt: skip
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    broken = tmp_path / "sessions.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    before = broken.read_bytes()
    window = MainWindow(str(model_path), broken, preferences(tmp_path))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: bool(warnings), timeout=10_000)
    assert "was not changed" in warnings[0]
    qtbot.waitUntil(lambda: window.models.engine is not None, timeout=20_000)
    window.explore.start_run()
    qtbot.waitUntil(lambda: window.explore.worker is None and len(warnings) == 2, timeout=20_000)
    window.experiments.refresh()
    assert broken.read_bytes() == before
    window.shutdown()


def test_connect_to_a_server_run_and_fall_back_on_failure(
    qtbot, window, llama_server_url, monkeypatch
):
    from inspector.engine.remote import RemoteEngine
    from inspector.ui.model.server_dialog import ServerChoice

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    window.model_actions.connect_server(ServerChoice(llama_server_url, None, "sk-gui-SECRET", 60))
    qtbot.waitUntil(lambda: isinstance(window.models.engine, RemoteEngine), timeout=30_000)
    assert "remote server" in window.model_label.text()
    run_and_wait(qtbot, window, strategy="cot-decoding", k=2, max_tokens=4)
    session = window.explore.session
    assert len(session.paths) == 2 and "@ 127.0.0.1" in session.model["description"]
    assert len(window.explore.tree_view.node_items) > 2
    connected = window.models.engine
    window.model_actions.connect_server(ServerChoice("http://127.0.0.1:9/v1", None, None, 2))
    qtbot.waitUntil(lambda: bool(warnings), timeout=30_000)
    # retried, then one message naming the server and the last error
    assert "could not get an answer from the server at http://127.0.0.1:9/v1" in warnings[0]
    assert "connection refused" in warnings[0]
    assert window.models.engine is connected and window.explore.run_panel.run_button.isEnabled()
    assert b"SECRET" not in window.db_path.read_bytes()


def test_an_entropy_the_server_did_not_report_is_said_so():
    import math

    from inspector.engine import Alternative, TokenRecord
    from inspector.ui.explore.path_view import alternatives_html

    token = TokenRecord(-5, " 5", b" 5", -0.1, math.nan, (Alternative(-5, " 5", -0.1),))
    assert "entropy not reported by the server" in alternatives_html(token)
    assert "nan" not in alternatives_html(token)
