"""Numbers and values as a reader sees them: one set of rules for the CLI, the GUI and the
reports, so that no ``None``, ``nan`` or repr reaches a screen or a document."""

from __future__ import annotations

import math

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
