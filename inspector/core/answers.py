"""Extract final answers from reasoning paths and normalise them for comparison.

Rules (``ANSWER_RULES``, plus ``regex:PATTERN``):

- ``last-number``: the last number in the text. Numbers may carry a sign (``-3``), a dollar sign
  (``$5``, ``-$5``), thousands separators (``1,000``), decimals (``2.50``, ``.5``) and a fraction
  bar (``3/4``). Digits glued to ASCII letters (``x2``) are not numbers; ``3-4`` is 3 and 4.
- ``answer-is``: the last "(the) (final) answer is X" / "answer: X" (case-insensitive). X runs to
  the end of the sentence (newline, or a period not followed by a digit); if X contains a number,
  the answer is the first number in it, otherwise the trimmed text.
- ``gsm8k``: the last ``#### X``; X runs to the end of the line, with the same number rule.
- ``choice``: a multiple-choice letter A-E (upper case in the text). The last "answer is C" /
  "answer: (C)" wins; otherwise the last "(C)" or a line holding only the letter.
- ``regex:PATTERN``: the last non-empty match of PATTERN; its first group if it has groups
  (matches where that group did not participate are skipped), else the whole match.

Normalisation (``normalize_answer``): for every rule except ``choice``, a string that is a bare
number is converted to an exact rational and written canonically: integers as ``8``, terminating
decimals without trailing zeros (``2.50`` -> ``2.5``, ``3/4`` -> ``0.75``), other fractions in
lowest terms (``2/6`` -> ``1/3``). Hence ``8``, ``8.0``, ``$8.00``, ``8%`` and ``16/2`` are all
``8``, and two answers are numerically equal exactly when their normalised strings are equal
(``1/3`` and ``0.333`` differ). With ``number_words=True``, English number words
(``eight``, ``twenty-one``, ``one hundred and five``) count as numbers too. Anything else is
compared as text: case-folded, whitespace collapsed, surrounding punctuation and brackets removed.
``choice`` normalises to the upper-case letter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

ANSWER_RULES: tuple[str, ...] = ("last-number", "answer-is", "gsm8k", "choice")
REGEX_PREFIX = "regex:"

_SIGN = r"[-−+]"
_DIGITS = r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
_NUMBER_CORE = rf"(?P<neg>{_SIGN})?\$?(?P<neg2>{_SIGN})?(?P<num>{_DIGITS})(?:/(?P<den>\d+))?"
_NUMBER_SEARCH = re.compile(rf"(?<![A-Za-z0-9_.]){_NUMBER_CORE}")
_BARE_NUMBER = re.compile(rf"{_NUMBER_CORE}%?")

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEEN_STEMS = ("thir", "four", "fif", "six", "seven", "eigh", "nine")
_TEENS = ["ten", "eleven", "twelve", *(f"{stem}teen" for stem in _TEEN_STEMS)]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = {"thousand": 1_000, "million": 1_000_000}
_WORD_VALUES: dict[str, int] = {
    **{w: i for i, w in enumerate(_UNITS)},
    **{w: 10 + i for i, w in enumerate(_TEENS)},
    **{w: 20 + 10 * i for i, w in enumerate(_TENS)},
}
_WORD_ALT = "|".join(sorted([*_WORD_VALUES, "hundred", *_SCALES], key=len, reverse=True))
_WORDS = rf"\b(?:{_WORD_ALT})(?:(?:[ \t-]+(?:and[ \t]+)?)(?:{_WORD_ALT}))*\b"
_NUMBER_OR_WORDS_SEARCH = re.compile(rf"(?<![A-Za-z0-9_.]){_NUMBER_CORE}|(?P<words>(?i:{_WORDS}))")

_ANSWER_IS = re.compile(r"\b(?:the\s+)?(?:final\s+)?answer\s*(?:is\b|:)\s*:?\s*", re.IGNORECASE)
_GSM8K = re.compile(r"####[ \t]*")
_LINE_END = re.compile(r"\n")
_SENTENCE_END = re.compile(r"\n|\.(?!\d)")
_CHOICE_AFTER_ANSWER = re.compile(
    r"(?i:\banswer\b(?:\s+is\b|\s*:)?)\s*:?\s*(?:(?i:option|choice)\s+)?[(\[]?(?P<c>[A-E])(?![\w'])"
)
_CHOICE_ALONE = re.compile(r"\((?P<c>[A-E])\)|^[ \t]*(?P<l>[A-E])[).:]?[ \t]*$", re.MULTILINE)
_EDGE_CHARS = " \t\r\n*_`\"'"
_TRAILING_PUNCT = ".,;:!?"
_BRACKETS = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True)
class ExtractedAnswer:
    """An answer found in a text: the raw ``text[span[0]:span[1]]`` and its normalised form."""

    text: str
    normalized: str
    span: tuple[int, int]


@dataclass(frozen=True)
class AnswerRule:
    """A parsed answer rule: one of ``ANSWER_RULES`` or ``regex`` with its compiled pattern."""

    name: str
    pattern: re.Pattern[str] | None = None


@lru_cache(maxsize=128)
def parse_rule(rule: str) -> AnswerRule:
    """Parse a rule name; raise ``ValueError`` for unknown rules or an invalid regex."""
    if rule in ANSWER_RULES:
        return AnswerRule(rule)
    if rule.startswith(REGEX_PREFIX):
        source = rule[len(REGEX_PREFIX) :]
        if not source:
            raise ValueError(f"answer rule {rule!r} has an empty regular expression")
        try:
            return AnswerRule("regex", re.compile(source))
        except re.error as exc:
            msg = f"answer rule {rule!r} has an invalid regular expression: {exc}"
            raise ValueError(msg) from exc
    known = ", ".join(ANSWER_RULES)
    raise ValueError(f"unknown answer rule {rule!r}; expected one of {known} or regex:PATTERN")


def _format_fraction(value: Fraction) -> str:
    """Canonical text of an exact number: ``8``, ``0.75``, ``-2.5`` or ``1/3``."""
    if value.denominator == 1:
        return str(value.numerator)
    rest, twos, fives = value.denominator, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    digits = str(abs(value.numerator) * 10**places // value.denominator).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _match_value(match: re.Match[str]) -> Fraction | None:
    """Exact value of a numeric match of ``_NUMBER_CORE``; None for a zero denominator."""
    value = Fraction(match["num"].replace(",", ""))
    if match["den"] is not None:
        if int(match["den"]) == 0:
            return None
        value /= int(match["den"])
    negative = sum(1 for s in (match["neg"], match["neg2"]) if s in ("-", "−"))
    return -value if negative % 2 else value


def _parse_number_words(text: str) -> int | None:
    """Value of an English number phrase (``twenty-one``, ``two hundred and five``), else None."""
    words = [w for w in re.split(r"[\s-]+", text.casefold().strip()) if w]
    if not words or words == ["and"]:
        return None
    if words == ["zero"]:
        return 0
    total, group, last = 0, 0, ""
    for word in words:
        value = _WORD_VALUES.get(word)
        if word == "and" and last in ("hundred", "scale"):
            continue
        if value is not None and 1 <= value <= 9 and last in ("", "tens", "hundred", "scale"):
            group, last = group + value, "unit"
        elif value is not None and value >= 10 and last in ("", "hundred", "scale"):
            group, last = group + value, ("tens" if value >= 20 else "teen")
        elif word == "hundred" and last in ("unit", "teen", "tens") and group < 100:
            group, last = group * 100, "hundred"
        elif word in _SCALES and last in ("unit", "teen", "tens", "hundred"):
            total, group, last = total + group * _SCALES[word], 0, "scale"
        else:
            return None
    return total + group


def _strip_edges(text: str) -> str:
    """Remove surrounding whitespace, markdown, quotes, trailing punctuation and bracket pairs."""
    previous = None
    while text != previous:
        previous = text
        text = text.strip(_EDGE_CHARS).rstrip(_TRAILING_PUNCT).strip(_EDGE_CHARS)
        if len(text) >= 2 and _BRACKETS.get(text[0]) == text[-1]:
            text = text[1:-1]
    return text


def normalize_number(raw: str) -> str | None:
    """Canonical form of ``raw`` if it is a bare number (``$1,000.00`` -> ``1000``), else None."""
    match = _BARE_NUMBER.fullmatch(_strip_edges(raw))
    if match is None:
        return None
    value = _match_value(match)
    return None if value is None else _format_fraction(value)


def _normalize_text(raw: str) -> str | None:
    """Case-folded text with collapsed whitespace, without surrounding punctuation/brackets."""
    return _strip_edges(" ".join(raw.split()).casefold()) or None


def _normalize_choice(raw: str) -> str | None:
    cleaned = raw.strip(_EDGE_CHARS + "()[]").rstrip(_TRAILING_PUNCT + ")]")
    if len(cleaned) == 1 and cleaned.upper() in "ABCDE":
        return cleaned.upper()
    span = _find_choice(raw, False)
    return None if span is None else raw[span[0] : span[1]].upper()


def normalize_answer(
    raw: str, rule: str = "last-number", *, number_words: bool = False
) -> str | None:
    """Normalise an isolated answer (e.g. a gold answer) as ``rule`` does; None if empty/invalid."""
    if parse_rule(rule).name == "choice":
        return _normalize_choice(raw)
    number = normalize_number(raw)
    if number is not None:
        return number
    if number_words:
        value = _parse_number_words(_strip_edges(raw))
        if value is not None:
            return str(value)
    return _normalize_text(raw)


def answers_match(
    a: str | None, b: str | None, rule: str = "last-number", *, number_words: bool = False
) -> bool:
    """True when both answers exist and normalise to the same string under ``rule``."""
    if a is None or b is None:
        return False
    na = normalize_answer(a, rule, number_words=number_words)
    return na is not None and na == normalize_answer(b, rule, number_words=number_words)


def _number_spans(text: str, start: int, end: int, number_words: bool) -> list[tuple[int, int]]:
    """Spans of the numbers in ``text[start:end]`` (number phrases must parse as numbers)."""
    pattern = _NUMBER_OR_WORDS_SEARCH if number_words else _NUMBER_SEARCH
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(text, start, end):
        if not (number_words and match["words"]) or _parse_number_words(match["words"]) is not None:
            spans.append(match.span())
            continue
        # An unparseable phrase ("three and four"): fall back to its single number words.
        for word in re.finditer(r"[A-Za-z]+", match["words"]):
            if word[0].casefold() in _WORD_VALUES:
                spans.append((match.start() + word.start(), match.start() + word.end()))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` past surrounding whitespace, markdown and trailing punctuation."""
    while start < end and text[start] in _EDGE_CHARS:
        start += 1
    while end > start and text[end - 1] in _EDGE_CHARS + _TRAILING_PUNCT:
        end -= 1
    return start, end


