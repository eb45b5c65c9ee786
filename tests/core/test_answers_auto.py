"""Tests for the ``auto`` and ``boxed`` rules, LaTeX normalisation and unfinished paths.

Every expected value is written by hand.
"""

from __future__ import annotations

import time

import pytest

from inspector.core.answers import (
    AUTO_STEPS,
    ExtractedAnswer,
    answers_match,
    extract_answer,
    normalize_answer,
    normalize_number,
    parse_rule,
)


def _found(text: str, rule: str = "auto", **kwargs: bool) -> tuple[str, str, str] | None:
    """(raw text, normalised, rule that found it) of the answer, or None."""
    found = extract_answer(text, rule, **kwargs)
    return None if found is None else (found.text, found.normalized, found.rule)


def test_auto_and_boxed_parse_as_rules() -> None:
    assert parse_rule("auto").name == "auto"
    assert parse_rule("boxed").name == "boxed"
    assert AUTO_STEPS == ("boxed", "gsm8k", "answer-is", "last-number")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # \boxed wins over every later marker and number.
        (r"So \boxed{18}. The answer is 20. Then 7", ("18", "18", "boxed")),
        (r"So the total is \(\boxed{\frac{3}{4}}\).", (r"\frac{3}{4}", "0.75", "boxed")),
        (r"\fbox{42} is it", ("42", "42", "boxed")),
        (r"First \boxed{5}, corrected: \boxed{6}", ("6", "6", "boxed")),
        (r"\boxed{ 1{,}000 }", ("1{,}000", "1000", "boxed")),
        (r"$\boxed{\text{18 dollars}}$", (r"\text{18 dollars}", "18", "boxed")),
        (r"\boxed{\text{Paris}}", (r"\text{Paris}", "paris", "boxed")),
        # #### when there is no box, even before a later "answer is".
        ("#### 72\nThe answer is 5.", ("72", "72", "gsm8k")),
        # "answer is" / "Answer:" in their bold and LaTeX forms.
        ("**Answer:** 18", ("18", "18", "answer-is")),
        ("**Final Answer**: 18", ("18", "18", "answer-is")),
        ("The final answer is $18$.", ("18", "18", "answer-is")),
        (r"The final answer is $\frac{3}{4}$.", (r"\frac{3}{4}", "0.75", "answer-is")),
        (r"The answer is \(\dfrac34\)", (r"\dfrac34", "0.75", "answer-is")),
        ("Answer: 1{,}000 apples", ("1{,}000", "1000", "answer-is")),
        (r"The answer is \$18.00.", ("$18.00", "18", "answer-is")),
        ("The answer is Paris.", ("Paris", "paris", "answer-is")),
        # Else the last number, LaTeX fractions included.
        (r"x = 3 and y = \frac{1}{2}", (r"\frac{1}{2}", "0.5", "last-number")),
        ("She has 3 apples, then 5.", ("5", "5", "last-number")),
    ],
)
def test_auto_steps_in_order(text: str, expected: tuple[str, str, str]) -> None:
    assert _found(text) == expected


def test_auto_spans_index_the_text() -> None:
    text = r"So \boxed{18}."
    assert extract_answer(text, "auto") == ExtractedAnswer("18", "18", (10, 12))
    text = "The final answer is $18$."
    found = extract_answer(text, "auto")
    assert found is not None and found.span == (21, 23)  # the 18 without the $ of math mode


def test_boxed_braces_must_balance() -> None:
    # Nested braces belong to the box; an unclosed box is no answer, an empty one is skipped.
    assert _found(r"\boxed{\frac{1}{2}}", "boxed") == (r"\frac{1}{2}", "0.5", "boxed")
    assert _found(r"\boxed{\{1, 2\}}", "boxed") == (r"\{1, 2\}", r"\{1, 2\}", "boxed")
    assert _found(r"\boxed{7} and then \boxed{8", "boxed") == ("7", "7", "boxed")
    assert _found(r"\boxed{3} then \boxed{}", "boxed") == ("3", "3", "boxed")
    assert _found(r"\boxed{12", "boxed") is None
    assert _found("no box, 12", "boxed") is None
    # auto falls through an unclosed box to the last number.
    assert _found(r"total 12 so \boxed{1") == ("1", "1", "last-number")


def test_explicit_rules_record_their_name() -> None:
    assert _found("So 8", "last-number") == ("8", "8", "last-number")
    assert _found("The answer is 8.", "answer-is") == ("8", "8", "answer-is")
    assert _found("#### 8", "gsm8k") == ("8", "8", "gsm8k")
    assert _found("Answer: (B)", "choice") == ("B", "B", "choice")
    assert _found("got=8;", r"regex:got=(\d+)") == ("8", "8", "regex")


