"""A study's own window: its progress while it runs, then what it found.

Forking tokens: the forking plot; click a position for its o(t, w) table (a row per token
studied there: p, n, the answers of its continuations) and the continuations' texts. Step
importance: the step table with its bars. While the study runs the window shows how far it
is and the time left, with Cancel (what was sampled stays saved); a stopped study offers
Resume (the same settings: only what is missing is sampled). The results shown are reloaded
from the database every few seconds while it runs.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.session import Session
from inspector.core.studies import Study, StudySample, plan_study
from inspector.core.study_views import (
    ForkPlotData,
    answer_label,
    distribution_words,
    fork_plot_data,
    settings_words,
    step_view,
    study_title,
)
from inspector.service.studies import StudyProgress
from inspector.ui.studies.fork_plot import ForkPlot
from inspector.ui.studies.runner import progress_words
from inspector.ui.studies.step_view import StepImportanceView
from inspector.ui.studies.table_models import ContinuationModel, TokenOutcomeModel

STATUS_WORDS = {
    "running": "running",
    "complete": "complete",
    "cancelled": "cancelled — Resume samples what is missing",
    "interrupted": "interrupted (the app stopped) — Resume samples what is missing",
}
OPEN_HINT = (
    "Select continuations (or a token on the left for all of its own) and open them in the "
    "tree: each becomes a branch of the path, re-scored so every token has its probabilities."
)


class StudyWindow(QWidget):
    """Shows one study of ``session``; ``resumeRequested`` / ``cancelRequested`` go to the
    study actions, ``forksFound`` to the path view."""

    resumeRequested = Signal(object)  # the Study to resume
    cancelRequested = Signal()
    forksFound = Signal(str, int, list)  # session id, path id, fork positions
    openRequested = Signal(object, list)  # the Study, the StudySamples to open in the tree

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.session: Session | None = None
        self.study: Study | None = None
        self.fork_data: ForkPlotData | None = None
        self.running = False
        self.resize(1000, 680)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.settings_line = QLabel(wordWrap=True)
        self.settings_line.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested.emit)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self._resume)
        self.fork_plot = ForkPlot()
        self.fork_plot.positionClicked.connect(self.show_position)
        self.position_line = QLabel("Click a position in the plot to see its tokens' outcomes.")
        self.position_line.setTextFormat(Qt.TextFormat.PlainText)
        self.position_line.setWordWrap(True)
        self.tokens_model = TokenOutcomeModel(self)
        self.tokens_table = self._table(self.tokens_model, 4)
        self.continuations_model = ContinuationModel(self)
        self.continuations_table = self._table(self.continuations_model, 5)
        self.tokens_table.selectionModel().selectionChanged.connect(self._token_selected)
        self.continuations_table.selectionModel().selectionChanged.connect(self._update_open_button)
        self.open_button = QPushButton("Open in the tree")
        self.open_button.setToolTip(
            "each selected continuation becomes a branch of the studied path in the Explore "
            "tree, with every token's probabilities"
        )
        self.open_button.clicked.connect(self._open_selected)
        self.opening = False
        self.steps = StepImportanceView()
        self.pages = QStackedWidget()
        self.pages.addWidget(self._forks_page())
        self.pages.addWidget(self.steps)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.resume_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.settings_line)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)

    def _table(self, model: TokenOutcomeModel | ContinuationModel, stretch: int) -> QTableView:
        table = QTableView()
        table.setModel(model)
        table.setWordWrap(False)
        table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(22)
        header = table.horizontalHeader()
        for column in range(model.columnCount()):  # short columns as wide as they need
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        return table

    def _forks_page(self) -> QWidget:
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.position_line)
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.addWidget(self.tokens_table)
        continuations = QWidget()
        c_layout = QVBoxLayout(continuations)
        c_layout.setContentsMargins(0, 0, 0, 0)
        c_layout.addWidget(self.continuations_table, 1)
        row = QHBoxLayout()
        note = QLabel(OPEN_HINT, wordWrap=True)
        note.setStyleSheet("color: gray")
        row.addWidget(note, 1)
        row.addWidget(self.open_button)
        c_layout.addLayout(row)
        tables.addWidget(continuations)
        tables.setSizes([380, 620])
        detail_layout.addWidget(tables, 1)
        page = QSplitter(Qt.Orientation.Vertical)
        page.addWidget(self.fork_plot)
        page.addWidget(detail)
        page.setStretchFactor(0, 3)
        page.setStretchFactor(1, 2)
        page.setChildrenCollapsible(False)
        return page

    # -- what is shown -----------------------------------------------------------------------
    def show_study(self, session: Session, study: Study) -> None:
        """The study's results as saved so far (called again as it runs)."""
        self.session, self.study = session, study
        self.setWindowTitle(f"{study_title(study)} · Reasoning Inspector")
        self.title.setText(f"{study_title(study)} — {session.title or session.question}")
        self.settings_line.setText(settings_words(study))
        self._show_status()
        if study.settings.kind == "forks":
            self.pages.setCurrentIndex(0)
            data = fork_plot_data(session, study)
            self.fork_data = data
            self.fork_plot.show_data(data)
            selected = self.fork_plot.selected
            if selected is not None:
                self.show_position(selected)
            elif data.forks:
                self.fork_plot.select(data.forks[0])
                self.show_position(data.forks[0])
            if session.id is not None:
                self.forksFound.emit(session.id, study.settings.path_id, data.forks)
        else:
            self.pages.setCurrentIndex(1)
            self.steps.show_view(step_view(session, study))

    def show_position(self, position: int) -> None:
        """o(t, w) for each token studied at ``position`` and the continuations' texts."""
        if self.fork_data is None or self.study is None:
            return
        outcome = self.fork_data.outcome_at(position)
        if outcome is None:
            return
        token = self.fork_data.tokens[position]
        score = "—" if outcome.score is None else f"{outcome.score:.2f}"
        fork = " · a fork" if position in self.fork_data.forks else ""
        self.position_line.setText(
            f"Position {position} ({token}) · forking score {score}{fork} · tokens studied "
            f"hold {outcome.share:.1%} of the probability · outcome: "
            f"{distribution_words(outcome.distribution, limit=6)}"
        )
        self.tokens_model.set_rows(outcome.tokens)
        samples = [s for s in self.study.samples if s.point.position == position]
        order = {o.token_id: i for i, o in enumerate(outcome.tokens)}
        samples.sort(
            key=lambda s: (
                order.get(s.point.token_id, 99) if s.point.token_id is not None else 99,
                s.point.sample,
            )
        )
        self.continuations_model.set_rows(samples)
        self._update_open_button()

    # -- opening continuations in the tree ---------------------------------------------------
    def selected_samples(self) -> list[StudySample]:
        """The continuations selected in the table, in the table's order."""
        rows = sorted({i.row() for i in self.continuations_table.selectionModel().selectedRows()})
        return [self.continuations_model.rows[r] for r in rows]

    def select_token(self, token_id: int) -> None:
        """Select every continuation of the token ``token_id`` at the shown position."""
        table = self.continuations_table
        table.clearSelection()
        mode = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        model = self.continuations_model
        for row, sample in enumerate(model.rows):
            if sample.point.token_id == token_id:
                table.selectionModel().select(model.index(row, 0), mode)

    def _token_selected(self) -> None:
        rows = self.tokens_table.selectionModel().selectedRows()
        if rows:
            self.select_token(self.tokens_model.rows[rows[0].row()].token_id)

    def _update_open_button(self) -> None:
        chosen = [s for s in self.selected_samples() if s.token_ids]
        self.open_button.setEnabled(bool(chosen) and not self.running and not self.opening)
        n = len(chosen)
        self.open_button.setText(f"Open {n} in the tree" if n > 1 else "Open in the tree")

    def _open_selected(self) -> None:
        chosen = [s for s in self.selected_samples() if s.token_ids]
        if chosen and self.study is not None:
            self.openRequested.emit(self.study, chosen)

    def set_opening(self, opening: bool) -> None:
        """While continuations are being opened: the button is off."""
        self.opening = opening
        self._update_open_button()

    def set_running(self, running: bool) -> None:
        self.running = running
        self._show_status()
        self._update_open_button()

    def show_progress(self, progress: StudyProgress) -> None:
        self.progress.setMaximum(max(1, progress.total))
        self.progress.setValue(progress.done)
        self.progress.setFormat(progress_words(progress))

    def _show_status(self) -> None:
        study = self.study
        status = "running" if self.running else (study.status if study else "running")
        self.status.setText(f"Status: {STATUS_WORDS.get(status, status)}")
        self.cancel_button.setVisible(self.running)
        self.resume_button.setVisible(
            not self.running and study is not None and study.status in ("cancelled", "interrupted")
        )
        if not self.running and study is not None and self.session is not None:
            done = len(study.samples)
            planned = len(plan_study(self.session, study.settings).points)
            self.progress.setMaximum(max(1, planned))
            self.progress.setValue(min(done, planned))
            self.progress.setFormat(f"{done:,} of {planned:,} continuations saved")

    def _resume(self) -> None:
        if self.study is not None:
            self.resumeRequested.emit(self.study)

    def selected_answer_labels(self) -> list[str]:
        """The answers shown in the continuations table (for tests and tours)."""
        return [answer_label(s.outcome) for s in self.continuations_model.rows]
