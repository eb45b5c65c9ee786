"""What the server said the next tokens could be after a given text, remembered.

Every answer with log-probabilities tells, for each of its tokens, the top-k at that position.
Kept here (by a digest of the text before the position), they give a forced token (CoT-decoding's
first tokens, "branch here") its real probability without another request: a branch then costs
one request, the prompt plus the forced text. Thread-safe, and bounded (least recently used out).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

from inspector.engine.records import Alternative, TokenRecord

MAX_POSITIONS = 8192


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class TopCache:
    def __init__(self, size: int = MAX_POSITIONS) -> None:
        self._size = size
        self._tops: OrderedDict[bytes, tuple[Alternative, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, prefix: str) -> tuple[Alternative, ...] | None:
        key = _key(prefix)
        with self._lock:
            top = self._tops.get(key)
            if top is not None:
                self._tops.move_to_end(key)
            return top

    def put(self, prefix: str, top: tuple[Alternative, ...]) -> None:
        if not top:
            return
        key = _key(prefix)
        with self._lock:
            known = self._tops.get(key)
            if known is None or len(top) >= len(known):
                self._tops[key] = top
            self._tops.move_to_end(key)
            while len(self._tops) > self._size:
                self._tops.popitem(last=False)

    def learn(self, prompt: str, records: Sequence[TokenRecord]) -> None:
        """The top-k at each position of ``records``, which continue ``prompt``."""
        text = prompt
        for record in records:
            self.put(text, record.top)
            if not record.text:  # part of a character: the next position has the same text
                return
            text += record.text

    def clear(self) -> None:
        with self._lock:
            self._tops.clear()
