"""Plots over saved runs: reliability diagram, accuracy vs samples, consistency of correct vs
incorrect answers, filtered by model, strategy and experiment, each exportable as PNG or SVG;
and the selection gap: per strategy, each selection rule's accuracy beside pass@k.

The records are read and the numbers computed on a pool thread; the plots are drawn when they
arrive. ``stats`` holds the numbers shown, ``items`` the drawn pyqtgraph items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.core.display import fmt
from inspector.core.run_stats import (
    SELECTION_LABELS,
    SELECTION_RULES,
    RunStats,
    SelectionGap,
    run_stats,
    selection_gap,
)
from inspector.core.session import STRATEGIES
from inspector.store import Store
from inspector.store.export.files import atomic_output, check_output
from inspector.ui.shared.plot_drawing import (
    draw_accuracy_curve,
    draw_calibration,
    draw_consistency_histogram,
)
from inspector.ui.shared.theme import background, ink
from inspector.ui.shared.workers import run_in_pool

PLOTS = ("calibration", "accuracy", "consistency")
ALL = "all"
GAP_COLUMNS = ("strategy", "runs", *SELECTION_RULES, "pass@k", "gap", "paths finished")
GAP_TIPS = {
    "greedy": "accuracy of the greedy path's answer",
    "cot-decoding": "accuracy of CoT-decoding's pick: the answered path with the highest Δ "
    "(ties on Δ go to the answer's mean log-probability)",
    "cot-aggregated": "accuracy of the answer with the largest summed Δ",
    "majority": "accuracy of the majority vote of the answered paths",
    "weighted": "accuracy of the vote weighted by each path's probability",
    "pass@k": "share of questions where some path is correct: the paths exist…",
    "gap": "pass@k minus the strategy's own accuracy: …choosing is the problem",
    "paths finished": "voting paths that ended by themselves; the rest were cut",
}


@dataclass(frozen=True)
class StatsFilter:
    model: str | None = None
    strategy: str | None = None
    experiment_id: int | None = None
    confidence: str = "consistency"


@dataclass(frozen=True)
class LoadedStats:
    stats: RunStats
    gaps: list[SelectionGap]


def load_stats(db_path: Path, chosen: StatsFilter) -> LoadedStats:
    """Read the matching runs and compute their numbers (runs on a pool thread)."""
    with Store.open(db_path, read_only=True) as store:
        records = store.run_records(
            strategy=chosen.strategy, model=chosen.model, experiment_id=chosen.experiment_id
        )
    return LoadedStats(run_stats(records, chosen.confidence), selection_gap(records))


def gap_cells(gap: SelectionGap) -> list[str]:
    """One row of the selection-gap table, as shown."""
    finished = f"{gap.completed} of {gap.paths}" if gap.paths else "—"
    return [
        gap.strategy,
        str(gap.runs),
        *(fmt(gap.accuracy[rule], 2) for rule in SELECTION_RULES),
        fmt(gap.pass_at_k, 2),
        fmt(gap.gap, 2),
        finished,
    ]


def save_plot(widget: pg.PlotWidget, path: Path, database: Path | None = None) -> Path:
    """PNG (twice the on-screen width) or SVG, by the file's extension (PNG if none); never
    onto ``database`` or any SQLite file, written whole or not at all."""
    if path.suffix.lower() not in (".png", ".svg"):
        path = path.with_suffix(".png")
    with atomic_output(check_output(path, database=database, force=True)) as tmp:
        _draw_plot(widget, tmp)
    return path


def _draw_plot(widget: pg.PlotWidget, path: Path) -> None:
    item = widget.getPlotItem()
    if path.suffix.lower() == ".svg":
        # Qt's own SVG painter: pyqtgraph's SVGExporter fails on some polylines
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(widget.size())
        generator.setViewBox(widget.rect())
        generator.setTitle("Reasoning Inspector plot")
        painter = QPainter(generator)
        widget.render(painter)
        if not painter.end():
            raise OSError(f"could not write {path}")
    else:
        exporter = pyqtgraph.exporters.ImageExporter(item)
        exporter.parameters()["width"] = max(800, 2 * int(item.width()))
        exporter.export(str(path))


class StatsPlots(QWidget):
    message = Signal(str)
    updated = Signal()  # new numbers drawn

    def __init__(self, db_path: Path, parent=None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.stats: RunStats | None = None
        self.gaps: list[SelectionGap] = []
        self.items: dict[str, dict[str, Any]] = {}
        self.model = QComboBox()
        self.model.setToolTip("only runs of this model")
        self.strategy = QComboBox()
        self.strategy.setToolTip("only runs of this strategy")
        self.strategy.addItems([ALL, *STRATEGIES])
        self.experiment = QComboBox()
        self.experiment.setToolTip("only the runs of this experiment")
        self.confidence = QComboBox()
        self.confidence.setToolTip("the confidence the reliability diagram bins by")
        self.confidence.addItem("consistency", "consistency")
        self.confidence.addItem("Δ (CoT-decoding)", "delta")
        self.summary = QLabel("no runs yet")
        self.summary.setWordWrap(True)
        self.gap_table = QTableWidget(0, len(GAP_COLUMNS))
        self.gap_table.setHorizontalHeaderLabels([SELECTION_LABELS.get(c, c) for c in GAP_COLUMNS])
        self.gap_table.verticalHeader().hide()
        self.gap_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.gap_table.setToolTip(
            "the selection gap: how often each selection rule is right, beside how often some "
            "path is right (pass@k)"
        )
        for column, name in enumerate(GAP_COLUMNS):
            header = self.gap_table.horizontalHeaderItem(column)
            if header is not None and name in GAP_TIPS:
                header.setToolTip(GAP_TIPS[name])
        self.gap_table.setMaximumHeight(120)
        self.plots = {name: self._plot_widget() for name in PLOTS}
        self._pending: StatsFilter | None = None
        self._loading = False
        self._layout()
        for combo in (self.model, self.strategy, self.experiment, self.confidence):
            combo.currentIndexChanged.connect(self.refresh)

    def _plot_widget(self) -> pg.PlotWidget:
        widget = pg.PlotWidget(background=background(self))
        widget.setMinimumSize(260, 160)
        widget.getPlotItem().setMenuEnabled(False)
        return widget

    def _layout(self) -> None:
        filters = QHBoxLayout()
        named = {"model": self.model, "strategy": self.strategy}
        named |= {"experiment": self.experiment, "confidence": self.confidence}
        for text, combo in named.items():
            filters.addWidget(QLabel(text))
            filters.addWidget(combo, 1)
        grid = QGridLayout()
        # the reliability diagram large on the left, the two others stacked on the right
        places = {"calibration": (0, 0, 3), "accuracy": (0, 1, 1), "consistency": (2, 1, 1)}
        for name, (row, column, span) in places.items():
            button = QPushButton("Save plot…")
            button.setToolTip("save this plot as PNG or SVG")
            button.clicked.connect(lambda _=False, name=name: self.export_dialog(name))
            grid.addWidget(self.plots[name], row, column, span, 1)
            grid.addWidget(button, row + span, column)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Selection gap: accuracy of each way of choosing the answer"))
        layout.addWidget(self.gap_table)
        layout.addLayout(grid, 1)

    def set_choices(self, models: list[str], experiments: list[tuple[int, str]]) -> None:
        """Fill the model and experiment filters, keeping the current choices if still there."""
        keep_model, keep_experiment = self.model.currentText(), self.experiment.currentData()
        for combo in (self.model, self.experiment):
            combo.blockSignals(True)
            combo.clear()
        self.model.addItems([ALL, *models])
        self.model.setCurrentText(keep_model if keep_model in models else ALL)
        self.experiment.addItem(ALL, None)
        for experiment_id, name in experiments:
            self.experiment.addItem(f"{experiment_id}: {name}", experiment_id)
        found = self.experiment.findData(keep_experiment)
        self.experiment.setCurrentIndex(max(0, found))
        for combo in (self.model, self.experiment):
            combo.blockSignals(False)

    def show_experiment(self, experiment_id: int | None) -> None:
        self.experiment.setCurrentIndex(max(0, self.experiment.findData(experiment_id)))

    def current_filter(self) -> StatsFilter:
        model, strategy = self.model.currentText(), self.strategy.currentText()
        return StatsFilter(
            model=None if model in ("", ALL) else model,
            strategy=None if strategy == ALL else strategy,
            experiment_id=self.experiment.currentData(),
            confidence=self.confidence.currentData() or "consistency",
        )

    def refresh(self) -> None:
        """Recompute with the current filters (one load at a time; the latest request wins)."""
        self._pending = self.current_filter()
        if not self._loading:
            self._load_next()

    def _load_next(self) -> None:
        chosen, self._pending = self._pending, None
        if chosen is None:
            self._loading = False
            return
        self._loading = True
        db_path = self.db_path
        run_in_pool(lambda: load_stats(db_path, chosen), self._on_loaded, self._on_failed)

    def _on_loaded(self, loaded: LoadedStats) -> None:
        self.show_gaps(loaded.gaps)
        self.show_stats(loaded.stats)
        self._load_next()

    def show_gaps(self, gaps: Sequence[SelectionGap]) -> None:
        self.gaps = list(gaps)
        self.gap_table.setRowCount(len(gaps))
        for row, gap in enumerate(gaps):
            for column, value in enumerate(gap_cells(gap)):
                self.gap_table.setItem(row, column, QTableWidgetItem(value))
        self.gap_table.resizeColumnsToContents()

    def _on_failed(self, message: str) -> None:
        self.summary.setText(f"Could not read the saved runs: {message}")
        self.message.emit(f"Plots: {message}")
        self._load_next()

    def show_stats(self, stats: RunStats) -> None:
        self.stats = stats
        text = ink(self).name()
        report = stats.calibration
        self.items = {
            "calibration": draw_calibration(
                self.plots["calibration"].getPlotItem(),
                report.bins,
                report.ece,
                text,
                stats.confidence,
            ),
            "accuracy": draw_accuracy_curve(
                self.plots["accuracy"].getPlotItem(), stats.curve, text
            ),
            "consistency": draw_consistency_histogram(
                self.plots["consistency"].getPlotItem(), stats.histogram, text
            ),
        }
        self.summary.setText(_summary(stats))
        self.updated.emit()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "plots"):
            for widget in self.plots.values():
                widget.setBackground(background(self))
            if self.stats is not None:
                self.show_stats(self.stats)

    def export_dialog(self, name: str) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save plot", f"{name}.png", "PNG image (*.png);;SVG image (*.svg)"
        )
        if path:
            self.export_plot(name, Path(path))

    def export_plot(self, name: str, path: Path) -> Path | None:
        try:
            saved = save_plot(self.plots[name], path, self.db_path)
        except (OSError, RuntimeError, ValueError) as error:
            self.message.emit(f"Could not save the plot: {error}")
            return None
        self.message.emit(f"Saved {saved}")
        return saved


def _summary(stats: RunStats) -> str:
    if not stats.runs:
        return "No saved runs with a gold answer match these filters."
    report = stats.calibration
    return (
        f"{stats.runs} runs with a gold answer · accuracy {fmt(stats.accuracy)} · "
        f"ECE {fmt(report.ece)} · Brier {fmt(report.brier)}"
    )
