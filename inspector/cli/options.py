"""Numeric options with their documented ranges (``docs/limits.md``): argparse refuses a value
outside its range with one line naming the option, before a model loads or a file opens."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from inspector.engine.errors import InvalidParameterError
from inspector.engine.settings import Limit

# options of the CLI alone (the run and model settings have theirs in core/ and engine/)
TIMEOUT = Limit("timeout (seconds)", 0.1, 3600, integer=False)
REPEATS = Limit("repeats", 1, 100)
BINS = Limit("bins", 1, 100)
QUESTION_LIMIT = Limit("limit", 1, 10_000_000)
CONCURRENCY = Limit("concurrency", 1, 256)  # requests in flight at once against a server


def bounded(limit: Limit) -> Callable[[str], int | float]:
    """An argparse ``type`` that parses a number and checks it against ``limit``."""

    def parse(text: str) -> int | float:
        try:
            value: int | float = int(text) if limit.integer else float(text)
        except ValueError:
            kind = "a whole number" if limit.integer else "a number"
            raise argparse.ArgumentTypeError(
                f"must be {kind} ({limit.describe()}), got {text!r}"
            ) from None
        try:
            limit.check(value)
        except InvalidParameterError:
            raise argparse.ArgumentTypeError(f"must be {limit.describe()}, got {text}") from None
        return value

    parse.__name__ = limit.name  # argparse names the type in its messages
    return parse
