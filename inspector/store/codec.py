"""Turn a Session into table rows and back, exactly (floats are stored as REAL / JSON reprs)."""

from __future__ import annotations

import base64
import gc
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from inspector.core.answers import answers_match
from inspector.core.session import (
    AnswerProbe,
    ReasoningPath,
    RunSettings,
    Session,
    SessionSummary,
)
from inspector.core.tree import ReasoningTree, TreeNode
from inspector.engine.records import Alternative, TokenRecord
from inspector.store.base import to_json
from inspector.store.rows import as_bool

TOKEN_COLUMNS = "session_id, node_id, position, token_id, text, piece, logprob, entropy, top"


def session_row(
    session: Session, summary: SessionSummary, model_id: int, updated: str
) -> dict[str, Any]:
    """The ``sessions`` row, with the denormalised summary the plots read."""
    correct = summary.correct
    return {
        "id": session.id,
        "title": session.title,
        "question": session.question,
        "gold": session.gold,
        "prompt": session.prompt,
        "prompt_tokens": json.dumps(list(session.prompt_tokens)),
        "prompt_style": session.settings.prompt_style,
        "strategy": session.settings.strategy,
        "settings": to_json(session.settings.to_dict()),
        "model_id": model_id,
        "status": session.status,
        "created": session.created,
        "updated": updated,
        "chosen_answer": summary.chosen_answer,
        "correct": None if correct is None else int(correct),
        "consistency": summary.consistency,
        "cot_confidence": summary.cot_pick.score,
        "n_paths": len(session.paths),
        **summary_columns(session, summary),
    }


def selection_results(session: Session, summary: SessionSummary) -> dict[str, dict[str, Any]]:
    """Each selection rule's answer and whether it matches the gold (None without a gold)."""
    rule, gold = session.settings.answer_rule, session.gold
    return {
        name: {
            "answer": answer,
            "correct": None if gold is None else answers_match(answer, gold, rule),
        }
        for name, answer in summary.selections.items()
    }


def summary_columns(session: Session, summary: SessionSummary) -> dict[str, Any]:
    """The summary columns of schema v3: path counts, Δ's range, selections, pass@k."""
    low, high = summary.delta_range or (None, None)
    any_correct = summary.any_correct
    return {
        "n_voting": summary.n_voting,
        "n_completed": summary.n_completed,
        "n_answered": summary.n_answered,
        "n_hit_limit": summary.n_hit_limit,
        "delta_min": low,
        "delta_max": high,
        "selections": to_json(selection_results(session, summary)),
        "any_correct": None if any_correct is None else int(any_correct),
    }


NodeLayout = tuple[int | None, int, int, int]  # parent, position among siblings, depth, tokens


def node_layout(session: Session) -> dict[int, NodeLayout]:
    """Each node's place in the tree and its token count, parents before children.

    Nodes only grow in number and a split only shortens a node, so comparing two layouts
    tells which nodes' rows and tokens changed since an earlier save.
    """
    nodes = session.tree.nodes
    positions = {child: i for node in nodes.values() for i, child in enumerate(node.children)}
    return {
        node.id: (node.parent, positions.get(node.id, 0), node.depth, len(node.tokens))
        for node in session.tree.walk()
    }


def token_rows(session: Session, node_ids: Iterable[int]) -> Iterable[tuple[Any, ...]]:
    nodes = session.tree.nodes
    for node_id in node_ids:
        for position, token in enumerate(nodes[node_id].tokens):
            top = [[alt.token_id, alt.text, alt.logprob] for alt in token.top]
            yield (
                session.id,
                node_id,
                position,
                token.token_id,
                token.text,
                token.piece,
                token.logprob,
                token.entropy,
                json.dumps(top, ensure_ascii=False),
            )


