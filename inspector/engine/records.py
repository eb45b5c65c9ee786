"""What the engine produces: tokens with the model's real probabilities, and sequences."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

FinishReason = Literal["eos", "stop", "length", "context", "cancelled"]


@dataclass(frozen=True)
class Alternative:
    """One candidate token at a position, with its log-probability over the whole vocabulary."""

    token_id: int
    text: str
    logprob: float

    @property
    def prob(self) -> float:
        return math.exp(self.logprob)


@dataclass(frozen=True)
class TokenRecord:
    """A generated token.

    ``text`` is the text this token completes: a UTF-8 character split over several tokens
    shows up whole on the token that finishes it (earlier ones have ``text == ""``), so the
    texts of a sequence always join to the exact decoded string. ``piece`` is the raw bytes.
    ``top`` holds the k most likely tokens at this position, most likely first.
    """

    token_id: int
    text: str
    piece: bytes
    logprob: float
    entropy: float
    top: tuple[Alternative, ...]

    @property
    def prob(self) -> float:
        return math.exp(self.logprob)


@dataclass
class GeneratedSequence:
    """One continuation of a prefix: forced tokens first, then decoded ones."""

    branch: int
    tokens: list[TokenRecord] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    stop_string: str | None = None

    @property
    def text(self) -> str:
        return "".join(t.text for t in self.tokens)

    @property
    def content(self) -> str:
        """The text up to (not including) the stop string that ended it, if any."""
        text = self.text
        if self.stop_string:
            cut = text.find(self.stop_string)
            if cut >= 0:
                return text[:cut]
        return text

    @property
    def logprob(self) -> float:
        return sum(t.logprob for t in self.tokens)

    @property
    def token_ids(self) -> list[int]:
        return [t.token_id for t in self.tokens]

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None and self.finish_reason != "cancelled"


@dataclass(frozen=True)
class TokenEvent:
    """Streamed to a caller's callback each time a branch gains a token."""

    branch: int
    index: int
    token: TokenRecord
