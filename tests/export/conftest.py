"""Hand-built sessions and experiments (no model), with hostile text where it matters."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.session import Session
from inspector.engine.records import Alternative, GeneratedSequence, TokenRecord
from inspector.store import Store
from tests.store.conftest import MODEL, cot_session, sc_session

SCRIPT = "<script>alert('x')</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT} {IMG} | `tick` & =cmd"


def hostile_session() -> Session:
    """A CoT session whose question, title, model, tokens and alternatives carry markup."""
    session = cot_session(question=f"How many? {HOSTILE}", model={**MODEL, "description": IMG})
    session.title = SCRIPT
    top = (
        Alternative(9001, SCRIPT, math.log(0.5)),
        Alternative(9002, IMG, math.log(0.3)),
    )
    evil = TokenRecord(9001, SCRIPT, SCRIPT.encode(), math.log(0.5), 1.2, top)
    tail = TokenRecord(9003, " 8", b" 8", math.log(0.9), 0.3, top)
    session.add_path(GeneratedSequence(0, [evil, tail], "eos"), "cot-decoding", IMG)
    return session


def dataset(n: int = 3) -> Dataset:
    questions = [
        DatasetQuestion(i, f"What is {i} + {i}?", str(2 * i), None, f"q{i}") for i in range(n)
    ]
    return Dataset("tiny", Path("/data/tiny.jsonl"), questions)


def make_experiment(store: Store) -> tuple[int, list[Session]]:
    """A self-consistency experiment over 3 questions: right, wrong, right."""
    data_id = store.save_dataset(dataset())
    first = sc_session(["0", "0", "1"], gold="0", question="What is 0 + 0?")
    exp = store.create_experiment("tiny sc", data_id, first.settings, MODEL)
    sessions = [
        first,
        sc_session(["3", "3", "2"], gold="2", question="What is 1 + 1?"),
        sc_session(["4", "4", "4"], gold="4", question="What is 2 + 2?"),
    ]
    for index, session in enumerate(sessions):
        store.save_session(session)
        store.record_run(exp, index, session.id)
    store.set_experiment_status(exp, "complete")
    return exp, sessions


@pytest.fixture
def annotated(store):
    """A saved hostile session with session, path and token-range annotations."""
    session = hostile_session()
    store.save_session(session)
    store.add_label("<svg onload=alert(1)>", "a hostile label")
    store.add_annotation(session.id, "correct", path_id=2, note=f"good {HOSTILE}", tags=[IMG])
    store.add_annotation(session.id, "lucky guess", path_id=3, token_start=0, token_end=1)
    store.add_annotation(session.id, "<svg onload=alert(1)>", note='=HYPERLINK("x")')
    return session
