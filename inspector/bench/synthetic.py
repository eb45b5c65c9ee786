"""Synthetic but realistic sessions, for benchmarks and tests (no model needed).

Sessions are built with the real ``Session`` (tree, answers, Δ, votes) from made-up tokens whose
log-probabilities are proper normalised-looking numbers; :func:`fill_store` writes thousands of
them in a few large transactions, much faster than one ``save_session`` each.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.session import RunSettings, Session
from inspector.engine.records import Alternative, GeneratedSequence, TokenRecord
from inspector.store import codec
from inspector.store.base import now
from inspector.store.database import Store

WORDS = (
    " I", " have", " apples", " my", " dad", " has", " more", " than", " me", " so", " we",
    " in", " total", " Let", "'s", " think", " step", " by", ",", ".", " first", " then",
    " add", " the", " numbers", " he", " gets", " which", " means", " is", " answer", " =",
    " +", " of", " each", " \u00e9t\u00e9", " \u2192",
)  # fmt: skip
MODELS = (
    {"path": "/models/gemma-3-270m-it-Q4_K_M.gguf", "description": "Gemma 3 270M Q4_K_M"},
    {"path": "/models/qwen2.5-0.5b-instruct-q8_0.gguf", "description": "Qwen2.5 0.5B Q8_0"},
    {"path": "/models/llama-3.2-1b-q4.gguf", "description": "Llama 3.2 1B Q4"},
)
STRATEGIES = ("self-consistency", "cot-decoding", "greedy")
PROMPT_STYLES = ("plain", "zero-shot-cot", "few-shot-cot")


def _token(rng: random.Random, text: str, n_alternatives: int) -> TokenRecord:
    """A token whose top-k log-probabilities decrease and sum to at most 1."""
    weights = sorted((rng.random() ** 3 for _ in range(n_alternatives + 1)), reverse=True)
    total = sum(weights) * (1.0 + rng.random() * 0.3)
    probs = [w / total for w in weights[:n_alternatives]]
    chosen = abs(hash(text)) % 50_000 + 10
    ids = [chosen] + [rng.randrange(10, 50_000) for _ in range(n_alternatives - 1)]
    texts = [text] + [rng.choice(WORDS) for _ in range(n_alternatives - 1)]
    top = tuple(Alternative(i, t, math.log(p)) for i, t, p in zip(ids, texts, probs, strict=True))
    entropy = -sum(p * math.log(p) for p in probs)
    return TokenRecord(chosen, text, text.encode(), top[0].logprob, entropy, top)


def _sequence(
    rng: random.Random, answer: str, n_tokens: int, n_alternatives: int, prefix: list[TokenRecord]
) -> GeneratedSequence:
    body = max(0, n_tokens - len(prefix) - 4)
    words = [rng.choice(WORDS) for _ in range(body)]
    tail = [" The answer is", f" {answer}", ".", "\nQ:"]
    tokens = prefix + [_token(rng, w, n_alternatives) for w in words + tail]
    return GeneratedSequence(0, tokens, "stop", "\nQ:")


def synthetic_session(
    rng: random.Random,
    *,
    n_paths: int = 10,
    tokens_per_path: int = 12,
    strategy: str = "self-consistency",
    model: dict[str, Any] | None = None,
    gold: int | None = None,
    n_alternatives: int = 5,
) -> Session:
    """A complete session: a greedy path then ``n_paths - 1`` samples/branches whose answers
    agree with ``gold`` about as often as a small model's would."""
    a, b = rng.randint(1, 40), rng.randint(1, 40)
    gold = a + b if gold is None else gold
    question = f"I have {a} apples, my dad has {b} more than me. How many apples in total?"
    settings = RunSettings(
        strategy=strategy,
        prompt_style=rng.choice(PROMPT_STYLES),
        samples=n_paths - 1,
        k=n_paths,
        max_tokens=max(16, tokens_per_path),
        n_alternatives=n_alternatives,
    )
    prompt = f"Q: {question}\nA:"
    session = Session(question, prompt, [2, 31, 7, 9], settings, dict(model or MODELS[0]))
    session.gold = str(gold)
    skill = rng.random()
    shared: list[TokenRecord] = []
    for i in range(n_paths):
        answer = str(gold) if rng.random() < skill else str(gold + rng.choice((-3, -1, 2, 5)))
        prefix = shared[: rng.randint(0, len(shared))] if i else []
        sequence = _sequence(rng, answer, tokens_per_path, n_alternatives, prefix)
        shared = shared or sequence.tokens[: tokens_per_path // 2]
        origin = "greedy" if i == 0 else {"cot-decoding": "cot-decoding"}.get(strategy, "sample")
        session.add_path(sequence, origin, "greedy" if i == 0 else f"sample {i}")
    session.status = "complete"
    return session


def big_session(n_paths: int = 1000, tokens_per_path: int = 50, seed: int = 0) -> Session:
    """One large self-consistency session (``n_paths × tokens_per_path`` tokens, most of
    them distinct: only short prefixes are shared)."""
    return synthetic_session(random.Random(seed), n_paths=n_paths, tokens_per_path=tokens_per_path)


@dataclass(frozen=True)
class SyntheticInfo:
    sessions: int
    experiment_ids: list[int]
    seconds: float


def fill_store(
    store: Store,
    n_sessions: int,
    *,
    seed: int = 0,
    n_paths: int = 10,
    tokens_per_path: int = 8,
    n_experiments: int = 4,
    chunk: int = 500,
) -> SyntheticInfo:
    """Add ``n_sessions`` complete sessions (mixed strategies and models, about 40% of them
    in ``n_experiments`` experiments) in transactions of ``chunk`` sessions."""
    import time

    started = time.perf_counter()
    rng = random.Random(seed)
    experiments = _make_experiments(store, n_experiments)
    batch: list[tuple[Session, int | None, int]] = []
    for number in range(n_sessions):
        strategy = STRATEGIES[number % len(STRATEGIES)]
        paths = 1 if strategy == "greedy" else n_paths
        session = synthetic_session(
            rng,
            n_paths=paths,
            tokens_per_path=tokens_per_path,
            strategy=strategy,
            model=MODELS[number % len(MODELS)],
        )
        session.created = f"2024-{1 + number % 12:02d}-01T00:00:{number:08d}"
        experiment = experiments[number % 10] if number % 10 < len(experiments) else None
        batch.append((session, experiment, number))
        if len(batch) >= chunk:
            write_sessions(store, batch)
            batch = []
    write_sessions(store, batch)
    return SyntheticInfo(n_sessions, experiments, time.perf_counter() - started)


def _make_experiments(store: Store, n: int) -> list[int]:
    questions = [DatasetQuestion(i, f"q{i}", str(i), None, None) for i in range(3)]
    dataset_id = store.save_dataset(Dataset("synthetic", Path("/data/synthetic.jsonl"), questions))
    ids = []
    for i in range(n):
        settings = RunSettings(strategy=STRATEGIES[i % 2], seed=i)
        ids.append(store.create_experiment(f"synthetic #{i}", dataset_id, settings, MODELS[0]))
    return ids


def write_sessions(store: Store, batch: Iterable[tuple[Session, int | None, int]]) -> None:
    """Insert new sessions (with their experiment runs) in one transaction."""
    with store._write() as db:
        conn, stamp = db.conn, now()
        for session, experiment_id, question in batch:
            summary = session.summary()
            row = codec.session_row(session, summary, store._model_id(session.model), stamp)
            _insert(conn, "sessions", [row])
            layout = codec.node_layout(session)
            conn.executemany(
                "INSERT INTO nodes (session_id, node_id, parent_id, position, depth) "
                "VALUES (?, ?, ?, ?, ?)",
                [(session.id, n, *place[:3]) for n, place in layout.items()],
            )
            conn.executemany(
                f"INSERT INTO tokens ({codec.TOKEN_COLUMNS}) VALUES ({', '.join('?' * 9)})",
                codec.token_rows(session, layout),
            )
            _insert(conn, "paths", [codec.path_row(session.id, p) for p in session.paths])
            _insert(conn, "votes", codec.vote_rows(session.id, summary))
            if experiment_id is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO experiment_runs VALUES (?, ?, ?, ?)",
                    [experiment_id, question, session.id, stamp],
                )


def _insert(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    conn.executemany(sql, [[r[c] for c in columns] for r in rows])
