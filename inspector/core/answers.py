"""Extract final answers from reasoning paths and normalise them for comparison.

Rules (``ANSWER_RULES``, plus ``regex:PATTERN``); docs/answers.md has the full description:

- ``auto``: the last ``\\boxed{X}``, else the last ``#### X``, else the last "answer is X" /
  "Answer: X", else the last number; ``ExtractedAnswer.rule`` names the step that found it.
- ``boxed``: the last ``\\boxed{X}`` / ``\\fbox{X}`` with balanced braces (X may nest braces).
- ``last-number``: the last number in the text. Numbers may carry a sign (``-3``), a dollar sign
  (``$5``, ``-$5``), thousands separators (``1,000``, LaTeX ``1{,}000``), decimals (``2.50``,
  ``.5``), a fraction bar (``3/4``) or be a LaTeX fraction (``\\frac{3}{4}``, ``\\dfrac34``,
  ``2\\frac{1}{2}``, ``3\\over4``). Digits glued to ASCII letters (``x2``) are not numbers;
  ``3-4`` is 3 and 4.
- ``answer-is``: the last "(the) (final) answer is X" / "answer: X" (case-insensitive, also
  ``**Answer:**``). X runs to the end of the sentence (newline, or a period not followed by a
  digit); if X contains a number, the answer is the first number in it, otherwise the trimmed text.
- ``gsm8k``: the last ``#### X``; X runs to the end of the line, with the same number rule.
- ``choice``: a multiple-choice letter A-E (upper case in the text). The last "answer is C" /
  "answer: (C)" wins; otherwise the last "(C)" or a line holding only the letter.
- ``regex:PATTERN``: the last non-empty match of PATTERN; its first group if it has groups
  (matches where that group did not participate are skipped), else the whole match. It runs with
  the ``regex`` module under a time bound (``REGEX_TIMEOUT_S``): past it ``AnswerRuleTimeout``.

Unfinished paths (``extract_answer(..., finished=False)``): only explicit markers count (boxed,
``####``, "answer is", a choice after "answer", a user regex), never the last number or a lone
"(C)"; a marker's number that may have been cut (nothing but number characters follow it up to
the end of the text) or a text answer whose sentence never ended is skipped.

Thinking sections (``split_thinking``): the answer is looked for only after the thinking's close
marker; a path whose thinking never closed has no answer (``extract_path_answer``).

Normalisation (``normalize_answer``): for every rule except ``choice``, LaTeX wrappers are removed
first (``$X$``, ``\\(X\\)``, ``\\[X\\]``, ``\\boxed{X}``, ``\\text{X}``, markdown ``**X**``), then a
string that is a bare number is converted to an exact rational and written canonically: integers
as ``8``, terminating decimals without trailing zeros (``2.50`` -> ``2.5``, ``3/4`` and
``\\frac{3}{4}`` -> ``0.75``), other fractions in lowest terms (``2/6`` -> ``1/3``). A bare number
may be followed by a unit: ``%``/``\\%``, ``\\text{...}``/``\\mbox{...}``, a degree sign, or one
of ``UNIT_WORDS`` (``18 dollars``). Hence ``8``, ``8.0``, ``$8.00``, ``\\$8``, ``8%``, ``16/2``
and ``8\\text{ dollars}`` are all ``8``, and two answers are numerically equal exactly when their
normalised strings are equal (``1/3`` and ``0.333`` differ). With ``number_words=True``, English
number words (``eight``, ``twenty-one``, ``one hundred and five``) count as numbers too. Anything
else is compared as text: case-folded, whitespace collapsed, surrounding punctuation and brackets
removed. ``choice`` normalises to the upper-case letter.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import regex  # type: ignore[import-untyped]

ANSWER_RULES: tuple[str, ...] = ("auto", "last-number", "answer-is", "gsm8k", "boxed", "choice")
REGEX_PREFIX = "regex:"
AUTO_STEPS: tuple[str, ...] = ("boxed", "gsm8k", "answer-is", "last-number")
"""The rules ``auto`` tries, in order; the first that finds an answer wins."""
EXPLICIT_RULES: frozenset[str] = frozenset({"boxed", "gsm8k", "answer-is", "choice", "regex"})
"""Rules that answer an unfinished path (``choice`` only from its "answer is C" form)."""
REGEX_TIMEOUT_S = 1.0
"""Time bound of one ``regex:PATTERN`` evaluation on one text, in seconds."""
THINK_MARKERS: tuple[str, str] = ("<think>", "</think>")
UNIT_WORDS: tuple[str, ...] = (
    "dollars", "dollar", "usd", "cents", "cent", "euros", "euro", "percent", "per cent",
    "degrees", "degree",
)  # fmt: skip

_MAX_DIGITS = 300
_MAX_WRAPPERS = 16  # layers of $..$, \\boxed{..}, ... that normalisation removes
_SIGN = r"[-−+]"
_SEP = r"(?:,|\{,\}|\\,)"
_INT = r"\d{1,3}(?:" + _SEP + r"\d{3})+|\d+"
_DIGITS = r"(?:(?:" + _INT + r")(?:\.\d+)?|\.\d+)"
_NUMBER_CORE = rf"(?P<neg>{_SIGN})?\$?(?P<neg2>{_SIGN})?(?P<num>{_DIGITS})(?:/(?P<den>\d+))?"
_BARE_NUMBER = re.compile(rf"{_NUMBER_CORE}%?")
# LaTeX fractions: \frac{3}{4}, \dfrac34, \tfrac{3}4, 2\frac{1}{2} (mixed), 3\over4, {3 \over 4}.
_FRAC_ARG = rf"(?:\{{\s*(?:{_SIGN}\s*)?{_DIGITS}\s*\}}|\d)"
_FRAC_SEARCH = rf"(?:{_SIGN}\s*)?\$?(?:\d+)?\\[dtc]?frac\s*{_FRAC_ARG}\s*{_FRAC_ARG}"
_OVER_CORE = rf"(?:{_SIGN}\s*)?{_DIGITS}\s*\\over(?![A-Za-z])\s*{_DIGITS}"
_LATEX_NUMBER = rf"{_FRAC_SEARCH}|\{{\s*{_OVER_CORE}\s*\}}|{_OVER_CORE}"
_PLAIN_SEARCH = r"(?:" + _SIGN + r")?\$?(?:" + _SIGN + r")?" + _DIGITS + r"(?:/\d+)?"
_NUMBER_SEARCH = re.compile(rf"(?<![A-Za-z0-9_.])(?:{_LATEX_NUMBER}|{_PLAIN_SEARCH})")
_FRAC_FULL = re.compile(
    rf"(?P<sign>{_SIGN})?\s*\$?(?P<whole>\d+)?\\[dtc]?frac\s*(?P<a>{_FRAC_ARG})\s*(?P<b>{_FRAC_ARG})"
)
_THOUSANDS_SPACE = re.compile(r"(?<=\d)(?:\{,\}|\\,|\\!|\\ |~)(?=\d{3}(?!\d))")
_UNIT_SUFFIX = re.compile(  # no leading \s*: a search must not rescan whitespace runs
    r"(?:\\(?:text|mbox|textrm|mathrm)\s*\{[^{}]*\}|\^\s*\{?\s*\\circ\s*\}?|°"
    r"|(?<=\s)(?i:" + "|".join(w.replace(" ", r"\s+") for w in UNIT_WORDS) + r"))\Z"
)

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
_NUMBER_OR_WORDS_SEARCH = re.compile(
    rf"(?<![A-Za-z0-9_.])(?:{_LATEX_NUMBER}|{_PLAIN_SEARCH})|(?P<words>(?i:{_WORDS}))"
)

_ANSWER_IS = re.compile(
    r"\b(?:the\s+)?(?:final\s+)?answer\s*(?:\*\*|__)?\s*(?:is\b|:)\s*:?\s*", re.IGNORECASE
)
_GSM8K = re.compile(r"####[ \t]*")
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_LINE_END = re.compile(r"\n")
_SENTENCE_END = re.compile(r"\n|\.(?!\d)")
_NUMBER_START = re.compile(r"[-−+$\\{\d.]")
_MAYBE_CUT_NUMBER = re.compile(r"[\d.,/{}\\^]*")
_CHOICE_AFTER_ANSWER = re.compile(
    r"(?i:\banswer\b(?:\s+is\b|\s*:)?)\s*:?\s*(?:(?i:option|choice)\s+)?[(\[]?(?P<c>[A-E])(?![\w'])"
)
_CHOICE_ALONE = re.compile(r"\((?P<c>[A-E])\)|^[ \t]*(?P<l>[A-E])[).:]?[ \t]*$", re.MULTILINE)
_EDGE_CHARS = " \t\r\n*_`\"'"
_TRAILING_PUNCT = ".,;:!?"
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_MATH_DELIMITERS = (("$$", "$$"), ("\\(", "\\)"), ("\\[", "\\]"), ("$", "$"))
_WRAPPER_COMMANDS = re.compile(
    r"\\(?:boxed|fbox|text|textbf|textrm|mbox|mathrm|mathbf|mathit|displaystyle)\s*\{"
)


class AnswerRuleTimeout(ValueError):
    """A ``regex:PATTERN`` rule ran past ``REGEX_TIMEOUT_S`` on a text."""


@dataclass(frozen=True)
class ExtractedAnswer:
    """An answer found in a text: the raw ``text[span[0]:span[1]]`` and its normalised form.

    ``rule`` names the rule that found it: for ``auto`` the step (``boxed``, ``gsm8k``,
    ``answer-is`` or ``last-number``), otherwise the rule itself (``regex`` for a user regex).
    It takes no part in comparisons: two answers are equal when text, form and span are.
    """

    text: str
    normalized: str
    span: tuple[int, int]
    rule: str = field(default="", compare=False)


@dataclass(frozen=True)
class AnswerRule:
    """A parsed answer rule: one of ``ANSWER_RULES`` or ``regex`` with its compiled pattern."""

    name: str
    pattern: regex.Pattern[str] | None = None


@dataclass(frozen=True)
class ThinkingSplit:
    """Where a text's thinking section lies (char offsets into the text).

    ``thinking``: the section's span including its markers, or None when the text has none.
    ``answer_start``: where the answer part begins (just after the close marker; 0 without a
    thinking section), or None when the thinking never ended.
    """

    thinking: tuple[int, int] | None
    answer_start: int | None

    @property
    def ended(self) -> bool:
        """False when the text stops inside its thinking (it then has no answer)."""
        return self.answer_start is not None


@dataclass(frozen=True)
class PathAnswer:
    """A path's answer (None when it has none) and where its thinking section lies."""

    answer: ExtractedAnswer | None
    thinking: ThinkingSplit


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
            return AnswerRule("regex", regex.compile(source))
        except (regex.error, ValueError, OverflowError) as exc:
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
    """Exact value of a numeric match of ``_NUMBER_CORE``; None for a zero denominator.

    None too for a number of more than ``_MAX_DIGITS`` digits (it stays text): Python refuses
    to convert very long digit strings, and such a run is no numeric answer.
    """
    digits = re.sub(r"[^\d.]", "", match["num"])
    if len(digits) > _MAX_DIGITS or len(match["den"] or "") > _MAX_DIGITS:
        return None
    value = Fraction(digits)
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


