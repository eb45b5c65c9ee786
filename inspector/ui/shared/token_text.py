"""A token's text as a reader sees it: quoted, with its whitespace made visible (never a
Python repr on screen)."""

from __future__ import annotations

VISIBLE = {"\n": "⏎", "\t": "⇥", "\r": "␍"}


def shown_token(text: str) -> str:
    """“␣He” for " He", “⏎” for a newline, “(empty)” for a token that completes no character."""
    if not text:
        return "(empty)"
    shown = "".join(VISIBLE.get(c, c) for c in text)
    stripped = shown.strip(" ")
    lead = len(shown) - len(shown.lstrip(" "))
    trail = len(shown) - len(shown.rstrip(" ")) if stripped else 0
    core = stripped if stripped else ""
    return f"“{'␣' * lead}{core}{'␣' * trail}”"