def _find_after_marker(
    text: str, marker: re.Pattern[str], end_at: re.Pattern[str], number_words: bool
) -> tuple[int, int] | None:
    """Answer after the last marker with a non-empty answer: its first number, else its text."""
    for found in reversed(list(marker.finditer(text))):
        start = found.end()
        stop = end_at.search(text, start)
        end = stop.start() if stop else len(text)
        numbers = _number_spans(text, start, end, number_words)
        if numbers:
            return numbers[0]
        start, end = _trim(text, start, end)
        if start < end:
            return start, end
    return None


def _find_last_number(text: str, number_words: bool) -> tuple[int, int] | None:
    spans = _number_spans(text, 0, len(text), number_words)
    return spans[-1] if spans else None


def _find_choice(text: str, number_words: bool) -> tuple[int, int] | None:
    after_answer = list(_CHOICE_AFTER_ANSWER.finditer(text))
    if after_answer:
        return after_answer[-1].span("c")
    alone = list(_CHOICE_ALONE.finditer(text))
    if not alone:
        return None
    last = alone[-1]
    return last.span("c") if last["c"] else last.span("l")


def _find_regex(text: str, pattern: re.Pattern[str]) -> tuple[int, int] | None:
    for match in reversed(list(pattern.finditer(text))):
        span = match.span(1) if pattern.groups else match.span()
        if span[0] >= 0 and span[1] > span[0]:
            return span
    return None