def _matching_brace(text: str, open_index: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at ``open_index`` (``\\{``, ``\\}`` are literal)."""
    depth, index = 0, open_index
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def _brace_pairs(text: str) -> dict[int, int]:
    """Index of each ``{`` that closes -> index of its ``}`` (one pass; ``\\{`` is literal)."""
    pairs: dict[int, int] = {}
    opened: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            opened.append(index)
        elif char == "}" and opened:
            pairs[opened.pop()] = index
        index += 1
    return pairs


def _unwrap(text: str) -> str:
    """``text`` without surrounding markdown, math delimiters and wrapping LaTeX commands.

    ``$X$``, ``$$X$$``, ``\\(X\\)``, ``\\[X\\]``, ``\\boxed{X}``, ``\\text{X}`` (and the like) and
    ``**X**`` become ``X``, repeatedly, when they wrap the whole text.
    """
    previous = None
    for _ in range(_MAX_WRAPPERS):
        if text == previous:
            break
        previous = text
        text = _strip_edges(text)
        for opening, closing in _MATH_DELIMITERS:
            long_enough = len(text) > len(opening) + len(closing)
            if long_enough and text.startswith(opening) and text.endswith(closing):
                text = text[len(opening) : -len(closing)]
                break
        command = _WRAPPER_COMMANDS.match(text)
        if (
            command is not None
            and text.endswith("}")
            and _matching_brace(text, command.end() - 1) == len(text) - 1
        ):
            text = text[command.end() : -1]
    return text


def _plain_value(text: str) -> Fraction | None:
    """Exact value of a bare number without LaTeX, perhaps in braces (``{3}``), else None."""
    text = text.strip()
    if len(text) >= 2 and text[0] == "{" and text[-1] == "}":
        text = text[1:-1].strip()
    match = _BARE_NUMBER.fullmatch(text)
    return None if match is None else _match_value(match)


def _fraction_of(numerator: Fraction | None, denominator: Fraction | None) -> Fraction | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _number_value(text: str) -> Fraction | None:
    """Exact value of an unwrapped number (plain, ``\\frac``, ``\\over``), else None."""
    text = text.strip()
    if len(text) >= 2 and text[0] == "{" and _matching_brace(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    value = _plain_value(text)
    if value is not None:
        return value
    frac = _FRAC_FULL.fullmatch(text)
    if frac is not None:
        value = _fraction_of(_plain_value(frac["a"]), _plain_value(frac["b"]))
        if value is None:
            return None
        if frac["whole"] is not None:
            if len(frac["whole"]) > _MAX_DIGITS:
                return None
            value += int(frac["whole"])
        return -value if frac["sign"] in ("-", "−") else value
    numerator, over, denominator = text.partition("\\over")
    if over and not denominator[:1].isalpha():
        return _fraction_of(_plain_value(numerator), _plain_value(denominator))
    return None


def _latex_to_plain(text: str) -> str:
    """Replace LaTeX spellings of number parts: ``\\$``, ``\\%``, ``1{,}000``, ``\\dfrac``."""
    return _THOUSANDS_SPACE.sub(",", text).replace("\\$", "$").replace("\\%", "%")


def _value_of(raw: str) -> Fraction | None:
    """Exact value of ``raw`` if it is a bare number, perhaps with LaTeX and a unit, else None."""
    text = _latex_to_plain(_unwrap(raw))
    if _NUMBER_START.match(text) is None:
        return None
    value = _number_value(text)
    if value is None:  # one unit at most: "18 dollars", "18\\text{ dollars}", "90^\\circ"
        unit = _UNIT_SUFFIX.search(text)
        if unit is not None and unit.start() > 0:
            value = _number_value(_unwrap(text[: unit.start()]))
    return value


def normalize_number(raw: str) -> str | None:
    """Canonical form of ``raw`` if it is a bare number (``$1,000.00`` -> ``1000``), else None."""
    value = _value_of(raw)
    return None if value is None else _format_fraction(value)


def _normalize_text(raw: str) -> str | None:
    """Case-folded text with collapsed whitespace, without surrounding punctuation/brackets."""
    return _strip_edges(" ".join(_unwrap(raw).split()).casefold()) or None


def _normalize_choice(raw: str) -> str | None:
    raw = _unwrap(raw)
    cleaned = raw.strip(_EDGE_CHARS + "()[]").rstrip(_TRAILING_PUNCT + ")]")
    if len(cleaned) == 1 and cleaned.upper() in "ABCDE":
        return cleaned.upper()
    span = _find_choice(raw, False, True)
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
        value = _parse_number_words(_unwrap(raw))
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
            first, last = match.span()
            if text[first] == "$" and text[last : last + 1] == "$":
                first += 1  # math mode ($18$), not a dollar amount
            spans.append((first, last))
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


def _may_be_cut(text: str, end: int) -> bool:
    """True when a number ending at ``end`` could go on: only number characters follow it."""
    return _MAYBE_CUT_NUMBER.fullmatch(text, end) is not None


def _find_after_marker(
    text: str,
    marker: re.Pattern[str],
    end_at: re.Pattern[str],
    number_words: bool,
    finished: bool,
) -> tuple[int, int] | None:
    """Answer after the last marker with a non-empty answer: its first number, else its text.

    For an unfinished text, an answer that may have been cut off is skipped: a number followed
    only by number characters up to the end, or a text whose sentence has no end.
    """
    markers = list(marker.finditer(text))
    if not markers:
        return None
    # One pass for the sentence ends and the numbers: many markers in one long sentence
    # would otherwise each scan the rest of the text.
    stops = [found.start() for found in end_at.finditer(text)]
    numbers = _number_spans(text, 0, len(text), number_words)
    number_starts = [span[0] for span in numbers]
    for found in reversed(markers):
        start = found.end()
        index = bisect_left(stops, start)
        stop = stops[index] if index < len(stops) else None
        end = len(text) if stop is None else stop
        index = bisect_left(number_starts, start)
        first = numbers[index] if index < len(numbers) and numbers[index][0] < end else None
        if first is not None and first[1] > end:  # runs past the sentence end: search in it
            inside = _number_spans(text, start, end, number_words)
            first = inside[0] if inside else None
        if first is not None:
            if finished or not _may_be_cut(text, first[1]):
                return first
            continue
        start, end = _trim(text, start, end)
        if start < end and (finished or stop is not None):
            return start, end
    return None


def _find_boxed(text: str, number_words: bool, finished: bool) -> tuple[int, int] | None:
    """Content of the last ``\\boxed{...}`` / ``\\fbox{...}`` that closes and is not empty."""
    boxes = list(_BOXED.finditer(text))
    pairs = _brace_pairs(text) if boxes else {}
    for found in reversed(boxes):
        close = pairs.get(found.end() - 1)
        if close is None:
            continue
        start, end = _trim(text, found.end(), close)
        if start < end:
            return start, end
    return None


def _find_last_number(text: str, number_words: bool, finished: bool) -> tuple[int, int] | None:
    if not finished:
        return None
    spans = _number_spans(text, 0, len(text), number_words)
    return spans[-1] if spans else None


def _find_choice(text: str, number_words: bool, finished: bool) -> tuple[int, int] | None:
    after_answer = list(_CHOICE_AFTER_ANSWER.finditer(text))
    if after_answer:
        return after_answer[-1].span("c")
    alone = list(_CHOICE_ALONE.finditer(text)) if finished else []
    if not alone:
        return None
    last = alone[-1]
    return last.span("c") if last["c"] else last.span("l")


def _find_regex(text: str, pattern: regex.Pattern[str]) -> tuple[int, int] | None:
    """The last non-empty match (its first group if any), within ``REGEX_TIMEOUT_S``."""
    try:
        matches = list(pattern.finditer(text, timeout=REGEX_TIMEOUT_S))
    except TimeoutError as exc:
        msg = (
            f"answer rule {REGEX_PREFIX + pattern.pattern!r} took longer than "
            f"{REGEX_TIMEOUT_S:g} s on a {len(text)}-character text (a pattern that backtracks "
            "catastrophically, such as a nested repeat like (.*)*); simplify the expression"
        )
        raise AnswerRuleTimeout(msg) from exc
    for match in reversed(matches):
        span: tuple[int, int] = match.span(1) if pattern.groups else match.span()
        if span[0] >= 0 and span[1] > span[0]:
            return span
    return None


_Finder = Callable[[str, bool, bool], tuple[int, int] | None]
_FINDERS: dict[str, _Finder] = {
    "last-number": _find_last_number,
    "answer-is": lambda t, w, f: _find_after_marker(t, _ANSWER_IS, _SENTENCE_END, w, f),
    "gsm8k": lambda t, w, f: _find_after_marker(t, _GSM8K, _LINE_END, w, f),
    "boxed": _find_boxed,
    "choice": _find_choice,
}


def extract_answer(
    text: str,
    rule: str = "last-number",
    *,
    number_words: bool = False,
    finished: bool = True,
    start: int = 0,
) -> ExtractedAnswer | None:
    """Find the answer in ``text[start:]`` with ``rule``; None when it holds no answer.

    ``finished=False`` (stopped by the token limit, cancelled): only explicit markers answer
    (see the module docstring). The span indexes ``text`` itself, also when ``start > 0``.
    Raises ``ValueError`` for a bad rule, ``AnswerRuleTimeout`` when a regex runs too long.
    """
    parsed = parse_rule(rule)
    if not 0 <= start <= len(text):
        raise ValueError(f"answer search start {start} lies outside the text (length {len(text)})")
    part = text[start:]
    steps = AUTO_STEPS if parsed.name == "auto" else (parsed.name,)
    for name in steps:
        if parsed.pattern is not None:
            span = _find_regex(part, parsed.pattern)
        else:
            span = _FINDERS[name](part, number_words, finished)
        if span is None:
            continue
        raw = part[span[0] : span[1]]
        normalized = normalize_answer(raw, rule, number_words=number_words)
        if normalized is not None:
            return ExtractedAnswer(raw, normalized, (start + span[0], start + span[1]), name)
    return None


def split_thinking(
    text: str, markers: tuple[str, str] = THINK_MARKERS, *, starts_inside: bool = False
) -> ThinkingSplit:
    """Find the thinking section of ``text`` delimited by ``markers`` (open, close).

    The answer part starts after the last close marker. A close marker with no open marker
    before it means the text began inside the thinking (the chat template opened it in the
    prompt); so does ``starts_inside=True``, which also makes a text without any marker all
    thinking. An open marker with no close marker after it: the thinking never ended.
    """
    opening, closing = markers
    if not opening or not closing:
        raise ValueError(f"thinking markers must be non-empty, got {markers!r}")
    first_open = text.find(opening)
    last_close = text.rfind(closing)
    if last_close < 0:
        if first_open >= 0:
            return ThinkingSplit((first_open, len(text)), None)
        return ThinkingSplit((0, len(text)), None) if starts_inside else ThinkingSplit(None, 0)
    answer_start = last_close + len(closing)
    begin = first_open if 0 <= first_open < last_close and not starts_inside else 0
    if text.find(opening, answer_start) >= 0:  # thinking opened again and never closed
        return ThinkingSplit((begin, len(text)), None)
    return ThinkingSplit((begin, answer_start), answer_start)


def extract_path_answer(
    text: str,
    rule: str,
    *,
    finished: bool = True,
    number_words: bool = False,
    thinking_markers: tuple[str, str] | None = THINK_MARKERS,
    starts_in_thinking: bool = False,
) -> PathAnswer:
    """A path's answer, looked for only after its thinking section (if it has one).

    A path whose thinking never ended has no answer. ``thinking_markers=None`` skips the
    thinking search (the whole text is the answer part).
    """
    if thinking_markers is None:
        split = ThinkingSplit(None, 0)
    else:
        split = split_thinking(text, thinking_markers, starts_inside=starts_in_thinking)
    if split.answer_start is None:
        return PathAnswer(None, split)
    found = extract_answer(
        text, rule, number_words=number_words, finished=finished, start=split.answer_start
    )
    return PathAnswer(found, split)


def token_index_at(token_texts: Sequence[str], offset: int) -> int:
    """The first token index at or after char ``offset``: tokens ``[:i]`` cover ``text[:offset]``.

    A token that straddles ``offset`` counts as before it (so a thinking section's last token
    holds its whole close marker). Raises ``ValueError`` for an offset outside the text.
    """
    if offset < 0:
        raise ValueError(f"offset {offset} lies outside the token text")
    position = 0
    for index, piece in enumerate(token_texts):
        if position >= offset:
            return index
        position += len(piece)
    if offset > position:
        raise ValueError(f"offset {offset} lies outside the token text (length {position})")
    return len(token_texts)


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
