"""What keeps a large tree readable: a row of tools above the tree and a minimap in its corner.

The tools: Fit (the whole tree in view), Expand all (nothing collapsed or folded), and the fold
share — branches holding less than it of the explored probability mass are folded into one
stub row per fork ("auto": below 1% once the tree has more than 60 leaves). The minimap shows
the whole tree small, the part in view framed; clicking or dragging on it moves the view. It
appears only when the tree is larger than the view.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QRectF, Qt
from PySide6.QtGui import QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from inspector.ui.explore.tree_view import AUTO, ReasoningTreeView

# the fold choices offered: label → share of the explored mass (AUTO: the view decides)
FOLD_CHOICES: dict[str, float | None] = {
    "auto": AUTO,
    "off": 0.0,
    "0.1%": 0.001,
    "1%": 0.01,
    "5%": 0.05,
}
MINIMAP_SIZE = (200, 130)
MINIMAP_MARGIN = 8


class TreeMinimap(QGraphicsView):
    """The tree view's scene, fitted into a small frame over the view's bottom-right corner."""

    def __init__(self, view: ReasoningTreeView) -> None:
        super().__init__(view.scene(), view)
        self.view = view
        self.enabled = True
        self.setFixedSize(*MINIMAP_SIZE)
        self.setInteractive(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.Box)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setToolTip("the whole tree; the frame is the part in view — click or drag to move")
        view.scene().sceneRectChanged.connect(lambda _rect: self.refresh())
        for bar in (view.horizontalScrollBar(), view.verticalScrollBar()):
            bar.valueChanged.connect(lambda _value: self.refresh())
            bar.rangeChanged.connect(lambda _low, _high: self.refresh())
        view.installEventFilter(self)
        self.refresh()

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self.refresh()

    def needed(self) -> bool:
        """The tree does not fit in the view at its present zoom (by more than 2% of the view:
        a fitted tree's rounding does not count)."""
        scene = self.view.scene().sceneRect()
        shown = self.view.visible_rect()
        slack = 0.02 * max(shown.width(), shown.height())
        return bool(self.view.node_items) and not shown.adjusted(
            -slack, -slack, slack, slack
        ).contains(scene)

    def refresh(self) -> None:
        self._place()
        self.setVisible(self.enabled and self.needed())
        if self.isVisible():
            self.fitInView(self.view.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self.viewport().update()

    def _place(self) -> None:
        """In the bottom-right corner, a third of the view at most each way."""
        viewport = self.view.viewport().geometry()
        width = min(MINIMAP_SIZE[0], viewport.width() // 3)
        height = min(MINIMAP_SIZE[1], viewport.height() // 3)
        self.setFixedSize(max(40, width), max(30, height))
        self.move(
            viewport.right() - self.width() - MINIMAP_MARGIN,
            viewport.bottom() - self.height() - MINIMAP_MARGIN,
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.Resize:
            self.refresh()
        return False

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        super().drawForeground(painter, rect)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 0)
        pen.setCosmetic(True)
        pen.setWidth(2)
        painter.setPen(pen)
        painter.drawRect(self.view.visible_rect())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.view.centerOn(self.mapToScene(event.position().toPoint()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self.mapToScene(event.position().toPoint()))


class TreeTools(QWidget):
    """Fit, Expand all, the fold share and the minimap switch, for one tree view."""

    def __init__(self, view: ReasoningTreeView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.minimap = TreeMinimap(view)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("the whole tree in view (Ctrl+0)")
        self.fit_button.clicked.connect(view.fit)
        self.expand_button = QPushButton("Expand all")
        self.expand_button.setToolTip("open every collapsed node and show every folded branch")
        self.expand_button.clicked.connect(self._expand_all)
        self.fold = QComboBox()
        self.fold.addItems(list(FOLD_CHOICES))
        self.fold.setToolTip(
            "fold the branches of a fork that hold less than this share of the explored "
            "probability mass into one row (click it to show them) · auto: below 1% once the "
            "tree has more than 60 leaves · right-click a node to collapse its subtree (−)"
        )
        self.fold.currentTextChanged.connect(self._fold_changed)
        self.show_minimap = QCheckBox("minimap")
        self.show_minimap.setChecked(True)
        self.show_minimap.setToolTip(self.minimap.toolTip())
        self.show_minimap.toggled.connect(self.minimap.set_enabled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.fit_button)
        layout.addWidget(self.expand_button)
        caption = QLabel("fold below")
        caption.setToolTip(self.fold.toolTip())
        layout.addWidget(caption)
        layout.addWidget(self.fold)
        layout.addWidget(QLabel("of the mass"))
        layout.addWidget(self.show_minimap)
        layout.addStretch(1)

    def _fold_changed(self, label: str) -> None:
        self.view.set_fold_share(FOLD_CHOICES[label])
        self.minimap.refresh()

    def _expand_all(self) -> None:
        self.view.expand_all()
        self.fold.blockSignals(True)
        self.fold.setCurrentText("off")
        self.fold.blockSignals(False)
        self.minimap.refresh()