def test_auto_has_no_answer_without_numbers_or_markers() -> None:
    assert extract_answer("no numbers here", "auto") is None
    assert extract_answer("", "auto") is None


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        (r"\frac{3}{4}", "0.75"),
        (r"\dfrac34", "0.75"),
        (r"\tfrac{3}{4}", "0.75"),
        (r"\frac{3}4", "0.75"),
        (r"3\over4", "0.75"),
        (r"{3 \over 4}", "0.75"),
        (r"-\frac{1}{2}", "-0.5"),
        (r"\frac{-1}{2}", "-0.5"),
        (r"2\frac{1}{2}", "2.5"),
        (r"\frac{1}{3}", "1/3"),
        (r"\frac{2}{6}", "1/3"),
        (r"\frac{12}{4}", "3"),
        (r"\$18", "18"),
        (r"18\%", "18"),
        (r"18\text{ dollars}", "18"),
        (r"18 \mbox{dollars}", "18"),
        ("18.00", "18"),
        ("1{,}000", "1000"),
        (r"1\,000", "1000"),
        ("**18**", "18"),
        ("$18$", "18"),
        ("$$18$$", "18"),
        (r"\(18\)", "18"),
        (r"\[18\]", "18"),
        (r"\boxed{18}", "18"),
        (r"\(\boxed{\frac{3}{4}}\)", "0.75"),
        (r"$\$1{,}000.50$", "1000.5"),
        ("18 dollars", "18"),
        ("18 percent", "18"),
        (r"90^\circ", "90"),
        ("90°", "90"),
        (r"\text{Paris}", "paris"),
        # not numbers: compared as text
        (r"\frac{3}{0}", r"\frac{3}{0}"),
        ("8 apples", "8 apples"),
        (r"x^2", "x^2"),
    ],
)
def test_latex_and_formatting_normalise(raw: str, normalized: str) -> None:
    assert normalize_answer(raw) == normalized
    assert normalize_answer(raw, "auto") == normalized


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (r"\frac{3}{4}", "0.75"),
        (r"\frac{3}{4}", "3/4"),
        (r"\dfrac34", r"3\over4"),
        (r"\frac{1}{3}", "2/6"),
        (r"\$18.00", "18"),
        (r"18\%", "18%"),
        (r"18\text{ dollars}", "$18"),
        ("1{,}000", "1,000"),
        ("$18$", "**18**"),
        (r"\(\boxed{18}\)", "18 dollars"),
        (r"2\frac{1}{2}", "2.5"),
    ],
)
def test_equal_answers(a: str, b: str) -> None:
    assert answers_match(a, b, "auto")


@pytest.mark.parametrize(
    ("a", "b"),
    [(r"\frac{1}{3}", "0.333"), (r"\frac{3}{4}", "3"), ("1{,}000", "1"), ("8 apples", "8")],
)
def test_different_answers(a: str, b: str) -> None:
    assert not answers_match(a, b, "auto")


def test_normalize_number_latex() -> None:
    assert normalize_number(r"\frac{3}{4}") == "0.75"
    assert normalize_number(r"\text{Paris}") is None
    assert normalize_number("8 apples") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the last number of an unfinished path is no answer
        ("Each day takes 3 hours × 1 day =", None),
        ("A: 8 To solve this problem, 5", None),
        # explicit markers still answer
        (r"So \boxed{8} and now let me check 5", ("8", "8", "boxed")),
        ("#### 8\nLet me also check 5", ("8", "8", "gsm8k")),
        ("The answer is 8. Let me also check 5", ("8", "8", "answer-is")),
        ("**Answer:** 8 apples, and 5", ("8", "8", "answer-is")),
        # a box cut before its closing brace is no answer
        (r"so the total is \boxed{12", None),
        # a number at the very end may have been cut ("#### 12" of "#### 125")
        ("#### 12", None),
        ("The answer is 1,0", None),
        ("The answer is 18.", None),
        # ... but an earlier complete marker still answers
        ("The answer is 7. Wait, the answer is 1", ("7", "7", "answer-is")),
        # a text answer must end its sentence
        ("The answer is Par", None),
        ("The answer is Paris. Also 5", ("Paris", "paris", "answer-is")),
    ],
)
def test_unfinished_paths_need_an_explicit_marker(
    text: str, expected: tuple[str, str, str] | None
) -> None:
    assert _found(text, finished=False) == expected


def test_unfinished_with_explicit_rules() -> None:
    assert _found("So 8", "last-number", finished=False) is None
    assert _found("So 8", "last-number", finished=True) == ("8", "8", "last-number")
    assert _found("#### 8\n", "gsm8k", finished=False) == ("8", "8", "gsm8k")
    # choice: "answer is C" counts, a lone "(C)" does not
    assert _found("The answer is C. Or (D)", "choice", finished=False) == ("C", "C", "choice")
    assert _found("Maybe (D)", "choice", finished=False) is None
    # a user regex is the user's explicit marker
    assert _found("got=8", r"regex:got=(\d+)", finished=False) == ("8", "8", "regex")


def test_finished_path_keeps_trailing_answers() -> None:
    assert _found("#### 12") == ("12", "12", "gsm8k")
    assert _found("The answer is 18.") == ("18", "18", "answer-is")


def test_start_limits_the_search_and_spans_stay_absolute() -> None:
    text = "<think>maybe 5</think>So 7"
    found = extract_answer(text, "auto", start=22)
    assert found == ExtractedAnswer("7", "7", (25, 26))
    assert extract_answer("<think>maybe 5</think>", "auto", start=22) is None
    with pytest.raises(ValueError, match="outside the text"):
        extract_answer("abc", "auto", start=4)


def test_long_digit_runs_stay_text() -> None:
    # Python refuses int() of more than 4300 digits; a degenerate path may write such a run.
    run = "1" * 5000
    assert normalize_number(run) is None
    assert normalize_answer(run) == run
    found = extract_answer(f"So {run}", "auto")
    assert found is not None and found.normalized == run
    assert normalize_number("1" * 300) == "1" * 300


def test_degenerate_texts_are_fast() -> None:
    start = time.monotonic()
    for text in (
        r"\boxed{" * 3000,
        "The answer is " * 3000,
        "5" + " dollars" * 3000,
        "5" + " " * 20000 + r"\overx",
        r"\text{" * 2000 + "5" + "}" * 2000,
    ):
        extract_answer(text, "auto")
        extract_answer(text, "auto", finished=False)
        normalize_answer(text)
    assert time.monotonic() - start < 20.0  # linear work; a quadratic rule would take minutes