_FINDERS: dict[str, Callable[[str, bool], tuple[int, int] | None]] = {
    "last-number": _find_last_number,
    "answer-is": lambda t, w: _find_after_marker(t, _ANSWER_IS, _SENTENCE_END, w),
    "gsm8k": lambda t, w: _find_after_marker(t, _GSM8K, _LINE_END, w),
    "choice": _find_choice,
}


def extract_answer(
    text: str, rule: str = "last-number", *, number_words: bool = False
) -> ExtractedAnswer | None:
    """Find the answer in ``text`` with ``rule``; None when the text holds no answer."""
    parsed = parse_rule(rule)
    if parsed.pattern is not None:
        span = _find_regex(text, parsed.pattern)
    else:
        span = _FINDERS[parsed.name](text, number_words)
    if span is None:
        return None
    raw = text[span[0] : span[1]]
    normalized = normalize_answer(raw, rule, number_words=number_words)
    if normalized is None:
        return None
    return ExtractedAnswer(raw, normalized, span)


def char_span_to_token_range(token_texts: Sequence[str], span: tuple[int, int]) -> tuple[int, int]:
    """Token indices ``(first, end_exclusive)`` of the tokens whose text overlaps ``span``.

    ``token_texts`` concatenate to the text ``span`` indexes. Empty-text tokens directly before
    the first overlapping token are included when that token starts with a non-ASCII character:
    they carried the leading bytes of that multi-byte UTF-8 character. Raises ``ValueError`` for
    an empty span or one outside the text.
    """
    start, end = span
    if not 0 <= start < end:
        raise ValueError(f"answer span {span} is empty or negative")
    first = last = None
    offset = 0
    for index, piece in enumerate(token_texts):
        piece_end = offset + len(piece)
        if piece and offset < end and piece_end > start:
            first = index if first is None else first
            last = index
        offset = piece_end
    if first is None or last is None or end > offset:
        raise ValueError(f"answer span {span} lies outside the token text (length {offset})")
    if not token_texts[first][0].isascii():
        while first > 0 and token_texts[first - 1] == "":
            first -= 1
    return first, last + 1
