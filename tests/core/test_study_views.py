"""What the study views and reports show, on small made-up studies: which answers the forking
plot stacks (the gold one always, the rest as "other"), every share and score, the step view,
and the words of the reports — each against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from inspector.core.session import RunSettings, Session
from inspector.core.studies import (
    NO_ANSWER,
    Step,
    Study,
    StudyPoint,
    StudySample,
    StudySettings,
)
from inspector.core.study_views import (
    FORK_THRESHOLD,
    MAX_ANSWERS,
    OTHER,
    answer_label,
    distribution_words,
    fork_plot_data,
    gold_outcome,
    settings_words,
    step_view,
    study_title,
)
from inspector.engine import Alternative, GeneratedSequence, TokenRecord


def token(tid: int, text: str, p: float = 0.5) -> TokenRecord:
    return TokenRecord(tid, text, text.encode(), math.log(p), 1.0, (Alternative(tid, text, 0.0),))


def session_of(texts: list[str], gold: str | None = "8", stop: str | None = None) -> Session:
    session = Session("q?", "Q: q?\nA:", [1, 2], RunSettings(strategy="greedy"), {}, gold=gold)
    path = session.reserve_path("greedy", "greedy")
    tokens = [token(100 + i, text) for i, text in enumerate(texts)]
    session.complete_path(path, GeneratedSequence(0, tokens, "stop" if stop else "eos", stop))
    return session


def said(position, token_id, answers, text="", p=0.5, correct=None) -> list[StudySample]:
    """One sample per answer at a point (forks: token ``token_id`` with probability p)."""
    return [
        StudySample(
            StudyPoint(position, token_id, n, "t", p if token_id is not None else None),
            text, [7], "eos", -1.0, answer, correct,
        )
        for n, answer in enumerate(answers)
    ]  # fmt: skip


TEXTS = [" 4", "+", " 4"]


def test_the_constants_the_views_promise():
    assert (FORK_THRESHOLD, MAX_ANSWERS) == (0.3, 8)
    assert answer_label(OTHER) == "other answers"
    assert answer_label(NO_ANSWER) == "no answer"
    assert answer_label("8") == "8"


def test_the_plot_keeps_eight_answers_the_gold_one_among_them_and_stacks_the_rest():
    session = session_of(TEXTS)
    study = Study(session.id, StudySettings("forks", 0))
    # position 0 (the path's token): ten answers once each; position 1: 2, 2, none, none
    study.samples += said(0, 100, [str(n) for n in range(1, 11)])
    study.samples += said(1, 101, ["2", "2", None, None])
    data = fork_plot_data(session, study)
    # totals: "2" .1 + .5 = .6, none .5, the other nine .1 each (tied: in text order "1",
    # "10", "3", …, "9"); the first eight are 2, none, 1, 10, 3, 4, 5, 6 — the gold "8" is
    # not, so it takes the eighth place and 6, 7, 9 are stacked
    assert data.answers == ["2", NO_ANSWER, "1", "10", "3", "4", "5", "8", OTHER]
    assert data.gold == "8"
    assert data.positions == [0, 1]
    assert data.tokens == ["“␣4”", "“+”", "“␣4”"]
    assert data.shares["2"] == pytest.approx([0.1, 0.5])
    assert data.shares[NO_ANSWER] == pytest.approx([0.0, 0.5])
    for answer in ["1", "10", "3", "4", "5", "8"]:
        assert data.shares[answer] == pytest.approx([0.1, 0.0])
    assert data.shares[OTHER] == pytest.approx([0.3, 0.0])
    assert set(data.shares) == set(data.answers)
    # TV: ½(|.1 − .5| for "2" + |0 − .5| for none + 9 × .1 for the others) = .9
    assert data.scores[0] is None and data.scores[1] == pytest.approx(0.9)
    assert data.forks == [1]
    assert fork_plot_data(session, study, threshold=0.95).forks == []
    assert data.outcome_at(1) is data.outcomes[1] and data.outcome_at(1).position == 1
    assert data.outcome_at(2) is None


def test_eight_answers_or_fewer_are_all_shown_and_nothing_is_stacked():
    session = session_of(TEXTS)
    study = Study(session.id, StudySettings("forks", 0))
    study.samples += said(0, 100, [str(n) for n in range(1, 9)])  # exactly eight
    data = fork_plot_data(session, study)
    assert data.answers == ["1", "2", "3", "4", "5", "6", "7", "8"] and OTHER not in data.shares
    assert data.gold == "8"
    assert data.scores == [None] and data.forks == []


def test_a_gold_answer_among_the_first_eight_keeps_them_as_they_are():
    session = session_of(TEXTS, gold="2")
    study = Study(session.id, StudySettings("forks", 0))
    study.samples += said(0, 100, [str(n) for n in range(1, 11)])
    data = fork_plot_data(session, study)
    assert data.answers == ["1", "10", "2", "3", "4", "5", "6", "7", OTHER]
    assert data.gold == "2"
    assert data.shares[OTHER] == pytest.approx([0.2])


def test_no_gold_answer_or_none_among_the_outcomes():
    study_answers = ["5", "5", None, "6"]
    for gold in (None, "8"):
        session = session_of(TEXTS, gold=gold)
        study = Study(session.id, StudySettings("forks", 0))
        study.samples += said(0, 100, study_answers)
        data = fork_plot_data(session, study)
        assert data.gold is None
        assert data.answers == ["5", NO_ANSWER, "6"]


def test_the_gold_outcome_uses_the_runs_answer_rule_and_never_no_answer():
    session = session_of(TEXTS, gold="8")
    assert gold_outcome(session, [NO_ANSWER, "7", "8.0", "8"]) == "8.0"  # the same number
    assert gold_outcome(session, ["7", NO_ANSWER]) is None
    assert gold_outcome(session, []) is None
    assert gold_outcome(session_of(TEXTS, gold=None), ["8"]) is None
    assert gold_outcome(session_of(TEXTS, gold=""), [NO_ANSWER]) is None
    lettered = session_of(TEXTS, gold="c)")
    lettered.settings = RunSettings(strategy="greedy", answer_rule="choice")
    assert gold_outcome(lettered, ["A", "C"]) == "C"  # by choice, "c)" is the letter C


def test_the_plot_shows_only_the_studied_tokens():
    session = session_of([" 4", "\nQ", ":"], stop="\nQ:")
    study = Study(session.id, StudySettings("forks", 0))
    study.samples += said(0, 100, ["4"])
    assert fork_plot_data(session, study).tokens == ["“␣4”"]


def step_study(split: str) -> tuple[Session, Study]:
    session = session_of([" 3", " apples.", " So", " 8."])
    study = Study(session.id, StudySettings("steps", 0, split=split))
    # from 0: both restate step 0 (nothing is "without" it); from 2: both say something else
    study.samples += said(0, None, ["8", "8"], text=" 3 apples. So 8.", correct=True)
    study.samples += said(2, None, ["9", "9"], text=" So 9.", correct=False)
    return session, study


def test_the_step_view_splits_by_the_studys_rule_and_ranks_the_steps():
    session, study = step_study("sentences")
    view = step_view(session, study)
    assert view.steps == [Step(0, 0, 2, " 3 apples."), Step(1, 2, 4, " So 8.")]
    assert view.gold == "8"
    first, second = view.outcomes
    assert first.n_without == 0 and first.importance == 0.0
    # step 1: with it the path's own answer 8; without it 9, 9. Add-½: p = (1.5/2, .5/2)
    # over (8, 9) = (.75, .25); q = (.5/3, 2.5/3)
    p, q = (0.75, 0.25), (0.5 / 3, 2.5 / 3)
    assert second.importance == pytest.approx(
        sum(a * math.log(a / b) for a, b in zip(p, q, strict=True))
    )
    # the path is right (8), the continuations without step 1 are not
    assert (second.accuracy_with, second.accuracy_without) == (1.0, 0.0)
    assert view.important == [1]
    # by lines the path is one step (no line break)
    lines = step_view(session, Study(session.id, StudySettings("steps", 0, split="lines")))
    assert lines.steps == [Step(0, 0, 4, " 3 apples. So 8.")]


def test_the_step_view_without_a_gold_answer_has_no_accuracy():
    session, study = step_study("sentences")
    session.gold = None
    view = step_view(session, study)
    assert view.gold is None
    # though the continuations were marked when there was one
    assert all(o.accuracy_with is None and o.accuracy_change is None for o in view.outcomes)
    assert all(o.accuracy_without is None for o in view.outcomes)


def test_a_distribution_in_words():
    assert distribution_words({}) == "—"
    assert distribution_words({"8": 0.75, NO_ANSWER: 0.25}) == "8 75% · no answer 25%"
    four = {"1": 0.4, "2": 0.3, "3": 0.2, OTHER: 0.1}
    assert distribution_words(four) == "1 40% · 2 30% · 3 20% · other answers 10%"
    six = four | {"5": 0.0, "6": 0.0}
    assert distribution_words(six) == "1 40% · 2 30% · 3 20% · other answers 10% · +2 more"
    assert distribution_words(six, limit=2) == "1 40% · 2 30% · +4 more"


def test_a_study_title():
    assert study_title(Study("s", StudySettings("forks", 0))) == (
        "Study (new): forking tokens of path #0"
    )
    assert study_title(Study("s", StudySettings("steps", 2), id=3)) == (
        "Study 3: step importance of path #2"
    )


def test_the_settings_in_one_line():
    def words(**changes) -> str:
        return settings_words(Study("s", StudySettings(**changes)))

    common = "4 samples · up to 48 tokens · temperature 1"
    tokens = "the taken token + up to 2 alternatives with p ≥ 0.05"
    assert words(kind="steps", path_id=0) == f"steps split by sentences · {common}"
    assert words(
        kind="steps", path_id=0, split="lines", samples=3, max_tokens=20, temperature=0.7
    ) == ("steps split by lines · 3 samples · up to 20 tokens · temperature 0.7")
    assert words(kind="forks", path_id=0) == f"every position · {tokens} · {common}"
    assert (
        words(kind="forks", path_id=0, first=3) == f"positions 3 to the end · {tokens} · {common}"
    )
    assert words(kind="forks", path_id=0, last=5) == f"positions 0 to 5 · {tokens} · {common}"
    assert words(kind="forks", path_id=0, first=0, last=0) == (
        f"positions 0 to 0 · {tokens} · {common}"
    )
    # an entropy threshold names the positions, whatever the range
    assert words(kind="forks", path_id=0, min_entropy=1.5, first=2) == (
        f"positions with entropy ≥ 1.5 nats · {tokens} · {common}"
    )
    assert words(kind="forks", path_id=0, min_entropy=0.0) == (
        f"positions with entropy ≥ 0 nats · {tokens} · {common}"
    )
    assert words(kind="forks", path_id=0, alternatives=0, min_prob=0.125) == (
        f"every position · the taken token + up to 0 alternatives with p ≥ 0.125 · {common}"
    )
