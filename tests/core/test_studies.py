"""Resampling studies on small made-up paths: the plan, the step split, and every figure
(mixture, share, forking score, KL, accuracy change) against values worked out by hand."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from inspector.core.session import ReasoningPath, RunSettings, Session
from inspector.core.studies import (
    NO_ANSWER,
    PositionOutcome,
    Step,
    StepOutcome,
    Study,
    StudyPoint,
    StudySample,
    StudySettings,
    distribution,
    fork_outcomes,
    forks,
    important_steps,
    kl_divergence,
    make_sample,
    plan_study,
    split_steps,
    step_outcomes,
    studied_tokens,
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


# -- the plan's edges and every message (added for the mutation run) -------------------------------
def refused(session: Session, settings: StudySettings, message: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        plan_study(session, settings)
    assert str(error.value) == message


def test_every_limit_is_allowed_at_its_edge_and_refused_past_it_with_its_message():
    session = made_up_session(TOKENS)

    def forks_with(**changes):
        return StudySettings("forks", 0, **changes)

    for allowed in (
        forks_with(samples=1), forks_with(samples=256), forks_with(max_tokens=1),
        forks_with(max_tokens=4096), forks_with(temperature=5), forks_with(top_p=1),
        forks_with(top_p=0.01), forks_with(alternatives=0), forks_with(alternatives=20),
        forks_with(min_prob=0), forks_with(min_prob=1),
    ):  # fmt: skip
        assert plan_study(session, allowed).points
    refused(session, forks_with(samples=0), "samples must be 1 to 256, got 0")
    refused(session, forks_with(samples=257), "samples must be 1 to 256, got 257")
    refused(session, forks_with(max_tokens=0), "max tokens must be 1 to 4096, got 0")
    refused(session, forks_with(max_tokens=4097), "max tokens must be 1 to 4096, got 4097")
    hot = "a study samples: temperature must be above 0 and at most 5, got 5.5"
    refused(session, forks_with(temperature=5.5), hot)
    refused(session, forks_with(top_p=0), "top-p must be above 0 and at most 1, got 0")
    refused(session, forks_with(top_p=1.5), "top-p must be above 0 and at most 1, got 1.5")
    refused(session, forks_with(alternatives=21), "alternatives must be 0 to 20, got 21")
    refused(session, forks_with(alternatives=-1), "alternatives must be 0 to 20, got -1")
    low = "the minimum probability must be 0 to 1, got -0.1"
    refused(session, forks_with(min_prob=-0.1), low)
    refused(session, forks_with(min_prob=1.5), "the minimum probability must be 0 to 1, got 1.5")
    kinds = "unknown study 'tokens' (choose from forks, steps)"
    refused(session, StudySettings("tokens", 0), kinds)  # type: ignore[arg-type]
    rules = "unknown split 'words' (choose from sentences, lines, numbered)"
    refused(session, StudySettings("steps", 0, split="words"), rules)
    with pytest.raises(InvalidParameterError) as error:
        split_steps(["a"], "words")
    assert str(error.value) == rules


def test_a_path_that_is_not_there_or_has_nothing_to_study():
    session = made_up_session(TOKENS)
    refused(session, StudySettings("forks", 1), "this session has no path 1 (its paths: 0 to 0)")
    refused(session, StudySettings("forks", -1), "this session has no path -1 (its paths: 0 to 0)")
    session.add_path(GeneratedSequence(0, TOKENS[:1], "eos"), "greedy", "another")
    refused(session, StudySettings("forks", 2), "this session has no path 2 (its paths: 0 to 1)")
    assert plan_study(session, StudySettings("forks", 1, samples=1)).points
    empty = Session("q?", "Q: q?\nA:", [1], RunSettings(strategy="greedy"), {})
    refused(empty, StudySettings("forks", 0), "this session has no path 0 (its paths: none)")
    empty.add_path(GeneratedSequence(0, [], "eos"), "greedy", "greedy")
    refused(empty, StudySettings("steps", 0), "path 0 has no tokens to study")


def test_a_range_that_holds_no_position_and_ranges_at_the_ends():
    session = made_up_session(TOKENS)
    refused(
        session,
        StudySettings("forks", 0, first=3),
        "no position to study: path 0 has tokens 0 to 2, the range asked is 3 to None",
    )
    refused(
        session,
        StudySettings("forks", 0, first=2, last=1),
        "no position to study: path 0 has tokens 0 to 2, the range asked is 2 to 1",
    )

    def positions(**changes) -> list[int]:
        plan = plan_study(session, StudySettings("forks", 0, samples=1, **changes))
        return sorted({p.position for p in plan.points})

    assert positions(first=2, last=2) == [2]  # one position: first == last
    assert positions(first=0, last=0) == [0]
    assert positions(last=1) == [0, 1]
    assert positions(first=-4, last=9) == [0, 1, 2]
    # a step study has no range: first and last are not read
    assert plan_study(session, StudySettings("steps", 0, samples=1, first=7)).points


def blind_at(position: int, *, tops: bool) -> list[TokenRecord]:
    """TOKENS with token ``position``'s probability unknown (NaN); without any top-k if not
    ``tops``."""
    out = []
    for i, t in enumerate(TOKENS):
        logprob = math.nan if i == position else t.logprob
        out.append(
            TokenRecord(t.token_id, t.text, t.piece, logprob, t.entropy, t.top if tops else ())
        )
    return out


def test_a_forking_study_needs_every_probability_and_the_alternatives_it_asks_for():
    blind = "path 0 was saved without its tokens' probabilities (a server that returned none): "
    blind += "a forking study weighs every token by them"
    # one unknown probability is enough to refuse, alternatives or not
    refused(made_up_session(blind_at(1, tops=True)), StudySettings("forks", 0), blind)
    refused(
        made_up_session(blind_at(1, tops=True)), StudySettings("forks", 0, alternatives=0), blind
    )
    # probabilities but no top-k: only the taken token can be studied
    no_tops = [TokenRecord(t.token_id, t.text, t.piece, t.logprob, t.entropy, ()) for t in TOKENS]
    refused(made_up_session(no_tops), StudySettings("forks", 0, alternatives=1), blind)
    plan = plan_study(
        made_up_session(no_tops), StudySettings("forks", 0, samples=1, alternatives=0)
    )
    assert [(p.position, p.token_id) for p in plan.points] == [(0, 10), (1, 20), (2, 10)]
    # a step study reads no probability
    assert plan_study(made_up_session(blind_at(0, tops=False)), StudySettings("steps", 0)).points


def test_the_plan_of_a_step_study_by_hand():
    texts = [" 3", " apples.", " Dad", " 5.", "\n", "So", " 8"]
    tokens = [token(100 + i, t, 0.5, [(100 + i, t, 0.5)]) for i, t in enumerate(texts)]
    session = made_up_session(tokens)
    plan = plan_study(session, StudySettings("steps", 0, samples=3, max_tokens=7))
    # sentences: " 3 apples." | " Dad 5.\n" | "So 8"; three samples from each start
    assert [(s.start, s.end) for s in plan.steps] == [(0, 2), (2, 5), (5, 7)]
    assert [p.key for p in plan.points] == [(b, None, s) for b in (0, 2, 5) for s in range(3)]
    assert plan.tokens == 9 * 7  # nothing forced
    lines = plan_study(session, StudySettings("steps", 0, samples=1, split="lines"))
    assert [(s.start, s.end) for s in lines.steps] == [(0, 5), (5, 7)]
    assert [p.key for p in lines.points] == [(0, None, 0), (5, None, 0)]
    assert plan_study(session, StudySettings("forks", 0, samples=1)).steps == []


def test_the_random_stream_of_a_point_by_hand():
    # ((position + 1) · 1,000,003 + token + 1) · 1,000 + sample; no token counts as −1
    assert StudyPoint(0, None, 0).seed_key() == 1_000_003_000
    assert StudyPoint(0, None, 7).seed_key() == 1_000_003_007
    assert StudyPoint(2, 5, 3).seed_key() == (3 * 1_000_003 + 6) * 1_000 + 3 == 3_000_015_003
    assert StudyPoint(0, 0, 0).seed_key() == 1_000_004_000  # token 0 is not "no token"
    assert StudyPoint(4, 11, 2).key == (4, 11, 2)


def test_the_entropy_threshold_keeps_a_position_at_equality_and_goes_on_after_a_skip():
    # entropies 1.5, 0.5, 1.5: a threshold of exactly 1.5 keeps positions 0 and 2
    tokens = [TokenRecord(t.token_id, t.text, t.piece, t.logprob, h, t.top)
              for t, h in zip(TOKENS, (1.5, 0.5, 1.5), strict=True)]  # fmt: skip
    session = made_up_session(tokens)
    plan = plan_study(
        session, StudySettings("forks", 0, samples=1, alternatives=0, min_entropy=1.5)
    )
    assert [p.position for p in plan.points] == [0, 2]
    none = StudySettings("forks", 0, samples=1, alternatives=0, min_entropy=0.0)
    assert [p.position for p in plan_study(session, none).points] == [0, 1, 2]


def test_an_alternative_at_exactly_the_minimum_probability_is_studied():
    # " 5" has p 0.3 at position 0: a minimum of exactly its probability keeps it
    session = made_up_session(TOKENS)
    p = TOKENS[0].top[1].prob
    plan = plan_study(session, StudySettings("forks", 0, samples=1, last=0, min_prob=p))
    assert [p.token_id for p in plan.points] == [10, 11]
    above = StudySettings("forks", 0, samples=1, last=0, min_prob=math.nextafter(p, 1))
    assert [p.token_id for p in plan_study(session, above).points] == [10]


def test_the_studied_tokens_end_where_the_text_does():
    # the text " 4" ends inside the path; the stop string starts at the next token
    one = made_up_session([TOKENS[0], token(30, "\nQ", 0.5, []), token(31, ":", 0.9, [])], "\nQ:")
    assert [t.token_id for t in studied_tokens(one, one.paths[0])] == [10]
    # a stop string at once leaves the first token (a study needs one)
    at_once = made_up_session([token(30, "\nQ", 0.5, []), token(31, ":", 0.9, [])], "\nQ:")
    assert at_once.paths[0].text == ""
    assert [t.token_id for t in studied_tokens(at_once, at_once.paths[0])] == [30]
    # no stop string: every token
    plain = made_up_session(TOKENS)
    assert len(studied_tokens(plain, plain.paths[0])) == 3


def test_settings_survive_a_round_trip_and_unknown_keys_are_ignored():
    settings = StudySettings("forks", 2, samples=3, first=1, last=4, min_entropy=0.5, split="lines")
    data = settings.to_dict()
    assert data["kind"] == "forks" and data["path_id"] == 2 and data["min_entropy"] == 0.5
    assert len(data) == 13  # every setting
    assert StudySettings.from_dict(data) == settings
    assert StudySettings.from_dict(data | {"from_a_later_version": 1}) == settings
    assert StudySettings.from_dict({"kind": "steps", "path_id": 0}) == StudySettings("steps", 0)


# -- the step split's rules, one case each ---------------------------------------------------------
def spans(texts: list[str], rule: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in split_steps(texts, rule)]


def test_numbered_steps_are_read_from_the_text_whatever_its_tokens():
    # the default model splits digits: "Step 10:" is five tokens
    texts = [
        "A",
        ":",
        "\n",
        "Step",
        " ",
        "1",
        ":",
        " add",
        "\n",
        "Step",
        " ",
        "1",
        "0",
        ":",
        " sum",
    ]
    assert split_steps(texts, "numbered") == [
        Step(0, 0, 3, "A:\n"),
        Step(1, 3, 9, "Step 1: add\n"),
        Step(2, 9, 15, "Step 10: sum"),
    ]
    # a numbered step may hold several lines (each line a step of its own by lines)
    two = ["1", ".", " a", "\n", " b", "\n", "2", ")", " c"]
    assert spans(two, "numbered") == [(0, 6), (6, 9)]
    assert spans(two, "lines") == [(0, 4), (4, 6), (6, 9)]
    assert spans(["a", "\n", "step", " ", "2", ":"], "numbered") == [(0, 2), (2, 6)]  # any case
    assert spans(["a", "\n", "2", " apples"], "numbered") == [(0, 4)]  # "2" alone numbers nothing


def test_a_numbered_step_needs_text_before_it_to_cut():
    assert split_steps(["\n", "1", ".", " a"], "numbered") == [
        Step(0, 0, 1, "\n"),
        Step(1, 1, 4, "1. a"),
    ]
    # an empty token (part of a character) at the start is no text: no empty first step
    assert spans(["", "1", ".", " a"], "numbered") == [(0, 4)]
    assert spans(["1", ".", " a"], "numbered") == [(0, 3)]


def test_sentence_ends_one_case_each():
    assert split_steps([" a.", " b"]) == [Step(0, 0, 1, " a."), Step(1, 1, 2, " b")]  # default
    assert spans([" Wow!", " Really?", " Yes"], "sentences") == [(0, 1), (1, 2), (2, 3)]
    assert spans([" a.", "\nb"], "sentences") == [(0, 1), (1, 2)]  # a line break follows
    assert spans([" e.", "g.", " ok"], "sentences") == [(0, 2), (2, 3)]  # "e.g." does not cut
    assert spans([" done. ", " Next"], "sentences") == [(0, 1), (1, 2)]  # a space after "."
    assert spans([" a.", "b"], "sentences") == [(0, 2)]
    assert spans([" a.", " b"], "lines") == [(0, 2)]


def test_no_tokens_no_steps_and_blank_steps_join_the_one_before():
    assert split_steps([], "sentences") == [] and split_steps([], "numbered") == []
    assert split_steps(["a", "\n", "\n", "b"], "lines") == [
        Step(0, 0, 3, "a\n\n"),
        Step(1, 3, 4, "b"),
    ]
    # "a." | " " + "\n" (cut after the line break: blank, so joined) | "b"
    assert split_steps(["a.", " ", "\n", "b"], "sentences") == [
        Step(0, 0, 3, "a. \n"),
        Step(1, 3, 4, "b"),
    ]


def test_a_distribution_lists_the_most_frequent_first_and_ties_by_text():
    assert list(distribution(["b", "a", "b"])) == ["b", "a"]
    assert list(distribution(["b", "a"])) == ["a", "b"]
    assert list(distribution(["9", NO_ANSWER, "10", "9"])) == ["9", NO_ANSWER, "10"]


# -- the analysis' edges ---------------------------------------------------------------------------
def test_mixtures_weigh_shared_answers_order_tokens_and_answers_and_survive_unknowns():
    study = Study("s", StudySettings("forks", 0))
    # position 0 (the path took 10): 10 (p .5) → 8; 12 (p .1) → 8, 7; 11 (p .2) → 7
    study.samples += [sample(0, 10, 0, "8", prob=0.5, text=" 4")]
    study.samples += [sample(0, 12, i, a, prob=0.1, text=" 6") for i, a in enumerate("87")]
    study.samples += [sample(0, 11, 0, "7", prob=0.2, text=" 5")]
    # position 1: no probability saved for either token: 20 → 9, 21 → 7
    study.samples += [sample(1, 20, 0, "9"), sample(1, 21, 0, "7")]
    # position 2 lies past the tokens given: no token there is the path's
    study.samples += [sample(2, 10, 0, "8", prob=0.6)]
    first, second, third = fork_outcomes(study, TOKENS[:2])
    # the taken token first, then the likelier alternative first
    assert [(o.token_id, o.taken, o.n) for o in first.tokens] == [
        (10, True, 1),
        (11, False, 1),
        (12, False, 2),
    ]
    assert [o.text for o in first.tokens] == [" 4", " 5", " 6"]
    assert first.share == pytest.approx(0.8)
    # weights .5/.8, .2/.8, .1/.8: 8 = .625 + .125 · ½ = .6875; 7 = .25 + .125 · ½ = .3125
    assert first.distribution == pytest.approx({"8": 0.6875, "7": 0.3125})
    assert list(first.distribution) == ["8", "7"]
    # unknown probabilities count 0: share 0, every token weighs the same; the tie goes by text
    assert [o.prob for o in second.tokens] == [0.0, 0.0] and second.share == 0.0
    assert second.distribution == {"7": 0.5, "9": 0.5} and list(second.distribution) == ["7", "9"]
    # TV: ½(.6875 + |.3125 − .5| + .5) = .6875
    assert second.score == pytest.approx(0.6875)
    assert [o.taken for o in third.tokens] == [False]
    assert third.distribution == {"8": 1.0} and third.score == pytest.approx(1.0)
    assert forks([first, second, third]) == [2, 1]  # the default threshold is 0.3


def scored(*scores: float | None) -> list[PositionOutcome]:
    return [PositionOutcome(i, [], {}, 1.0, s) for i, s in enumerate(scores)]


def test_forks_at_the_threshold_and_highest_first():
    assert forks(scored(None, 0.4, 0.9, 0.5, 0.2)) == [2, 3, 1]
    assert forks(scored(None, 0.25, 0.1), threshold=0.25) == [1]  # equal counts
    assert forks(scored(None, 0.0, 0.5), threshold=0.0) == [2, 1]
    assert forks(scored(0.3, 0.29)) == [0]
    assert forks([]) == []


def test_empty_count_tables_do_not_diverge():
    assert kl_divergence(Counter(), Counter()) == 0.0


def test_step_outcomes_of_a_study_not_sampled_everywhere():
    steps = [Step(0, 0, 1, " 3 apples."), Step(1, 1, 2, " Dad has 5."), Step(2, 2, 3, " So 8.")]
    path = ReasoningPath(0, 3, "greedy", "greedy", "eos", answer="8", correct=True)
    study = Study("s", StudySettings("steps", 0))
    study.samples += [
        sample(0, None, 0, "8", said=" 3 apples. More.", correct=True),  # restates step 0
        sample(0, None, 1, "5", said=" 2 apples.", correct=False),
        sample(1, None, 0, "8", said=" Dad has 5. Then", correct=True),  # restates step 1
        sample(1, None, 1, "7", said=" Mom has 4.", correct=False),
    ]  # nothing sampled from step 2's start
    first, second, third = step_outcomes(study, steps, path, gold="8")
    assert first.before == {"5": 0.5, "8": 0.5}
    assert first.with_step == {"7": 0.5, "8": 0.5}
    assert (first.without_step, first.n_without) == ({"5": 1.0}, 1)
    # add-½ over 8, 7, 5: p = (1.5, 1.5, .5)/3.5; q = (.5, .5, 1.5)/2.5
    p, q = (3 / 7, 3 / 7, 1 / 7), (0.2, 0.2, 0.6)
    by_hand = sum(a * math.log(a / b) for a, b in zip(p, q, strict=True))
    assert first.importance == pytest.approx(by_hand)
    assert (first.accuracy_with, first.accuracy_without, first.accuracy_change) == (0.5, 0.0, 0.5)
    # step 1: nothing from after it, so no "with" to compare with
    assert second.with_step == {} and second.without_step == {"7": 1.0}
    assert second.importance == 0.0
    assert (second.accuracy_with, second.accuracy_without) == (None, 0.0)
    assert second.accuracy_change is None
    # the last step: nothing from before it, so not even the path's own answer counts
    assert (third.before, third.with_step, third.without_step) == ({}, {}, {})
    assert (third.importance, third.accuracy_with, third.accuracy_without) == (0.0, None, None)
    assert important_steps([first, second, third]) == [0]


def test_a_step_that_no_continuation_leaves_out_has_no_importance():
    # every continuation from before step 0 restates it: "without" it is empty, so there is
    # nothing to compare, though the answers after it (8, 8, 9) are far from uniform
    steps = [Step(0, 0, 1, " 3 apples."), Step(1, 1, 2, " So 8.")]
    path = ReasoningPath(0, 2, "greedy", "greedy", "eos", answer="8", correct=True)
    study = Study("s", StudySettings("steps", 0))
    study.samples += [sample(0, None, 0, "8", said=" 3 apples.")]
    study.samples += [sample(1, None, i, a, said=" So.") for i, a in enumerate("889")]
    first, _ = step_outcomes(study, steps, path, gold="8")
    assert first.with_step == pytest.approx({"8": 2 / 3, "9": 1 / 3})
    assert (first.n_without, first.without_step, first.importance) == (0, {}, 0.0)
    assert first.accuracy_without is None


def test_a_path_without_an_answer_counts_as_no_answer_after_its_last_step():
    steps = [Step(0, 0, 1, " Hmm.")]
    path = ReasoningPath(0, 1, "greedy", "greedy", "length", answer=None, correct=False)
    study = Study("s", StudySettings("steps", 0))
    study.samples += [sample(0, None, 0, "4", said=" 2 and 2 is 4.", correct=True)]
    (only,) = step_outcomes(study, steps, path, gold="4")
    assert only.with_step == {NO_ANSWER: 1.0}
    assert only.without_step == {"4": 1.0}
    assert (only.accuracy_with, only.accuracy_without) == (0.0, 1.0)


def test_the_first_step_of_a_continuation_follows_the_studys_rule():
    # by lines, the step is the whole line, sentences and all
    steps = [Step(0, 0, 1, " 3 apples. So 8.\n"), Step(1, 1, 2, "Done")]
    path = ReasoningPath(0, 2, "greedy", "greedy", "eos", answer="8", correct=True)
    study = Study("s", StudySettings("steps", 0, split="lines"))
    study.samples += [
        sample(0, None, 0, "8", said=" 3 apples.  So 8.\nMore"),  # the same line
        sample(0, None, 1, None, said=""),  # nothing at all: differs
        sample(0, None, 2, None, said="  \n "),  # blank: differs
    ]
    first, _ = step_outcomes(study, steps, path, gold=None)
    assert first.n_without == 2 and first.without_step == {NO_ANSWER: 1.0}
    assert first.accuracy_with is None and first.accuracy_without is None
    # a blank step is restated by a blank continuation
    blank = [Step(0, 0, 1, "\n"), Step(1, 1, 2, " 8")]
    study = Study("s", StudySettings("steps", 0, split="lines"))
    study.samples += [sample(0, None, 0, "8", said=" ")]
    assert step_outcomes(study, blank, path, gold=None)[0].n_without == 0


def test_the_most_important_steps_leave_out_those_of_no_importance():
    outcomes = [
        StepOutcome(Step(i, i, i + 1, "x"), {}, {}, {}, 0, importance)
        for i, importance in enumerate([0.5, 0.0, 0.2, 0.9, 0.1])
    ]
    assert important_steps(outcomes) == [3, 0, 2]  # three by default
    assert important_steps(outcomes, top=10) == [3, 0, 2, 4]
    assert important_steps(outcomes[1:2]) == []


def sequence_of(texts: list[str], finish: str | None, stop: str | None = None) -> GeneratedSequence:
    tokens = [token(50 + i, t, 0.5, []) for i, t in enumerate(texts)]
    return GeneratedSequence(0, tokens, finish, stop)  # type: ignore[arg-type]


def rule_session(rule: str = "auto", prompt: str = "Q: q?\nA:", gold: str | None = "8") -> Session:
    settings = RunSettings(strategy="greedy", answer_rule=rule)
    return Session("q?", prompt, [1, 2, 3], settings, {}, gold=gold)


def test_a_sample_reads_its_answer_from_the_text_before_it_and_its_own_by_the_runs_rule():
    point = StudyPoint(2, 7, 1, " 4", 0.5)
    auto = rule_session()
    made = make_sample(auto, point, " 3 and", sequence_of([" 4", " =", " 8"], "eos"))
    assert (made.point, made.text, made.answer, made.correct) == (point, " 4 = 8", "8", True)
    assert made.token_ids == [50, 51, 52] and made.finish_reason == "eos"
    assert made.logprob == pytest.approx(3 * math.log(0.5))
    # the marker before the point and the number after it make the answer together; cut by
    # the limit, only such an explicit marker answers ("9." could have gone on as "9.5": "9"
    # is followed by a word here)
    nine = [" 9", " apples"]
    marked = make_sample(auto, point, " The answer is", sequence_of(nine, "length"))
    assert (marked.answer, marked.correct) == ("9", False)
    assert make_sample(auto, point, " So", sequence_of(nine, "length")).answer is None
    assert make_sample(auto, point, " So", sequence_of(nine, "eos")).answer == "9"
    # the stop string is not read ("5" after it is another question's)
    stopped = make_sample(auto, point, "", sequence_of([" 4", "\nQ", ":", " 5"], "stop", "\nQ:"))
    assert (stopped.text, stopped.answer, stopped.finish_reason) == (" 4", "4", "stop")
    # the session's rule: boxed finds no box here
    boxed = rule_session("boxed")
    assert make_sample(boxed, point, "", sequence_of([" 4", " =", " 8"], "eos")).answer is None
    # answers match by value: 8.0 is 8
    assert make_sample(auto, point, "", sequence_of([" 8.0"], "eos")).correct is True
    # and by the run's rule: by choice, the gold answer "c)" is the letter C
    choice = rule_session("choice", gold="c)")
    lettered = make_sample(choice, point, " The answer is", sequence_of([" (C)", "."], "eos"))
    assert (lettered.answer, lettered.correct) == ("C", True)
    # no gold answer: no correctness; a sequence that did not end is "cancelled"
    free = make_sample(rule_session(gold=None), point, "", sequence_of([" 8"], None))
    assert (free.correct, free.finish_reason, free.answer) == (None, "cancelled", None)
    nothing = make_sample(auto, point, "", sequence_of([], "eos"))
    assert (nothing.answer, nothing.outcome, nothing.correct) == (None, NO_ANSWER, False)


def test_a_sample_of_a_thinking_model_answers_only_after_its_thinking():
    thinking = rule_session(prompt="Q: q?\nA: <think>")
    assert thinking.starts_in_thinking
    point = StudyPoint(0, None, 0)
    inside = make_sample(thinking, point, "", sequence_of([" 2 + 6 =", " 8"], "eos"))
    assert inside.answer is None  # still thinking: no last number counts
    after = make_sample(thinking, point, "", sequence_of([" 2 + 6 = 8", "</think>", " 8"], "eos"))
    assert after.answer == "8"
