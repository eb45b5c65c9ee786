"""Tests for votes, selection, consistency and calibration metrics (hand-computed values)."""

from __future__ import annotations

import math

import pytest

from inspector.core.metrics import (
    CalibrationBin,
    VoteResult,
    accuracy,
    accuracy_vs_samples,
    aggregated_confidence_vote,
    answer_confidence,
    brier_score,
    calibration,
    calibration_bins,
    consistency,
    expected_calibration_error,
    greedy_vs_marginal,
    majority_vote,
    mean_logprob,
    path_weights,
    select_by_confidence,
    value_range,
    vote_distribution,
    vote_entropy,
    weighted_vote,
)
from inspector.engine.records import Alternative, TokenRecord


def test_vote_distribution_ignores_none_and_keeps_first_appearance_order() -> None:
    dist = vote_distribution(["5", None, "8", "5", "8", "8"])
    assert dist == {"5": 2, "8": 3}
    assert list(dist) == ["5", "8"]
    assert vote_distribution([]) == {}
    assert vote_distribution([None, None]) == {}


def test_majority_vote_clear_winner() -> None:
    result = majority_vote(["5", "8", None, "8"])
    assert result == VoteResult("8", 2, (), {"5": 1, "8": 2})
    assert not result.is_tie


def test_majority_vote_tie_goes_to_first_appearance_and_is_reported() -> None:
    result = majority_vote([None, "5", "8", "8", "5", "3"])
    assert result.answer == "5"
    assert result.count == 2
    assert result.tied == ("5", "8")
    assert result.is_tie


def test_majority_vote_empty_and_all_none() -> None:
    for answers in ([], [None, None]):
        result = majority_vote(answers)
        assert result == VoteResult(None, 0, (), {})


def test_weighted_vote_uses_normalised_sequence_probabilities() -> None:
    # Path probabilities 0.1, 0.4, 0.2, (0.9, no answer), 0.1. Over the answered paths
    # (total 0.8): "8" = (0.1 + 0.2) / 0.8 = 0.375, "5" = (0.4 + 0.1) / 0.8 = 0.625.
    answers = ["8", "5", "8", None, "5"]
    logprobs = [math.log(p) for p in (0.1, 0.4, 0.2, 0.9, 0.1)]
    result = weighted_vote(answers, logprobs)
    assert result.answer == "5"
    assert result.count == pytest.approx(0.625)
    assert result.distribution == pytest.approx({"8": 0.375, "5": 0.625})
    assert result.tied == ()
    # The plain majority of the same paths is a 2-2 tie won by "8".
    assert majority_vote(answers).tied == ("8", "5")


def test_weighted_vote_is_numerically_stable_and_reports_ties() -> None:
    # exp(-1000) underflows; the softmax must not. Weights: 1/(1+e^-1), e^-1/(1+e^-1).
    result = weighted_vote(["a", "b"], [-1000.0, -1001.0])
    assert result.distribution["a"] == pytest.approx(0.7310585786300049)
    assert result.distribution["b"] == pytest.approx(0.2689414213699951)
    tie = weighted_vote(["b", "a", None], [-2.0, -2.0, -1.0])
    assert (tie.answer, tie.tied) == ("b", ("b", "a"))
    assert weighted_vote([None], [-1.0]).answer is None


def test_weighted_vote_length_normalised() -> None:
    # Per-token log-probabilities: -10/10 = -1 and -4/2 = -2, so path 0 wins (raw would pick 1).
    result = weighted_vote(["x", "y"], [-10.0, -4.0], n_tokens=[10, 2])
    assert result.answer == "x"
    assert result.count == pytest.approx(1 / (1 + math.exp(-1)))
    assert weighted_vote(["x", "y"], [-10.0, -4.0]).answer == "y"


def test_path_weights_edge_cases() -> None:
    assert path_weights([]) == []
    assert path_weights([-math.inf, -math.inf]) == [0.5, 0.5]
    assert path_weights([0.0, -math.inf]) == [1.0, 0.0]
    with pytest.raises(ValueError, match="finite"):
        path_weights([math.nan])
    with pytest.raises(ValueError, match="positive"):
        path_weights([-1.0], [0])
    with pytest.raises(ValueError, match="2 answers but 1 log-probabilities"):
        weighted_vote(["a", "b"], [-1.0])


