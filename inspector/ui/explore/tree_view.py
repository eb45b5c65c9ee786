"""The graphical tree of reasoning paths: zoom, pan, fit, keyboard navigation.

Each node is a box holding its run of tokens (elided; double-click expands it), tinted by the
mean probability of its tokens. Edges into a branch point are labelled with the branch's first
token and its probability (a whitespace token in words: "space", "newline"); a node where
paths end shows their answers, coloured by correctness and marked ✓ / ✗ (the colour is never
the only cue); a self-consistency run's greedy reference says it does not vote. A path that
did not finish (cut by the token limit, cancelled, or stopped inside its thinking) ends in a
dotted red box and its label carries a "… limit" / "… thinking" badge. The root (the prompt)
is drawn in the palette's colours, so it follows a dark theme.

The arrow keys follow what is drawn: Up and Down move between siblings in their drawn order
(most likely first token first), Right to the first child drawn.

During a run the tree grows live: :meth:`begin_live` shows the tree the run starts from and a
dashed box per streaming branch, which :meth:`update_live` fills with the branch's latest text.

A large tree (an adaptive run's hundreds of leaves) stays legible: at a fork, the entropy of
the distribution the branches were taken from is written under the parent ("H 3.86"); "-" (or
the context menu) collapses a node's subtree into "▸ 12 leaves", "+" opens it again; branches
holding less than a share of the explored probability mass are folded into one dashed stub
row per fork (click it to show them; the share is :attr:`fold_share`, "auto" folds below 1%
once a tree has more than :data:`AUTO_FOLD_LEAVES` leaves); an adaptive run's answers carry
their path probability. A minimap (``tree_tools.py``) shows where the view is.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QFont, QKeyEvent, QPainter, QPalette, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QMenu,
)

from inspector.core.adaptive import share_words
from inspector.core.display import token_words
from inspector.core.session import ReasoningPath, Session
from inspector.core.tree import ROOT_ID, TreeNode
from inspector.ui.explore.path_words import finished_mark, unfinished_note
from inspector.ui.explore.tree_layout import (
    hidden_leaves,
    layout_folded,
    low_mass_branches,
    ordered_children,
    subtree_mass,
)
from inspector.ui.shared.colors import correctness_color, probability_color
from inspector.ui.shared.theme import ink, is_dark

CORRECT_MARKS = {True: "✓", False: "✗", None: ""}  # the second cue beside the colour

NODE_WIDTH, NODE_HEIGHT = 190.0, 34.0
COLUMN_GAP, ROW_GAP = 90.0, 16.0
ELIDE_CHARS, EXPANDED_CHARS = 18, 600
# "auto" folding: below this share of the explored mass, once a tree has more leaves than this
AUTO_FOLD_SHARE, AUTO_FOLD_LEAVES = 0.01, 60
AUTO = None  # fold_share meaning "auto"


def node_label(node: TreeNode, expanded: bool) -> str:
    text = "".join(t.text for t in node.tokens).replace("\n", "⏎")
    limit = EXPANDED_CHARS if expanded else ELIDE_CHARS
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"{shown} ·{len(node.tokens)}" if len(node.tokens) > 1 else shown


def mean_probability(node: TreeNode) -> float:
    if not node.tokens:
        return 1.0
    return sum(math.exp(t.logprob) for t in node.tokens) / len(node.tokens)


def answer_label(path: ReasoningPath, session: Session, annotated: set[int]) -> str:
    """ "★#4 → 5 ✓ Δ0.90" for a path ending at a node: ★ CoT-decoding's pick, ✎ annotated,
    ✓ / ✗ against the gold answer, a self-consistency greedy reference "(reference, no vote)",
    an unfinished path's "… limit" badge."""
    cot = session.settings.strategy == "cot-decoding"  # only CoT-decoding picks a path
    pick = session.summary().cot_path_id if cot else None
    star = ("★" if path.id == pick else "") + ("✎" if path.id in annotated else "")
    answer = path.answer if path.answer is not None else "no answer"
    # "no answer" says it in words; an answer says ✓ or ✗ beside its colour
    judged = path.answer is not None and path.correct is not None
    mark = f" {CORRECT_MARKS[path.correct]}" if judged else ""
    conf = f" Δ{path.confidence:.2f}" if path.confidence is not None else ""
    reference = session.settings.strategy == "self-consistency" and path.origin == "greedy"
    role = " (greedy reference, no vote)" if reference else ""
    badge = f" {finished_mark(path)}" if unfinished_note(path, session.settings) else ""
    # an adaptive run's leaf: its path probability (the product of its token probabilities)
    chance = (
        f" p {share_words(math.exp(path.logprob))}"
        if session.settings.strategy == "adaptive"
        else ""
    )
    return f"{star}#{path.id} → {answer}{mark}{conf}{chance}{role}{badge}"


