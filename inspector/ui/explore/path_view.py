"""One path as text: every token tinted by its probability, the answer span highlighted.

Hovering a token shows its top-k alternatives and the entropy there; clicking it (or the
context menu's "Branch here") offers to continue a new branch from that position with any
alternative.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator

from PySide6.QtCore import QEvent, QPoint, QRect, Signal
from PySide6.QtGui import QAction, QContextMenuEvent, QMouseEvent, QPalette, QTextCursor
from PySide6.QtWidgets import QMenu, QTextBrowser, QToolTip

from inspector.core.session import ReasoningPath, Session
from inspector.engine.records import TokenRecord
from inspector.ui.shared.colors import ANSWER_HIGHLIGHT, probability_color

ALL_ALTERNATIVES = -1


def token_html(index: int, token: TokenRecord, in_answer: bool) -> str:
    color = probability_color(math.exp(token.logprob)).name()
    text = html.escape(token.text).replace("\n", "⏎<br>") or "&#8203;"
    border = f"border-bottom: 2px solid {ANSWER_HIGHLIGHT.darker(160).name()};" if in_answer else ""
    weight = "font-weight: bold;" if in_answer else ""
    return (
        f'<a href="tok:{index}" style="color: black; text-decoration: none;">'
        f'<span style="background-color: {color}; {border}{weight}">{text}</span></a>'
    )


def alternatives_html(token: TokenRecord) -> str:
    rows = "".join(
        f"<tr><td>{'▶' if alt.token_id == token.token_id else ''}</td>"
        f"<td><code>{html.escape(repr(alt.text))}</code></td>"
        f"<td align='right'>{math.exp(alt.logprob):.1%}</td></tr>"
        for alt in token.top
    )
    chosen = f"<b>{html.escape(repr(token.text))}</b> p = {math.exp(token.logprob):.1%}"
    entropy = (
        "entropy not reported by the server"
        if math.isnan(token.entropy)
        else f"entropy {token.entropy:.2f} nats"
    )
    return f"{chosen}<br>{entropy}<table>{rows}</table>"


class PathView(QTextBrowser):
    branchRequested = Signal(int, int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setMouseTracking(True)
        self.anchorClicked.connect(lambda url: self._offer_branch(url.toString(), None))
        self.session: Session | None = None
        self.path: ReasoningPath | None = None
        self.tokens: list[TokenRecord] = []

    def show_path(self, session: Session | None, path: ReasoningPath | None) -> None:
        self.session, self.path = session, path
        self.tokens = session.path_tokens(path) if session and path else []
        if path is None:
            self.setHtml("<p style='color: gray'>Select a path in the tree.</p>")
            return
        start, end = path.answer_tokens or (-1, -1)
        body = "".join(token_html(i, t, start <= i < end) for i, t in enumerate(self.tokens))
        header = (
            f"<p><b>Path #{path.id}</b> · {html.escape(path.label)} · {path.n_tokens} tokens · "
            f"log p = {path.logprob:.2f} · answer <b>{html.escape(str(path.answer))}</b>"
            + (f" · Δ = {path.confidence:.3f}" if path.confidence is not None else "")
            + f" · {html.escape(str(path.finish_reason))}</p>"
        )
        prompt = html.escape(session.prompt if session else "").replace("\n", "<br>")
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        self.setHtml(f"{header}<p style='color: {muted}'>{prompt}</p><p>{body}</p>")

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
                if href.startswith("tok:"):
                    yield int(href[4:]), fragment.position(), fragment.length()
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
        anchor = self.anchorAt(point)
        if anchor.startswith("tok:"):
            return int(anchor[4:])
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.token_at(event.position().toPoint())
        if index is not None and index < len(self.tokens):
            QToolTip.showText(
                event.globalPosition().toPoint(), alternatives_html(self.tokens[index]), self
            )
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index = self.token_at(event.pos())
        if index is None:
            super().contextMenuEvent(event)
            return
        self._offer_branch(f"tok:{index}", event.globalPos())

    def branch_menu(self, index: int) -> QMenu:
        menu = QMenu(self)
        token = self.tokens[index]
        for alt in token.top:
            if alt.token_id == token.token_id:
                continue
            action = QAction(f"Branch here with {alt.text!r} ({math.exp(alt.logprob):.1%})", menu)
            action.triggered.connect(lambda _=False, t=alt.token_id: self._emit(index, t))
            menu.addAction(action)
        menu.addSeparator()
        every = QAction("Branch here with every alternative", menu)
        every.triggered.connect(lambda: self._emit(index, ALL_ALTERNATIVES))
        menu.addAction(every)
        return menu

    def _offer_branch(self, anchor: str, where: QPoint | None) -> None:
        if not anchor.startswith("tok:") or self.path is None:
            return
        index = int(anchor[4:])
        menu = self.branch_menu(index)
        menu.popup(where or self.cursor().pos())

    def _emit(self, index: int, token_id: int) -> None:
        if self.path is not None:
            self.branchRequested.emit(self.path.id, index, token_id)
