"""Turn an OpenAI-compatible completion's ``logprobs`` into the engine's token records.

Two shapes exist: the completions API's (``tokens`` / ``token_logprobs`` / ``top_logprobs``
as {text: logprob}; llama-cpp-python's server, vLLM, OpenAI) and the chat API's (``content``:
[{token, logprob, top_logprobs: [{token, logprob}]}]; llama.cpp's llama-server). Servers name
tokens by their text, so a remote token's id is derived from its text (stable across runs,
negative so it can never be mistaken for a local vocabulary id). The entropy over the whole
vocabulary is not known from a top-k list: it is NaN, shown as "not reported".

Every number is checked before it becomes a record (finite, a log-probability at most 0, the
top-k's probabilities summing to at most 1, no token more likely than the top one): an answer
that breaks a rule raises :class:`InvalidNumbersError` and nothing of it is kept.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from typing import Any

from inspector.engine.errors import InvalidNumbersError, RemoteServerError
from inspector.engine.records import Alternative, TokenRecord

# Servers round: a log-probability this little above 0 (or a top-k summing this little over
# probability 1) is rounding, not an error; such a value is recorded as 0.
TOLERANCE = 1e-3


def token_key(text: str) -> int:
    """A stable id for a token the server named by its text."""
    return -1 - zlib.crc32(text.encode("utf-8", "surrogatepass"))


def token_text(raw: str) -> str:
    """vLLM writes tokens that are not whole UTF-8 as ``bytes:\\xe2\\x80``: they complete no
    character, so their text is empty (the character shows on the token that completes it)."""
    return "" if raw.startswith("bytes:") else raw


def invalid_numbers(detail: str) -> InvalidNumbersError:
    return InvalidNumbersError(
        f"the server returned invalid numbers ({detail}): log-probabilities must be finite "
        "and at most 0; nothing from this answer is kept"
    )


def _logprob(value: Any, token: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_numbers(f"{value!r} as the log-probability of {token!r}")
    number = float(value)
    if not math.isfinite(number) or number > TOLERANCE:
        raise invalid_numbers(f"log-probability {number!r} for {token!r}")
    return min(number, 0.0)


def _alternatives(pairs: Iterable[tuple[Any, Any]], k: int) -> tuple[Alternative, ...]:
    checked = [(token_text(t), _logprob(lp, t)) for t, lp in pairs]
    if sum(math.exp(lp) for _, lp in checked) > 1.0 + TOLERANCE:
        raise invalid_numbers("top-k probabilities that add up to more than 1")
    ranked = sorted(checked, key=lambda p: -p[1])
    return tuple(Alternative(token_key(t), t, lp) for t, lp in ranked[:k])


def _record(raw: Any, logprob: Any, top: tuple[Alternative, ...]) -> TokenRecord:
    text = token_text(raw)
    if logprob is None:  # some servers leave it out when the token is among its alternatives
        logprob = next((a.logprob for a in top if a.text == text), None)
    value = _logprob(logprob, raw)
    if top and value > top[0].logprob + TOLERANCE:
        raise invalid_numbers(
            f"{raw!r} at {value:.4g} is more likely than the top alternative "
            f"{top[0].text!r} at {top[0].logprob:.4g}"
        )
    return TokenRecord(token_key(text), text, text.encode("utf-8"), value, math.nan, top)


def parse_logprobs(logprobs: Any, k: int) -> list[TokenRecord]:
    """The token records of one choice, each with at most ``k`` alternatives."""
    if not isinstance(logprobs, dict):
        raise RemoteServerError(
            "the server returned no log-probabilities: it must support `logprobs` on "
            "/v1/completions (llama.cpp's llama-server, vLLM and llama-cpp-python's server do)"
        )
    try:
        return _parse(logprobs, k)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise RemoteServerError(
            f"the server's log-probabilities are malformed ({type(error).__name__}: "
            f"{str(error)[:100]})"
        ) from None


def _parse(logprobs: dict[str, Any], k: int) -> list[TokenRecord]:
    if isinstance(logprobs.get("content"), list):
        return [
            _record(
                entry["token"],
                entry.get("logprob"),
                _alternatives(
                    ((a["token"], a["logprob"]) for a in entry.get("top_logprobs") or ()), k
                ),
            )
            for entry in logprobs["content"]
        ]
    tokens = logprobs.get("tokens")
    values = logprobs.get("token_logprobs")
    if not isinstance(tokens, list) or not isinstance(values, list):
        raise RemoteServerError(
            "the server's log-probabilities have neither `tokens` nor `content`"
        )
    tops = logprobs.get("top_logprobs") or [None] * len(tokens)
    return [
        _record(text, value, _alternatives((top or {}).items(), k))
        for text, value, top in zip(tokens, values, tops, strict=False)
    ]


def fewest_alternatives(records: Iterable[TokenRecord]) -> int | None:
    """The smallest number of alternatives any record carries (None for no records)."""
    counts = [len(r.top) for r in records]
    return min(counts) if counts else None
