"""Tests for thinking sections, token boundaries and the time bound of user regex rules.

Every expected value is written by hand.
"""

from __future__ import annotations

import time

import pytest

from inspector.core import answers
from inspector.core.answers import (
    AnswerRuleTimeout,
    ExtractedAnswer,
    PathAnswer,
    ThinkingSplit,
    char_span_to_token_range,
    extract_answer,
    extract_path_answer,
    parse_rule,
    split_thinking,
    token_index_at,
)

# A thinking model's path as its tokens arrive; the close marker is split over three tokens.
THINK_TOKENS = ["<think>", "\n", "Maybe", " 5", "?", " No", ",", " 7", ".", "</", "think", ">"]
ANSWER_TOKENS = ["\n\n", "The", " answer", " is", " \\", "boxed", "{", "7", "}", "."]


def test_no_thinking_section() -> None:
    assert split_thinking("The answer is 7.") == ThinkingSplit(None, 0)
    assert split_thinking("") == ThinkingSplit(None, 0)


def test_closed_thinking_section() -> None:
    text = "<think>maybe 5</think>So 7"
    assert split_thinking(text) == ThinkingSplit((0, 22), 22)
    assert split_thinking(text).ended
    # text before the open marker is not thinking
    assert split_thinking("\n<think>x</think>y") == ThinkingSplit((1, 17), 17)


def test_text_starting_inside_thinking() -> None:
    # The chat template opened <think> in the prompt: only the close marker is generated.
    assert split_thinking("maybe 5\n</think>\n\nSo 7") == ThinkingSplit((0, 16), 16)
    # Told so, a text without a close marker is all thinking.
    assert split_thinking("maybe 5", starts_inside=True) == ThinkingSplit((0, 7), None)
    assert split_thinking("a</think>b", starts_inside=True) == ThinkingSplit((0, 9), 9)


def test_thinking_never_closed() -> None:
    split = split_thinking("Hi <think>maybe 5, or 7")
    assert split == ThinkingSplit((3, 23), None)
    assert not split.ended
    # opened again after the last close and never closed
    assert split_thinking("<think>a</think>b<think>c") == ThinkingSplit((0, 25), None)


def test_other_reasoning_markers() -> None:
    markers = ("<|begin_of_thought|>", "<|end_of_thought|>")
    text = "<|begin_of_thought|>x = 3<|end_of_thought|>So 4"
    assert split_thinking(text, markers) == ThinkingSplit((0, 43), 43)
    assert split_thinking("<think>a</think>b", markers) == ThinkingSplit(None, 0)
    with pytest.raises(ValueError, match="non-empty"):
        split_thinking("x", ("", "</think>"))


def test_path_answer_only_after_thinking() -> None:
    text = "".join(THINK_TOKENS + ANSWER_TOKENS)
    # offsets: the thinking is text[0:31]; in the answer, " \\" is 46-48, "boxed" 48-53, "{" 53
    found = extract_path_answer(text, "auto")
    assert found.thinking == ThinkingSplit((0, 31), 31)
    assert found.answer == ExtractedAnswer("7", "7", (54, 55))
    assert found.answer is not None and found.answer.rule == "boxed"
    # the thinking's numbers are not the answer
    assert extract_path_answer("<think>So 5.</think>I cannot tell.", "auto").answer is None
    assert extract_answer("<think>So 5.</think>I cannot tell.", "auto") is not None


def test_path_cut_inside_thinking_has_no_answer() -> None:
    text = "".join(THINK_TOKENS[:8])  # "<think>\nMaybe 5? No, 7" and the token limit
    result = extract_path_answer(text, "auto", finished=False)
    assert result == PathAnswer(None, ThinkingSplit((0, 22), None))
    # even a finished-looking text whose thinking never closed has none
    assert extract_path_answer("<think>The answer is 7.", "auto").answer is None
    # a template-opened thinking: the caller says so
    result = extract_path_answer("The answer is 7.", "auto", starts_in_thinking=True)
    assert result.answer is None


def test_path_answer_unfinished_after_thinking() -> None:
    text = "<think>5</think>Let me compute 3 + 4 = 7"
    assert extract_path_answer(text, "auto", finished=False).answer is None
    found = extract_path_answer(text, "auto").answer
    assert found is not None and (found.normalized, found.rule) == ("7", "last-number")


def test_path_answer_without_thinking_search() -> None:
    text = "<think>So 5"
    found = extract_path_answer(text, "last-number", thinking_markers=None)
    assert found.thinking == ThinkingSplit(None, 0)
    assert found.answer == ExtractedAnswer("5", "5", (10, 11))


