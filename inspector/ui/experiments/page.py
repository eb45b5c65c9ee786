"""The Experiments tab: run a data set, browse experiments and their results, and the plots
over saved runs. A results row opens its session in the Explore tab."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.store import Store, StoreError
from inspector.store.experiments import ExperimentPlan
from inspector.store.rows import ExperimentRow
from inspector.ui.experiments.runner_box import ExperimentRunnerBox
from inspector.ui.experiments.stats_plots import StatsPlots
from inspector.ui.experiments.table_models import ExperimentResultsModel, ExperimentsTableModel
from inspector.ui.model.controller import ModelController
from inspector.ui.shared.workers import run_in_pool


def rows_high(view: QTableView, rows: int) -> int:
    """The height of ``view`` showing its header, ``rows`` rows and a horizontal scroll bar."""
    return (
        view.horizontalHeader().sizeHint().height()
        + rows * view.verticalHeader().defaultSectionSize()
        + view.horizontalScrollBar().sizeHint().height()
        + 2 * view.frameWidth()
    )


def table_view(model: QAbstractItemModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    model.modelReset.connect(lambda: fit_columns(view))
    return view


def fit_columns(view: QTableView, widest: int = 260) -> None:
    """Columns as wide as their contents, none wider than ``widest`` pixels."""
    view.resizeColumnsToContents()
    header = view.horizontalHeader()
    for column in range(header.count()):
        header.resizeSection(column, min(widest, header.sectionSize(column)))


class ExperimentsPage(QWidget):
    """The runner box on top; the experiments and their results on the left; the plots on the
    right. The runner uses the model of ``models`` whenever one is loaded and free."""

    openSession = Signal(str)
    exportRequested = Signal(int, str)  # experiment id, name
    message = Signal(str)

    def __init__(
        self, db_path: Path, models: ModelController, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.runner = ExperimentRunnerBox(db_path, preferences=models.preferences)
        models.loading.connect(lambda: self.runner.set_engine(None))
        models.changed.connect(self.runner.set_engine)
        models.failed.connect(lambda _message: self.runner.set_engine(models.engine))
        self.experiments_model = ExperimentsTableModel(self)
        self.results_model = ExperimentResultsModel(self)
        self.experiments_view = table_view(self.experiments_model)
        self.results_view = table_view(self.results_model)
        self.results_view.setToolTip("double-click (or Enter) to open the question's session")
        self.results_view.activated.connect(self._open_result)
        self.experiments_view.selectionModel().currentRowChanged.connect(self._select_experiment)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("run the questions not done yet")
        self.resume_button.clicked.connect(self.resume_selected)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("HTML, Markdown, JSON, CSV or JSONL")
        self.export_button.clicked.connect(self.export_selected)
        self.results_title = QLabel("Results")
        self.plots = StatsPlots(db_path)
        for source in (self.runner, self.plots):
            source.message.connect(self.message)
        self.runner.started.connect(self._update_buttons)
        self.runner.experimentOpened.connect(self._follow)
        self.runner.questionDone.connect(self.refresh_tables)
        self.runner.ended.connect(lambda _saved: self.refresh())
        self._layout()
        self._update_buttons()

    def _layout(self) -> None:
        """Every pane keeps a legible minimum (tables: a few rows; plots: PLOT_MIN), so a
        window too small for them scrolls (the main window puts each page in a scroll area)
        instead of drawing one pane over another."""
        experiments = QWidget()
        top = QVBoxLayout(experiments)
        top.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(QLabel("Experiments"), 1)
        header.addWidget(self.resume_button)
        header.addWidget(self.export_button)
        top.addLayout(header)
        top.addWidget(self.experiments_view, 1)
        results = QWidget()
        bottom = QVBoxLayout(results)
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.results_title)
        bottom.addWidget(self.results_view, 1)
        self.experiments_view.setMinimumHeight(rows_high(self.experiments_view, 3))
        self.results_view.setMinimumHeight(rows_high(self.results_view, 4))
        self.results_title.setWordWrap(True)
        left = QSplitter(Qt.Orientation.Vertical)
        left.setChildrenCollapsible(False)
        left.addWidget(experiments)
        left.addWidget(results)
        left.setStretchFactor(1, 2)
        left.setMinimumWidth(300)
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.setChildrenCollapsible(False)
        self.body.addWidget(left)
        self.body.addWidget(self.plots)
        self.body.setStretchFactor(1, 3)
        self.body.setSizes([380, 900])
        self.runner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.runner)
        layout.addWidget(self.body, 1)

    # -- reading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the experiment list (keeping the selection), its results, and the plots."""
        self.refresh_tables()
        self._update_choices()
        self.plots.refresh()

    def _update_choices(self) -> None:
        """The plots' model and experiment filters, from the database and the list."""
        try:
            with Store.open(self.db_path, read_only=True) as store:
                models = store.model_names()
        except (StoreError, ValueError, OSError):
            models = []
        experiments = [(row.id, row.name) for row in self.experiments_model.rows]
        self.plots.set_choices(models, experiments, self.selected_experiment())

    def refresh_tables(self) -> None:
        selected = self.selected_experiment()
        try:
            with Store.open(self.db_path, read_only=True) as store:
                rows = store.list_experiments()
        except (StoreError, ValueError, OSError) as error:
            self.message.emit(f"Could not read the experiments: {error}")
            return
        self.experiments_model.set_rows(rows)
        ids = [row.id for row in rows]
        if selected not in ids and ids:
            selected = ids[0]  # the newest: the plots and results start on an experiment
        if selected in ids:
            self.experiments_view.selectRow(ids.index(selected))
        self._show_results(selected if selected in ids else None)

    def selected_experiment(self) -> int | None:
        index = self.experiments_view.currentIndex()
        return self.experiments_model.id_at(index.row()) if index.isValid() else None

    def _select_experiment(self, current: QModelIndex, _previous: QModelIndex) -> None:
        experiment_id = self.experiments_model.id_at(current.row()) if current.isValid() else None
        self._show_results(experiment_id)
        self.plots.show_experiment(experiment_id)

    def _show_results(self, experiment_id: int | None) -> None:
        rows = []
        if experiment_id is not None:
            try:
                with Store.open(self.db_path, read_only=True) as store:
                    rows = store.experiment_results(experiment_id)
            except (StoreError, ValueError, OSError) as error:
                self.message.emit(f"Could not read the results: {error}")
        self.results_model.set_rows(rows)
        answered = [r for r in rows if r.correct is not None]
        right = sum(1 for r in answered if r.correct)
        score = f" · accuracy {right / len(answered):.3f}" if answered else ""
        self.results_title.setText(
            f"Results of experiment {experiment_id}: {len(rows)} questions{score}"
            if experiment_id is not None
            else "Results (select an experiment)"
        )
        self._update_buttons()

    def _follow(self, experiment_id: int) -> None:
        """Select the experiment that just started, so its results fill in as it runs."""
        self.refresh_tables()
        ids = [row.id for row in self.experiments_model.rows]
        if experiment_id in ids:
            self.experiments_view.selectRow(ids.index(experiment_id))
        self._update_choices()
        self.plots.show_experiment(self.selected_experiment())

    def _open_result(self, index: QModelIndex) -> None:
        session_id = self.results_model.id_at(index.row())
        if session_id is not None:
            self.openSession.emit(session_id)

    # -- actions -------------------------------------------------------------------------------
    def selected_row(self) -> ExperimentRow | None:
        index = self.experiments_view.currentIndex()
        rows = self.experiments_model.rows
        return rows[index.row()] if index.isValid() and index.row() < len(rows) else None

    def _update_buttons(self) -> None:
        row = self.selected_row()
        unfinished = row is not None and row.unfinished
        self.resume_button.setEnabled(unfinished and not self.runner.running)
        self.resume_button.setToolTip(
            "run the questions not done yet"
            if unfinished or row is None
            else "every question asked for is done"
        )
        self.export_button.setEnabled(row is not None)

    def resume_selected(self) -> None:
        experiment_id = self.selected_experiment()
        if experiment_id is None:
            return
        db_path = self.db_path

        def plan() -> ExperimentPlan:
            with Store.open(db_path, read_only=True) as store:
                return store.experiment_plan(experiment_id)

        run_in_pool(plan, self._resume, lambda text: self.message.emit(f"Cannot resume: {text}"))

    def _resume(self, plan: ExperimentPlan) -> None:
        engine = self.runner.engine
        if engine is not None and plan.model_path and engine.info().path != plan.model_path:
            self.message.emit(
                f"This experiment ran on {Path(plan.model_path).name}: open that model "
                "(Model ▸ Open model…) to resume it"
            )
            return
        self.runner.resume(plan.dataset, plan.settings, plan.name, plan.limit)

    def export_selected(self) -> None:
        experiment_id = self.selected_experiment()
        if experiment_id is not None:
            row = self.experiments_model.rows[self.experiments_view.currentIndex().row()]
            self.exportRequested.emit(experiment_id, row.name)
