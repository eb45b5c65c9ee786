"""Step importance: a row per step, its importance drawn as a bar beside the step's text.

The bar's length is the step's importance as a share of the largest (KL divergence between
the answers of the resamples with the step and those without it); the most important steps
(``important_steps``) are starred and their bars orange. The answers before the step, with
it and without it, and with a gold answer the change in accuracy, follow.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.study_views import StepView
from inspector.ui.studies.plot_drawing import IMPORTANT_BAR, STEP_BAR
from inspector.ui.studies.table_models import BAR_ROLE, StepOutcomeModel

IMPORTANCE_COLUMN = 1


class BarDelegate(QStyledItemDelegate):
    """Draws the cell's BAR_ROLE share as a bar under its text."""

    def __init__(self, model: StepOutcomeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        share = index.data(BAR_ROLE)
        rect: QRect = option.rect
        if isinstance(share, float) and share > 0:
            row = self.model.rows[index.row()]
            important = row.step.index in self.model.important
            color = QColor(IMPORTANT_BAR if important else STEP_BAR)
            color.setAlpha(150)
            bar = QRect(
                rect.left() + 2, rect.top() + 3, int((rect.width() - 4) * share), rect.height() - 6
            )
            painter.fillRect(bar, color)
        super().paint(painter, option, index)


class StepImportanceView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: StepView | None = None
        self.model = StepOutcomeModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(IMPORTANCE_COLUMN, BarDelegate(self.model, self.table))
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 48), (1, 120), (6, 90)):
            self.table.setColumnWidth(column, width)
        # the answer distributions are what a reader compares: shown whole, the text gives way
        for column in (3, 4, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.summary = QLabel(wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def show_view(self, view: StepView) -> None:
        self.view = view
        self.model.set_view(view.outcomes, view.important, view.gold is not None)
        if view.important:
            marked = ", ".join(str(i + 1) for i in view.important)
            most = f"Most important: step {marked} (★)."
        else:
            most = "No step changed the answers (every importance is 0)."
        self.summary.setText(
            f"{len(view.steps)} steps. {most} Importance: KL divergence (nats, smoothed) "
            "between the answers of resamples from just after the step and from just before "
            "it whose first step differs from it."
        )
