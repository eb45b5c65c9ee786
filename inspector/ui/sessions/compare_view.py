"""Two sessions side by side: strategy, prompt, answers, votes and confidence."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from inspector.core.session import Session
from inspector.ui.explore.answers_panel import AnswersPanel


def session_header(session: Session) -> str:
    settings = session.settings
    detail = {
        "cot-decoding": f"k = {settings.k}",
        "self-consistency": f"{settings.samples} samples, T = {settings.temperature}",
    }.get(settings.strategy, "")
    return (
        f"<b>{html.escape(session.title or session.question[:60])}</b><br>"
        f"{html.escape(settings.strategy)} {html.escape(detail)} · prompt "
        f"{html.escape(settings.prompt_style)} · {len(session.paths)} paths · "
        f"{html.escape(str(session.model.get('description', '')))}"
    )


class CompareDialog(QDialog):
    def __init__(self, left: Session, right: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare sessions")
        self.resize(1200, 700)
        self.panels: list[AnswersPanel] = []
        layout = QHBoxLayout(self)
        for session in (left, right):
            column = QVBoxLayout()
            header = QLabel(session_header(session))
            header.setTextFormat(Qt.TextFormat.RichText)
            header.setWordWrap(True)
            column.addWidget(header)
            panel = AnswersPanel()
            panel.show_session(session)
            column.addWidget(panel, 1)
            self.panels.append(panel)
            layout.addLayout(column, 1)
        if left.question.strip() != right.question.strip():
            self.setWindowTitle("Compare sessions (different questions)")
