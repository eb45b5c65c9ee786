"""Table models of the experiments list and of one experiment's results."""

from __future__ import annotations

from inspector.store.rows import ExperimentResult, ExperimentRow
from inspector.ui.shared.record_table import RecordTableModel, mark, one_line


class ExperimentsTableModel(RecordTableModel):
    columns = (  # how far and how well first: the list's pane is narrow
        ("name", "Experiment"),
        ("done", "Done"),
        ("accuracy", "Accuracy"),
        ("status", "Status"),
        ("strategy", "Strategy"),
        ("prompt_style", "Prompt"),
        ("model", "Model"),
        ("created", "Created"),
    )

    def column_of(self, key: str) -> int:
        return [name for name, _ in self.columns].index(key)

    def display(self, record: ExperimentRow, key: str) -> str:
        if key == "done":  # of the questions asked for (a limit), not of the whole data set
            return f"{record.done} / {record.target}"
        if key == "accuracy":
            return "" if record.accuracy is None else f"{record.accuracy:.3f}"
        if key == "created":
            return record.created[:16].replace("T", " ")
        return super().display(record, key)

    def tooltip(self, record: ExperimentRow, key: str) -> str | None:
        asked = (
            "all of them"
            if record.asked is None or record.asked >= record.n_questions
            else f"the first {record.asked}"
        )
        return (
            f"{record.name}\ndata set: {record.dataset} ({record.n_questions} questions; "
            f"asked for {asked})\n{record.done} done"
        )


class ExperimentResultsModel(RecordTableModel):
    columns = (
        ("question_index", "#"),
        ("question", "Question"),
        ("gold", "Gold"),
        ("chosen_answer", "Chosen"),
        ("correct", "Correct"),
        ("consistency", "Consistency"),
    )

    def display(self, record: ExperimentResult, key: str) -> str:
        if key == "question_index":
            return str(record.question_index + 1)
        if key == "question":
            return one_line(record.question)
        if key == "correct":
            return mark(record.correct)
        if key == "consistency":
            return "" if record.consistency is None else f"{record.consistency:.2f}"
        return super().display(record, key)

    def tooltip(self, record: ExperimentResult, key: str) -> str | None:
        return record.question if key == "question" else None

    def record_id(self, record: ExperimentResult) -> str:
        return record.session_id