def test_cot_decoding_aggregated_and_plain_selection() -> None:
    answers = ["8", "5", "8", "5", None]
    deltas = [0.3, 0.5, 0.25, 0.1, 0.9]
    # Aggregated: "8" = 0.3 + 0.25 = 0.55, "5" = 0.5 + 0.1 = 0.6 -> "5".
    agg = aggregated_confidence_vote(answers, deltas)
    assert agg.answer == "5"
    assert agg.distribution == pytest.approx({"8": 0.55, "5": 0.6})
    # Plain: highest Δ among answered paths is path 1 (path 4 has no answer).
    selection = select_by_confidence(answers, deltas)
    assert (selection.index, selection.answer, selection.score) == (1, "5", 0.5)
    assert selection.tied == ()


def test_cot_decoding_ties_within_float_tolerance() -> None:
    # 0.1 + 0.2 == 0.30000000000000004, a tie with 0.3 up to rounding.
    agg = aggregated_confidence_vote(["a", "a", "b"], [0.1, 0.2, 0.3])
    assert (agg.answer, agg.tied) == ("a", ("a", "b"))
    selection = select_by_confidence([None, "x", "y", "z"], [0.9, 0.4, 0.1, 0.4])
    assert (selection.index, selection.tied) == (1, (1, 3))
    empty = select_by_confidence([None], [None])
    assert (empty.index, empty.answer, empty.score, empty.tied) == (None, None, None, ())


def test_consistency_and_entropy() -> None:
    answers = ["8", "8", "5", None, "8", "3"]
    # 5 answered paths, majority "8" has 3 -> 0.6.
    assert consistency(answers) == pytest.approx(0.6)
    # H = -(0.6 ln 0.6 + 2 * 0.2 ln 0.2) = 0.306495 + 0.643775 = 0.950271 nats = 1.370951 bits.
    assert vote_entropy(answers) == pytest.approx(0.9502705392)
    assert vote_entropy(answers, base=2) == pytest.approx(1.3709505945)
    assert vote_entropy(["8", "8"]) == 0.0
    assert consistency([None]) is None
    assert vote_entropy([]) is None


def test_accuracy() -> None:
    assert accuracy([True, False, True, True]) == 0.75
    assert accuracy([]) is None


PAIRS = [
    (0.0, False),
    (0.25, True),
    (0.25, False),
    (0.3, True),
    (0.95, True),
    (1.0, True),
    (1.0, False),
    (0.6, True),
]


def test_calibration_bins_by_hand() -> None:
    bins = calibration_bins(PAIRS)
    assert len(bins) == 10
    assert [b.count for b in bins] == [1, 0, 2, 1, 0, 0, 1, 0, 0, 3]
    assert bins[0] == CalibrationBin(0.0, 0.1, 1, 0.0, 0.0)
    assert bins[1] == CalibrationBin(0.1, 0.2, 0, None, None)
    assert (bins[2].mean_confidence, bins[2].accuracy) == (0.25, 0.5)
    assert bins[3].accuracy == 1.0  # 0.3 lands in [0.3, 0.4)
    assert bins[9].mean_confidence == pytest.approx(2.95 / 3)  # 1.0 in the last bin
    assert bins[9].accuracy == pytest.approx(2 / 3)
    assert (bins[9].lower, bins[9].upper) == (0.9, 1.0)


def test_ece_and_brier_by_hand() -> None:
    # ECE = (1*|0-0| + 2*|0.5-0.25| + 1*|1-0.3| + 1*|1-0.6| + 3*|2/3-2.95/3|) / 8
    #     = (0 + 0.5 + 0.7 + 0.4 + 0.95) / 8 = 2.55 / 8 = 0.31875
    assert expected_calibration_error(PAIRS) == pytest.approx(0.31875)
    # Brier = (0 + 0.5625 + 0.0625 + 0.49 + 0.0025 + 0 + 1 + 0.16) / 8 = 2.2775 / 8
    assert brier_score(PAIRS) == pytest.approx(0.2846875)
    report = calibration(PAIRS)
    assert report.n == 8
    assert report.ece == pytest.approx(0.31875)
    assert report.brier == pytest.approx(0.2846875)
    assert report.accuracy == 0.625
    assert len(report.bins) == 10


