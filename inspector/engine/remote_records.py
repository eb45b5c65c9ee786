"""Turn an OpenAI-compatible completion's ``logprobs`` into the engine's token records.

Two shapes exist: the completions API's (``tokens`` / ``token_logprobs`` / ``top_logprobs``
as {text: logprob}; llama-cpp-python's server, vLLM, OpenAI) and the chat API's (``content``:
[{token, logprob, top_logprobs: [{token, logprob}]}]; llama.cpp's llama-server). Servers name
tokens by their text, so a remote token's id is derived from its text (stable across runs,
negative so it can never be mistaken for a local vocabulary id). The entropy over the whole
vocabulary is not known from a top-k list: it is NaN, shown as "not reported".
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from typing import Any

from inspector.engine.errors import RemoteServerError
from inspector.engine.records import Alternative, TokenRecord


def token_key(text: str) -> int:
    """A stable id for a token the server named by its text."""
    return -1 - zlib.crc32(text.encode("utf-8", "surrogatepass"))


def token_text(raw: str) -> str:
    """vLLM writes tokens that are not whole UTF-8 as ``bytes:\\xe2\\x80``: they complete no
    character, so their text is empty (the character shows on the token that completes it)."""
    return "" if raw.startswith("bytes:") else raw


def _alternatives(pairs: Iterable[tuple[str, float]], k: int) -> tuple[Alternative, ...]:
    ranked = sorted(((token_text(t), float(lp)) for t, lp in pairs), key=lambda p: -p[1])
    return tuple(Alternative(token_key(t), t, lp) for t, lp in ranked[:k])


def _record(text: str, logprob: float | None, top: tuple[Alternative, ...]) -> TokenRecord:
    text = token_text(text)
    value = math.nan if logprob is None else float(logprob)
    return TokenRecord(token_key(text), text, text.encode("utf-8"), value, math.nan, top)


def parse_logprobs(logprobs: Any, k: int) -> list[TokenRecord]:
    """The token records of one choice, each with at most ``k`` alternatives."""
    if not isinstance(logprobs, dict):
        raise RemoteServerError(
            "the server returned no log-probabilities: it must support `logprobs` on "
            "/v1/completions (llama.cpp's llama-server, vLLM and llama-cpp-python's server do)"
        )
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
