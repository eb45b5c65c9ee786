"""Rules with a clean statement, checked on many generated cases (hypothesis): answer
normalisation, vote counting, the calibration error of a perfectly calibrated set and the
tree's path reconstruction."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from inspector.core import metrics
from inspector.core.answers import answers_match, normalize_answer, normalize_number
from inspector.core.tree import ROOT_ID, ReasoningTree
from inspector.engine.records import Alternative, TokenRecord

integers = st.integers(min_value=-(10**9), max_value=10**9)


@given(integers)
def test_an_integer_written_any_common_way_is_one_answer(n):
    canonical = str(n)
    sign = "-" if n < 0 else ""
    ways = [
        str(n),
        f"{n}.0",
        f"{n}.000",
        f"{sign}${abs(n):,}.00",  # $8.00, -$1,234.00
        f"{2 * n}/2",
        f"\\frac{{{3 * n}}}{{3}}",
        f"\\boxed{{{n}}}",
        f"**{n}**",
    ]
    for way in ways:
        assert normalize_number(way) == canonical, way
        assert answers_match(way, canonical)


@given(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=0, max_value=6),
)
def test_a_terminating_fraction_equals_its_decimal(numerator, twos, fives):
    value = Fraction(numerator, 2**twos * 5**fives)
    places = max(twos, fives)
    scaled = abs(value) * 10**places  # an integer: the denominator divides 10**places
    assert scaled.denominator == 1
    digits = str(scaled.numerator).rjust(places + 1, "0")
    decimal = digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}"
    decimal = ("-" if value < 0 else "") + decimal
    as_fraction = f"{value.numerator}/{value.denominator}"
    assert normalize_number(as_fraction) == normalize_number(decimal)
    padded = decimal + ("0" if places else ".0")  # a trailing zero changes nothing
    assert normalize_number(padded) == normalize_number(decimal)
    # and the canonical text reads back as the same exact number
    canonical = normalize_number(decimal)
    assert canonical is not None and Fraction(canonical) == value


@given(integers, st.integers(min_value=1, max_value=10**9))
def test_a_fraction_in_lowest_terms_or_not_is_one_answer(numerator, denominator):
    factor = 7
    reduced = normalize_number(f"{numerator}/{denominator}")
    assert reduced is not None
    assert normalize_number(f"{numerator * factor}/{denominator * factor}") == reduced
    assert Fraction(reduced) == Fraction(numerator, denominator)


@given(integers, integers)
def test_different_numbers_never_match(a, b):
    assert answers_match(str(a), str(b)) == (a == b)
    assert normalize_answer(f"{a}.5") != normalize_answer(str(a))


answers = st.lists(st.one_of(st.none(), st.sampled_from(["8", "7", "12", "0.5", "x"])))


@given(answers)
def test_votes_count_every_answered_path_once(values):
    counts = Counter(v for v in values if v is not None)
    assert metrics.vote_distribution(values) == dict(counts)
    majority = metrics.majority_vote(values)
    if not counts:
        assert majority.answer is None and metrics.consistency(values) is None
        return
    top = max(counts.values())
    assert majority.answer in {a for a, c in counts.items() if c == top}
    assert metrics.consistency(values) == top / sum(counts.values())
    entropy = metrics.vote_entropy(values)
    shares = [c / sum(counts.values()) for c in counts.values()]
    assert entropy is not None
    assert math.isclose(entropy, -sum(p * math.log(p) for p in shares), abs_tol=1e-12)


# groups of m predictions made with confidence j/m, exactly j of them right
calibrated_groups = st.lists(
    st.integers(min_value=1, max_value=12).flatmap(
        lambda m: st.tuples(st.integers(min_value=0, max_value=m), st.just(m))
    ),
    min_size=1,
    max_size=12,
)


@given(calibrated_groups, st.integers(min_value=1, max_value=20))
def test_a_perfectly_calibrated_set_has_no_calibration_error(groups, n_bins):
    pairs = [(j / m, i < j) for j, m in groups for i in range(m)]
    ece = metrics.expected_calibration_error(pairs, n_bins)
    assert ece is not None and math.isclose(ece, 0.0, abs_tol=1e-12)


@given(calibrated_groups, st.integers(min_value=1, max_value=20))
def test_inverting_every_verdict_moves_each_bin_by_its_distance_from_a_half(groups, n_bins):
    pairs = [(j / m, i >= j) for j, m in groups for i in range(m)]  # wrong exactly when right
    ece = metrics.expected_calibration_error(pairs, n_bins)
    # in each bin accuracy is 1 − mean confidence: the error is Σ count/n · |1 − 2·mean|
    expected = 0.0
    for b in metrics.calibration_bins(pairs, n_bins):
        if b.count:
            assert b.mean_confidence is not None
            expected += b.count / len(pairs) * abs(1 - 2 * b.mean_confidence)
    assert ece is not None and math.isclose(ece, expected, abs_tol=1e-12)


def token(token_id: int) -> TokenRecord:
    return TokenRecord(
        token_id, f"<{token_id}>", b"", -0.1, 0.0, (Alternative(token_id, "", -0.1),)
    )


# sequences over a small alphabet, so that they share prefixes often
sequences = st.lists(
    st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=8), min_size=1
)


@given(sequences)
def test_the_tree_gives_every_path_back_exactly(paths):
    tree = ReasoningTree()
    ends: list[int] = []
    for ids in paths:
        end, moved = tree.add_sequence([token(i) for i in ids])
        ends = [moved.get(e, e) for e in ends] + [end]
    for ids, end in zip(paths, ends, strict=True):
        assert [t.token_id for t in tree.tokens_to(end)] == ids
    # shared prefixes are stored once: no two children of a node start with the same token
    for node in tree.nodes.values():
        firsts = [tree.nodes[c].tokens[0].token_id for c in node.children]
        assert len(firsts) == len(set(firsts))
        for child in node.children:
            assert tree.nodes[child].depth == node.end_depth
    # and the tree holds no more tokens than the distinct prefixes of the paths
    prefixes = {tuple(ids[: k + 1]) for ids in paths for k in range(len(ids))}
    assert tree.n_tokens == len(prefixes)
    order = [n.id for n in tree.walk()]
    assert order[0] == ROOT_ID and sorted(order) == sorted(tree.nodes)