def test_calibration_configurable_bins() -> None:
    # 4 bins: 0.25 -> [0.25, 0.5), 0.5 -> [0.5, 0.75), 1.0 -> [0.75, 1.0].
    pairs = [(0.25, True), (0.5, False), (1.0, True)]
    bins = calibration_bins(pairs, n_bins=4)
    assert [b.count for b in bins] == [0, 1, 1, 1]
    # ECE = (|1-0.25| + |0-0.5| + |1-1|) / 3 = 1.25 / 3
    assert expected_calibration_error(pairs, n_bins=4) == pytest.approx(1.25 / 3)
    assert expected_calibration_error(pairs, n_bins=1) == pytest.approx(abs(2 / 3 - 1.75 / 3))


def test_calibration_empty_and_invalid() -> None:
    report = calibration([])
    assert (report.n, report.ece, report.brier, report.accuracy) == (0, None, None, None)
    assert all(b.count == 0 for b in report.bins)
    assert brier_score([]) is None
    for bad in (1.5, -0.1, math.nan):
        with pytest.raises(ValueError, match="outside"):
            calibration_bins([(bad, True)])
    with pytest.raises(ValueError, match="n_bins"):
        calibration_bins([(0.5, True)], n_bins=0)


def test_accuracy_vs_samples_deterministic_cases() -> None:
    runs = [["8", "8", "8"], ["5", "5", "5"], ["8", "5"], ["5", "8"], ["8"]]
    golds = ["8", "8", "8", "8", None]
    points = accuracy_vs_samples(runs, golds, [2, 3, 4], repeats=5)
    # n=2: q1 always right, q2 always wrong, q3 tie 8-5 -> "8" (first) right,
    # q4 tie 5-8 -> "5" wrong; q5 has no gold. Mean = 2/4.
    assert (points[0].n, points[0].accuracy, points[0].questions) == (2, 0.5, 4)
    # n=3: only q1 and q2 have 3 paths -> 1/2.
    assert (points[1].accuracy, points[1].questions) == (0.5, 2)
    assert (points[2].accuracy, points[2].questions) == (None, 0)


def test_accuracy_vs_samples_is_seeded() -> None:
    runs = [["8", "5", None, "8", "3", "5", "8"], ["1", "2", "1", "2", "2"]]
    golds = ["8", "2"]
    first = accuracy_vs_samples(runs, golds, [1, 3], repeats=50, seed=7)
    assert first == accuracy_vs_samples(runs, golds, [1, 3], repeats=50, seed=7)
    # Each n has its own generator, so listing other sizes does not change a point.
    assert first[1] == accuracy_vs_samples(runs, golds, [3], repeats=50, seed=7)[0]
    # n=1 estimates the mean per-path accuracy (3/7 + 3/5) / 2 ≈ 0.514.
    assert first[0].accuracy == pytest.approx((3 / 7 + 3 / 5) / 2, abs=0.12)
    with pytest.raises(ValueError, match="at least 1"):
        accuracy_vs_samples(runs, golds, [0])


def test_greedy_vs_marginal() -> None:
    samples = ["8", "8", "5", None, "8"]
    result = greedy_vs_marginal("5", math.log(0.3), samples)
    assert result.greedy_sequence_probability == pytest.approx(0.3)
    assert result.greedy_answer_probability == pytest.approx(1 / 5)
    assert (result.majority_answer, result.majority_answer_probability) == ("8", 3 / 5)
    assert result.greedy_answer == "5"
    empty = greedy_vs_marginal(None, -2.0, [])
    assert empty.greedy_answer_probability is None
    assert empty.majority_answer_probability is None
    no_samples = greedy_vs_marginal("5", 0.0, [])
    assert no_samples.greedy_answer == "5" and no_samples.greedy_sequence_probability == 1.0
    assert no_samples.greedy_answer_probability is None


def test_path_weights_by_hand() -> None:
    # probabilities 0.2 and 0.6 -> 0.25 and 0.75 of their sum
    assert path_weights([math.log(0.2), math.log(0.6)]) == pytest.approx([0.25, 0.75])
    # per-token means -10/10 = -1 and -4/2 = -2: weights 1/(1+e^-1) and e^-1/(1+e^-1)
    low = math.exp(-1) / (1 + math.exp(-1))
    assert path_weights([-10.0, -4.0], [10, 2]) == pytest.approx([1 - low, low])
    assert path_weights([-3.0], [1]) == [1.0]  # one token is a positive count
    assert path_weights([-math.inf, -1.0]) == [0.0, 1.0]
    with pytest.raises(ValueError, match=r"^log-probabilities must be finite or -inf$"):
        path_weights([-1.0, math.inf])
    with pytest.raises(ValueError, match=r"^token counts must be positive$"):
        path_weights([-1.0, -2.0], [3, -1])
    with pytest.raises(ValueError, match=r"^2 answers but 1 token counts$"):
        path_weights([-1.0, -2.0], [3])


