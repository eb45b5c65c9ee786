"""Resampling studies on small made-up paths: the plan, the step split, and every figure
(mixture, share, forking score, KL, accuracy change) against values worked out by hand."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from inspector.core.session import ReasoningPath, RunSettings, Session
from inspector.core.studies import (
    NO_ANSWER,
    Step,
    Study,
    StudyPoint,
    StudySample,
    StudySettings,
    distribution,
    fork_outcomes,
    forks,
    important_steps,
    kl_divergence,
    plan_study,
    split_steps,
    step_outcomes,
    total_variation,
)
from inspector.engine import Alternative, GeneratedSequence, InvalidParameterError, TokenRecord


def token(tid: int, text: str, p: float, top: list[tuple[int, str, float]]) -> TokenRecord:
    alts = tuple(Alternative(i, t, math.log(q)) for i, t, q in top)
    return TokenRecord(tid, text, text.encode(), math.log(p), 1.5, alts)


def made_up_session(tokens: list[TokenRecord], stop: str | None = None) -> Session:
    session = Session("q?", "Q: q?\nA:", [1, 2, 3], RunSettings(strategy="greedy"), {}, gold="8")
    path = session.reserve_path("greedy", "greedy")
    sequence = GeneratedSequence(0, tokens, "stop" if stop else "eos", stop)
    session.complete_path(path, sequence)
    return session


# three tokens: " 4" (p .6; alternatives " 5" .3, " 6" .04), "+" (p .9; "-" .08), " 4" (p 1.0)
TOKENS = [
    token(10, " 4", 0.6, [(10, " 4", 0.6), (11, " 5", 0.3), (12, " 6", 0.04)]),
    token(20, "+", 0.9, [(20, "+", 0.9), (21, "-", 0.08)]),
    token(10, " 4", 1.0, [(10, " 4", 1.0)]),
]


def test_the_plan_takes_the_path_token_and_alternatives_above_the_minimum():
    session = made_up_session(TOKENS)
    settings = StudySettings(kind="forks", path_id=0, samples=2, max_tokens=10, min_prob=0.05)
    plan = plan_study(session, settings)
    chosen = sorted({(p.position, p.token_id) for p in plan.points})
    # " 6" (0.04) is below 0.05; position 2 has no alternative
    assert chosen == [(0, 10), (0, 11), (1, 20), (1, 21), (2, 10)]
    assert len(plan.points) == 5 * 2
    assert plan.tokens == 10 * (10 + 1)  # each continuation: the forced token and 10 more
    first = next(p for p in plan.points if p.key == (0, 11, 1))
    assert first.token_text == " 5" and first.token_prob == pytest.approx(0.3)
    # every point has its own random stream
    assert len({p.seed_key() for p in plan.points}) == len(plan.points)


def test_positions_a_range_an_entropy_threshold_and_one_alternative():
    session = made_up_session(TOKENS)
    ranged = plan_study(session, StudySettings("forks", 0, samples=1, first=1, last=5))
    assert sorted({p.position for p in ranged.points}) == [1, 2]
    few = plan_study(session, StudySettings("forks", 0, samples=1, alternatives=0))
    assert all(p.token_id == TOKENS[p.position].token_id for p in few.points)
    assert plan_study(session, StudySettings("forks", 0, min_entropy=1.6)).points == []


def test_a_stop_string_is_not_studied():
    tokens = [*TOKENS, token(30, "\nQ", 0.5, []), token(31, ":", 0.9, [])]
    session = made_up_session(tokens, stop="\nQ:")
    plan = plan_study(session, StudySettings("forks", 0, samples=1))
    assert max(p.position for p in plan.points) == 2


def test_bad_settings_get_one_clear_message():
    session = made_up_session(TOKENS)
    with pytest.raises(InvalidParameterError, match="no path 3"):
        plan_study(session, StudySettings("forks", 3))
    with pytest.raises(InvalidParameterError, match="temperature"):
        plan_study(session, StudySettings("forks", 0, temperature=0))
    with pytest.raises(InvalidParameterError, match="no position"):
        plan_study(session, StudySettings("forks", 0, first=5))
    with pytest.raises(InvalidParameterError, match="split"):
        plan_study(session, StudySettings("steps", 0, split="words"))
    blind = [TokenRecord(t.token_id, t.text, t.piece, math.nan, math.nan, ()) for t in TOKENS]
    with pytest.raises(InvalidParameterError, match="without its tokens' probabilities"):
        plan_study(made_up_session(blind), StudySettings("forks", 0))


def sample(position: int, token_id: int | None, n: int, answer: str | None, **kw) -> StudySample:
    point = StudyPoint(position, token_id, n, kw.pop("text", ""), kw.pop("prob", None))
    return StudySample(point, kw.pop("said", ""), [], "eos", -1.0, answer, kw.pop("correct", None))


def test_the_outcome_mixture_share_and_forking_score_by_hand():
    study = Study("s", StudySettings("forks", 0))
    # position 0: " 4" (p .6) → 8, 8;  " 5" (p .3) → 9, none
    study.samples += [sample(0, 10, i, "8", prob=0.6) for i in range(2)]
    study.samples += [sample(0, 11, 0, "9", prob=0.3), sample(0, 11, 1, None, prob=0.3)]
    # position 1: "+" (p .9) → 8, 8, 8, 9
    study.samples += [sample(1, 20, i, a, prob=0.9) for i, a in enumerate("8889")]
    outcomes = fork_outcomes(study, TOKENS)
    first, second = outcomes
    assert first.share == pytest.approx(0.9)
    # mixture: 8: (.6/.9)·1 = 2/3; 9: (.3/.9)·½ = 1/6; no answer: 1/6
    assert first.distribution == pytest.approx({"8": 2 / 3, "9": 1 / 6, NO_ANSWER: 1 / 6})
    assert first.score is None
    taken, other = first.tokens
    assert (taken.token_id, taken.taken, taken.n) == (10, True, 2)
    assert other.distribution == {"9": 0.5, NO_ANSWER: 0.5}
    assert second.distribution == pytest.approx({"8": 0.75, "9": 0.25})
    # TV: ½(|2/3 − 3/4| + |1/6 − 1/4| + |1/6 − 0|) = ½(1/12 + 1/12 + 1/6) = 1/6
    assert second.score == pytest.approx(1 / 6)
    assert forks(outcomes, threshold=0.15) == [1]
    assert forks(outcomes, threshold=0.2) == []


def test_distances_and_divergence_by_hand():
    assert distribution(["a", "b", "a", "a"]) == {"a": 0.75, "b": 0.25}
    assert distribution([]) == {}
    assert total_variation({"a": 1.0}, {"b": 1.0}) == 1.0
    assert total_variation({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == 0.0
    # KL with add-½ smoothing: p = (3.5/5, 1.5/5) = (.7, .3); q = (.5/5, 4.5/5) = (.1, .9)
    expected = 0.7 * math.log(0.7 / 0.1) + 0.3 * math.log(0.3 / 0.9)
    assert kl_divergence(Counter(a=3, b=1), Counter(b=4)) == pytest.approx(expected)
    assert kl_divergence(Counter(a=2), Counter(a=5)) == pytest.approx(0.0)


def test_sentences_lines_and_numbered_steps():
    texts = [
        " First",
        " 3.5",
        " apples.",
        " Then",
        " 2",
        "!",
        "\n",
        "1",
        ".",
        " add",
        "\n",
        "2",
        ")",
        " sum",
    ]
    sentences = split_steps(texts, "sentences")
    assert [(s.start, s.end) for s in sentences] == [(0, 3), (3, 7), (7, 11), (11, 14)]
    assert sentences[0].text == " First 3.5 apples."  # "3.5" does not cut
    lines = split_steps(texts, "lines")
    assert [(s.start, s.end) for s in lines] == [(0, 7), (7, 11), (11, 14)]
    numbered = split_steps(texts, "numbered")
    assert [(s.start, s.end) for s in numbered] == [(0, 7), (7, 11), (11, 14)]
    assert split_steps(["a", "\n", "\n", "b"], "lines")[0].text == "a\n\n"  # blank joins


def test_step_importance_and_accuracy_by_hand():
    steps = [Step(0, 0, 2, " 3 apples."), Step(1, 2, 4, " So 8.")]
    path = ReasoningPath(0, 3, "greedy", "greedy", "eos", answer="8", correct=True)
    study = Study("s", StudySettings("steps", 0))
    # before step 0: two restate it (not "without"), two differ: answers 5 and none
    study.samples += [
        sample(0, None, 0, "8", said=" 3 apples. So 8.", correct=True),
        sample(0, None, 1, "8", said=" 3  apples.\nSo", correct=True),
        sample(0, None, 2, "5", said=" 2 apples. 5.", correct=False),
        sample(0, None, 3, None, said=" Hmm.", correct=False),
    ]
    # before step 1 (after step 0): 8, 8, 8, 9
    study.samples += [
        sample(2, None, i, a, said=" x.", correct=a == "8") for i, a in enumerate("8889")
    ]
    first, second = step_outcomes(study, steps, path, gold="8")
    assert first.n_without == 2
    assert first.with_step == {"8": 0.75, "9": 0.25}
    assert first.without_step == {"5": 0.5, NO_ANSWER: 0.5}
    expected = kl_divergence(Counter({"8": 3, "9": 1}), Counter({"5": 1, NO_ANSWER: 1}))
    assert first.importance == pytest.approx(expected)
    assert first.accuracy_with == 0.75 and first.accuracy_without == 0.0
    assert first.accuracy_change == 0.75
    # after the last step the path's own answer; without it: 8, 8, 8, 9 (all differ)
    assert second.with_step == {"8": 1.0}
    assert second.n_without == 4
    assert second.accuracy_change == pytest.approx(1.0 - 0.75)
    # with: 8 (own answer, ×1); without: 8 ×3, 9 ×1 → p = (.75, .25), q = (.7, .3)
    by_hand = 0.75 * math.log(0.75 / 0.7) + 0.25 * math.log(0.25 / 0.3)
    assert second.importance == pytest.approx(by_hand)
    assert important_steps([first, second]) == [0, 1]
    assert important_steps([first, second], top=1) == [0]