def test_token_index_at_thinking_boundary() -> None:
    tokens = THINK_TOKENS + ANSWER_TOKENS
    split = split_thinking("".join(tokens))
    assert split.answer_start == 31
    # the thinking is tokens [0, 12): the whole close marker, "</" "think" ">"
    assert token_index_at(tokens, split.answer_start) == 12
    assert token_index_at(tokens, 0) == 0
    assert token_index_at(tokens, 30) == 11  # ">" starts at 30
    assert token_index_at(tokens, 29) == 11  # "think" (25-30) straddles 29: it goes before
    assert token_index_at(tokens, 52) == 18  # inside "boxed" (48-53): "{" is the next token
    assert token_index_at(tokens, 57) == len(tokens)
    with pytest.raises(ValueError, match="outside"):
        token_index_at(tokens, 58)
    with pytest.raises(ValueError, match="outside"):
        token_index_at(tokens, -1)
    assert token_index_at([], 0) == 0


def test_token_index_at_straddling_token() -> None:
    # a token that holds the end of the close marker and the start of the answer
    tokens = ["<think>", "a", "</think>\n", "7"]
    assert split_thinking("".join(tokens)).answer_start == 16
    assert token_index_at(tokens, 16) == 3
    tokens = ["<think>", "a", "</think", ">\n7"]
    assert token_index_at(tokens, 16) == 4


def test_catastrophic_regex_ends_quickly() -> None:
    # issue 14 item 3: this rule made a 32-token run hang
    start = time.monotonic()
    text = "a" * 40 + " 12 " + "b" * 2000
    assert extract_answer(text, "regex:(.*)*QQ") is None
    # it stopped: unchecked, this backtracking would run for hours (the bound is loose on
    # purpose, a loaded machine takes seconds where a quiet one takes 0.2)
    assert time.monotonic() - start < 60.0


def test_regex_timeout_gives_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # a pattern that the regex module backtracks on exponentially
    monkeypatch.setattr(answers, "REGEX_TIMEOUT_S", 0.2)
    text = "a," * 20 + "a" * 200
    start = time.monotonic()
    with pytest.raises(AnswerRuleTimeout) as caught:
        extract_answer(text, "regex:(.*?,){11}P")
    assert str(caught.value) == (
        "answer rule 'regex:(.*?,){11}P' took longer than 0.2 s on a 240-character text (a "
        "pattern that backtracks catastrophically, such as a nested repeat like (.*)*); "
        "simplify the expression"
    )
    # it stopped: unchecked, this backtracking would run for hours (the bound is loose on
    # purpose, a loaded machine takes seconds where a quiet one takes 0.2)
    assert time.monotonic() - start < 60.0
    assert issubclass(AnswerRuleTimeout, ValueError)


def test_regex_rules_keep_re_syntax() -> None:
    assert parse_rule(r"regex:(?P<n>\d+)\b").pattern is not None
    with pytest.raises(ValueError, match="invalid regular expression"):
        parse_rule("regex:a{2,1}")


def test_split_thinking_uses_the_first_open_and_the_last_close_marker() -> None:
    assert split_thinking("<think>a</think><think>b</think> 8") == ThinkingSplit((0, 32), 32)
    assert split_thinking("<think>a</think> x </think> 8") == ThinkingSplit((0, 27), 27)
    # a close marker at the very start: the text began inside the thinking
    assert split_thinking("</think> 8") == ThinkingSplit((0, 8), 8)
    # an open marker that is the start of the close marker belongs to the close marker
    assert split_thinking("ab[/] 8", ("[", "[/]")) == ThinkingSplit((0, 5), 5)


def test_a_paths_own_thinking_markers_are_used() -> None:
    found = extract_path_answer("[t]3[/t] 8", "auto", thinking_markers=("[t]", "[/t]"))
    assert found.thinking == ThinkingSplit((0, 8), 8)
    assert found.answer == ExtractedAnswer("8", "8", (9, 10), "last-number")


def test_extract_path_answer_defaults_and_number_words() -> None:
    # by default the text starts outside any thinking and number words are off
    plain = extract_path_answer("I have 8 apples", "auto")
    assert plain.thinking == ThinkingSplit(None, 0) and plain.answer is not None
    assert plain.answer.normalized == "8"
    assert extract_path_answer("I have eight apples", "auto").answer is None
    words = extract_path_answer("I have eight apples", "auto", number_words=True)
    assert words.answer == ExtractedAnswer("eight", "8", (7, 12), "last-number")


def test_a_user_regex_takes_its_last_non_empty_match_even_at_the_start() -> None:
    # "(\d*)" also matches the empty string after "7": those matches are skipped
    found = extract_answer("7 apples", r"regex:(\d*)")
    assert found == ExtractedAnswer("7", "7", (0, 1), "regex")
    found = extract_answer("7 apples", r"regex:(\d+)")
    assert found == ExtractedAnswer("7", "7", (0, 1), "regex")


def test_empty_tokens_before_a_multibyte_character_join_its_range() -> None:
    assert char_span_to_token_range(["é", ""], (0, 1)) == (0, 1)
    assert char_span_to_token_range(["", "é"], (0, 1)) == (0, 2)
    assert char_span_to_token_range(["x", "", "é"], (1, 2)) == (1, 3)
    assert char_span_to_token_range(["x", "", "", "é"], (1, 2)) == (1, 4)
