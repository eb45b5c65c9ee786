"""Hand-built sessions (no model) and a fresh database per test."""

from __future__ import annotations

import math

from inspector.core.session import AnswerProbe, RunSettings, Session
from inspector.engine.records import Alternative, GeneratedSequence, TokenRecord

MODEL = {
    "path": "/models/tiny-q4.gguf",
    "description": "tiny 270M Q4_K_M",
    "n_params": 270_000_000,
    "file_size": 253_000_000,
    "quantization": "Q4_K_M",
}
_IDS: dict[str, int] = {}


def token_id(text: str) -> int:
    """One id per distinct text, as a tokenizer would give."""
    return _IDS.setdefault(text, 100 + len(_IDS))


def token(text: str, p1: float, p2: float) -> TokenRecord:
    """A token with awkward floats (so exact round trips are really tested)."""
    tid = token_id(text)
    top = (
        Alternative(tid, text, math.log(p1)),
        Alternative(tid + 1000, "x", math.log(p2)),
        Alternative(tid + 2000, "\u00e9\u2192", -math.inf),
    )
    entropy = -(p1 * math.log(p1) + p2 * math.log(p2)) / 3.0
    return TokenRecord(tid, text, text.encode(), math.log(p1), entropy, top)


def sequence(
    parts: list[tuple[str, float, float]], finish: str | None = "stop", stop: str | None = None
) -> GeneratedSequence:
    tokens = [token(t, p1, p2) for t, p1, p2 in parts]
    return GeneratedSequence(branch=0, tokens=tokens, finish_reason=finish, stop_string=stop)


def make_session(
    strategy: str = "cot-decoding",
    question: str = "I have 3 apples, my dad has 2 more than me. How many apples in total?",
    gold: str | None = "8",
    model: dict | None = None,
) -> Session:
    settings = RunSettings(strategy=strategy, k=3, samples=3, temperature=0.7)
    prompt = f"Q: {question}\nA:"
    return Session(question, prompt, [2, 31, 7], settings, dict(model or MODEL), gold)


def cot_session(**kwargs) -> Session:
    """Three CoT-decoding branches sharing prefixes (so nodes are split), one correct."""
    session = make_session("cot-decoding", **kwargs)
    session.add_path(sequence([(" 5", 0.4, 0.35), (".", 0.9, 0.01)]), "cot-decoding", "#1")
    session.add_path(
        sequence([(" He", 0.3, 0.2), (" has", 0.8, 0.1), (" 5", 0.6, 0.2), (".", 0.7, 0.1)]),
        "cot-decoding",
        "#2",
    )
    session.add_path(
        sequence(
            [
                (" He", 0.3, 0.2),
                (" has", 0.8, 0.1),
                (" 5,", 0.5, 0.3),
                (" 3 + 5 =", 0.6, 0.1),
                (" 8", 0.93, 0.02),
                ("\nQ:", 0.5, 0.1),
            ],
            stop="\nQ:",
        ),
        "cot-decoding",
        "#3",
    )
    session.status = "complete"
    return session


def probe_session(**kwargs) -> Session:
    """CoT-decoding on a thinking model, by hand: path 0 thinks, then states "The answer is
    8" (Δ 0.9 − 0.05); path 1 ends without a number and its answer probe (" So the answer
    is", 4 forced tokens) answers 8 with Δ 0.7 − 0.2; path 2 is cut inside its thinking and
    path 3 by the token limit after "1 day =": neither has an answer."""
    session = make_session("cot-decoding", **kwargs)
    session.add_path(
        sequence(
            [
                ("<think>", 0.9, 0.05),
                (" 3 + 5", 0.5, 0.3),
                (" = 8", 0.6, 0.2),
                ("</think>", 0.8, 0.1),
                (" The answer is", 0.7, 0.2),
                (" 8", 0.9, 0.05),
                (".", 0.95, 0.01),
            ],
            finish="eos",
        ),
        "cot-decoding",
        "first token #1 (p=0.900)",
    )
    unsure = session.add_path(
        sequence([(" I", 0.4, 0.3), (" am", 0.5, 0.2), (" unsure", 0.5, 0.1)], finish="eos"),
        "cot-decoding",
        "first token #2 (p=0.400)",
    )
    forced = [token(t, 1.0, 0.0001) for t in (" So", " the", " answer", " is")]
    unsure.probe = AnswerProbe(
        " So the answer is", [*forced, token(" 8", 0.7, 0.2), token(".", 0.9, 0.05)], 4
    )
    session.evaluate_path(unsure)
    session.add_path(
        sequence([("<think>", 0.9, 0.05), (" 3 +", 0.5, 0.3), (" 5 =", 0.6, 0.2)], "length"),
        "cot-decoding",
        "first token #3 (p=0.050)",
    )
    session.add_path(
        sequence([(" He", 0.3, 0.2), (" has", 0.8, 0.1), (" 1 day =", 0.7, 0.1)], "length"),
        "cot-decoding",
        "first token #4 (p=0.030)",
    )
    session.status = "complete"
    return session


def sc_session(answers: list[str], gold: str | None = "8", **kwargs) -> Session:
    """Self-consistency: a greedy reference, then one sampled path per answer."""
    session = make_session("self-consistency", gold=gold, **kwargs)
    session.add_path(sequence([(" 5", 0.6, 0.3)]), "greedy", "greedy")
    for i, answer in enumerate(answers):
        session.add_path(
            sequence([(f" So {i}:", 0.5, 0.2), (f" {answer}", 0.7, 0.2)]), "sample", f"sample {i}"
        )
    session.status = "complete"
    return session


def assert_same_session(loaded: Session, saved: Session) -> None:
    """Everything a session holds, compared exactly."""
    for name in (
        "id",
        "question",
        "prompt",
        "prompt_tokens",
        "settings",
        "model",
        "gold",
        "title",
        "created",
        "status",
        "paths",
    ):
        assert getattr(loaded, name) == getattr(saved, name), name
    assert loaded.tree.nodes == saved.tree.nodes
    assert loaded.tree._next_id == saved.tree._next_id
    assert loaded.summary() == saved.summary()
