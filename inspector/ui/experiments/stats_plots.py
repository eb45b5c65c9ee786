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
from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
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
    shown_rules,
)
from inspector.core.session import STRATEGIES
from inspector.store import Store
from inspector.store.export.files import atomic_output, check_output
from inspector.ui.shared.plot_drawing import (
    draw_accuracy_curve,
    draw_calibration,
    draw_consistency_histogram,
    elide,
)
from inspector.ui.shared.theme import background, ink
from inspector.ui.shared.workers import run_in_pool

PLOTS = ("calibration", "accuracy", "consistency")
PLOT_TITLES = {
    "calibration": "Calibration (reliability diagram)…",
    "accuracy": "Accuracy vs samples…",
    "consistency": "Consistency: correct vs incorrect…",
}
ALL = "all"
PLOT_MIN = QSize(280, 200)  # below this a plot's title, ticks and labels collide
CAPTION_INK = "#222222"
SUBTITLE_CHARS = 28  # the experiment's name under a plot's title is cut to this
GAP_COLUMNS = ("strategy", "runs", *SELECTION_RULES, "pass@k", "gap", "paths finished")
GAP_TIPS = {
    "greedy": "accuracy of the greedy path's answer",
    "cot-decoding": "accuracy of CoT-decoding's pick: the answered path with the highest Δ "
    "(ties on Δ go to the answer's mean log-probability)",
    "cot-no-probe": "in runs with the answer probe: accuracy of the pick by each path's own "
    "answer Δ, as the run would pick without the probe",
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
    models: tuple[str, ...] = ()  # the models and strategies of the runs counted
    strategies: tuple[str, ...] = ()


def load_stats(db_path: Path, chosen: StatsFilter) -> LoadedStats:
    """Read the matching runs and compute their numbers (runs on a pool thread)."""
    with Store.open(db_path, read_only=True) as store:
        records = store.run_records(
            strategy=chosen.strategy, model=chosen.model, experiment_id=chosen.experiment_id
        )
    models = tuple(sorted({r.model for r in records if r.model}))
    strategies = tuple(sorted({r.strategy for r in records}))
    return LoadedStats(
        run_stats(records, chosen.confidence), selection_gap(records), models, strategies
    )


def filter_text(chosen: StatsFilter, experiment: str | None) -> str:
    """What the plots count, in words: "experiment 3: tiny · self-consistency" or "all saved
    runs" (shown under each plot's title)."""
    parts = [f"experiment {experiment}" if experiment else "all saved runs"]
    if chosen.model:
        parts.append(f"model {chosen.model}")
    if chosen.strategy:
        parts.append(chosen.strategy)
    return " · ".join(parts)


def caption_text(loaded: LoadedStats, experiment: str | None) -> str:
    """The caption of a saved plot: model, strategy, experiment and number of runs."""
    models = ", ".join(loaded.models) or "no model"
    strategies = ", ".join(loaded.strategies) or "no strategy"
    where = f"experiment {experiment}" if experiment else "all experiments and sessions"
    runs = loaded.stats.runs
    return f"{models} · {strategies} · {where} · {runs} run{'' if runs == 1 else 's'}"


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


def save_plot(
    widget: pg.PlotWidget, path: Path, database: Path | None = None, caption: str = ""
) -> Path:
    """PNG (twice the on-screen width) or SVG, by the file's extension (PNG if none), with
    ``caption`` written under the plot; never onto ``database`` or any SQLite file, written
    whole or not at all."""
    if path.suffix.lower() not in (".png", ".svg"):
        path = path.with_suffix(".png")
    with atomic_output(check_output(path, database=database, force=True)) as tmp:
        _draw_plot(widget, tmp, caption)
    return path


def _caption_font(scale: float) -> QFont:
    font = QFont()
    font.setPointSizeF(9 * scale)
    return font


def _paint_caption(painter: QPainter, area: QRect, caption: str, ink: QColor) -> None:
    painter.setPen(ink)
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap
    painter.drawText(area.adjusted(8, 0, -8, 0), int(flags), caption)


def _caption_height(caption: str, width: int, font: QFont) -> int:
    if not caption:
        return 0
    box = QFontMetrics(font).boundingRect(
        QRect(0, 0, width - 16, 10_000), int(Qt.TextFlag.TextWordWrap), caption
    )
    return box.height() + 20


def _draw_plot(widget: pg.PlotWidget, path: Path, caption: str) -> None:
    item = widget.getPlotItem()
    ink = QColor(CAPTION_INK)
    if path.suffix.lower() == ".svg":
        # Qt's own SVG painter: pyqtgraph's SVGExporter fails on some polylines
        font = _caption_font(1.0)
        extra = _caption_height(caption, widget.width(), font)
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(widget.width(), widget.height() + extra))
        generator.setViewBox(QRect(0, 0, widget.width(), widget.height() + extra))
        generator.setTitle("Reasoning Inspector plot")
        generator.setDescription(caption)
        painter = QPainter(generator)
        widget.render(painter)
        if caption:
            painter.fillRect(QRect(0, widget.height(), widget.width(), extra), QColor("white"))
            painter.setFont(font)
            _paint_caption(painter, QRect(0, widget.height(), widget.width(), extra), caption, ink)
        if not painter.end():
            raise OSError(f"could not write {path}")
        return
    exporter = pyqtgraph.exporters.ImageExporter(item)
    exporter.parameters()["width"] = max(800, 2 * int(item.width()))
    plot_image = exporter.export(toBytes=True)
    if not isinstance(plot_image, QImage):
        raise OSError(f"could not draw the plot for {path}")
    scale = plot_image.width() / max(1, widget.width())
    font = _caption_font(scale)
    extra = _caption_height(caption, plot_image.width(), font)
    image = QImage(plot_image.width(), plot_image.height() + extra, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.drawImage(0, 0, plot_image)
    if caption:
        painter.setFont(font)
        area = QRect(0, plot_image.height(), plot_image.width(), extra)
        _paint_caption(painter, area, caption, ink)
    painter.end()
    if not image.save(str(path)):  # the format from the suffix: .png
        raise OSError(f"could not write {path}")


class StatsPlots(QWidget):
    message = Signal(str)
    updated = Signal()  # new numbers drawn

    def __init__(self, db_path: Path, parent=None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.stats: RunStats | None = None
        self.gaps: list[SelectionGap] = []
        self.loaded: LoadedStats | None = None
        self.shown_filter: StatsFilter | None = None  # the filter of the numbers shown
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
        self.filter_line = QLabel("")  # the whole filter, the plot titles show it shortened
        self.filter_line.setWordWrap(True)
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
        self.gap_table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.gap_table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self._fit_gap_table()
        self.plots = {name: self._plot_widget() for name in PLOTS}
        self.save_button = QPushButton("Save plot…")
        self.save_button.setToolTip("save one of the plots as PNG or SVG, with a caption")
        menu = QMenu(self.save_button)
        for name, title in PLOT_TITLES.items():
            action = menu.addAction(title)
            action.triggered.connect(lambda _=False, name=name: self.export_dialog(name))
        self.save_button.setMenu(menu)
        self._pending: StatsFilter | None = None
        self._loading = False
        self._layout()
        for combo in (self.model, self.strategy, self.experiment, self.confidence):
            combo.currentIndexChanged.connect(self.refresh)

    def _plot_widget(self) -> pg.PlotWidget:
        widget = pg.PlotWidget(background=background(self))
        widget.setMinimumSize(PLOT_MIN)
        widget.getPlotItem().setMenuEnabled(False)
        return widget

    def _fit_gap_table(self) -> None:
        """As tall as its header and rows (one row at least, four at most: then it scrolls)."""
        table = self.gap_table
        rows = max(1, min(4, table.rowCount()))
        height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
        height += rows * table.verticalHeader().defaultSectionSize()
        if table.horizontalScrollBar().isVisible() or table.rowCount() == 0:
            height += table.horizontalScrollBar().sizeHint().height()
        table.setMinimumHeight(height)
        table.setMaximumHeight(height + table.horizontalScrollBar().sizeHint().height())

    def _layout(self) -> None:
        filters = QGridLayout()  # two rows of two filters: narrow enough for a small window
        named = {"model": self.model, "strategy": self.strategy}
        named |= {"experiment": self.experiment, "confidence": self.confidence}
        for number, (text, combo) in enumerate(named.items()):
            row, column = divmod(number, 2)
            filters.addWidget(QLabel(text), row, 2 * column)
            filters.addWidget(combo, row, 2 * column + 1)
            combo.setMinimumContentsLength(12)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
        filters.setColumnStretch(1, 1)
        filters.setColumnStretch(3, 1)
        filters.addWidget(self.save_button, 1, 4)
        grid = QGridLayout()
        # the reliability diagram large on the left, the two others stacked on the right
        places = {"calibration": (0, 0, 2), "accuracy": (0, 1, 1), "consistency": (1, 1, 1)}
        for name, (row, column, span) in places.items():
            grid.addWidget(self.plots[name], row, column, span, 1)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.summary)
        layout.addWidget(self.filter_line)
        layout.addWidget(QLabel("Selection gap: accuracy of each way of choosing the answer"))
        layout.addWidget(self.gap_table)
        layout.addLayout(grid, 1)

    def set_choices(
        self,
        models: list[str],
        experiments: list[tuple[int, str]],
        selected: int | None = None,
    ) -> None:
        """Fill the model and experiment filters, keeping the current choices if still there;
        the experiment filter starts on ``selected`` (the experiment selected in the list)
        rather than on every saved run."""
        keep_model, keep_experiment = self.model.currentText(), self.experiment.currentData()
        if keep_experiment is None and self.experiment.count() <= 1:  # no experiment listed yet
            keep_experiment = selected
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
        run_in_pool(
            lambda: load_stats(db_path, chosen),
            lambda loaded: self._on_loaded(loaded, chosen),
            self._on_failed,
        )

    def _on_loaded(self, loaded: LoadedStats, chosen: StatsFilter) -> None:
        self.loaded, self.shown_filter = loaded, chosen
        self.show_gaps(loaded.gaps)
        self.show_stats(loaded.stats)
        self._load_next()

    def show_gaps(self, gaps: Sequence[SelectionGap]) -> None:
        self.gaps = list(gaps)
        self.gap_table.setRowCount(len(gaps))
        for row, gap in enumerate(gaps):
            for column, value in enumerate(gap_cells(gap)):
                self.gap_table.setItem(row, column, QTableWidgetItem(value))
        shown = shown_rules(gaps)
        for column, name in enumerate(GAP_COLUMNS):  # a rule no run recorded is left out
            self.gap_table.setColumnHidden(column, name in SELECTION_RULES and name not in shown)
        self.gap_table.resizeColumnsToContents()
        self._fit_gap_table()

    def _on_failed(self, message: str) -> None:
        self.summary.setText(f"Could not read the saved runs: {message}")
        self.message.emit(f"Plots: {message}")
        self._load_next()

    def experiment_label(self, experiment_id: int | None) -> str | None:
        """ "3: tiny sc" for an experiment of the filter (None for every saved run)."""
        if experiment_id is None:
            return None
        found = self.experiment.findData(experiment_id)
        return self.experiment.itemText(found) if found >= 0 else str(experiment_id)

    def subtitle(self) -> str:
        """What the plots shown count, under each plot's title."""
        chosen = self.shown_filter or self.current_filter()
        label = self.experiment_label(chosen.experiment_id)
        return filter_text(chosen, elide(label, SUBTITLE_CHARS) if label else None)

    def caption(self) -> str:
        """The caption a saved plot carries (model, strategy, experiment, number of runs)."""
        if self.loaded is None or self.shown_filter is None:
            return ""
        return caption_text(self.loaded, self.experiment_label(self.shown_filter.experiment_id))

    def show_stats(self, stats: RunStats) -> None:
        self.stats = stats
        text = ink(self).name()
        report = stats.calibration
        subtitle = self.subtitle()
        self.items = {
            "calibration": draw_calibration(
                self.plots["calibration"].getPlotItem(),
                report.bins,
                report.ece,
                text,
                stats.confidence,
                subtitle,
            ),
            "accuracy": draw_accuracy_curve(
                self.plots["accuracy"].getPlotItem(), stats.curve, text, subtitle
            ),
            "consistency": draw_consistency_histogram(
                self.plots["consistency"].getPlotItem(), stats.histogram, text, subtitle
            ),
        }
        self.summary.setText(_summary(stats))
        chosen = self.shown_filter or self.current_filter()
        self.filter_line.setText(
            "Plots of " + filter_text(chosen, self.experiment_label(chosen.experiment_id))
        )
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
            saved = save_plot(self.plots[name], path, self.db_path, self.caption())
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
