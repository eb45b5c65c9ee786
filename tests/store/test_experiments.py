"""Data sets, resumable experiments, stats records and verified examples."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inspector.core.datasets import Dataset, DatasetQuestion, load_dataset
from inspector.core.prompts import WorkedExample
from inspector.core.session import RunSettings
from inspector.store import NotFoundError
from tests.store.conftest import MODEL, cot_session, make_session, sc_session, sequence

OTHER_MODEL = {"path": "/models/big-llama.gguf", "description": "Llama 8B Q8"}


def dataset(n: int = 3, name: str = "tiny") -> Dataset:
    questions = [
        DatasetQuestion(i, f"What is {i} + {i}?", str(2 * i), None, f"q{i}") for i in range(n)
    ]
    return Dataset(name, Path(f"/data/{name}.jsonl"), questions)


def test_save_dataset_is_idempotent_by_content(store):
    first = store.save_dataset(dataset())
    assert store.save_dataset(dataset(name="renamed")) == first
    assert store.save_dataset(dataset(4)) != first
    rows = store.db.execute(
        "SELECT idx, question, answer, ext_id FROM dataset_questions WHERE dataset_id = ? "
        "ORDER BY idx",
        [first],
    ).fetchall()
    assert rows == [(i, f"What is {i} + {i}?", str(2 * i), f"q{i}") for i in range(3)]


def test_a_partly_read_data_set_stores_only_its_loaded_questions(store, tmp_path):
    """Issue 14 item 15: only what a run needs is stored; a later, longer run adds the rest
    to the same data set (so the experiment resumes)."""
    path = tmp_path / "big.jsonl"
    path.write_text(
        "".join(f'{{"question": "What is {i} + 1?", "answer": "{i + 1}"}}\n' for i in range(500))
    )
    first = store.save_dataset(load_dataset(path, limit=2))
    assert store.save_dataset(load_dataset(path, limit=5)) == first
    assert store.save_dataset(load_dataset(path)) == first
    count = "SELECT count(*) FROM dataset_questions WHERE dataset_id = ?"
    assert store.db.execute("SELECT n_questions FROM datasets").fetchall() == [(500,)]
    assert store.db.execute(count, [first]).fetchone() == (500,)
    other = tmp_path / "other.jsonl"
    other.write_text(path.read_text())
    again = store.save_dataset(load_dataset(other, limit=3))
    assert again == first  # the same questions, whatever the file
    assert [q.index for q in store.dataset_questions(first)[:3]] == [0, 1, 2]


def test_a_limited_read_stores_no_more_than_it_loaded(store, tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text("".join(f'{{"question": "Q{i}?", "answer": "{i}"}}\n' for i in range(1000)))
    data_id = store.save_dataset(load_dataset(path, limit=2))
    stored = store.dataset_questions(data_id)
    assert [(q.index, q.question) for q in stored] == [(0, "Q0?"), (1, "Q1?")]


def test_experiment_resume(store):
    settings = RunSettings(strategy="self-consistency", samples=3)
    data_id = store.save_dataset(dataset())
    assert store.find_experiment(data_id, settings, MODEL["path"]) is None
    exp = store.create_experiment("tiny sc", data_id, settings, MODEL)
    assert store.find_experiment(data_id, settings, MODEL["path"]) == exp
    assert store.find_experiment(data_id, replace(settings, samples=4), MODEL["path"]) is None
    assert store.find_experiment(data_id, settings, OTHER_MODEL["path"]) is None
    assert store.finished_questions(exp) == set()

    done = sc_session(["0", "0"], gold="0", question="What is 0 + 0?")
    cancelled = sc_session(["2"], gold="2", question="What is 1 + 1?")
    cancelled.status = "cancelled"
    for index, session in enumerate((done, cancelled)):
        store.save_session(session)
        store.record_run(exp, index, session.id)
    assert store.finished_questions(exp) == {0}  # a cancelled question is redone

    redo = sc_session(["2", "2"], gold="2", question="What is 1 + 1?")
    store.save_session(redo)
    store.record_run(exp, 1, redo.id)
    assert store.finished_questions(exp) == {0, 1}
    results = store.experiment_results(exp)
    assert [
        (r.question_index, r.question, r.gold, r.chosen_answer, r.correct) for r in results
    ] == [
        (0, "What is 0 + 0?", "0", "0", True),
        (1, "What is 1 + 1?", "2", "2", True),
    ]
    assert results[1].session_id == redo.id and results[1].consistency == 1.0
    store.delete_session(done.id)
    assert store.finished_questions(exp) == {1}


def test_experiment_errors(store):
    with pytest.raises(NotFoundError, match="no data set 42"):
        store.create_experiment("x", 42, RunSettings(), MODEL)
    exp = store.create_experiment("x", store.save_dataset(dataset()), RunSettings(), MODEL)
    with pytest.raises(NotFoundError, match="no session"):
        store.record_run(exp, 0, "missing")
    store.set_experiment_status(exp, "complete")
    assert store.db.execute("SELECT status FROM experiments").fetchone()[0] == "complete"


def test_run_records_and_filters(store):
    sc = sc_session(["8", "7", "8", None])
    sc.paths[-1].answer = None
    cot = cot_session(model=OTHER_MODEL)
    no_gold = sc_session(["8"], gold=None)
    deleted = sc_session(["8"])
    running = sc_session(["8"])
    running.status = "running"
    for session in (sc, cot, no_gold, deleted, running):
        store.save_session(session)
    store.delete_session(deleted.id)

    records = store.run_records()
    assert {r.session_id for r in records} == {sc.id, cot.id}
    record = next(r for r in records if r.session_id == sc.id)
    assert record.answers == ["8", "7", "8", None]  # voting paths only, in path order
    assert (record.greedy_answer, record.greedy_logprob) == ("5", sc.paths[0].logprob)
    assert (record.gold, record.chosen_answer, record.correct) == ("8", "8", True)
    assert record.consistency == 2 / 3 and record.model == "tiny 270M Q4_K_M"
    cot_record = next(r for r in records if r.session_id == cot.id)
    assert cot_record.cot_confidence == cot.summary().cot_pick.score
    assert cot_record.answers == ["5", "5", "8"] and cot_record.greedy_answer is None

    assert [r.session_id for r in store.run_records(strategy="cot-decoding")] == [cot.id]
    assert [r.session_id for r in store.run_records(model="llama")] == [cot.id]
    exp = store.create_experiment("e", store.save_dataset(dataset()), RunSettings(), MODEL)
    store.record_run(exp, 0, sc.id)
    assert [r.session_id for r in store.run_records(experiment_id=exp)] == [sc.id]


def test_gold_is_normalised_like_the_answers(store):
    session = sc_session(["8"], gold="$8.00")
    store.save_session(session)
    assert store.run_records()[0].gold == "8"
    assert store.run_records()[0].gold_text == "$8.00"


def test_verified_examples_one_per_session_most_confident(store):
    cot = cot_session()  # only path #3 is correct
    sc = sc_session(["8", "8"])
    sc.paths[2].confidence = 0.99  # the second correct sample is the most confident
    wrong = sc_session(["7"])
    gone = sc_session(["8"], question="deleted question")
    for session in (cot, sc, wrong, gone):
        store.save_session(session)
    store.delete_session(gone.id)
    found = dict((q, e) for q, e in store.verified_examples())
    assert set(found) == {cot.question}  # cot and sc share the question
    examples = [e for _, e in store.verified_examples()]
    assert WorkedExample(sc.question, sc.paths[2].text.strip(), "8") in examples
    assert WorkedExample(cot.question, cot.paths[2].text.strip(), "8") in examples
    assert len(examples) == 2 and len(store.verified_examples(limit=1)) == 1


def test_no_verified_examples_without_gold(store):
    session = make_session(gold=None)
    session.add_path(sequence([(" 8", 0.9, 0.05)]), "greedy", "g")
    store.save_session(session)
    assert store.verified_examples() == []


def test_list_experiments_counts_done_and_correct(store):
    settings = RunSettings(strategy="self-consistency", samples=3, prompt_style="few-shot-cot")
    data_id = store.save_dataset(dataset())
    first = store.create_experiment("first", data_id, settings, MODEL)
    second = store.create_experiment("second", data_id, RunSettings(), OTHER_MODEL)
    right = sc_session(["0", "0"], gold="0")
    wrong = sc_session(["3", "3"], gold="2")
    unfinished = sc_session(["4"], gold="4")
    unfinished.status = "cancelled"
    for index, session in enumerate((right, wrong, unfinished)):
        store.save_session(session)
        store.record_run(first, index, session.id)
    rows = store.list_experiments()
    assert [r.id for r in rows] == [second, first]  # newest first
    listed = rows[1]
    assert (listed.name, listed.dataset, listed.n_questions) == ("first", "tiny", 3)
    assert (listed.strategy, listed.prompt_style, listed.status) == (
        "self-consistency",
        "few-shot-cot",
        "running",
    )
    assert (listed.done, listed.correct, listed.accuracy) == (2, 1, 0.5)
    assert listed.model == MODEL["description"]
    assert (rows[0].done, rows[0].accuracy) == (0, None)
    store.delete_session(right.id)
    assert store.list_experiments()[1].done == 1


def test_experiment_plan_gives_back_what_resuming_needs(store):
    settings = RunSettings(strategy="cot-decoding", k=4, max_tokens=33)
    data_id = store.save_dataset(dataset(4))
    exp = store.create_experiment("plan", data_id, settings, MODEL)
    plan = store.experiment_plan(exp)
    assert plan.name == "plan" and plan.settings == settings
    assert plan.model_path == MODEL["path"]
    assert plan.dataset.questions == dataset(4).questions
    assert plan.dataset.path == Path("/data/tiny.jsonl")
    with pytest.raises(NotFoundError, match="no experiment 999"):
        store.experiment_plan(999)


def test_model_names_of_saved_sessions(store):
    assert store.model_names() == []
    store.save_session(make_session(model=OTHER_MODEL))
    store.save_session(make_session())
    store.save_session(make_session())
    assert store.model_names() == sorted([MODEL["description"], OTHER_MODEL["description"]])