def path_row(session_id: str, path: ReasoningPath) -> dict[str, Any]:
    span, tokens = path.answer_span, path.answer_tokens
    return {
        "session_id": session_id,
        "path_id": path.id,
        "node_id": path.node_id,
        "origin": path.origin,
        "label": path.label,
        "finish_reason": path.finish_reason,
        "stop_string": path.stop_string,
        "parent_path": path.parent_path,
        "branch_depth": path.branch_depth,
        "text": path.text,
        "logprob": path.logprob,
        "n_tokens": path.n_tokens,
        "answer": path.answer,
        "answer_text": path.answer_text,
        "answer_start": span[0] if span else None,
        "answer_end": span[1] if span else None,
        "answer_token_start": tokens[0] if tokens else None,
        "answer_token_end": tokens[1] if tokens else None,
        "confidence": path.confidence,
        "correct": None if path.correct is None else int(path.correct),
        "answer_rule": path.answer_rule,
        "thinking_start": path.thinking_tokens[0] if path.thinking_tokens else None,
        "thinking_end": path.thinking_tokens[1] if path.thinking_tokens else None,
        "thinking_ended": int(path.thinking_ended),
        "completed": int(path.completed),
        "answer_logprob": path.answer_logprob,
        "probe": None if path.probe is None else probe_json(path.probe),
    }


def _token_list(token: TokenRecord) -> list[Any]:
    """A token as ``[id, text, piece (base64), logprob, entropy (null for NaN), top]``, top
    as in the ``tokens`` table: ``[[id, text, logprob], ...]``."""
    return [
        token.token_id,
        token.text,
        base64.b64encode(token.piece).decode("ascii"),
        token.logprob,
        None if math.isnan(token.entropy) else token.entropy,
        [[alt.token_id, alt.text, alt.logprob] for alt in token.top],
    ]


def _token_from_list(item: list[Any]) -> TokenRecord:
    token_id, text, piece, logprob, entropy, top = item
    return TokenRecord(
        token_id,
        text,
        base64.b64decode(piece),
        logprob,
        math.nan if entropy is None else entropy,
        tuple(Alternative(i, t, lp) for i, t, lp in top),
    )


def probe_json(probe: AnswerProbe) -> str:
    """The ``paths.probe`` JSON: the probe's text, how many of its tokens are forced, every
    token (the token encoding of the ``tokens`` table) and its scored answer. Floats are
    JSON reprs (``-Infinity`` allowed, as in ``tokens.top``), so they come back exactly."""
    span = probe.answer_tokens
    return json.dumps(
        {
            "text": probe.text,
            "n_forced": probe.n_forced,
            "tokens": [_token_list(t) for t in probe.tokens],
            "answer": probe.answer,
            "answer_text": probe.answer_text,
            "answer_tokens": list(span) if span else None,
            "confidence": probe.confidence,
        },
        ensure_ascii=False,
    )


def probe_from_json(text: str) -> AnswerProbe:
    data = json.loads(text)
    span = data["answer_tokens"]
    return AnswerProbe(
        text=data["text"],
        tokens=[_token_from_list(t) for t in data["tokens"]],
        n_forced=data["n_forced"],
        answer=data["answer"],
        answer_text=data["answer_text"],
        answer_tokens=(span[0], span[1]) if span else None,
        confidence=data["confidence"],
    )


def vote_rows(session_id: str, summary: SessionSummary) -> list[dict[str, Any]]:
    weighted, summed = summary.weighted.distribution, summary.cot_aggregated.distribution
    return [
        {
            "session_id": session_id,
            "answer": answer,
            "rank": rank,
            "count": count,
            "weighted_share": weighted.get(answer),
            "confidence_sum": summed.get(answer),
        }
        for rank, (answer, count) in enumerate(summary.votes.items())
    ]


def token_from_row(row: tuple[Any, ...]) -> TokenRecord:
    """From (token_id, text, piece, logprob, entropy, top JSON)."""
    return next(iter(tokens_by_node([(0, *row)]).values()))[0]


