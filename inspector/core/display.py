"""Numbers and values as a reader sees them: one set of rules for the CLI, the GUI and the
reports, so that no ``None``, ``nan`` or repr reaches a screen or a document."""

from __future__ import annotations

import ast
import math
import re

UNKNOWN = "—"


def fmt(value: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals; "—" when unknown (None, or NaN: a remote server
    that reports no entropy) or not finite."""
    if value is None or not math.isfinite(value):
        return UNKNOWN
    return f"{value:.{digits}f}"


def verdict(correct: bool | None) -> str:
    """A path's or a run's correctness in words."""
    return {True: "correct", False: "wrong", None: UNKNOWN}[correct]


NO_ANSWER = "no answer"

#: The one convention for token positions, stated once wherever ranges are shown.
TOKEN_RANGE_NOTE = (
    "Token numbers count from 0 within a path; a range gives its first and last token."
)


def token_range(start: int, end: int) -> str:
    """A stored token range ``[start, end)`` (end exclusive) as a reader sees it: its first
    and last token, "tokens 40–44"; "token 40" when it holds one token."""
    last = max(start, end - 1)
    return f"token {start}" if last == start else f"tokens {start}–{last}"


def answer_or_none(answer: str | None) -> str:
    """An answer as shown: the answer's text, or "no answer"."""
    return NO_ANSWER if answer is None else answer


def text_or_dash(value: object) -> str:
    """Any optional value as text: "—" when there is none (None, NaN, an empty string)."""
    if value is None or value == "":
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else UNKNOWN
    return str(value)


def path_number(path_id: int | None) -> str:
    """ "path #3", or "—" when there is no such path."""
    return UNKNOWN if path_id is None else f"path #{path_id}"


# -- tokens and path labels in words -------------------------------------------------------
VISIBLE = {"\n": "⏎", "\t": "⇥", "\r": "␍"}
WHITESPACE_WORDS = {" ": "space", "\n": "newline", "\t": "tab", "\r": "carriage return"}
# a CoT-decoding path's label as older versions stored it: "first token #2 ' The'" (a repr)
_FIRST_TOKEN_LABEL = re.compile(r"^first token #(\d+) (.+)$", re.DOTALL)


def shown_token(text: str) -> str:
    """“␣He” for " He", “⏎” for a newline, “(empty)” for a token that completes no character."""
    if not text:
        return "(empty)"
    shown = "".join(VISIBLE.get(c, c) for c in text)
    stripped = shown.strip(" ")
    lead = len(shown) - len(shown.lstrip(" "))
    trail = len(shown) - len(shown.rstrip(" ")) if stripped else 0
    return f"“{'␣' * lead}{stripped}{'␣' * trail}”"


def token_words(text: str) -> str:
    """A token as a reader names it: "space", "2 spaces", "newline" for whitespace alone;
    otherwise its text quoted with whitespace made visible (“␣The”)."""
    if text and len(set(text)) == 1 and text[0] in WHITESPACE_WORDS:
        word = WHITESPACE_WORDS[text[0]]
        return word if len(text) == 1 else f"{len(text)} {word}s"
    return shown_token(text)


def first_token_label(rank: int, text: str) -> str:
    """The label of CoT-decoding's branch on its ``rank``-th first token: "first token #2:
    “␣The”" (what the strategy stores)."""
    return f"first token #{rank}: {token_words(text)}"


def label_words(label: str) -> str:
    """A path's label for a reader: a label stored with a Python repr by older versions
    ("first token #1 ' '") becomes "first token #1: space"; other labels stay as they are."""
    match = _FIRST_TOKEN_LABEL.match(label)
    if match is None:
        return label
    try:
        text = ast.literal_eval(match.group(2))
    except (ValueError, SyntaxError):
        return label
    if not isinstance(text, str):
        return label
    return first_token_label(int(match.group(1)), text)
