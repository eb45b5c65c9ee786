"""Listing, full-text search, filters, rename, soft delete / restore, interrupted runs."""

from __future__ import annotations

from inspector.store import SessionRow
from tests.store.conftest import cot_session, make_session, sc_session, sequence

OTHER_MODEL = {"path": "/models/big-llama.gguf", "description": "Llama 8B Q8"}


def ids(rows: list[SessionRow]) -> list[str]:
    return [row.id for row in rows]


def test_list_newest_first_with_summary(store):
    older = cot_session()
    older.created = "2024-01-01T00:00:00+00:00"
    newer = sc_session(["8", "8", "7"])
    store.save_session(older)
    store.save_session(newer)
    rows = store.list_sessions()
    assert ids(rows) == [newer.id, older.id]
    row = rows[0]
    assert (row.strategy, row.prompt_style, row.status) == ("self-consistency", "plain", "complete")
    assert (row.chosen_answer, row.correct, row.n_paths) == ("8", True, 4)
    assert row.consistency == 2 / 3 and row.model == "tiny 270M Q4_K_M" and not row.deleted
    assert ids(store.list_sessions(limit=1)) == [newer.id]


def test_search_questions_paths_and_notes(store):
    apples = cot_session()
    trains = make_session(question="A train leaves at noon at 60 km/h. When does it arrive?")
    parts = [(" The", 0.5, 0.2), (" locomotive", 0.6, 0.1), (" arrives at 2", 0.4, 0.3)]
    trains.add_path(sequence(parts), "greedy", "g")
    for session in (apples, trains):
        store.save_session(session)
    assert ids(store.list_sessions(search="apples")) == [apples.id]  # question
    assert ids(store.list_sessions(search="apple")) == [apples.id]  # stemmed
    assert ids(store.list_sessions(search="locomotive")) == [trains.id]  # path text only
    assert ids(store.list_sessions(search="noon")) == [trains.id]
    assert store.list_sessions(search="banana") == []
    store.add_annotation(apples.id, "lucky guess", note="suspicious arithmetic")
    assert ids(store.list_sessions(search="arithmetic")) == [apples.id]  # note
    # FTS syntax in user input is taken literally, never an error
    assert store.list_sessions(search='"unbalanced AND OR NOT (') == []
    assert len(store.list_sessions(search="   ")) == 2


def test_search_follows_resaves_and_renames(store):
    session = cot_session()
    store.save_session(session)
    session.add_path(sequence([(" zucchini", 0.5, 0.2)]), "cot-decoding", "#4")
    store.save_session(session)
    assert ids(store.list_sessions(search="zucchini")) == [session.id]
    store.rename_session(session.id, "Fruit arithmetic")
    assert ids(store.list_sessions(search="fruit")) == [session.id]
    assert store.list_sessions()[0].title == "Fruit arithmetic"
    assert store.load_session(session.id).title == "Fruit arithmetic"


def test_filters_by_strategy_and_model(store):
    cot, sc = cot_session(), sc_session(["8"], model=OTHER_MODEL)
    store.save_session(cot)
    store.save_session(sc)
    assert ids(store.list_sessions(strategy="self-consistency")) == [sc.id]
    assert ids(store.list_sessions(model="llama")) == [sc.id]
    assert ids(store.list_sessions(model="tiny-q4.gguf")) == [cot.id]
    assert store.list_sessions(model="%") == []  # LIKE wildcards are literal


def test_soft_delete_and_restore(store):
    kept, gone = cot_session(), sc_session(["8"])
    store.save_session(kept)
    store.save_session(gone)
    store.delete_session(gone.id)
    assert ids(store.list_sessions()) == [kept.id]
    rows = store.list_sessions(include_deleted=True)
    assert {r.id: r.deleted for r in rows} == {kept.id: False, gone.id: True}
    assert store.load_session(gone.id).paths  # still all there
    store.save_session(gone)  # saving does not resurrect it
    assert ids(store.list_sessions()) == [kept.id]
    store.restore_session(gone.id)
    assert set(ids(store.list_sessions())) == {kept.id, gone.id}


def test_mark_interrupted(store):
    running, done = cot_session(), sc_session(["8"])
    running.status = "running"
    store.save_session(running)
    store.save_session(done)
    assert store.mark_interrupted(before="2000-01-01") == 0
    assert store.mark_interrupted() == 1
    assert store.load_session(running.id).status == "interrupted"
    assert store.load_session(done.id).status == "complete"
