"""A table model of saved sessions (a real QAbstractTableModel, checked with qtmodeltester).

The Status column says whether a run completed, was cancelled, or was interrupted (the app
stopped during it); a session without an answer says "no answer".
"""

from __future__ import annotations

from inspector.store.rows import SessionRow
from inspector.ui.shared.record_table import RecordTableModel, mark, one_line

STATUS_TIPS = {
    "complete": "the run ended: every path finished or was cut by its limits",
    "cancelled": "the run was cancelled: the paths made so far are kept",
    "interrupted": "the app stopped during the run: the paths saved so far are kept",
    "running": "the run is still in progress",
}


class SessionsTableModel(RecordTableModel):
    """``studies`` counts each session's resampling studies (the Studies column)."""

    columns = (
        ("title", "Session"),
        ("question", "Question"),
        ("strategy", "Strategy"),
        ("status", "Status"),
        ("prompt_style", "Prompt"),
        ("chosen_answer", "Answer"),
        ("correct", "Correct"),
        ("consistency", "Consistency"),
        ("n_paths", "Paths"),
        ("n_studies", "Studies"),
        ("model", "Model"),
        ("created", "Created"),
    )

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.studies: dict[str, int] = {}

    def display(self, record: SessionRow, key: str) -> str:
        if key == "n_studies":
            count = self.studies.get(record.id, 0)
            return str(count) if count else ""
        value = getattr(record, key)
        if key == "chosen_answer":
            return "no answer" if value is None else str(value)
        if key == "correct":
            return mark(value)
        if key == "consistency":
            return "" if value is None else f"{value:.2f}"
        if key == "created":
            return value[:16].replace("T", " ")
        if key == "title":
            return value or record.question[:40]
        if key == "question":
            return one_line(value)
        return super().display(record, key)

    def tooltip(self, record: SessionRow, key: str) -> str | None:
        if key == "status":
            return STATUS_TIPS.get(record.status)
        if key == "n_studies" and self.studies.get(record.id):
            return "resampling studies of its paths (Studies… opens them)"
        return record.question if key in ("question", "title") else None

    def column(self, key: str) -> int:
        """The column showing ``key`` (a SessionRow field)."""
        return [name for name, _title in self.columns].index(key)

    def session_id(self, row: int) -> str | None:
        return self.id_at(row)
