"""The reasoning tree: the prompt at the root, runs of generated tokens as nodes.

A node holds a run of tokens and continues its parent; the tokens from the root to a node
spell one prefix of the model's output. Adding a sequence walks the tree along matching token
ids, splits a node where the new sequence leaves it, and hangs the rest on a new node, so
shared prefixes are stored once. A *path* is a sequence the model produced: it ends at a node
(usually a leaf); identical samples are distinct paths ending at the same node, so each votes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from inspector.engine.records import TokenRecord

ROOT_ID = 0


@dataclass
class TreeNode:
    """A run of tokens. ``depth`` is the number of tokens between the root and this run."""

    id: int
    parent: int | None
    depth: int
    tokens: list[TokenRecord] = field(default_factory=list)
    children: list[int] = field(default_factory=list)

    @property
    def end_depth(self) -> int:
        return self.depth + len(self.tokens)


class ReasoningTree:
    """Nodes keyed by id; ids only grow, so a saved id always names the same node."""

    def __init__(self) -> None:
        self.nodes: dict[int, TreeNode] = {ROOT_ID: TreeNode(ROOT_ID, None, 0)}
        self._next_id = ROOT_ID + 1

    @property
    def root(self) -> TreeNode:
        return self.nodes[ROOT_ID]

    def __len__(self) -> int:
        return len(self.nodes)

    def _new_node(self, parent: TreeNode, tokens: list[TokenRecord]) -> TreeNode:
        node = TreeNode(self._next_id, parent.id, parent.end_depth, tokens)
        self._next_id += 1
        self.nodes[node.id] = node
        parent.children.append(node.id)
        return node

    def split(self, node_id: int, offset: int) -> TreeNode:
        """Cut ``node_id`` after ``offset`` of its tokens; return the head (which keeps the id).

        The tail becomes the head's only child and takes over the original children, so every
        existing path still ends at the same tokens; only a path that ended exactly at the
        original node must be moved to the tail, which :meth:`add_sequence` reports.
        """
        node = self.nodes[node_id]
        if not 0 < offset < len(node.tokens):
            raise ValueError(
                f"cannot split node {node_id} of {len(node.tokens)} tokens at {offset}"
            )
        tail = TreeNode(self._next_id, node.id, node.depth + offset, node.tokens[offset:])
        self._next_id += 1
        tail.children = node.children
        for child in tail.children:
            self.nodes[child].parent = tail.id
        node.tokens = node.tokens[:offset]
        node.children = [tail.id]
        self.nodes[tail.id] = tail
        return node

    def add_sequence(
        self, tokens: Sequence[TokenRecord], start: int = ROOT_ID
    ) -> tuple[int, dict[int, int]]:
        """Add ``tokens`` continuing node ``start``; return (end node id, moved path ends).

        The second value maps node ids that were split to their new tail ids: a path that
        ended at such a node now ends at the tail.
        """
        moved: dict[int, int] = {}
        node, index = self.nodes[start], 0
        while index < len(tokens):
            child = self._child_starting_with(node, tokens[index].token_id)
            if child is None:
                return self._new_node(node, list(tokens[index:])).id, moved
            common = _common_ids(child.tokens, tokens[index:])
            if common < len(child.tokens):
                old_children = set(child.children)
                self.split(child.id, common)
                tail_id = next(c for c in child.children if c not in old_children)
                moved[child.id] = tail_id
            node, index = child, index + common
        return node.id, moved

    def _child_starting_with(self, node: TreeNode, token_id: int) -> TreeNode | None:
        for child_id in node.children:
            child = self.nodes[child_id]
            if child.tokens and child.tokens[0].token_id == token_id:
                return child
        return None

    def chain(self, node_id: int) -> list[TreeNode]:
        """The nodes from the root's first child down to ``node_id``."""
        chain = []
        node: TreeNode | None = self.nodes[node_id]
        while node is not None and node.id != ROOT_ID:
            chain.append(node)
            node = self.nodes[node.parent] if node.parent is not None else None
        return chain[::-1]

    def tokens_to(self, node_id: int) -> list[TokenRecord]:
        return [token for node in self.chain(node_id) for token in node.tokens]

    def locate(self, node_id: int, depth: int) -> tuple[int, int]:
        """The (node id, offset) holding the token at ``depth`` on the way to ``node_id``."""
        for node in self.chain(node_id):
            if node.depth <= depth < node.end_depth:
                return node.id, depth - node.depth
        raise IndexError(f"no token at depth {depth} on the path to node {node_id}")

    def walk(self) -> Iterator[TreeNode]:
        """Depth-first, children in insertion order, root first."""
        stack = [ROOT_ID]
        while stack:
            node = self.nodes[stack.pop()]
            yield node
            stack.extend(reversed(node.children))

    def leaves(self) -> list[TreeNode]:
        return [node for node in self.walk() if not node.children and node.id != ROOT_ID]

    @property
    def n_tokens(self) -> int:
        return sum(len(node.tokens) for node in self.nodes.values())


def _common_ids(a: Sequence[TokenRecord], b: Sequence[TokenRecord]) -> int:
    length = 0
    for x, y in zip(a, b):  # noqa: B905 - stops at the shorter on purpose
        if x.token_id != y.token_id:
            break
        length += 1
    return length
