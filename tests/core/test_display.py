"""Numbers, tokens and labels as a reader sees them (inspector/core/display.py), by hand."""

from __future__ import annotations

import math

from inspector.core.display import (
    answer_or_none,
    first_token_label,
    fmt,
    label_words,
    path_number,
    shown_token,
    text_or_dash,
    token_range,
    token_words,
    verdict,
)


def test_fmt_writes_digits_and_a_dash_for_unknown_numbers() -> None:
    assert fmt(0.1) == "0.100"  # three decimals by default
    assert fmt(2, 1) == "2.0"
    assert fmt(-1.23456, 2) == "-1.23"
    assert fmt(7.0, 0) == "7"
    for unknown in (None, math.nan, math.inf, -math.inf):
        assert fmt(unknown) == "—"


def test_verdict_in_words() -> None:
    assert (verdict(True), verdict(False), verdict(None)) == ("correct", "wrong", "—")


def test_token_range_names_first_and_last_token() -> None:
    assert token_range(40, 45) == "tokens 40–44"
    assert token_range(0, 2) == "tokens 0–1"
    assert token_range(40, 41) == "token 40"
    assert token_range(3, 3) == "token 3"  # an empty range still names its start


def test_answer_or_none_and_path_number() -> None:
    assert answer_or_none(None) == "no answer"
    assert answer_or_none("8") == "8"
    assert answer_or_none("") == ""
    assert path_number(None) == "—"
    assert path_number(0) == "path #0"
    assert path_number(12) == "path #12"


def test_text_or_dash_for_each_kind_of_value() -> None:
    assert text_or_dash(None) == "—"
    assert text_or_dash("") == "—"
    assert text_or_dash(True) == "yes"
    assert text_or_dash(False) == "no"
    assert text_or_dash(0.5) == "0.5"
    assert text_or_dash(0.1 + 0.2) == "0.3"  # %g: six significant digits
    assert text_or_dash(1e-7) == "1e-07"
    assert text_or_dash(math.nan) == "—"
    assert text_or_dash(-math.inf) == "—"
    assert text_or_dash(0) == "0"  # zero is a value, not a missing one
    assert text_or_dash(0.0) == "0"
    assert text_or_dash("x") == "x"
    assert text_or_dash([1, 2]) == "[1, 2]"


def test_shown_token_makes_whitespace_visible() -> None:
    assert shown_token("") == "(empty)"
    assert shown_token(" He") == "“␣He”"
    assert shown_token("\n") == "“⏎”"
    assert shown_token("a\tb\r") == "“a⇥b␍”"
    assert shown_token("  x ") == "“␣␣x␣”"  # two leading spaces, one trailing
    assert shown_token("x y") == "“x y”"  # an inner space stays a space
    assert shown_token("   ") == "“␣␣␣”"  # spaces alone count once, as leading


def test_token_words_names_pure_whitespace() -> None:
    assert token_words(" ") == "space"
    assert token_words("  ") == "2 spaces"
    assert token_words("\n") == "newline"
    assert token_words("\n\n\n") == "3 newlines"
    assert token_words("\t") == "tab"
    assert token_words("\r\r") == "2 carriage returns"
    assert token_words(" \n") == "“␣⏎”"  # mixed whitespace is shown, not named
    assert token_words("The") == "“The”"
    assert token_words("") == "(empty)"


def test_first_token_label_and_old_labels_in_words() -> None:
    assert first_token_label(2, " The") == "first token #2: “␣The”"
    assert first_token_label(1, " ") == "first token #1: space"
    # labels stored with a Python repr by older versions
    assert label_words("first token #1 ' '") == "first token #1: space"
    assert label_words("first token #2 ' The'") == "first token #2: “␣The”"
    assert label_words("first token #3 '\\n\\n'") == "first token #3: 2 newlines"
    assert label_words("first token #5 '''\n'''") == "first token #5: newline"  # spans lines
    # anything else stays as it is
    for label in (
        "greedy",
        "sample 3",
        "first token #2: “␣The”",  # already in words
        "first token #3 not-a-literal",  # ValueError
        "first token #3 (1",  # SyntaxError
        "first token #4 42",  # a literal, but no string
        "first token #x ' '",
        "the first token #1 ' '",
    ):
        assert label_words(label) == label


def test_shown_token_makes_only_spaces_into_visible_spaces() -> None:
    assert shown_token("\x0bx ") == "“\x0bx␣”"  # other whitespace is kept as it is
    assert shown_token("Xa") == "“Xa”"
