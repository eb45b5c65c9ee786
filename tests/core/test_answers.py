"""Tests for answer extraction, normalisation and span-to-token mapping."""

from __future__ import annotations

import pytest

from inspector.core.answers import (
    ANSWER_RULES,
    ExtractedAnswer,
    answers_match,
    char_span_to_token_range,
    extract_answer,
    normalize_answer,
    normalize_number,
    parse_rule,
)


def _answer(text: str, rule: str = "last-number", **kwargs: bool) -> str | None:
    found = extract_answer(text, rule, **kwargs)
    return None if found is None else found.normalized


@pytest.mark.parametrize(
    ("text", "raw", "normalized"),
    [
        ("She has 3 apples and buys 1,000 more, so 1,003.", "1,003", "1003"),
        ("It costs $5 in total", "$5", "5"),
        ("The temperature is -3 degrees.", "-3", "-3"),
        ("Each pen costs 2.50.", "2.50", "2.5"),
        ("She ate 3/4 of the pie", "3/4", "0.75"),
        ("A loss of -$5", "-$5", "-5"),
        ("Pages 3-4", "4", "4"),
        ("The total is **18**.", "18", "18"),
        ("共有8个苹果", "8", "8"),
    ],
)
def test_last_number(text: str, raw: str, normalized: str) -> None:
    found = extract_answer(text)
    assert found is not None
    assert (found.text, found.normalized) == (raw, normalized)
    assert text[found.span[0] : found.span[1]] == raw


def test_last_number_ignores_digits_glued_to_letters_and_has_none_without_numbers() -> None:
    assert extract_answer("We use H2O and x2") is None
    assert extract_answer("no numbers here") is None
    assert extract_answer("") is None


def test_span_points_at_last_occurrence() -> None:
    text = "5 apples plus 3 gives 8, not 5"
    assert extract_answer(text) == ExtractedAnswer("5", "5", (29, 30))


def test_number_words_are_opt_in() -> None:
    text = "So we have eight apples."
    assert extract_answer(text) is None
    found = extract_answer(text, number_words=True)
    assert found == ExtractedAnswer("eight", "8", (11, 16))
    assert _answer("twenty-one and then one hundred and five", number_words=True) == "105"
    # "three and four" is not one number: fall back to the last single word.
    assert _answer("between three and four", number_words=True) == "4"


def test_answer_is_takes_last_occurrence_case_insensitively() -> None:
    text = "The answer is 5. Wait, recount. THE ANSWER IS $1,000.00. Done: 7"
    found = extract_answer(text, "answer-is")
    assert found is not None
    assert (found.text, found.normalized) == ("$1,000.00", "1000")


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("so the answer is 8 apples. Then 9 more.", "8"),
        ("The final answer is: **42**", "42"),
        ("Answer: 2.50\n", "2.5"),
        ("The answer is Paris.", "paris"),
        ("the answer is 3/4.", "0.75"),
    ],
)
def test_answer_is_variants(text: str, normalized: str) -> None:
    assert _answer(text, "answer-is") == normalized


def test_answer_is_skips_empty_occurrence_and_missing() -> None:
    assert _answer("The answer is 8. Checking: the answer is.", "answer-is") == "8"
    assert _answer("I have 8 apples", "answer-is") is None
    assert _answer("The answer is eight.", "answer-is") == "eight"
    assert _answer("The answer is eight.", "answer-is", number_words=True) == "8"


def test_gsm8k() -> None:
    text = "He has 2 + 3 = 5.\n#### 1,234\nextra 9"
    found = extract_answer(text, "gsm8k")
    assert found is not None
    assert (found.text, found.normalized) == ("1,234", "1234")
    assert found.span == (text.index("1,234"), text.index("1,234") + 5)
    assert _answer("#### 3\n#### 4", "gsm8k") == "4"
    assert _answer("no marker 5", "gsm8k") is None


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("(A) 3 (B) 5 (C) 8. It must be (C).", "C"),
        ("The answer is B because (C) is wrong.", "B"),
        ("Answer: (D)", "D"),
        ("the correct answer is option E.", "E"),
        ("Thinking...\nA\n", "A"),
    ],
)
def test_choice(text: str, letter: str) -> None:
    assert _answer(text, "choice") == letter


def test_choice_rejects_words_and_other_letters() -> None:
    assert _answer("The answer is a bit tricky", "choice") is None
    assert _answer("The answer is Apples", "choice") is None
    assert _answer("The answer is (F)", "choice") is None


def test_custom_regex() -> None:
    text = "result=42; result=43; result="
    assert _answer(text, r"regex:result=(\d+)") == "43"
    found = extract_answer(text, r"regex:\d+")
    assert found == ExtractedAnswer("43", "43", (18, 20))
    assert _answer("Final: Yes", r"regex:(?i)final:\s*(\w+)") == "yes"
    assert _answer("nothing", r"regex:(\d+)") is None


