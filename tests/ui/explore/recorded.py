"""Sessions built from recorded token streams, as a thinking model or a cut-off run would
produce them: the paths go through the real Session scoring (answers, thinking, Δ, probe)."""

from __future__ import annotations

import math

from inspector.core.session import AnswerProbe, ReasoningPath, RunSettings, Session
from inspector.engine.records import Alternative, GeneratedSequence, TokenRecord

_IDS: dict[str, int] = {}

# a thinking model's path: its thinking (numbers inside are not the answer), then the reply
THINKING = ("<think>", " 3", " plus", " 5", " is", " 9", "</think>")
REPLY = (" The", " answer", " is", " \\boxed{8}", ".")
PROBE_TEXT = ("\nSo", " the", " answer", " is")


def token(text: str, p1: float = 0.9, p2: float = 0.05) -> TokenRecord:
    """A token chosen with probability ``p1``; the runner-up has ``p2``."""
    token_id = _IDS.setdefault(text, 100 + len(_IDS))
    top = (
        Alternative(token_id, text, math.log(p1)),
        Alternative(token_id + 1000, " x", math.log(p2)),
    )
    return TokenRecord(token_id, text, text.encode(), math.log(p1), 0.5, top)


def tokens(*texts: str, p1: float = 0.9, p2: float = 0.05) -> list[TokenRecord]:
    return [token(t, p1, p2) for t in texts]


def new_session(strategy: str = "cot-decoding", gold: str | None = "8", **settings) -> Session:
    return Session(
        "How many apples?",
        "Q: How many apples?\nA:",
        [2, 3],
        RunSettings(strategy=strategy, **settings),
        {},
        gold,
    )


def add(
    session: Session, records: list[TokenRecord], finish: str = "eos", label: str = "branch"
) -> ReasoningPath:
    sequence = GeneratedSequence(branch=0, tokens=records, finish_reason=finish)  # type: ignore[arg-type]
    return session.add_path(sequence, "cot-decoding", label)


def add_probe(
    session: Session, path: ReasoningPath, answer: tuple[str, ...], p1: float = 0.7
) -> ReasoningPath:
    """Attach an answer probe ("So the answer is" and what followed) to ``path``, rescored."""
    forced = tokens(*PROBE_TEXT, p1=0.3, p2=0.2)
    path.probe = AnswerProbe(
        "So the answer is", forced + tokens(*answer, p1=p1, p2=0.2), n_forced=len(forced)
    )
    session.evaluate_path(path)
    return path


def thinking_session() -> Session:
    """One path of a thinking model: 7 thinking tokens, then a boxed answer."""
    session = new_session("greedy")
    add(session, tokens(*THINKING) + tokens(*REPLY), label="greedy")
    return session


def mixed_session() -> Session:
    """Four CoT-decoding branches: two finished with an answer (one boxed after its
    thinking), one cut by the token limit whose last number must not count, one cut inside
    its thinking; and a finished path without a number answered by the probe."""
    session = new_session(max_tokens=16)
    add(session, tokens(*THINKING) + tokens(*REPLY), label="first token #1 '<think>'")
    add(session, tokens(" He", " has", " 7", "."), label="first token #2 ' He'")
    add(session, tokens(" 3", " +", " 5", " =", " 1"), finish="length", label="first token #3")
    add(session, tokens("<think>", " hmm", " 4"), finish="length", label="first token #4")
    quiet = add(session, tokens(" Some", " apples", "."), label="first token #5")
    add_probe(session, quiet, (" 8", "."))
    return session