def fork_label(node: TreeNode, children: list[TreeNode]) -> str | None:
    """ "H 3.86" under a fork: the entropy (nats) of the distribution its branches' first
    tokens were taken from (one position, so one entropy); None when unknown."""
    firsts = [c.tokens[0] for c in children if c.tokens]
    if len(firsts) < 2 or not math.isfinite(firsts[0].entropy):
        return None
    return f"H {firsts[0].entropy:.2f}"


def branch_tip(child: TreeNode) -> str:
    """A branch's tooltip: its token at the branch point, that token's probability, and the
    entropy and margin of the position."""
    if not child.tokens:
        return ""
    token = child.tokens[0]
    probs = [math.exp(a.logprob) for a in token.top]
    margin = f", margin p1 − p2 {probs[0] - probs[1]:.3f}" if len(probs) > 1 else ""
    entropy = f", entropy {token.entropy:.2f} nats" if math.isfinite(token.entropy) else ""
    return (
        f"branch at token {child.depth}: {token_words(token.text)} "
        f"p {math.exp(token.logprob):.3f}{entropy}{margin}"
    )


def live_label(branch: int, text: str, count: int) -> str:
    """ "[2] …the answer is 8 ·37": a streaming branch's latest text and its token count."""
    flat = text.replace("\n", "⏎")
    tail = flat if len(flat) <= ELIDE_CHARS + 6 else "…" + flat[-(ELIDE_CHARS + 5) :]
    return f"[{branch + 1}] {tail} ·{count}"


class NodeItem(QGraphicsRectItem):
    def __init__(self, node: TreeNode, expanded: bool, palette: QPalette) -> None:
        super().__init__()
        self.node_id = node.id
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable, True)
        self.label = QGraphicsSimpleTextItem(node_label(node, expanded) or "prompt", self)
        self.label.setFont(QFont("monospace", 9))
        width = max(NODE_WIDTH, self.label.boundingRect().width() + 12) if expanded else NODE_WIDTH
        self.setRect(0, 0, width, NODE_HEIGHT)
        self.label.setPos(6, (NODE_HEIGHT - self.label.boundingRect().height()) / 2)
        if node.tokens:
            self.setBrush(QBrush(probability_color(mean_probability(node), 170)))
        else:  # the prompt: no probability of its own, drawn in the palette's colours
            self.setBrush(QBrush(palette.color(QPalette.ColorRole.Base)))
            self.label.setBrush(QBrush(palette.color(QPalette.ColorRole.Text)))
        self.setPen(QPen(Qt.GlobalColor.darkGray, 1))
        self.setToolTip(
            f"{len(node.tokens)} tokens, mean p = {mean_probability(node):.3f}\n"
            "double-click to expand or collapse"
        )