@pytest.mark.parametrize(
    "raw", ["8", "8.0", "8.00", "$8", "$8.00", "8%", "16/2", " **8** ", "(8.0)", "8."]
)
def test_normalize_equal_numbers(raw: str) -> None:
    assert normalize_answer(raw) == "8"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("1,000", "1000"),
        ("3/4", "0.75"),
        ("0.750", "0.75"),
        ("1/20", "0.05"),
        ("2/6", "1/3"),
        ("-2.50", "-2.5"),
        ("-0", "0"),
        ("3/0", "3/0"),
        ("  The  Eiffel Tower. ", "the eiffel tower"),
        ("", None),
        ("  ** ", None),
    ],
)
def test_normalize_answer(raw: str, normalized: str | None) -> None:
    assert normalize_answer(raw) == normalized


def test_normalize_number_words_flag() -> None:
    assert normalize_answer("eight") == "eight"
    assert normalize_answer("Eight", number_words=True) == "8"
    assert normalize_answer("twenty-one", number_words=True) == "21"
    assert normalize_answer("two thousand and five", number_words=True) == "2005"
    assert normalize_answer("one two", number_words=True) == "one two"
    assert normalize_number("eight") is None
    assert normalize_number("8 apples") is None


def test_normalize_choice() -> None:
    assert normalize_answer("b", "choice") == "B"
    assert normalize_answer("(C)", "choice") == "C"
    assert normalize_answer("Answer: D", "choice") == "D"
    assert normalize_answer("F", "choice") is None


def test_answers_match() -> None:
    assert answers_match("$8.00", "8")
    assert answers_match("3/4", "0.75")
    assert not answers_match("1/3", "0.333")
    assert not answers_match("8", None)
    assert not answers_match(None, None)
    assert not answers_match("", "")
    assert answers_match("eight", "8", number_words=True)
    assert not answers_match("eight", "8")
    assert answers_match("(b)", "B", "choice")


def test_extracted_normalized_is_normalize_of_text() -> None:
    text = "Total: $1,250.50 and then -3/6"
    found = extract_answer(text)
    assert found is not None
    assert found.normalized == normalize_answer(found.text) == "-0.5"


def test_parse_rule() -> None:
    assert ANSWER_RULES == ("auto", "last-number", "answer-is", "gsm8k", "boxed", "choice")
    assert parse_rule("gsm8k").name == "gsm8k"
    regex_rule = parse_rule(r"regex:(\d+)")
    assert regex_rule.name == "regex"
    assert regex_rule.pattern is not None
    with pytest.raises(ValueError, match="unknown answer rule 'first-number'"):
        parse_rule("first-number")
    with pytest.raises(ValueError, match="invalid regular expression"):
        parse_rule("regex:(")
    with pytest.raises(ValueError, match="empty regular expression"):
        parse_rule("regex:")
    with pytest.raises(ValueError, match="unknown answer rule"):
        extract_answer("8", "LAST-NUMBER")


def test_char_span_to_token_range_basic() -> None:
    tokens = ["So", " the", " answer", " is", " 1", ",", "000", "."]
    text = "".join(tokens)
    found = extract_answer(text)
    assert found is not None and found.text == "1,000"
    # " 1" (index 4) overlaps the span's first char, "000" (index 6) its last.
    assert char_span_to_token_range(tokens, found.span) == (4, 7)
    assert char_span_to_token_range(tokens, (0, 1)) == (0, 1)
    assert char_span_to_token_range(tokens, (len(text) - 1, len(text))) == (7, 8)


def test_char_span_to_token_range_empty_tokens() -> None:
    # "€" arrived as two empty byte tokens followed by the token completing it.
    tokens = ["Cost", " ", "", "", "€5", "", "."]
    assert char_span_to_token_range(tokens, (5, 7)) == (2, 5)
    assert char_span_to_token_range(tokens, (6, 7)) == (2, 5)
    # Empty tokens before an ASCII-initial token are not part of its character.
    tokens = ["x", "", "5", "."]
    assert char_span_to_token_range(tokens, (1, 2)) == (2, 3)


def test_char_span_to_token_range_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        char_span_to_token_range(["ab"], (1, 1))
    with pytest.raises(ValueError, match="outside"):
        char_span_to_token_range(["ab", "c"], (2, 4))
    with pytest.raises(ValueError, match="outside"):
        char_span_to_token_range([], (0, 1))


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("zero", "0"),
        ("nine", "9"),
        ("ten", "10"),
        ("five hundred", "500"),
        ("thirteen hundred", "1300"),  # a teen before hundred
        ("twenty hundred", "2000"),
        ("one hundred twenty", "120"),  # tens after hundred
        ("one hundred and five", "105"),
        ("one thousand twenty", "1020"),  # tens after a scale
        ("two thousand and five", "2005"),
        ("thirteen thousand", "13000"),
        ("fifteen thousand", "15000"),
        ("twenty thousand", "20000"),
        ("one hundred thousand", "100000"),
    ],
)
def test_number_phrases_by_hand(words: str, value: str) -> None:
    assert normalize_answer(words, number_words=True) == value
    assert normalize_answer(words) == words  # opt-in only


