"""The Explore page's right-hand column: the path (with its annotations), the live tokens and
the answers, laid out for the room there is.

With room for both, the Path / Live tabs sit above the answers in a splitter (the person drags
it; its position is remembered). When the column is shorter than both panes' minimum heights
(a 700-px screen), the answers become a third tab beside Path and Live instead of being
squeezed under them: a stacked layout, so no pane is drawn over another or shrunk below the
size that keeps it legible. It splits again when the column grows.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLayout, QSplitter, QTabWidget, QVBoxLayout, QWidget

# the least height the Path tab keeps above the answers when split (pixels)
PATH_MIN_HEIGHT = 200
# split again only with this much room to spare, so a resize near the limit does not flicker
HYSTERESIS = 40


class WorkPanes(QWidget):
    def __init__(
        self,
        path_page: QWidget,
        live_view: QWidget,
        answers: QWidget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.path_page, self.live_view, self.answers = path_page, live_view, answers
        self.tabs = QTabWidget()
        self.tabs.addTab(path_page, "Path")
        self.tabs.addTab(live_view, "Live")
        self.tabs.setMinimumHeight(PATH_MIN_HEIGHT)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(answers)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.stacked = False
        # the path's share of the split as last set (dragged, restored or the default), to
        # put back when the column splits again after being stacked
        self._split_shares: float | None = None
        self.splitter.splitterMoved.connect(lambda _pos, _index: self.note_split())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # the column may be shorter than the split layout needs: it stacks (minimumSizeHint)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        layout.addWidget(self.splitter)

    def minimumSizeHint(self) -> QSize:
        """The stacked layout's minimum: the column can always stack rather than overlap."""
        answers = self.answers.minimumSizeHint()
        tab_bar = self.tabs.tabBar().sizeHint().height()
        path = self.path_page.minimumSizeHint()
        return QSize(
            max(answers.width(), path.width()), max(answers.height(), path.height()) + tab_bar
        )

    def split_height(self) -> int:
        """The least height that shows the path and the answers one above the other."""
        return (
            PATH_MIN_HEIGHT + self.answers.minimumSizeHint().height() + self.splitter.handleWidth()
        )

    def fit_layout(self) -> None:
        """Stack the answers into a tab when the column is too short, split when it is not."""
        if not self.stacked and self.height() < self.split_height():
            self.set_stacked(True)
        elif self.stacked and self.height() >= self.split_height() + HYSTERESIS:
            self.set_stacked(False)

    def set_stacked(self, stacked: bool) -> None:
        if stacked == self.stacked:
            return
        showing_answers = self.tabs.currentWidget() is self.answers
        if stacked:
            self.tabs.setMinimumHeight(0)
            self.tabs.insertTab(1, self.answers, "Answers")
        else:
            self.tabs.removeTab(self.tabs.indexOf(self.answers))
            self.splitter.addWidget(self.answers)
            self.answers.show()
            self.tabs.setMinimumHeight(PATH_MIN_HEIGHT)
            if self._split_shares is not None:  # the split as the person left it, once the
                QTimer.singleShot(0, self._restore_split)  # splitter has its new height
            if showing_answers:
                self.tabs.setCurrentWidget(self.path_page)
        self.stacked = stacked

    def _restore_split(self) -> None:
        total = sum(self.splitter.sizes())
        if self._split_shares is None or self.stacked or not total:
            return
        path = round(total * self._split_shares)
        self.splitter.setSizes([path, total - path])

    def note_split(self) -> None:
        """Remember the split as it is now (called when it is dragged or set)."""
        sizes: list[int] = self.splitter.sizes()
        total = sum(sizes)
        if not self.stacked and len(sizes) == 2 and total:
            self._split_shares = sizes[0] / total

    def show_answers(self) -> None:
        """Bring the answers into view (their tab, when stacked)."""
        if self.stacked:
            self.tabs.setCurrentWidget(self.answers)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.fit_layout()  # before the splitter is laid out at the new height
        super().resizeEvent(event)
