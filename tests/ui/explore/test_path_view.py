"""The path view on recorded paths: the folded thinking section, the rule that found the
answer, the answer probe shown apart, unfinished paths marked."""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor

from inspector.ui.explore.path_view import FOLD_THINKING, PROBE_TOKEN, PathView
from inspector.ui.shared.colors import probability_color
from tests.ui.explore.recorded import THINKING, mixed_session, thinking_session


def shown(qtbot, session, path_id: int = 0) -> PathView:
    view = PathView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    view.show_path(session, session.paths[path_id])
    return view


def anchor_fragments(view: PathView, prefix: str):
    """(href, position, length, char format) of each anchored text run starting with prefix."""
    block = view.document().begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            href = fragment.charFormat().anchorHref()
            if href.startswith(prefix):
                yield href, fragment.position(), fragment.length(), fragment.charFormat()
            iterator += 1
        block = block.next()


def anchor_point(view: PathView, prefix: str) -> QPoint:
    _href, position, length, _format = next(anchor_fragments(view, prefix))
    cursor = QTextCursor(view.document())
    cursor.setPosition(position + length // 2)
    return view.cursorRect(cursor).center()


def test_thinking_is_folded_into_one_line_and_expands_on_click(qtbot):
    session = thinking_session()
    path = session.paths[0]
    assert path.thinking_tokens == (0, len(THINKING))
    view = shown(qtbot, session)
    text = view.toPlainText()
    assert f"Thinking · {len(THINKING)} tokens (click to expand)" in text
    assert " plus" not in text and view.token_rect(2) is None  # folded: not in the document
    assert view.token_rect(len(THINKING) + 3) is not None  # the reply is there
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=anchor_point(view, FOLD_THINKING)
    )
    assert view.thinking_expanded
    text = view.toPlainText()
    assert "(click to fold)" in text and " plus" in text
    # the thinking tokens are still tinted by their probability and hoverable
    rect = view.token_rect(2)
    assert rect is not None
    assert view.hovered_token(rect.center()) is session.path_tokens(path)[2]
    _href, _pos, _len, fmt = next(f for f in anchor_fragments(view, "tok:2") if f[0] == "tok:2")
    expected = probability_color(math.exp(session.path_tokens(path)[2].logprob)).name()
    assert fmt.background().color().name() == expected
    # another path (or the same one shown again from elsewhere) starts folded
    view.show_path(session, path)
    assert view.thinking_expanded  # the same path: kept
    other = mixed_session()
    view.show_path(other, other.paths[0])
    assert not view.thinking_expanded and "(click to expand)" in view.toPlainText()


def test_header_says_which_rule_found_the_answer(qtbot):
    session = mixed_session()
    view = shown(qtbot, session, 0)
    assert "answer 8 · found by \\boxed" in view.toPlainText()
    view.show_path(session, session.paths[1])
    assert "answer 7 · found by its last number" in view.toPlainText()
    assert "ended by end of sequence" in view.toPlainText()
    view.show_path(session, session.paths[4])
    assert "answer 8 · found by the answer probe" in view.toPlainText()


def test_an_unfinished_path_is_marked_and_has_no_answer_from_its_last_number(qtbot):
    session = mixed_session()
    view = shown(qtbot, session, 2)
    text = view.toPlainText()
    assert session.paths[2].answer is None
    assert "no answer" in text and "ended by the token limit" in text
    assert "stopped at the 16-token limit — unfinished: no answer from its last number" in text
    view.show_path(session, session.paths[3])
    text = view.toPlainText()
    assert "inside its thinking — unfinished" in text
    assert "Thinking · 3 tokens, never closed" in text
    view.show_path(session, session.paths[1])
    assert "unfinished" not in view.toPlainText()


def test_the_probe_is_shown_apart_tinted_hoverable_and_its_answer_underlined(qtbot):
    session = mixed_session()
    path = session.paths[4]
    probe = path.probe
    assert probe is not None and probe.answer == "8" and probe.answer_tokens == (4, 5)
    view = shown(qtbot, session, 4)
    text = view.toPlainText()
    path_text, _, probe_part = text.partition("Answer probe")
    assert "Some apples." in path_text and "So the answer is" not in path_text
    assert "appended after the path (not its own text)" in probe_part
    assert f"Δ = {probe.confidence:.3f}" in probe_part
    runs = {href: fmt for href, _p, _l, fmt in anchor_fragments(view, PROBE_TOKEN)}
    assert set(runs) == {f"{PROBE_TOKEN}{i}" for i in range(len(probe.tokens))}
    assert runs[f"{PROBE_TOKEN}4"].fontUnderline()  # the probe's answer
    assert not runs[f"{PROBE_TOKEN}5"].fontUnderline()
    assert runs[f"{PROBE_TOKEN}0"].fontItalic() and not runs[f"{PROBE_TOKEN}4"].fontItalic()
    tint = probability_color(math.exp(probe.tokens[4].logprob)).name()
    assert runs[f"{PROBE_TOKEN}4"].background().color().name() == tint
    # hovering a probe token gives that token (its alternatives in the tooltip)
    point = anchor_point(view, f"{PROBE_TOKEN}4")
    assert view.hovered_token(point) is probe.tokens[4]
    assert view.token_at(point) is None  # not a path token: no branch from the probe


def test_no_python_none_nan_or_repr_in_the_path_view(qtbot):
    session = mixed_session()
    view = shown(qtbot, session)
    for path in session.paths:
        view.show_path(session, path)
        text = view.toPlainText()
        assert "None" not in text and "nan" not in text.split()
