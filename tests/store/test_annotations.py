"""Annotations on sessions, paths and token ranges; the configurable label set."""

from __future__ import annotations

import pytest

from inspector.store import DEFAULT_LABELS, NotFoundError, StoreError
from tests.store.conftest import cot_session


@pytest.fixture
def saved(store):
    session = cot_session()
    store.save_session(session)
    return session


def test_default_labels_and_adding_one(store):
    assert store.labels() == [name for name, _ in DEFAULT_LABELS]
    assert store.labels()[:5] == [
        "correct",
        "incorrect",
        "flawed reasoning",
        "lucky guess",
        "unclear",
    ]
    store.add_label("needs review")
    store.add_label("needs review", "again: no duplicate")
    assert store.labels()[-1] == "needs review" and len(store.labels()) == 6


def test_annotation_crud(store, saved):
    on_session = store.add_annotation(saved.id, "unclear", note="hard to say", tags=["apples"])
    on_path = store.add_annotation(saved.id, "correct", path_id=2)
    on_step = store.add_annotation(
        saved.id, "flawed reasoning", path_id=2, token_start=1, token_end=3, note="5, not 5,"
    )
    found = store.annotations(saved.id)
    assert [a.id for a in found] == [on_session, on_path, on_step]
    assert [a.target for a in found] == ["session", "path", "tokens"]
    assert found[0].tags == ("apples",) and found[0].note == "hard to say"
    assert (found[2].token_start, found[2].token_end) == (1, 3)
    assert [a.id for a in store.annotations(saved.id, path_id=2)] == [on_path, on_step]

    store.update_annotation(on_session, label="lucky guess", tags=["apples", "dad"])
    changed = store.annotation(on_session)
    assert (changed.label, changed.note, changed.tags) == (
        "lucky guess",
        "hard to say",
        ("apples", "dad"),
    )
    assert changed.updated >= changed.created
    store.update_annotation(on_session, label=None)
    assert store.annotation(on_session).label is None

    store.delete_annotation(on_path)
    assert [a.id for a in store.annotations(saved.id)] == [on_session, on_step]
    with pytest.raises(NotFoundError):
        store.delete_annotation(on_path)


def test_annotations_survive_resaving_the_session(store, saved):
    store.add_annotation(saved.id, "correct", path_id=2)
    store.save_session(saved)
    assert [a.path_id for a in store.annotations(saved.id)] == [2]


def test_bad_annotations_are_rejected(store, saved):
    with pytest.raises(StoreError, match="unknown label 'great'"):
        store.add_annotation(saved.id, "great")
    with pytest.raises(NotFoundError):
        store.add_annotation("missing", "correct")
    with pytest.raises(ValueError, match="needs the path"):
        store.add_annotation(saved.id, "correct", token_start=0, token_end=2)
    with pytest.raises(ValueError, match="bad token range"):
        store.add_annotation(saved.id, "correct", path_id=0, token_start=2, token_end=2)
    with pytest.raises(ValueError, match="both"):
        store.add_annotation(saved.id, "correct", path_id=0, token_start=2)
    with pytest.raises(ValueError, match="list of strings"):
        store.add_annotation(saved.id, "correct", tags="oops")
    assert store.annotations(saved.id) == []
