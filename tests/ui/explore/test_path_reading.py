"""Reading a long path (issue 13): newlines break the line once (no double spacing), "jump to
answer" scrolls the answer into view, branch points and annotated steps are marked, and a
CoT-decoding label names its first token in words, not as a Python repr."""

from __future__ import annotations

from inspector.core.display import label_words, token_words
from inspector.engine.records import GeneratedSequence
from inspector.ui.explore.path_view import BRANCH_MARK, NOTE_MARK, PathView, newline_html
from tests.ui.explore.recorded import add, new_session, tokens


def shown(qtbot, session, path_id: int = 0, height: int = 300) -> PathView:
    view = PathView()
    qtbot.addWidget(view)
    view.resize(500, height)
    view.show()
    view.show_path(session, session.paths[path_id])
    return view


def test_a_run_of_newlines_breaks_the_line_once():
    assert newline_html("a\n", "b") == "a⏎<br>"
    assert newline_html("\n", "\n") == "⏎"  # the next token goes on breaking
    assert newline_html("\n\n", " x") == "⏎⏎<br>"
    assert newline_html("<b>", "") == "&lt;b&gt;"


def test_a_long_path_is_not_double_spaced(qtbot):
    lines = []
    for i in range(40):
        lines += [f" step {i}", "\n", "\n"]  # a blank line after every step, token by token
    session = new_session("greedy")
    add(session, tokens(*lines, " \\boxed{8}"), label="greedy")
    view = shown(qtbot, session)
    text = view.document().toPlainText()
    body = text[text.index("step 0") :]
    # 40 steps, each on one line with its two ⏎: no line that holds only a newline glyph
    assert body.count("\u2028") + body.count("\n") <= 41
    assert all(line.strip() != "⏎" for line in body.replace("\u2028", "\n").split("\n"))


def test_jump_to_answer_scrolls_the_answer_into_view(qtbot):
    session = new_session("greedy")
    add(session, tokens(*[f" line {i}\n" for i in range(120)], " \\boxed{8}"), label="greedy")
    view = shown(qtbot, session, height=200)
    assert "jump to answer" in view.toHtml()
    start = session.paths[0].answer_tokens[0]
    assert not view.viewport().rect().contains(view.token_rect(start).center())
    assert view.jump_to_answer()
    assert view.verticalScrollBar().value() > 0
    assert view.viewport().rect().contains(view.token_rect(start).center())


def test_a_path_without_an_answer_offers_no_jump(qtbot):
    session = new_session("greedy")
    add(session, tokens(" no", " idea"), finish="length", label="greedy")
    view = shown(qtbot, session)
    assert "jump to answer" not in view.toHtml()
    assert not view.jump_to_answer()


def branched_session():
    session = new_session("greedy")
    root_path = add(session, tokens(" He", " has", " 3", " +", " 5", " = 8."), label="greedy")
    branch = GeneratedSequence(branch=0, tokens=tokens(" 6", " = 9."), finish_reason="eos")
    session.add_path(
        branch, "branch", "branch at 2 of path 0", start_node=session.boundary_node(root_path, 2),
        parent_path=0, branch_depth=2,
    )  # fmt: skip
    return session


def test_branch_points_and_annotated_steps_are_marked(qtbot):
    session = branched_session()
    view = shown(qtbot, session)
    assert view.branch_points == frozenset({2})
    text = view.document().toPlainText()
    assert f"He has{BRANCH_MARK} 3" in text
    assert "branch point" in text
    view.set_annotated([(3, 5)])
    text = view.document().toPlainText()
    assert f"{NOTE_MARK} +" in text and "annotated step" in text
    for index in (3, 4):  # the annotated tokens are overlined, the others not
        assert view.cursorForPosition(view.token_rect(index).center()).charFormat().fontOverline()
    for index in (1, 5):
        rect = view.token_rect(index)
        assert not view.cursorForPosition(rect.center()).charFormat().fontOverline()
    # the branch shows where it left its parent
    child = shown(qtbot, session, 1)
    assert child.branch_points == frozenset({2})


def test_first_token_labels_in_words():
    assert label_words("first token #1 ' '") == "first token #1: space"
    assert label_words("first token #2 ' The'") == "first token #2: “␣The”"
    assert label_words("first token #3 '\\n'") == "first token #3: newline"
    assert label_words("first token #4 '  '") == "first token #4: 2 spaces"
    assert label_words("sample 3") == "sample 3"
    assert token_words("\t") == "tab" and token_words("") == "(empty)"


def test_the_path_header_shows_no_repr(qtbot):
    session = new_session()
    add(session, tokens(" ", " 8"), label="first token #1 ' '")
    view = shown(qtbot, session)
    header = view.document().toPlainText().split("\n")[0]
    assert "first token #1: space" in header and "' '" not in header
