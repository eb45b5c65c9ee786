"""A saved session with a hand-made forking study and step study (no model): the answers of
every continuation are chosen here, so each figure the views show can be worked out by hand."""

from __future__ import annotations

import math

from inspector.core.session import Session
from inspector.core.studies import Study, StudyPoint, StudySample, StudySettings
from inspector.engine.records import Alternative, TokenRecord
from tests.ui.explore.recorded import add, new_session

# the path: " 3 + 5 = 8." then a second sentence; token i has id 500 + i, p = 0.8, and one
# alternative (id 900 + i, p = 0.15)
TEXTS = (" 3", " +", " 5", " =", " 8", ".", " So", " 8", ".")


def path_tokens() -> list[TokenRecord]:
    records = []
    for i, text in enumerate(TEXTS):
        top = (
            Alternative(500 + i, text, math.log(0.8)),
            Alternative(900 + i, " 7", math.log(0.15)),
        )
        records.append(TokenRecord(500 + i, text, text.encode(), math.log(0.8), 0.6, top))
    return records


def made_session() -> Session:
    session = new_session(gold="8")
    session.status = "complete"
    add(session, path_tokens())
    return session


def sample(
    position: int, token: int | None, n: int, answer: str | None, text: str = ""
) -> StudySample:
    tokens = path_tokens()
    if token is None:
        point = StudyPoint(position, None, n)
    elif token == tokens[position].token_id:
        point = StudyPoint(position, token, n, tokens[position].text, 0.8)
    else:
        point = StudyPoint(position, token, n, " 7", 0.15)
    correct = None if answer is None else answer == "8"
    body = text or f" continuation {position}/{token}/{n} → {answer or 'nothing'}"
    return StudySample(point, body, [1, 2], "eos", -1.5, answer, correct if answer else False)


def forks_study(session_id: str) -> Study:
    """Positions 0 to 2, the taken token and the alternative, 2 samples each. Taken tokens
    lead to 8 except at position 2 (one 8, one 9); the alternative " 7" leads to 7 at 0, to
    nothing at 1 and 2."""
    settings = StudySettings("forks", 0, samples=2, max_tokens=8, first=0, last=2, alternatives=1)
    answers = {
        (0, True): ["8", "8"], (0, False): ["7", "7"],
        (1, True): ["8", "8"], (1, False): [None, None],
        (2, True): ["8", "9"], (2, False): [None, None],
    }  # fmt: skip
    study = Study(session_id, settings)
    for (position, taken), outs in answers.items():
        token = 500 + position if taken else 900 + position
        for n, answer in enumerate(outs):
            study.samples.append(sample(position, token, n, answer))
    return study