def test_weighted_vote_length_normalises_only_the_answered_paths() -> None:
    # the unanswered middle path and its token count are left out: "x" -1 per token, "y" -2
    result = weighted_vote(["x", None, "y"], [-10.0, 0.0, -4.0], n_tokens=[10, 1, 2])
    assert result.distribution == pytest.approx(
        {"x": 1 / (1 + math.exp(-1)), "y": math.exp(-1) / (1 + math.exp(-1))}
    )
    with pytest.raises(ValueError, match=r"^2 answers but 1 token counts$"):
        weighted_vote(["x", "y"], [-1.0, -2.0], n_tokens=[1])


def test_aggregated_vote_skips_paths_without_an_answer_or_a_delta() -> None:
    result = aggregated_confidence_vote(["a", None, "b", "a"], [0.2, 0.9, None, 0.3])
    assert result.answer == "a"
    assert result.distribution == pytest.approx({"a": 0.5})
    assert aggregated_confidence_vote([None], [0.4]) == VoteResult(None, 0, (), {})
    with pytest.raises(ValueError, match=r"^1 answers but 0 confidences$"):
        aggregated_confidence_vote(["a"], [])


def test_select_by_confidence_breaks_a_delta_tie_by_the_answer_logprob() -> None:
    answers = ["a", "b", "c", None]
    deltas = [0.5, 0.5, 0.2, 0.5]
    # paths 0 and 1 tie on Δ (path 3 has no answer); the higher mean log-probability wins
    pick = select_by_confidence(answers, deltas, tie_break=[-2.0, -1.0, -0.1, 0.0])
    assert (pick.index, pick.answer, pick.score, pick.tied) == (1, "b", 0.5, (0, 1))
    # a path without a tie-break score gives way to one with it; all unscored: the first
    assert select_by_confidence(answers, deltas, tie_break=[None, -3.0, 0.0, 0.0]).index == 1
    assert select_by_confidence(answers, deltas, tie_break=[None, None, 0.0, 0.0]).index == 0
    # equal scores: the lower index; a score of 0.0 is a score
    assert select_by_confidence(answers, deltas, tie_break=[-1.0, -1.0, 0.0, 0.0]).index == 0
    assert select_by_confidence(answers, deltas, tie_break=[0.5, 0.0, 0.0, 0.0]).index == 0
    assert select_by_confidence(answers, deltas, tie_break=[0.0, 0.5, 0.0, 0.0]).index == 1
    # no tie: the tie-break is not looked at (so its length is not checked either)
    assert select_by_confidence(["a", "b"], [0.1, 0.4], tie_break=[5.0]).index == 1
    with pytest.raises(ValueError, match=r"^4 answers but 2 tie-break scores$"):
        select_by_confidence(answers, deltas, tie_break=[0.0, 0.0])
    with pytest.raises(ValueError, match=r"^1 answers but 2 confidences$"):
        select_by_confidence(["a"], [0.1, 0.2])


def test_value_range_of_the_known_values() -> None:
    assert value_range([None, 0.3, math.nan, -0.2, 0.9]) == (-0.2, 0.9)
    assert value_range([0.4]) == (0.4, 0.4)
    assert value_range([None, math.nan]) is None
    assert value_range([]) is None


def tok(logprob: float, probs: tuple[float, ...] = ()) -> TokenRecord:
    top = tuple(Alternative(i, f"t{i}", math.log(p)) for i, p in enumerate(probs))
    return TokenRecord(0, "t", b"t", logprob, 0.0, top)


