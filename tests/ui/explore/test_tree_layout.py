"""The tidy layout: leaves on consecutive rows, parents centred over their children."""

from __future__ import annotations

from inspector.core.tree import ROOT_ID, ReasoningTree
from inspector.engine.records import TokenRecord
from inspector.ui.explore.tree_layout import layout_tree


def seq(*ids: int) -> list[TokenRecord]:
    return [TokenRecord(i, str(i), b"", -1.0, 1.0, ()) for i in ids]


def test_layout_places_leaves_in_rows_and_parents_in_the_middle():
    tree = ReasoningTree()
    a, _ = tree.add_sequence(seq(1, 2, 3))
    b, _ = tree.add_sequence(seq(1, 2, 4))
    c, _ = tree.add_sequence(seq(5))
    places = layout_tree(tree)
    assert set(places) == set(tree.nodes)
    leaves = sorted(places[n].row for n in (tree.nodes[a].children[0], b, c))
    assert leaves == [0, 1, 2]
    assert places[a].row == 0.5  # the shared "1 2" node sits between its two children
    assert places[ROOT_ID].column == 0 and places[c].column == 1


def test_collapsed_nodes_hide_their_subtree():
    tree = ReasoningTree()
    a, _ = tree.add_sequence(seq(1, 2, 3))
    tree.add_sequence(seq(1, 2, 4))
    places = layout_tree(tree, collapsed=frozenset({a}))
    assert a in places and all(child not in places for child in tree.nodes[a].children)


def test_a_deep_chain_does_not_recurse():
    tree = ReasoningTree()
    node = ROOT_ID
    for i in range(3000):
        node, _ = tree.add_sequence(seq(i), start=node)
    assert len(layout_tree(tree)) == 3001


def test_siblings_are_ordered_by_first_token_probability():
    from inspector.engine.records import TokenRecord as T

    tree = ReasoningTree()
    low, _ = tree.add_sequence([T(1, "a", b"", -3.0, 1.0, ())])
    high, _ = tree.add_sequence([T(2, "b", b"", -0.5, 1.0, ())])
    places = layout_tree(tree)
    assert places[high].row < places[low].row