TOKEN_SELECT = (
    "SELECT node_id, token_id, text, piece, logprob, entropy, top FROM tokens "
    "WHERE session_id = ? ORDER BY node_id, position"
)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: building 10⁵ small objects otherwise triggers
    repeated full collections that cost more than the building itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def tokens_by_node(rows: list[tuple[Any, ...]]) -> dict[int, list[TokenRecord]]:
    """Each node's tokens from rows of :data:`TOKEN_SELECT` (ordered by node, position).

    All top-k lists are decoded by one ``json.loads``; floats come back exactly (JSON reprs,
    ``-Infinity`` included).
    """
    tops = json.loads("[" + ",".join([row[6] for row in rows]) + "]")
    nodes: dict[int, list[TokenRecord]] = {}
    current: int | None = None
    bucket: list[TokenRecord] = []
    nan, alternative, record = math.nan, Alternative, TokenRecord
    with gc_paused():  # a no-op inside load_session, which pauses it already
        for (node_id, token_id, text, piece, logprob, entropy, _), top in zip(
            rows, tops, strict=True
        ):
            if node_id != current:
                current, bucket = node_id, []
                nodes[node_id] = bucket
            bucket.append(
                record(
                    token_id,
                    text,
                    piece if type(piece) is bytes else bytes(piece),
                    logprob,
                    nan if entropy is None else entropy,
                    tuple([alternative(i, t, lp) for i, t, lp in top]),
                )
            )
    return nodes


def build_tree(
    nodes: Iterable[tuple[int, int | None, int]], tokens: Mapping[int, list[TokenRecord]]
) -> ReasoningTree:
    """Rebuild the tree from (node, parent, depth) rows ordered by parent then position."""
    tree = ReasoningTree()
    tree.nodes = {}
    for node_id, parent, depth in nodes:
        tree.nodes[node_id] = TreeNode(node_id, parent, depth, tokens.get(node_id, []))
    for node in tree.nodes.values():
        if node.parent is not None:
            tree.nodes[node.parent].children.append(node.id)
    if not tree.nodes:
        tree = ReasoningTree()
    tree._next_id = max(tree.nodes) + 1
    return tree


def path_from_row(row: Mapping[str, Any]) -> ReasoningPath:
    span = (row["answer_start"], row["answer_end"]) if row["answer_start"] is not None else None
    start = row["answer_token_start"]
    thinking = row["thinking_start"]
    probe = row["probe"]
    return ReasoningPath(
        id=row["path_id"],
        node_id=row["node_id"],
        origin=row["origin"],
        label=row["label"],
        finish_reason=row["finish_reason"],
        stop_string=row["stop_string"],
        parent_path=row["parent_path"],
        branch_depth=row["branch_depth"],
        text=row["text"],
        logprob=row["logprob"],
        n_tokens=row["n_tokens"],
        answer=row["answer"],
        answer_text=row["answer_text"],
        answer_span=span,
        answer_tokens=(start, row["answer_token_end"]) if start is not None else None,
        confidence=row["confidence"],
        correct=as_bool(row["correct"]),
        answer_rule=row["answer_rule"],
        thinking_tokens=(thinking, row["thinking_end"]) if thinking is not None else None,
        thinking_ended=bool(row["thinking_ended"]),
        probe=None if probe is None else probe_from_json(probe),
        answer_logprob=row["answer_logprob"],
    )


def session_from_row(
    row: Mapping[str, Any], model: dict[str, Any], tree: ReasoningTree, paths: list[ReasoningPath]
) -> Session:
    return Session(
        question=row["question"],
        prompt=row["prompt"],
        prompt_tokens=[int(t) for t in json.loads(row["prompt_tokens"])],
        settings=RunSettings.from_dict(json.loads(row["settings"])),
        model=model,
        gold=row["gold"],
        id=row["id"],
        title=row["title"],
        created=row["created"],
        status=row["status"],
        tree=tree,
        paths=paths,
    )
