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
