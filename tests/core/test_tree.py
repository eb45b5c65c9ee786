"""The reasoning tree stores shared prefixes once and keeps every path's tokens intact."""

from __future__ import annotations

import pytest

from inspector.core.tree import ROOT_ID, ReasoningTree
from inspector.engine.records import Alternative, TokenRecord


def tok(token_id: int) -> TokenRecord:
    return TokenRecord(
        token_id, f"t{token_id} ", b"", -0.5, 1.0, (Alternative(token_id, "", -0.5),)
    )


def seq(*ids: int) -> list[TokenRecord]:
    return [tok(i) for i in ids]


def ids(tree: ReasoningTree, node_id: int) -> list[int]:
    return [t.token_id for t in tree.tokens_to(node_id)]


def test_first_sequence_is_one_node():
    tree = ReasoningTree()
    end, moved = tree.add_sequence(seq(1, 2, 3))
    assert ids(tree, end) == [1, 2, 3]
    assert tree.root.children == [end] and moved == {}


def test_divergence_splits_the_node_and_keeps_both_paths():
    tree = ReasoningTree()
    a, _ = tree.add_sequence(seq(1, 2, 3, 4))
    b, moved = tree.add_sequence(seq(1, 2, 9))
    head = tree.nodes[a]
    assert len(head.tokens) == 2  # the head keeps the id and the shared tokens
    assert moved == {a: head.children[0]}
    assert ids(tree, moved[a]) == [1, 2, 3, 4]
    assert ids(tree, b) == [1, 2, 9]
    assert tree.n_tokens == 5  # 1 2 shared once, then 3 4 and 9


def test_identical_and_prefix_sequences_end_on_existing_nodes():
    tree = ReasoningTree()
    a, _ = tree.add_sequence(seq(5, 6, 7))
    again, _ = tree.add_sequence(seq(5, 6, 7))
    shorter, moved = tree.add_sequence(seq(5, 6))
    assert again == a
    assert shorter == a and ids(tree, moved[a]) == [5, 6, 7]


def test_different_first_tokens_are_siblings_under_the_root():
    tree = ReasoningTree()
    for first in (1, 2, 3):
        tree.add_sequence(seq(first, 10, 11))
    assert len(tree.root.children) == 3
    assert len(tree.leaves()) == 3


def test_locate_and_continue_from_a_node():
    tree = ReasoningTree()
    a, _ = tree.add_sequence(seq(1, 2, 3, 4))
    assert tree.locate(a, 2) == (a, 2)
    head = tree.split(a, 2)
    tail = head.children[0]
    assert tree.locate(tail, 3) == (tail, 1)
    end, _ = tree.add_sequence(seq(7, 8), start=head.id)
    assert ids(tree, end) == [1, 2, 7, 8]
    with pytest.raises(ValueError):
        tree.split(head.id, 0)
    with pytest.raises(IndexError):
        tree.locate(end, 10)


def test_walk_is_depth_first_from_the_root():
    tree = ReasoningTree()
    a, _ = tree.add_sequence(seq(1, 2, 3))
    b, moved = tree.add_sequence(seq(1, 4))  # splits a: head [1], tail [2, 3]
    c, _ = tree.add_sequence(seq(5))
    d, _ = tree.add_sequence(seq(1, 2, 6), start=ROOT_ID)  # splits the tail: [2], [3] | [6]
    tail = moved[a]
    order = [n.id for n in tree.walk()]
    # root; the head [1] with its subtree (the [2] node, its [3] and [6] children, then [4]);
    # only then the second child of the root, [5]: depth first, children in insertion order
    three, six = tree.nodes[tail].children
    assert order == [ROOT_ID, a, tail, three, six, b, c]
    assert [tree.nodes[n].tokens[0].token_id for n in order[1:]] == [1, 2, 3, 6, 4, 5]
    assert six == d and ids(tree, three) == [1, 2, 3]


def test_node_ids_count_up_from_one_in_creation_order():
    tree = ReasoningTree()
    assert tree.add_sequence(seq(1, 2, 3))[0] == 1
    assert tree.add_sequence(seq(5))[0] == 2
    # a split's tail takes the next id, then the new branch
    end, moved = tree.add_sequence(seq(1, 9))
    assert moved == {1: 3} and end == 4
    assert sorted(tree.nodes) == [0, 1, 2, 3, 4]


def test_split_refuses_an_offset_at_either_end():
    tree = ReasoningTree()
    node, _ = tree.add_sequence(seq(1, 2, 3))
    for offset in (0, 3, 4):
        with pytest.raises(ValueError, match=rf"^cannot split node 1 of 3 tokens at {offset}$"):
            tree.split(node, offset)
    assert len(tree) == 2  # nothing changed


def test_locate_covers_each_depth_once_and_names_what_is_missing():
    tree = ReasoningTree()
    a, _ = tree.add_sequence(seq(1, 2, 3, 4))
    b, _ = tree.add_sequence(seq(1, 2, 9))  # [1 2] -> [3 4] and [9]
    head = tree.nodes[b].parent
    assert head is not None
    assert [tree.locate(b, d) for d in range(3)] == [(head, 0), (head, 1), (b, 0)]
    tail = tree.nodes[head].children[0]
    assert [tree.locate(tail, d) for d in (2, 3)] == [(tail, 0), (tail, 1)]
    with pytest.raises(IndexError, match=rf"^no token at depth 3 on the path to node {b}$"):
        tree.locate(b, 3)
    assert a == head


def test_leaves_are_the_childless_nodes_never_the_root():
    tree = ReasoningTree()
    assert tree.leaves() == []  # the bare root is no leaf
    a, _ = tree.add_sequence(seq(1, 2, 3))
    b, _ = tree.add_sequence(seq(1, 7))
    c, _ = tree.add_sequence(seq(8))
    tail = tree.nodes[a].children[0]
    assert [n.id for n in tree.leaves()] == [tail, b, c]