def test_mean_logprob_of_the_answer_span() -> None:
    tokens = [tok(-1.0), tok(-2.0), tok(-4.0), tok(-8.0)]
    assert mean_logprob(tokens, (1, 3)) == pytest.approx(-3.0)
    assert mean_logprob(tokens, (0, 4)) == pytest.approx(-15 / 4)
    assert mean_logprob(tokens, (3, 9)) == pytest.approx(-8.0)  # clipped to the tokens
    assert mean_logprob(tokens, None) is None
    assert mean_logprob(tokens, (2, 2)) is None
    assert mean_logprob(tokens, (3, 1)) is None
    assert mean_logprob(tokens, (4, 6)) is None  # past the end: no tokens


def test_answer_confidence_skips_tokens_without_a_second_alternative() -> None:
    tokens = [tok(-0.1, (0.9, 0.05)), tok(-0.2, (0.8,)), tok(-0.5, (0.6, 0.3, 0.1))]
    # margins 0.85 and 0.3 (the middle token has one alternative)
    assert answer_confidence(tokens, (0, 3)) == pytest.approx((0.85 + 0.3) / 2)
    assert answer_confidence(tokens, (1, 2)) is None
    assert answer_confidence(tokens, (2, 3)) == pytest.approx(0.3)


def test_entropy_of_a_unanimous_vote_is_plus_zero() -> None:
    # -(1 · ln 1) is -0.0; shown as "-0.000" it would read as a rounding artefact
    assert str(vote_entropy(["8", "8"])) == "0.0"
    assert str(vote_entropy(["8"], base=2)) == "0.0"
    # two equal answers: ln 2 nats, exactly 1 bit
    assert vote_entropy(["a", "b"]) == pytest.approx(math.log(2))
    assert vote_entropy(["a", "b", None], base=2) == pytest.approx(1.0)


def test_accuracy_vs_samples_counts_hits_not_misses_and_skips_gold_less_questions() -> None:
    # a question without a gold answer first, then one whose every subset is right and one
    # whose every subset is wrong: 1 and 0 -> mean 1/2 over two questions; alone, 1.0
    runs = [["8", "8"], ["3", "3", "3"], ["5", "5"]]
    points = accuracy_vs_samples(runs, [None, "3", "8"], [1, 2], repeats=1)
    assert [(p.accuracy, p.questions) for p in points] == [(0.5, 2), (0.5, 2)]
    [alone] = accuracy_vs_samples([["3", "3"]], ["3"], [2], repeats=1)
    assert (alone.accuracy, alone.questions) == (1.0, 1)
    with pytest.raises(ValueError, match=r"^repeats must be at least 1, got 0$"):
        accuracy_vs_samples(runs, [None, "3", "8"], [1], repeats=0)
    with pytest.raises(ValueError, match=r"^sample counts must be at least 1, got 0$"):
        accuracy_vs_samples(runs, [None, "3", "8"], [0])
    with pytest.raises(ValueError, match=r"^3 answers but 1 gold answers$"):
        accuracy_vs_samples(runs, ["3"], [1])


def test_accuracy_vs_samples_defaults_are_20_repeats_seed_0() -> None:
    # question 1: 3 of 7 paths right, question 2: 3 of 5; with one path per draw each estimate
    # is a count of hits over the repeats, so 20 repeats give multiples of 1/20 per question
    runs = [["8", "5", None, "8", "3", "5", "8"], ["1", "2", "1", "2", "2"]]
    golds = ["8", "2"]
    default = accuracy_vs_samples(runs, golds, [1, 3])
    assert default == accuracy_vs_samples(runs, golds, [1, 3], repeats=20, seed=0)
    assert default != accuracy_vs_samples(runs, golds, [1, 3], repeats=20, seed=1)
    assert default[0].accuracy is not None
    hits = default[0].accuracy * 2 * 20  # the sum of both questions' hit counts
    assert hits == pytest.approx(round(hits))


def test_ece_uses_ten_bins_by_default() -> None:
    # 0.05 and 0.095 share the bin [0, 0.1): ECE = |1/2 − 0.0725| = 0.4275 (with 11 bins they
    # would part: 1/2·|1 − 0.05| + 1/2·|0 − 0.095| = 0.5225)
    pairs = [(0.05, True), (0.095, False)]
    assert expected_calibration_error(pairs) == pytest.approx(0.4275)
    assert expected_calibration_error(pairs, n_bins=11) == pytest.approx(0.5225)
    assert calibration(pairs).ece == pytest.approx(0.4275)
    assert len(calibration_bins(pairs)) == 10