class ReasoningTreeView(QGraphicsView):
    """Shows one session's tree; emits the node a person selects or opens."""

    nodeSelected = Signal(int)
    pathActivated = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.session: Session | None = None
        self.node_items: dict[int, NodeItem] = {}
        self.expanded: set[int] = set()
        self.current: int | None = None
        self.annotated: set[int] = set()  # path ids with annotations: shown with a ✎ badge
        self.unfinished_ends: set[int] = set()  # end nodes of unfinished paths: dotted boxes
        # a run in progress: the node its branches grow from (None: no run shown) and each
        # streaming branch's (text so far, token count) and box
        self.live_anchor: int | None = None
        self.live_branches: dict[int, tuple[str, int]] = {}
        self.live_items: dict[int, QGraphicsRectItem] = {}
        # legibility of large trees: collapsed nodes, the fold share (AUTO or a share of the
        # explored mass; 0: off), forks whose folded branches are shown, and the stubs drawn
        self.collapsed: set[int] = set()
        self.fold_share: float | None = AUTO
        self.unfolded: set[int] = set()
        self.stub_items: dict[int, QGraphicsRectItem] = {}
        self.folded: dict[int, tuple[int, ...]] = {}
        self.scene().selectionChanged.connect(self._on_selection)

    # -- building ----------------------------------------------------------------------------
    def show_session(self, session: Session | None) -> None:
        if session is not self.session:
            self.collapsed, self.unfolded = set(), set()
        self.session = session
        self.rebuild()
        self.fit()

    def effective_fold_share(self) -> float:
        """The share of the explored mass below which branches are folded now."""
        if self.fold_share is not AUTO:
            return self.fold_share
        big = self.session is not None and len(self.session.tree.leaves()) > AUTO_FOLD_LEAVES
        return AUTO_FOLD_SHARE if big else 0.0

    def _fold_set(self) -> tuple[frozenset[int], dict[int, float]]:
        """The nodes folded away, and every node's subtree mass (empty when nothing folds)."""
        assert self.session is not None
        share = self.effective_fold_share()
        if share <= 0:
            return frozenset(), {}
        tree = self.session.tree
        mass = subtree_mass(tree, [(p.node_id, p.logprob) for p in self.session.leaves()])
        folded = low_mass_branches(tree, mass, share)
        shown = {c for parent in self.unfolded for c in tree.nodes[parent].children}
        return folded - shown, mass

    def rebuild(self) -> None:
        scene = self.scene()
        scene.blockSignals(True)
        scene.clear()
        scene.blockSignals(False)
        self.node_items = {}
        self.live_items = {}
        self.stub_items = {}
        self.folded = {}
        if self.session is None:
            if self.live_anchor is not None:
                self._add_live_items()
                scene.setSceneRect(scene.itemsBoundingRect().adjusted(-40, -40, 140, 40))
            return
        tree = self.session.tree
        self.collapsed &= set(tree.nodes)
        folded, mass = self._fold_set()
        layout = layout_folded(tree, frozenset(self.collapsed), folded)
        places = layout.places
        self.folded = layout.folded
        for node_id, place in places.items():
            item = NodeItem(tree.nodes[node_id], node_id in self.expanded, self.palette())
            item.setPos(
                place.column * (NODE_WIDTH + COLUMN_GAP), place.row * (NODE_HEIGHT + ROW_GAP)
            )
            scene.addItem(item)
            self.node_items[node_id] = item
        for node_id in places:
            self._add_edges(tree.nodes[node_id])
        for parent, place in layout.stubs.items():
            self._add_stub(parent, place, layout.folded[parent], mass)
        self._add_collapsed_marks()
        self._add_answers()
        if self.live_anchor is not None:
            self._add_live_items()
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-40, -40, 140, 40))
        if self.current in self.node_items:
            self.node_items[self.current].setSelected(True)

    def _add_edges(self, node: TreeNode) -> None:
        parent = self.node_items[node.id]
        start = parent.pos() + parent.rect().topRight() + parent.rect().center() * 0
        start.setY(parent.pos().y() + NODE_HEIGHT / 2)
        start.setX(parent.pos().x() + parent.rect().width())
        branching = len(node.children) > 1 or node.id == ROOT_ID
        if self.session is not None and len(node.children) > 1:
            children = [self.session.tree.nodes[c] for c in node.children]
            fork = fork_label(node, children)
            if fork is not None:
                fork_text = self.scene().addSimpleText(fork)
                fork_text.setFont(QFont("sans", 7))
                fork_text.setBrush(QBrush(ink(self)))
                fork_text.setPos(
                    parent.pos().x() + parent.rect().width() - 44,
                    parent.pos().y() + NODE_HEIGHT + 1,
                )
                fork_text.setToolTip(
                    "entropy of the model's next-token distribution at this fork (nats)"
                )
        for child_id in ordered_children(self.session.tree, node.id) if self.session else []:
            child = self.node_items.get(child_id)
            if child is None:
                continue
            end_x, end_y = child.pos().x(), child.pos().y() + NODE_HEIGHT / 2
            self.scene().addLine(start.x(), start.y(), end_x, end_y, QPen(Qt.GlobalColor.gray, 1.2))
            child_node = self.session.tree.nodes[child_id] if self.session else None
            first = child_node.tokens[:1] if child_node is not None else []
            if branching and first and child_node is not None:
                token = first[0]
                text = f"{token_words(token.text)} {math.exp(token.logprob):.0%}"
                label = self.scene().addSimpleText(text)
                label.setFont(QFont("sans", 8))
                label.setBrush(QBrush(ink(self)))
                label.setPos(end_x - COLUMN_GAP + 4, end_y - 16)
                label.setToolTip(branch_tip(child_node))

    def _add_stub(
        self, parent: int, place, folded: tuple[int, ...], mass: dict[int, float]
    ) -> None:
        """One dashed row standing for a fork's folded branches; a click shows them."""
        assert self.session is not None
        total = mass.get(ROOT_ID, 0.0)
        share = sum(mass.get(c, 0.0) for c in folded) / total if total > 0 else 0.0
        leaves = hidden_leaves(self.session.tree, folded)
        text = (
            f"⋯ {len(folded)} branch{'es' if len(folded) > 1 else ''} folded "
            f"({leaves} lea{'ves' if leaves > 1 else 'f'}, {share_words(share)} of the mass)"
        )
        box = QGraphicsRectItem(0, 0, NODE_WIDTH * 1.3, NODE_HEIGHT * 0.7)
        box.setPos(
            place.column * (NODE_WIDTH + COLUMN_GAP),
            place.row * (NODE_HEIGHT + ROW_GAP) + NODE_HEIGHT * 0.15,
        )
        palette = self.palette()
        box.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DashLine))
        box.setBrush(QBrush(palette.color(QPalette.ColorRole.AlternateBase)))
        box.setToolTip(
            "branches below the fold share of the explored probability mass; click to show them"
        )
        label = QGraphicsSimpleTextItem(text, box)
        label.setFont(QFont("sans", 8))
        label.setBrush(QBrush(palette.color(QPalette.ColorRole.Text)))
        label.setPos(6, (box.rect().height() - label.boundingRect().height()) / 2)
        self.scene().addItem(box)
        source = self.node_items[parent]
        y = box.pos().y() + box.rect().height() / 2
        line = self.scene().addLine(
            source.pos().x() + source.rect().width(), source.pos().y() + NODE_HEIGHT / 2,
            box.pos().x(), y, QPen(Qt.GlobalColor.gray, 1, Qt.PenStyle.DashLine),
        )  # fmt: skip
        line.setZValue(-1)
        self.stub_items[parent] = box

    def _add_collapsed_marks(self) -> None:
        """ "▸ 12 leaves" beside a collapsed node (its answers are hidden with its subtree)."""
        assert self.session is not None
        tree = self.session.tree
        for node_id in self.collapsed:
            item = self.node_items.get(node_id)
            node = tree.nodes.get(node_id)
            if item is None or node is None or not node.children:
                continue
            leaves = hidden_leaves(tree, node.children)
            mark = self.scene().addSimpleText(
                f"▸ {leaves} lea{'ves' if leaves > 1 else 'f'} collapsed (+ opens)"
            )
            mark.setFont(QFont("sans", 9, QFont.Weight.Bold))
            mark.setBrush(QBrush(ink(self)))
            mark.setPos(item.pos().x() + item.rect().width() + 8, item.pos().y() + 8)

    def _add_answers(self) -> None:
        assert self.session is not None
        ends: dict[int, list] = {}
        for path in self.session.paths:
            if path.n_tokens:  # a branch cancelled before its first token has nowhere to go
                ends.setdefault(path.node_id, []).append(path)
        self.unfinished_ends = set()
        for node_id, paths in ends.items():
            item = self.node_items.get(node_id)
            if item is None:
                continue
            parts, notes = [], []
            for path in paths:
                parts.append(answer_label(path, self.session, self.annotated))
                note = unfinished_note(path, self.session.settings)
                if note is not None:
                    notes.append(f"#{path.id}: {note}")
            if notes:
                self._mark_unfinished(item, notes)
            text = self.scene().addSimpleText("   ".join(parts))
            text.setBrush(QBrush(correctness_color(paths[0].correct, is_dark(self))))
            text.setFont(QFont("sans", 9, QFont.Weight.Bold))
            text.setPos(item.pos().x() + item.rect().width() + 8, item.pos().y() + 8)
            if notes:
                text.setToolTip("\n".join(notes))

    def _mark_unfinished(self, item: NodeItem, notes: list[str]) -> None:
        """A thick dotted red box where an unfinished path ends (not Qt's thin dashed
        selection outline); the reason in its tooltip."""
        item.setPen(QPen(correctness_color(False, is_dark(self)), 2.5, Qt.PenStyle.DotLine))
        item.setToolTip(item.toolTip() + "\n" + "\n".join(notes))
        self.unfinished_ends.add(item.node_id)

    # -- a run in progress --------------------------------------------------------------------
    def begin_live(self, base: Session | None, anchor: int = ROOT_ID) -> None:
        """Show a run as it streams: ``base`` (the session a branch grows from; None for a new
        run: only the prompt) with one dashed box per branch hanging off node ``anchor``."""
        self.session = base
        self.live_anchor = anchor
        self.live_branches = {}
        self.current = None
        self.rebuild()
        self.fit()

    def update_live(self, branches: dict[int, tuple[str, int]]) -> None:
        """Each streaming branch's text so far and token count: new branches get a box, the
        others their latest text."""
        if self.live_anchor is None:
            return
        grown = set(branches) - set(self.live_items)
        self.live_branches = dict(branches)
        if grown:
            self.rebuild()
            self.fit()
            return
        for branch, item in self.live_items.items():
            label = item.childItems()[0]
            if isinstance(label, QGraphicsSimpleTextItem):
                label.setText(live_label(branch, *self.live_branches[branch]))

    def end_live(self) -> None:
        self.live_anchor = None
        self.live_branches = {}

    def _anchor_item(self) -> QGraphicsRectItem:
        """The box the live branches hang off: a node of the base tree, or a bare prompt."""
        if self.live_anchor in self.node_items:
            return self.node_items[self.live_anchor]
        palette = self.palette()
        prompt = QGraphicsRectItem(0, 0, NODE_WIDTH, NODE_HEIGHT)
        prompt.setBrush(QBrush(palette.color(QPalette.ColorRole.Base)))
        prompt.setPen(QPen(Qt.GlobalColor.darkGray, 1))
        label = QGraphicsSimpleTextItem("prompt", prompt)
        label.setFont(QFont("monospace", 9))
        label.setBrush(QBrush(palette.color(QPalette.ColorRole.Text)))
        label.setPos(6, (NODE_HEIGHT - label.boundingRect().height()) / 2)
        self.scene().addItem(prompt)
        return prompt

    def _add_live_items(self) -> None:
        anchor = self._anchor_item()
        drawn = self.scene().itemsBoundingRect()
        x = anchor.pos().x() + anchor.rect().width() + COLUMN_GAP
        top = drawn.bottom() + ROW_GAP if self.node_items else anchor.pos().y()
        start_y = anchor.pos().y() + NODE_HEIGHT / 2
        palette = self.palette()
        for row, branch in enumerate(sorted(self.live_branches)):
            box = QGraphicsRectItem(0, 0, NODE_WIDTH * 1.4, NODE_HEIGHT)
            box.setPos(x, top + row * (NODE_HEIGHT + ROW_GAP))
            box.setBrush(QBrush(palette.color(QPalette.ColorRole.AlternateBase)))
            box.setPen(QPen(palette.color(QPalette.ColorRole.Text), 1, Qt.PenStyle.DashLine))
            box.setToolTip("still streaming: probabilities and answers appear when it ends")
            label = QGraphicsSimpleTextItem(live_label(branch, *self.live_branches[branch]), box)
            label.setFont(QFont("monospace", 9))
            label.setBrush(QBrush(palette.color(QPalette.ColorRole.Text)))
            label.setPos(6, (NODE_HEIGHT - label.boundingRect().height()) / 2)
            self.scene().addItem(box)
            end_y = box.pos().y() + NODE_HEIGHT / 2
            line = self.scene().addLine(
                anchor.pos().x() + anchor.rect().width(), start_y, x, end_y,
                QPen(Qt.GlobalColor.gray, 1.2, Qt.PenStyle.DashLine),
            )  # fmt: skip
            line.setZValue(-1)
            self.live_items[branch] = box

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.rebuild()  # labels drawn on the background take the new text colour

    # -- large trees ---------------------------------------------------------------------------
    def collapse(self, node_id: int) -> None:
        """Hide ``node_id``'s subtree (a node without children has nothing to hide)."""
        if self.session is not None and self.session.tree.nodes[node_id].children:
            self.collapsed.add(node_id)
            self.current = node_id
            self.rebuild()

    def expand(self, node_id: int) -> None:
        """Show ``node_id``'s subtree again, and its folded branches."""
        self.collapsed.discard(node_id)
        self.unfolded.add(node_id)
        self.current = node_id
        self.rebuild()

    def expand_all(self) -> None:
        """Nothing collapsed, nothing folded."""
        self.collapsed = set()
        self.fold_share = 0.0
        self.rebuild()
        self.fit()

    def set_fold_share(self, share: float | None) -> None:
        """Fold branches below ``share`` of the explored mass (AUTO: see the module)."""
        self.fold_share = share
        self.unfolded = set()
        self.rebuild()
        self.fit()

    def contextMenuEvent(self, event) -> None:
        item = self.itemAt(event.pos())
        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem()
        menu = QMenu(self)
        if isinstance(item, NodeItem) and self.session is not None:
            node_id = item.node_id
            if node_id in self.collapsed:
                menu.addAction("Expand subtree  (+)", lambda: self.expand(node_id))
            elif self.session.tree.nodes[node_id].children:
                menu.addAction("Collapse subtree  (−)", lambda: self.collapse(node_id))
            if node_id in self.folded:
                menu.addAction("Show folded branches", lambda: self.expand(node_id))
        menu.addAction("Expand all, fold nothing", self.expand_all)
        menu.addAction("Fit tree  (Ctrl+0)", self.fit)
        menu.exec(event.globalPos())

    def mousePressEvent(self, event) -> None:
        item = self.itemAt(event.position().toPoint())
        while item is not None and item.parentItem() is not None:
            item = item.parentItem()
        for parent, stub in self.stub_items.items():
            if item is stub:
                self.expand(parent)
                return
        super().mousePressEvent(event)

    # -- interaction -------------------------------------------------------------------------
    def fit(self) -> None:
        if self.node_items:
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self, factor: float) -> None:
        self.scale(factor, factor)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)

    def mouseDoubleClickEvent(self, event) -> None:
        item = self.itemAt(event.position().toPoint())
        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem()
        if isinstance(item, NodeItem):
            self.expanded ^= {item.node_id}
            self.current = item.node_id
            self.rebuild()
        else:
            super().mouseDoubleClickEvent(event)

    def _on_selection(self) -> None:
        selected = [i for i in self.scene().selectedItems() if isinstance(i, NodeItem)]
        if selected:
            self.current = selected[0].node_id
            self.nodeSelected.emit(self.current)

    def select_node(self, node_id: int) -> None:
        if node_id in self.node_items:
            self.scene().clearSelection()
            self.node_items[node_id].setSelected(True)
            self.ensureVisible(self.node_items[node_id])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        target = self._neighbour(event.key())
        if target is not None:
            self.select_node(target)
        elif event.key() == Qt.Key.Key_Minus and self.current is not None:
            self.collapse(self.current)
        elif event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Equal) and self.current is not None:
            self.expand(self.current)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current is not None:
            self.pathActivated.emit(self.current)
        else:
            super().keyPressEvent(event)

    def _neighbour(self, key: int) -> int | None:
        if self.session is None:
            return None
        tree = self.session.tree
        node = tree.nodes.get(self.current if self.current is not None else ROOT_ID)
        if node is None:
            return None
        if key == Qt.Key.Key_Right and node.children:
            return ordered_children(tree, node.id)[0]
        if key == Qt.Key.Key_Left and node.parent is not None:
            return node.parent
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and node.parent is not None:
            siblings = ordered_children(tree, node.parent)  # the order they are drawn in
            step = -1 if key == Qt.Key.Key_Up else 1
            index = siblings.index(node.id) + step
            return siblings[index] if 0 <= index < len(siblings) else None
        return None

    def visible_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()
