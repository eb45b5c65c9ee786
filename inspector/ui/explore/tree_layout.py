"""Where each node of a reasoning tree goes on screen (plain Python: testable without Qt).

Columns are tree levels (the root at column 0); leaves take consecutive rows in depth-first
order (siblings by their first token's probability) and a parent sits at the mean row of its
children, the classic tidy layout.
"""

from __future__ import annotations

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
    places: dict[int, NodePlace] = {}
    next_row = 0.0
    # iterative post-order so deep trees do not hit the recursion limit
    stack: list[tuple[int, int, bool]] = [(ROOT_ID, 0, False)]
    while stack:
        node_id, column, expanded = stack.pop()
        children = [] if node_id in collapsed else ordered_children(tree, node_id)
        if not children:
            places[node_id] = NodePlace(node_id, column, next_row)
            next_row += 1
        elif not expanded:
            stack.append((node_id, column, True))
            stack.extend((child, column + 1, False) for child in reversed(children))
        else:
            rows = [places[child].row for child in children]
            places[node_id] = NodePlace(node_id, column, sum(rows) / len(rows))
    return places


def ordered_children(tree: ReasoningTree, node_id: int) -> list[int]:
    """Children by the probability of their first token, most likely first (the order of the
    alternatives at the branch point), whatever order their paths finished in."""
    children = tree.nodes[node_id].children

    def first_logprob(child: int) -> float:
        tokens = tree.nodes[child].tokens
        return tokens[0].logprob if tokens else 0.0

    return sorted(children, key=lambda child: -first_logprob(child))
