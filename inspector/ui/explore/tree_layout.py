"""Where each node of a reasoning tree goes on screen (plain Python: testable without Qt).

Columns are tree levels (the root at column 0); leaves take consecutive rows in depth-first
order (siblings by their first token's probability) and a parent sits at the mean row of its
children, the classic tidy layout.

A large tree (an adaptive run's 200+ leaves) stays legible two ways: a *collapsed* node hides
its subtree, and *folded* nodes (:func:`low_mass_branches`: branches holding less than a share
of the explored probability mass) are left out, their parent drawing one stub row for them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from inspector.core.tree import ROOT_ID, ReasoningTree


@dataclass(frozen=True)
class NodePlace:
    node_id: int
    column: int
    row: float


def layout_tree(
    tree: ReasoningTree, collapsed: frozenset[int] = frozenset()
) -> dict[int, NodePlace]:
    """Place every visible node; children of ``collapsed`` nodes are hidden."""
    return layout_folded(tree, collapsed).places


@dataclass(frozen=True)
class FoldedLayout:
    """The visible nodes' places, and for each parent with folded children the place of its
    stub row (column of those children) and the folded node ids."""

    places: dict[int, NodePlace]
    stubs: dict[int, NodePlace]
    folded: dict[int, tuple[int, ...]]


def layout_folded(
    tree: ReasoningTree,
    collapsed: frozenset[int] = frozenset(),
    folded: frozenset[int] = frozenset(),
) -> FoldedLayout:
    """Place every visible node: children of ``collapsed`` nodes are hidden; ``folded`` nodes
    (and their subtrees) are left out, one stub row below their drawn siblings standing for
    them."""
    places: dict[int, NodePlace] = {}
    stubs: dict[int, NodePlace] = {}
    hidden: dict[int, tuple[int, ...]] = {}
    next_row = 0.0
    # iterative post-order so deep trees do not hit the recursion limit
    stack: list[tuple[int, int, bool]] = [(ROOT_ID, 0, False)]
    while stack:
        node_id, column, expanded = stack.pop()
        every = [] if node_id in collapsed else ordered_children(tree, node_id)
        children = [c for c in every if c not in folded]
        out = tuple(c for c in every if c in folded)
        if not every:
            places[node_id] = NodePlace(node_id, column, next_row)
            next_row += 1
        elif not expanded:
            stack.append((node_id, column, True))
            stack.extend((child, column + 1, False) for child in reversed(children))
        else:
            rows = [places[child].row for child in children]
            if out:
                hidden[node_id] = out
                stubs[node_id] = NodePlace(node_id, column + 1, next_row)
                rows.append(next_row)
                next_row += 1
            places[node_id] = NodePlace(node_id, column, sum(rows) / len(rows))
    return FoldedLayout(places, stubs, hidden)


def subtree_mass(tree: ReasoningTree, leaves: Iterable[tuple[int, float]]) -> dict[int, float]:
    """Each node's share of the leaves' probability: Σ exp(log-probability) of the leaves
    (end node, path log-probability) at or below it."""
    mass: dict[int, float] = {}
    for node_id, logprob in leaves:
        probability = math.exp(logprob)
        for node in [tree.root, *tree.chain(node_id)]:
            mass[node.id] = mass.get(node.id, 0.0) + probability
    return mass


def low_mass_branches(tree: ReasoningTree, mass: dict[int, float], share: float) -> frozenset[int]:
    """The branches to fold: children of a fork whose subtree holds less than ``share`` of the
    explored mass (the root's). The most likely child of each fork always stays, so every
    fork keeps one drawn branch; 0 folds nothing."""
    total = mass.get(ROOT_ID, 0.0)
    if share <= 0 or total <= 0:
        return frozenset()
    folded: set[int] = set()
    for node in tree.walk():
        if len(node.children) < 2:
            continue
        heaviest = max(node.children, key=lambda c: mass.get(c, 0.0))
        folded.update(
            c for c in node.children if c != heaviest and mass.get(c, 0.0) < share * total
        )
    return frozenset(folded)


def hidden_leaves(tree: ReasoningTree, nodes: Iterable[int]) -> int:
    """How many leaves lie at or below ``nodes`` (what a fold or a collapse hides)."""
    count = 0
    stack = list(nodes)
    while stack:
        node = tree.nodes[stack.pop()]
        if not node.children:
            count += 1
        stack.extend(node.children)
    return count


def ordered_children(tree: ReasoningTree, node_id: int) -> list[int]:
    """Children by the probability of their first token, most likely first (the order of the
    alternatives at the branch point), whatever order their paths finished in."""
    children = tree.nodes[node_id].children

    def first_logprob(child: int) -> float:
        tokens = tree.nodes[child].tokens
        return tokens[0].logprob if tokens else 0.0

    return sorted(children, key=lambda child: -first_logprob(child))
