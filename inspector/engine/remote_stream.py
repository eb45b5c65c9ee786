"""Streamed completions (``"stream": true``) put back together, chunk by chunk.

Each server-sent event carries, per choice index, a piece of text and the ``logprobs`` of the
tokens in it (the completions shape: ``tokens`` / ``token_logprobs`` / ``top_logprobs``, or the
chat shape's ``content`` list). :class:`StreamedChoices` joins the pieces into choices shaped
exactly like a non-streamed answer's, so one parser reads both, and hands back each piece as it
comes so its tokens can be shown live.
"""

from __future__ import annotations

from typing import Any

from inspector.engine.errors import RemoteServerError

_LIST_FIELDS = ("tokens", "token_logprobs", "top_logprobs", "text_offset", "content")


class StreamedChoices:
    """The choices of one streamed request, as far as they came."""

    def __init__(self) -> None:
        self._choices: dict[int, dict[str, Any]] = {}

    def add(self, event: dict[str, Any]) -> list[tuple[int, Any]]:
        """Take one event; returns (choice index, that piece's ``logprobs``) for each choice
        it extends."""
        pieces = event.get("choices")
        if not isinstance(pieces, list):
            raise RemoteServerError("a streamed event from the server has no `choices` list")
        added = []
        for piece in pieces:
            if not isinstance(piece, dict):
                raise RemoteServerError("a streamed choice from the server is not an object")
            index = piece.get("index", 0)
            if not isinstance(index, int):
                raise RemoteServerError("a streamed choice from the server has no index")
            choice = self._choices.setdefault(index, {"index": index, "text": "", "logprobs": {}})
            text = piece.get("text")
            if isinstance(text, str):
                choice["text"] += text
            if piece.get("finish_reason"):
                choice["finish_reason"] = piece["finish_reason"]
            logprobs = piece.get("logprobs")
            if isinstance(logprobs, dict):
                merged = choice["logprobs"]
                for name in _LIST_FIELDS:
                    values = logprobs.get(name)
                    if isinstance(values, list):
                        merged.setdefault(name, []).extend(values)
                added.append((index, logprobs))
        return added

    def choices(self) -> list[dict[str, Any]]:
        """Every choice so far, in index order (``logprobs`` None where none came)."""
        done = []
        for index in sorted(self._choices):
            choice = dict(self._choices[index])
            if not choice["logprobs"]:
                choice["logprobs"] = None
            done.append(choice)
        return done

    def complete(self) -> bool:
        """Whether every choice ended with a finish reason (a server that stops a stream to
        serve another request, as llama-cpp-python's does, leaves it out)."""
        return bool(self._choices) and all(c.get("finish_reason") for c in self._choices.values())