@pytest.mark.parametrize(
    "words",
    ["and", "hundred", "twenty ten", "five eleven", "thirteen five", "one hundred hundred"],
)
def test_phrases_that_are_no_number_stay_text(words: str) -> None:
    assert normalize_answer(words, number_words=True) == words


def test_latex_numbers_in_braces_signs_and_long_whole_parts() -> None:
    assert normalize_number("{\\frac{1}{2}}") == "0.5"
    assert normalize_number("−\\frac{1}{2}") == "-0.5"  # the Unicode minus sign
    assert normalize_number("-2\\frac{1}{2}") == "-2.5"
    whole = "1" * 300  # the longest whole part still converted
    assert normalize_number(whole + "\\frac{1}{2}") == whole + ".5"
    assert normalize_number("1" * 301 + "\\frac{1}{2}") is None


@pytest.mark.parametrize(
    ("raw", "form"),
    [
        ("1/5", "0.2"),  # one factor 5: one decimal place
        ("3/25", "0.12"),
        # 2·(2^60 + 1) has an odd factor: no terminating decimal (exact integer arithmetic)
        ("1/2305843009213693954", "1/2305843009213693954"),
        ("1/5764607523034234885", "1/5764607523034234885"),  # 5·(2^60 + 1)
        ("1/" + "1" * 300, "1/" + "1" * 300),  # the longest denominator still converted
        ("−5", "-5"),  # the Unicode minus sign
        ("-$-5", "5"),  # two minus signs cancel
        ("5°", "5"),  # a unit right after the number
    ],
)
def test_number_forms_by_hand(raw: str, form: str) -> None:
    assert normalize_number(raw) == form


@pytest.mark.parametrize("raw", ["{8", "18}", "{x \\over 2}", "1/" + "1" * 301])
def test_broken_numbers_are_no_numbers(raw: str) -> None:
    assert normalize_number(raw) is None


def test_text_answers_keep_what_is_no_wrapper() -> None:
    assert normalize_answer("()") is None  # an empty bracket pair is nothing
    assert normalize_answer("$$") == "$$"  # no math inside
    assert normalize_answer("$") == "$"
    assert normalize_answer("\\text{a\\}}") == "a\\}"  # an escaped brace does not close
    found = extract_answer("\\boxed{\\}8}", "boxed")
    assert found is not None and found.text == "\\}8"


def test_choice_normalisation_accepts_only_a_to_e() -> None:
    for raw in ("AX", "XA", "x"):
        assert normalize_answer(raw, "choice") is None
    assert normalize_answer("see (C)", "choice") == "C"
    assert answers_match("8", "eight", number_words=True)
    assert answers_match("eight", "8", number_words=True)


def test_a_marker_answer_is_searched_within_its_line_or_sentence() -> None:
    # the fraction runs past the line end: the answer is the first number inside the line
    found = extract_answer("#### \\frac{1}\n{2}", "gsm8k")
    assert found is not None and (found.normalized, found.span) == ("1", (11, 12))
    found = extract_answer("The answer is \\frac{1}\n{2}.", "answer-is")
    assert found is not None and (found.normalized, found.span) == ("1", (20, 21))
    # a number phrase after the marker is its number, not the sentence's text
    found = extract_answer("The answer is eight apples.", "answer-is", number_words=True)
    assert found is not None and (found.text, found.normalized) == ("eight", "8")
    # a number at the very start of a text is a number too
    found = extract_answer("8 apples")
    assert found is not None and found.span == (0, 1)


def test_choice_letters_lose_stray_brackets_and_punctuation() -> None:
    assert normalize_answer("(C", "choice") == "C"
    assert normalize_answer("C!)", "choice") == "C"
    assert normalize_answer("-", number_words=True) == "-"  # no words: no number


def test_odd_numbers_at_the_edges_of_the_rules() -> None:
    # a sign, then the line ends inside the fraction: no number in the line, its text answers
    found = extract_answer("#### -\n\\frac{1}{2}", "gsm8k")
    assert found is not None and (found.text, found.span) == ("-", (5, 6))
    # a numerator too long to convert: no number (and no crash)
    assert normalize_number("\\frac{" + "1" * 301 + "}{2}") is None
    # capitalised number words in a phrase that is no number are still found one by one
    found = extract_answer("between Three and Four", number_words=True)
    assert found is not None and (found.text, found.normalized) == ("Four", "4")
    # 5^30 is a power of five: a terminating decimal, 2^30 / 10^30 (exact integer division)
    assert normalize_number("1/" + str(5**30)) == "0.000000000000000000001073741824"


def test_a_braced_numerator_over_a_denominator_is_a_fraction() -> None:
    # "{3}\over 4": the first brace group closes before the end, so the braces stay and the
    # \over split reads the numerator {3} and the denominator 4
    assert normalize_number("{3}\\over 4") == "0.75"
    assert normalize_number("{-3} \\over 4") == "-0.75"
    assert normalize_number("{3}\\over 4 dollars") == "0.75"
