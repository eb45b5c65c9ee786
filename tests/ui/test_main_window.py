"""The main window: load the model off the GUI thread, run, cancel, branch, show errors."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from inspector.ui.explore.path_view import ALL_ALTERNATIVES
from inspector.ui.main_window import MainWindow
from tests.ui.conftest import preferences, run_and_wait


def test_window_shows_the_loaded_model(window):
    assert "gemma3" in window.model_label.text()
    assert window.explore.run_panel.run_button.isEnabled()


def test_a_run_fills_the_tree_the_path_and_the_answers(qtbot, window):
    run_and_wait(qtbot, window, strategy="cot-decoding", k=3)
    session = window.explore.session
    assert session is not None and len(session.paths) == 3
    assert set(window.explore.tree_view.node_items) == set(session.tree.nodes)
    assert window.explore.answers.table.rowCount() == 3
    assert f"Path #{session.paths[0].id}" in window.explore.path_view.toHtml()
    assert window.explore.run_panel.progress.value() == window.explore.run_panel.progress.maximum()


def test_cancel_keeps_what_was_made(qtbot, window):
    panel = window.explore.run_panel
    panel.strategy.setCurrentText("self-consistency")
    panel.samples.setValue(4)
    panel.max_tokens.setValue(400)
    window.explore.start_run()
    qtbot.waitUntil(lambda: panel.progress.value() > 10, timeout=30_000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: window.explore.worker is None, timeout=30_000)
    assert window.explore.session.status == "cancelled"
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_branch_here_adds_paths_to_the_tree(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy")
    before = len(window.explore.session.paths)
    window.explore.path_view.branchRequested.emit(0, 1, ALL_ALTERNATIVES)
    qtbot.waitUntil(lambda: window.explore.worker is None, timeout=60_000)
    assert len(window.explore.session.paths) > before
    assert all(p.parent_path == 0 for p in window.explore.session.paths[before:])


def test_keyboard_moves_through_the_tree(qtbot, window):
    run_and_wait(qtbot, window, strategy="cot-decoding", k=3)
    from PySide6.QtCore import Qt

    from inspector.ui.explore.tree_layout import ordered_children

    view = window.explore.tree_view
    root_children = ordered_children(window.explore.session.tree, 0)  # as they are drawn
    view.current = root_children[0]
    assert view._neighbour(Qt.Key.Key_Down) == root_children[1]
    assert view._neighbour(Qt.Key.Key_Left) == 0


def test_a_bad_model_is_a_message_not_a_crash(qtbot, tmp_path):
    bogus = tmp_path / "bad.gguf"
    bogus.write_text("not a model")
    window = MainWindow(str(bogus), tmp_path / "sessions.db", preferences(tmp_path))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "Could not load" in window.statusBar().currentMessage(), timeout=10_000)
    assert window.models.engine is None
    assert "not a GGUF model file" in window.statusBar().currentMessage()
    assert not window.explore.run_panel.run_button.isEnabled()


def test_runs_are_saved_and_can_be_reopened_deleted_and_restored(qtbot, window):
    run_and_wait(qtbot, window, strategy="cot-decoding", k=2)
    made = window.explore.session
    sessions = window.sessions
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1, timeout=10_000)
    assert sessions.model.session_id(0) == made.id
    window.explore.show_session(None)
    window.explore.open_session(made.id)
    qtbot.waitUntil(lambda: window.explore.session is not None, timeout=10_000)
    assert [p.text for p in window.explore.session.paths] == [p.text for p in made.paths]
    sessions.table.selectRow(0)
    sessions.delete_selected()
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 0, timeout=10_000)
    sessions.undo_delete()
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1, timeout=10_000)


def test_search_filters_the_session_list(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy")
    sessions = window.sessions
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1, timeout=10_000)
    sessions.search.setText("zebra")
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 0, timeout=10_000)
    sessions.search.setText("apples")
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1, timeout=10_000)


def test_a_failed_model_switch_keeps_the_previous_model(qtbot, window, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    previous = window.models.engine
    bogus = tmp_path / "broken.gguf"
    bogus.write_bytes(b"GGUF" + b"\x00" * 12)
    window.model_actions.choose_model(str(bogus))
    qtbot.waitUntil(lambda: bool(warnings), timeout=10_000)
    assert window.models.engine is previous and window.explore.run_panel.run_button.isEnabled()
    assert "broken.gguf" in warnings[0] and "previous model stays" in warnings[0]


def test_model_choice_and_settings_persist(qtbot, window, model_path, tmp_path):
    from inspector.engine import ModelSettings
    from inspector.ui.model.dialogs import MODEL_KEY, load_model_settings, save_model_settings

    assert window.preferences.value(MODEL_KEY) == str(model_path)
    save_model_settings(window.preferences, ModelSettings(n_ctx=2048, n_threads=1))
    again = load_model_settings(preferences(tmp_path))
    assert (again.n_ctx, again.n_threads) == (2048, 1)
    reopened = MainWindow(None, tmp_path / "sessions.db", preferences(tmp_path))
    qtbot.addWidget(reopened)
    qtbot.waitUntil(lambda: reopened.models.engine is not None, timeout=20_000)
    assert (
        reopened.models.engine.n_ctx == 2048
        and reopened.models.engine.runtime.settings.n_threads == 1
    )
    reopened.shutdown()


def test_export_the_shown_session_as_html(qtbot, window, tmp_path):
    from inspector.ui.shared.export_actions import export_session

    run_and_wait(qtbot, window, strategy="cot-decoding", k=2)
    out = tmp_path / "report.html"
    message = export_session(window.db_path, window.explore.session.id, out, "html")
    assert message.startswith("Exported to")
    html = out.read_text(encoding="utf-8")
    assert "data:image/png;base64," in html  # the vote plot, rendered by pyqtgraph
    assert "apples" in html


def test_annotate_a_path_and_a_selected_step(qtbot, window):
    from PySide6.QtGui import QTextCursor

    from inspector.store import Store

    run_and_wait(qtbot, window, strategy="cot-decoding", k=2, max_tokens=12)
    window.explore.show_path(1)
    panel = window.explore.annotation
    assert panel.path_id == 1
    panel.label.setCurrentText("lucky guess")
    panel.note.setText("right answer, <b>no</b> reasoning")
    panel.tags.setText("apples, demo")
    panel.add()
    view = window.explore.path_view
    cursor = view.textCursor()
    end = view.document().characterCount() - 1
    cursor.setPosition(end - 3)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    view.setTextCursor(cursor)  # selects the last tokens: the step target follows
    assert panel.token_range is not None and panel.token_range[1] == len(view.tokens)
    panel.label.setCurrentText("flawed reasoning")
    panel.add()
    with Store.open(window.db_path) as store:
        notes = store.annotations(window.explore.session.id, 1)
    assert [n.label for n in notes] == ["lucky guess", "flawed reasoning"]
    assert notes[0].tags == ("apples", "demo") and notes[0].token_start is None
    assert notes[1].token_end == len(view.tokens)
    assert "&lt;b&gt;no&lt;/b&gt;" in panel.existing.text()  # user text is escaped
    assert window.explore.tree_view.annotated == {1}


def test_title_icons_help_and_about(qtbot, window):
    from inspector.ui.shared.help_dialogs import ICONS, about_html, icon, shortcuts_html

    assert window.windowTitle() == f"Reasoning Inspector — {window.models.info.description}"
    run_and_wait(qtbot, window, strategy="greedy")
    assert window.windowTitle().startswith("Reasoning Inspector — I have 3 apples")
    assert "tokens/s" in window.model_label.text()
    for svg in ICONS.glob("*.svg"):
        assert not icon(svg.stem).isNull()
    from PySide6.QtWidgets import QToolBar

    assert len(window.findChild(QToolBar, "view").actions()) == 5
    assert "Ctrl+Enter" in shortcuts_html() and "&lt;" not in shortcuts_html()
    assert "Gemma Terms of Use" in about_html("<b>m</b>") and "&lt;b&gt;m" in about_html("<b>m</b>")


def test_compare_two_saved_sessions(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy")
    run_and_wait(qtbot, window, strategy="cot-decoding", k=3)
    sessions = window.sessions
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 2, timeout=10_000)
    sessions.table.selectAll()
    sessions.compare_selected()
    qtbot.waitUntil(lambda: getattr(window, "compare_dialog", None) is not None, timeout=10_000)
    dialog = window.compare_dialog
    rows = sorted(panel.table.rowCount() for panel in dialog.panels)
    assert rows == [1, 3]
    assert dialog.windowTitle() == "Compare sessions"
    dialog.close()


def test_filters_by_label_and_tag_and_rerun_with_other_settings(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy", gold="8")
    window.explore.show_path(0)
    window.explore.annotation.label.setCurrentText("unclear")
    window.explore.annotation.tags.setText("check-later")
    window.explore.annotation.add()
    run_and_wait(qtbot, window, strategy="cot-decoding", k=2)
    sessions = window.sessions
    sessions.refresh()
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 2, timeout=10_000)
    sessions.tag_filter.setText("check-later")
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1, timeout=10_000)
    assert sessions.model.rows[0].strategy == "greedy"
    sessions.tag_filter.clear()
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 2, timeout=10_000)
    sessions.label_filter.setCurrentText("unclear")
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 1, timeout=10_000)
    sessions.label_filter.setCurrentIndex(0)
    sessions.model_filter.setText("no such model")
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 0, timeout=10_000)
    sessions.model_filter.setText("gemma3")
    qtbot.waitUntil(lambda: sessions.model.rowCount() == 2, timeout=10_000)
    greedy_row = next(i for i, r in enumerate(sessions.model.rows) if r.strategy == "greedy")
    window.explore.run_panel.question.setPlainText("something else")
    sessions.table.selectRow(greedy_row)
    sessions.rerun_selected()
    panel = window.explore.run_panel
    qtbot.waitUntil(
        lambda: panel.question.toPlainText().startswith("I have 3 apples"), timeout=10_000
    )
    assert panel.strategy.currentText() == "greedy" and panel.gold.text() == "8"


# -- issue 13: the window as used every day ----------------------------------------------------
def test_the_window_opens_within_the_screen_with_its_status_bar(qtbot, window):
    available = window.available_geometry()
    qtbot.waitUntil(lambda: available.contains(window.frameGeometry()))
    bar = window.statusBar()
    assert bar.isVisible() and window.rect().contains(bar.geometry())


def panes_on_screen(window) -> list:
    explore, answers = window.explore, window.explore.answers
    widgets = [
        explore.run_panel.question, explore.run_panel.settings, explore.run_panel.run_button,
        explore.tree_view, explore.legend, explore.path_view, explore.annotation,
        answers.plot, answers.summary_area, answers.table, window.sessions.table,
    ]  # fmt: skip
    return [w for w in widgets if w.isVisible()]


def assert_nothing_overlaps(window) -> None:
    from PySide6.QtCore import QRect

    rects = []
    for widget in panes_on_screen(window):
        top_left = widget.mapTo(window, widget.rect().topLeft())
        rect = QRect(top_left, widget.size())
        assert window.rect().contains(rect), f"{type(widget).__name__} is outside the window"
        # the least a layout gives it: its set minimum, else its minimum size hint
        least = widget.minimumHeight() or widget.minimumSizeHint().height()
        assert widget.height() >= least, f"{type(widget).__name__} squeezed"
        rects.append((widget, rect))
    for i, (first, a) in enumerate(rects):
        for second, b in rects[i + 1 :]:
            assert not a.intersects(b), f"{type(first).__name__} overlaps {type(second).__name__}"


def test_nothing_overlaps_from_1024x700_up(qtbot, window):
    run_and_wait(qtbot, window, strategy="cot-decoding", k=3)
    for width, height in ((1024, 700), (1366, 768), (1920, 1080)):
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width, h=height: window.size().toTuple() == (w, h))
        qtbot.wait(50)  # let the layouts settle at the new size (no assertion on time)
        assert_nothing_overlaps(window)
        panes = window.explore.panes
        assert panes.stacked == (panes.height() < panes.split_height() + 40 * panes.stacked)
    assert not window.explore.panes.stacked  # 1920×1080: the path above the answers


def test_size_splitters_and_run_settings_are_kept_between_launches(qtbot, window, tmp_path):
    panel = window.explore.run_panel
    panel.strategy.setCurrentText("greedy")
    panel.strategy.setCurrentText("cot-decoding")  # the default: chosen again, to be sure
    panel.k.setValue(4)
    panel.prompt.setCurrentText("zero-shot-cot")
    panel.settings.seed.setValue(77)
    window.resize(780, 620)  # within the offscreen screen (800×800)
    qtbot.waitUntil(lambda: window.size().toTuple() == (780, 620))
    page = window.pages.currentWidget()  # the scroll area: the page laid out at its width
    qtbot.waitUntil(lambda: window.explore.body.width() == page.viewport().width())
    window.explore.body.setSizes([320, 460])
    body = window.explore.body.sizes()
    assert body[0] < body[1]
    window.close()
    again = MainWindow(None, tmp_path / "sessions.db", preferences(tmp_path))
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.models.engine is not None, timeout=20_000)
    try:
        settings = again.explore.run_panel.settings.values()
        assert (settings.strategy, settings.k, settings.seed) == ("cot-decoding", 4, 77)
        assert settings.prompt_style == "zero-shot-cot"
        assert again.explore.run_panel.settings.shown_settings() == ["k"]
        assert again.size().toTuple() == (780, 620)
        # the tree's share of the width as it was left (the default is a half)
        share = body[0] / sum(body)
        assert share < 0.45
        qtbot.waitUntil(
            lambda: (
                abs(again.explore.body.sizes()[0] / sum(again.explore.body.sizes()) - share) < 0.01
            )
        )
    finally:
        again.shutdown()


def test_quit_is_in_the_file_menu_with_ctrl_q(qtbot, window):
    from PySide6.QtGui import QKeySequence

    sessions = window.sessions_dock.toggleViewAction()  # View ▸ Sessions list, Ctrl+3
    assert sessions.shortcut() == QKeySequence("Ctrl+3") and window.sessions_dock.isVisible()
    sessions.trigger()
    assert not window.sessions_dock.isVisible()
    sessions.trigger()
    assert window.sessions_dock.isVisible()
    quit_action = next(a for a in window.findChildren(QAction) if a.text() == "&Quit")
    assert quit_action.shortcut() == QKeySequence("Ctrl+Q")
    quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_closing_during_a_run_asks_then_keeps_it_as_cancelled(qtbot, window, monkeypatch):
    from inspector.store import Store

    asked: list[str] = []
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Close]
    monkeypatch.setattr(
        QMessageBox, "question", lambda _p, _t, text, *_a: (asked.append(text), answers.pop(0))[1]
    )
    panel = window.explore.run_panel
    panel.strategy.setCurrentText("self-consistency")
    panel.samples.setValue(3)
    panel.max_tokens.setValue(400)
    window.explore.start_run()
    qtbot.waitUntil(lambda: panel.progress.value() > 5, timeout=30_000)
    window.close()  # answered Cancel: the run goes on
    assert window.isVisible() and window.explore.running
    assert "kept as a cancelled session" in asked[0]
    window.close()  # answered Close: stopped at once, kept as cancelled
    assert not window.isVisible() and window.explore.worker.cancel_token.cancelled
    with Store.open(window.db_path) as store:
        rows = store.list_sessions()
    assert [r.status for r in rows] == ["cancelled"]


def test_opening_a_session_fills_the_editor_and_a_run_grows_live(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy", question="How many legs has a cat?")
    made = window.explore.session
    panel = window.explore.run_panel
    panel.question.setPlainText("something else")
    panel.strategy.setCurrentText("cot-decoding")
    panel.gold.setText("")
    window.explore.show_session(None)
    window.explore.open_session(made.id)
    qtbot.waitUntil(lambda: window.explore.session is not None, timeout=10_000)
    assert panel.question.toPlainText() == "How many legs has a cat?"
    assert panel.strategy.currentText() == "greedy" and panel.gold.text() == "8"
    assert panel.max_tokens.value() == made.settings.max_tokens
    # a new run: the previous session leaves the view, the tree grows as the branches stream
    panel.strategy.setCurrentText("cot-decoding")
    panel.k.setValue(3)
    panel.max_tokens.setValue(60)
    window.explore.start_run()
    view = window.explore.tree_view
    assert window.explore.session is None and view.session is None
    assert "Running" in window.explore.answers.summary.text()
    qtbot.waitUntil(lambda: len(view.live_items) == 3, timeout=30_000)
    qtbot.waitUntil(
        lambda: (
            window.explore.worker is None
            or any(count > 1 for _text, count in view.live_branches.values())
        ),
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: window.explore.worker is None, timeout=60_000)
    assert view.live_items == {} and len(window.explore.session.paths) == 3


def test_after_branch_here_the_new_branch_is_shown(qtbot, window):
    run_and_wait(qtbot, window, strategy="greedy", max_tokens=12)
    window.explore.path_view.branchRequested.emit(0, 2, ALL_ALTERNATIVES)
    view = window.explore.path_view
    assert view.path is not None and view.path.id == 0  # the branched path stays in view
    qtbot.waitUntil(lambda: window.explore.worker is None, timeout=60_000)
    session = window.explore.session
    shown = view.path
    assert shown.id == 1 and shown.parent_path == 0 and shown.branch_depth == 2
    assert window.explore.tree_view.current == shown.node_id
    window.explore.show_path(0)
    assert view.branch_points == frozenset({2}) and "⎇" in view.document().toPlainText()
    assert len(session.paths) > 1


def test_the_focus_ring_is_drawn_in_the_highlight_colour(qtbot, window):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette

    button = window.explore.run_panel.run_button
    highlight = button.palette().color(QPalette.ColorRole.Highlight)

    def ring_pixels() -> int:
        image = button.grab().toImage()
        return sum(
            1
            for x in range(image.width())
            for y in (1, image.height() // 2, image.height() - 2)
            if image.pixelColor(x, y) == highlight
        )

    window.activateWindow()
    panel_question = window.explore.run_panel.question
    panel_question.setFocus()
    qtbot.waitUntil(panel_question.hasFocus)
    without = ring_pixels()
    button.setFocus(Qt.FocusReason.TabFocusReason)  # reached by Tab, as a keyboard user does
    qtbot.waitUntil(button.hasFocus)
    assert ring_pixels() > without + button.width() // 2
    tree = window.explore.tree_view  # a view: the ring around its frame, both pixels wide
    tree.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(tree.hasFocus)
    image = tree.grab().toImage()
    middle = image.height() // 2
    assert image.pixelColor(0, middle) == highlight == image.pixelColor(1, middle)


def test_a_kept_size_larger_than_this_screen_is_fitted_to_it(qtbot, window, tmp_path):
    window.resize(2400, 1600)  # as on a bigger screen last time
    qtbot.waitUntil(lambda: window.width() == 2400)
    window.close()
    again = MainWindow(None, tmp_path / "sessions.db", preferences(tmp_path))
    qtbot.addWidget(again)
    again.show()
    try:
        available = again.available_geometry()
        qtbot.waitUntil(lambda: available.contains(again.frameGeometry()))
        assert again.statusBar().isVisible()
    finally:
        again.shutdown()


def test_the_working_panes_get_their_room_by_default(qtbot, window):
    run_and_wait(qtbot, window, strategy="cot-decoding", k=5)
    explore = window.explore
    line = explore.path_view.fontMetrics().lineSpacing()
    assert explore.path_view.viewport().height() >= 8 * line
    rows = window.sessions.table.verticalHeader().defaultSectionSize()
    assert window.sessions.table.viewport().height() >= 3 * rows
    explore.panes.show_answers()
    table = explore.answers.table
    qtbot.waitUntil(table.isVisible)
    assert table.viewport().height() >= 3 * table.verticalHeader().defaultSectionSize()
    assert explore.tree_view.height() > explore.run_panel.height()  # the tree, not the editor


def test_a_failed_run_shows_again_what_was_shown_before(qtbot, window, monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: None)
    run_and_wait(qtbot, window, strategy="greedy")
    before = window.explore.session
    run_and_wait(qtbot, window, strategy="greedy", question="Count the apples. " * 3000)
    assert "Failed" in window.statusBar().currentMessage()
    assert window.explore.session is before
    assert set(window.explore.tree_view.node_items) == set(before.tree.nodes)
    assert window.explore.answers.session is before


def test_a_geometry_set_before_the_first_show_is_kept(qtbot, model_path, tmp_path):
    window = MainWindow(str(model_path), tmp_path / "sessions.db", preferences(tmp_path))
    qtbot.addWidget(window)
    window.setGeometry(10, 10, 700, 500)  # as the screenshot script sets its size
    window.show()
    try:
        qtbot.waitUntil(lambda: window.models.engine is not None, timeout=20_000)
        assert window.geometry().size().toTuple() == (700, 500)
    finally:
        window.shutdown()
