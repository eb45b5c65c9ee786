"""One path as text: every token tinted by its probability, the answer span highlighted.

The header says which rule found the answer and how the path ended, and offers "jump to
answer" (a long path's answer is often far below); an unfinished path (cut by the token limit,
cancelled, or stopped inside its thinking) says so and what that means for its answer. A
``<think>…</think>`` section is folded into one line (click it to read the thinking, still
tinted and hoverable). An answer probe ("So the answer is" and what the model said next) is
shown after the path, apart from its own text, its answer underlined.

A newline is drawn as ⏎ and breaks the line once: a run of newlines (a blank line in the
text) is one break, so a long path is not double spaced. ⎇ marks a token where another path
branches off (or where this one left its parent); annotated steps are overlined and start
with ✎.

Hovering a token shows its top-k alternatives and the entropy there; clicking a path token (or
the context menu's "Branch here") offers to continue a new branch from that position with any
alternative.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator

from PySide6.QtCore import QEvent, QPoint, QRect, Signal
from PySide6.QtGui import QAction, QContextMenuEvent, QMouseEvent, QPalette, QTextCursor
from PySide6.QtWidgets import QMenu, QTextBrowser, QToolTip

from inspector.core.display import fmt, label_words, shown_token
from inspector.core.session import AnswerProbe, ReasoningPath, Session
from inspector.engine.records import TokenRecord
from inspector.ui.explore.path_words import (
    finish_words,
    rule_words,
    thinking_count,
    unfinished_note,
)
from inspector.ui.shared.colors import ANSWER_HIGHLIGHT, INCORRECT, probability_color

ALL_ALTERNATIVES = -1
PATH_TOKEN, PROBE_TOKEN = "tok:", "probe:"  # anchors of a path's tokens and a probe's
FOLD_THINKING = "fold:thinking"  # the anchor that folds or unfolds the thinking section
JUMP_TO_ANSWER = "jump:answer"  # the header's "jump to answer" link
BRANCH_MARK, NOTE_MARK = "⎇", "✎"  # before a branch point, before an annotated step
FORK_MARK = "⑂"  # before a forking token found by a study (Find forking tokens…)
FORK_INK = "#d84315"


def newline_html(text: str, next_text: str) -> str:
    """``text`` escaped, each newline drawn as ⏎; only the last newline of a run (within the
    token or running into ``next_text``, the token after it) breaks the line."""
    out: list[str] = []
    for i, char in enumerate(text):
        if char != "\n":
            out.append(html.escape(char))
            continue
        following = text[i + 1 : i + 2] or next_text[:1]
        out.append("⏎" if following == "\n" else "⏎<br>")
    return "".join(out)


def token_html(
    index: int,
    token: TokenRecord,
    in_answer: bool,
    *,
    scheme: str = PATH_TOKEN,
    underline: bool = False,
    italic: bool = False,
    next_text: str = "",
    annotated: bool = False,
) -> str:
    color = probability_color(math.exp(token.logprob)).name()
    text = newline_html(token.text, next_text) or "&#8203;"
    border = f"border-bottom: 2px solid {ANSWER_HIGHLIGHT.darker(160).name()};" if in_answer else ""
    weight = "font-weight: bold;" if in_answer else ""
    lines = [name for name, on in (("underline", underline), ("overline", annotated)) if on]
    style = (f"text-decoration: {' '.join(lines)};" if lines else "") + (
        "font-style: italic;" if italic else ""
    )
    return (
        f'<a href="{scheme}{index}" style="color: black; text-decoration: none;">'
        f'<span style="background-color: {color}; {border}{weight}{style}">{text}</span></a>'
    )


def mark_html(mark: str, ink: str = "#1565c0") -> str:
    return f"<b style='color: {ink}'>{mark}</b>"


def tokens_html(
    tokens: list[TokenRecord],
    first: int,
    answer: tuple[int, int] | None,
    *,
    branch_points: frozenset[int] = frozenset(),
    annotated: tuple[tuple[int, int], ...] = (),
    forks: frozenset[int] = frozenset(),
) -> str:
    """Path tokens ``first``… with their anchors, the answer's tokens highlighted; ⎇ before a
    branch point, ⑂ before a forking token, annotated steps overlined with ✎ at their start."""
    start, end = answer or (-1, -1)
    starts = {low for low, _high in annotated}
    parts: list[str] = []
    for i, token in enumerate(tokens):
        index = first + i
        if index in branch_points:
            parts.append(mark_html(BRANCH_MARK))
        if index in starts:
            parts.append(mark_html(NOTE_MARK))
        if index in forks:
            parts.append(mark_html(FORK_MARK, FORK_INK))
        following = tokens[i + 1].text if i + 1 < len(tokens) else ""
        noted = any(low <= index < high for low, high in annotated)
        parts.append(
            token_html(index, token, start <= index < end, next_text=following, annotated=noted)
        )
    return "".join(parts)


def probe_html(probe: AnswerProbe) -> str:
    """The probe's tokens: its forced text in italics, then the decoded ones; the probe's
    answer underlined. Anchors ``probe:i`` (hoverable, not branchable: not in the tree)."""
    start, end = probe.answer_tokens or (-1, -1)
    return "".join(
        token_html(
            i,
            t,
            False,
            scheme=PROBE_TOKEN,
            underline=start <= i < end,
            italic=i < probe.n_forced,
            next_text=probe.tokens[i + 1].text if i + 1 < len(probe.tokens) else "",
        )
        for i, t in enumerate(probe.tokens)
    )


def ended_words(path: ReasoningPath, status: str) -> str:
    """ "ended by a stop string"; "still running", or "never ended: the run was interrupted"."""
    words = finish_words(path, status)
    return words if path.finish_reason is None else f"ended by {words}"


def branch_points(session: Session, path: ReasoningPath) -> frozenset[int]:
    """Token positions of ``path`` where another path branches off it, and where it left the
    path it was branched from."""
    points = {
        p.branch_depth
        for p in session.paths
        if p.parent_path == path.id and p.branch_depth is not None
    }
    if path.parent_path is not None and path.branch_depth is not None:
        points.add(path.branch_depth)
    return frozenset(points)


def alternatives_html(token: TokenRecord) -> str:
    rows = "".join(
        f"<tr><td>{'▶' if alt.token_id == token.token_id else ''}</td>"
        f"<td><code>{html.escape(shown_token(alt.text))}</code></td>"
        f"<td align='right'>{math.exp(alt.logprob):.1%}</td></tr>"
        for alt in token.top
    )
    chosen = f"<b>{html.escape(shown_token(token.text))}</b> p = {math.exp(token.logprob):.1%}"
    entropy = (
        "entropy not reported by the server"
        if math.isnan(token.entropy)
        else f"entropy {token.entropy:.2f} nats"
    )
    return f"{chosen}<br>{entropy}<table>{rows}</table>"


STUDY_ACTIONS = (("forks", "Find forking tokens…"), ("steps", "Step importance…"))


class PathView(QTextBrowser):
    branchRequested = Signal(int, int, int)
    studyRequested = Signal(str)  # "forks" or "steps", on the shown path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setMouseTracking(True)
        self.anchorClicked.connect(lambda url: self._on_anchor(url.toString()))
        self.session: Session | None = None
        self.path: ReasoningPath | None = None
        self.tokens: list[TokenRecord] = []
        self.thinking_expanded = False  # folded again whenever another path is shown
        # the shown path's annotated steps (start, end exclusive), set by the page
        self.annotated: tuple[tuple[int, int], ...] = ()
        self.branch_points: frozenset[int] = frozenset()
        # forking tokens of the shown path, set by a study's view (Find forking tokens…)
        self.forks: frozenset[int] = frozenset()

    def set_forks(self, positions: list[int]) -> None:
        """Mark these token positions of the shown path as forks (⑂)."""
        shown = frozenset(positions)
        if shown != self.forks:
            self.forks = shown
            self._redraw()

    def set_annotated(self, ranges: list[tuple[int, int]]) -> None:
        """Overline these token ranges of the shown path (its annotated steps)."""
        shown = tuple(sorted(ranges))
        if shown != self.annotated:
            self.annotated = shown
            self._redraw()

    def _redraw(self) -> None:
        bar = self.verticalScrollBar()
        position = bar.value()
        self.show_path(self.session, self.path)
        bar.setValue(position)

    def show_path(self, session: Session | None, path: ReasoningPath | None) -> None:
        if not self._same_path(session, path):
            self.thinking_expanded = False
            self.annotated = ()
            self.forks = frozenset()
        self.session, self.path = session, path
        self.tokens = session.path_tokens(path) if session and path else []
        if session is None or path is None:
            self.branch_points = frozenset()
            self.setHtml("<p style='color: gray'>Select a path in the tree.</p>")
            return
        self.branch_points = branch_points(session, path)
        prompt = html.escape(session.prompt).replace("\n", "<br>")
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        parts = [self._header_html(path)]
        note = unfinished_note(path, session.settings)
        if note is not None:
            parts.append(f"<p style='color: {INCORRECT.name()}'>⚠ {html.escape(note)}</p>")
        parts.append(f"<p style='color: {muted}'>{prompt}</p>")
        parts.append(self._body_html(path))
        if path.probe is not None:
            parts.append(self._probe_section(path.probe))
        self.setHtml("".join(parts))

    def _same_path(self, session: Session | None, path: ReasoningPath | None) -> bool:
        return (
            session is not None
            and path is not None
            and self.session is not None
            and self.path is not None
            and session.id == self.session.id
            and path.id == self.path.id
        )

    def _header_html(self, path: ReasoningPath) -> str:
        status = self.session.status if self.session is not None else "running"
        thinking = thinking_count(path)
        size = f"{path.n_tokens} tokens" + (f" ({thinking} thinking)" if thinking else "")
        if path.answer is None:
            answer = "no answer"
        else:
            answer = (
                f"answer <b>{html.escape(path.answer)}</b>"
                f" · found by {html.escape(rule_words(path.answer_rule))}"
            )
        delta = f" · Δ = {fmt(path.confidence)}" if path.confidence is not None else ""
        jump = (
            f' · <a href="{JUMP_TO_ANSWER}">↓ jump to answer</a>'
            if path.answer_tokens is not None
            else ""
        )
        marks = []
        if self.branch_points:
            marks.append(f"{BRANCH_MARK} branch point")
        if self.annotated:
            marks.append(f"{NOTE_MARK} annotated step (overlined)")
        if self.forks:
            marks.append(f"{FORK_MARK} forking token ({len(self.forks)} found by a study)")
        legend = f"<br><small>{' · '.join(marks)}</small>" if marks else ""
        return (
            f"<p><b>Path #{path.id}</b> · {html.escape(label_words(path.label))} · {size} · "
            f"log p = {fmt(path.logprob if path.n_tokens else None, 2)} · {answer}{delta}"
            f" · {html.escape(ended_words(path, status))}{jump}{legend}</p>"
        )

    def _tokens_html(self, tokens: list[TokenRecord], first: int) -> str:
        answer = self.path.answer_tokens if self.path is not None else None
        return tokens_html(
            tokens,
            first,
            answer,
            branch_points=self.branch_points,
            annotated=self.annotated,
            forks=self.forks,
        )

    def _body_html(self, path: ReasoningPath) -> str:
        """The path's tokens; a thinking section folded into one line unless expanded."""
        tokens = self.tokens
        if path.thinking_tokens is None:
            return f"<p>{self._tokens_html(tokens, 0)}</p>"
        start, end = path.thinking_tokens
        end = min(end, len(tokens))
        count = end - start
        shade = self.palette().color(QPalette.ColorRole.AlternateBase).name()
        ink = self.palette().color(QPalette.ColorRole.Text).name()
        still = "" if path.thinking_ended else ", never closed"
        if self.thinking_expanded:
            title = f"▾ Thinking · {count} tokens{still} (click to fold)"
        else:
            title = f"▸ Thinking · {count} tokens{still} (click to expand)"
        fold = (
            f'<a href="{FOLD_THINKING}" style="color: {ink}; text-decoration: none;">'
            f"<b>{html.escape(title)}</b></a>"
        )
        inner = (
            f"<br>{self._tokens_html(tokens[start:end], start)}" if self.thinking_expanded else ""
        )
        section = (
            f"<table width='100%' cellpadding='6' cellspacing='0' border='1' "
            f"style='border-style: dashed; border-color: gray; background-color: {shade};'>"
            f"<tr><td>{fold}{inner}</td></tr></table>"
        )
        before = self._tokens_html(tokens[:start], 0)
        after = self._tokens_html(tokens[end:], end)
        return (
            (f"<p>{before}</p>" if before else "") + section + (f"<p>{after}</p>" if after else "")
        )

    def _probe_section(self, probe: AnswerProbe) -> str:
        """The answer probe after the path, apart from its text: what was appended, what the
        model said next, the probe's answer and its Δ."""
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        found = (
            f"answer <b>{html.escape(probe.answer)}</b> (underlined) · Δ = {fmt(probe.confidence)}"
            if probe.answer is not None
            else "no answer in what followed"
        )
        return (
            f"<p style='color: {muted}'><b>Answer probe</b> — "
            f"“{html.escape(probe.text)}” appended after the path (not its own text), "
            f"then decoded greedily: {found}</p>"
            "<table width='100%' cellpadding='6' cellspacing='0' border='1' "
            "style='border-style: dotted; border-color: gray;'>"
            f"<tr><td>{probe_html(probe)}</td></tr></table>"
        )

    def set_thinking_expanded(self, expanded: bool) -> None:
        """Fold or unfold the thinking section of the path shown."""
        self.thinking_expanded = expanded
        self._redraw()

    def jump_to_answer(self) -> bool:
        """Scroll the answer's first token into view (a third of the way down); False when
        the path has no answer. An answer inside the folded thinking unfolds it."""
        path = self.path
        if path is None or path.answer_tokens is None:
            return False
        start = path.answer_tokens[0]
        thinking = path.thinking_tokens
        inside = thinking is not None and thinking[0] <= start < thinking[1]
        if inside and not self.thinking_expanded:
            self.set_thinking_expanded(True)
        rect = self.token_rect(start)
        if rect is None:
            return False
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + rect.top() - self.viewport().height() // 3)
        return True

    def _on_anchor(self, anchor: str) -> None:
        if anchor == FOLD_THINKING:
            self.set_thinking_expanded(not self.thinking_expanded)
        elif anchor == JUMP_TO_ANSWER:
            self.jump_to_answer()
        else:
            self._offer_branch(anchor, None)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "path"):
            self.show_path(self.session, self.path)

    def _token_fragments(self) -> Iterator[tuple[int, int, int]]:
        """(token index, document position, length) of every token's text run."""
        block = self.document().begin()
        while block.isValid():
            iterator = block.begin()
            while not iterator.atEnd():
                fragment = iterator.fragment()
                href = fragment.charFormat().anchorHref()
                if href.startswith(PATH_TOKEN):
                    yield int(href[len(PATH_TOKEN) :]), fragment.position(), fragment.length()
                iterator += 1
            block = block.next()

    def selected_token_range(self) -> tuple[int, int] | None:
        """The tokens (start, end exclusive) the text selection touches, if any."""
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return None
        low, high = cursor.selectionStart(), cursor.selectionEnd()
        touched = [
            i
            for i, start, length in self._token_fragments()
            if start < high and start + length > low
        ]
        return (min(touched), max(touched) + 1) if touched else None

    def token_rect(self, index: int) -> QRect | None:
        """Where token ``index`` is drawn, in viewport coordinates (for hover tests and tours)."""
        for found, start, length in self._token_fragments():
            if found == index:
                cursor = QTextCursor(self.document())
                cursor.setPosition(start)
                first = self.cursorRect(cursor)
                cursor.setPosition(start + length)
                return first.united(self.cursorRect(cursor))
        return None

    def token_at(self, point: QPoint) -> int | None:
        """The index of the path token under ``point`` (probe tokens are not the path's)."""
        anchor = self.anchorAt(point)
        if anchor.startswith(PATH_TOKEN):
            return int(anchor[len(PATH_TOKEN) :])
        return None

    def hovered_token(self, point: QPoint) -> TokenRecord | None:
        """The path or probe token under ``point``, for its tooltip."""
        anchor = self.anchorAt(point)
        for scheme, tokens in (
            (PATH_TOKEN, self.tokens),
            (PROBE_TOKEN, self.path.probe.tokens if self.path and self.path.probe else []),
        ):
            if anchor.startswith(scheme):
                index = int(anchor[len(scheme) :])
                return tokens[index] if index < len(tokens) else None
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        token = self.hovered_token(event.position().toPoint())
        if token is not None:
            QToolTip.showText(event.globalPosition().toPoint(), alternatives_html(token), self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index = self.token_at(event.pos())
        if index is None:
            menu = self.createStandardContextMenu(event.pos())
            self.add_study_actions(menu)
            menu.popup(event.globalPos())
            return
        self._offer_branch(f"{PATH_TOKEN}{index}", event.globalPos())

    def add_study_actions(self, menu: QMenu) -> None:
        """The resampling studies of the shown path (none when no path is shown)."""
        if self.path is None:
            return
        menu.addSeparator()
        for kind, text in STUDY_ACTIONS:
            action = QAction(text, menu)
            action.triggered.connect(lambda _=False, k=kind: self.studyRequested.emit(k))
            menu.addAction(action)

    def branch_menu(self, index: int) -> QMenu:
        menu = QMenu(self)
        token = self.tokens[index]
        for alt in token.top:
            if alt.token_id == token.token_id:
                continue
            label = f"Branch here with {shown_token(alt.text)} ({math.exp(alt.logprob):.1%})"
            action = QAction(label, menu)
            action.triggered.connect(lambda _=False, t=alt.token_id: self._emit(index, t))
            menu.addAction(action)
        menu.addSeparator()
        every = QAction("Branch here with every alternative", menu)
        every.triggered.connect(lambda: self._emit(index, ALL_ALTERNATIVES))
        menu.addAction(every)
        self.add_study_actions(menu)
        return menu

    def _offer_branch(self, anchor: str, where: QPoint | None) -> None:
        if not anchor.startswith(PATH_TOKEN) or self.path is None:
            return
        index = int(anchor[len(PATH_TOKEN) :])
        menu = self.branch_menu(index)
        menu.popup(where or self.cursor().pos())

    def _emit(self, index: int, token_id: int) -> None:
        if self.path is not None:
            self.branchRequested.emit(self.path.id, index, token_id)
