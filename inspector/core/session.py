"""A session: one question, the prompt sent, every setting, the tree and its paths.

Everything a strategy produces lands here; the summary (votes, the CoT-decoding pick,
consistency, correctness) is recomputed from the paths whenever they change.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from inspector.core import metrics
from inspector.core.answers import answers_match, char_span_to_token_range, extract_answer
from inspector.core.tree import ROOT_ID, ReasoningTree
from inspector.engine.records import GeneratedSequence, TokenRecord

Strategy = Literal["greedy", "cot-decoding", "self-consistency"]
STRATEGIES: tuple[str, ...] = ("greedy", "cot-decoding", "self-consistency")
SessionStatus = Literal["running", "complete", "cancelled", "interrupted"]


@dataclass(frozen=True)
class RunSettings:
    """Every knob of a run, stored with the session so it can be reproduced."""

    strategy: str = "greedy"
    prompt_style: str = "plain"
    k: int = 10
    samples: int = 10
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 0
    min_p: float = 0.0
    seed: int = 0
    max_tokens: int = 128
    n_alternatives: int = 5
    answer_rule: str = "last-number"
    stop: tuple[str, ...] = ("\nQ:", "\n\n\n")
    use_chat_template: bool = False
    zero_shot_suffix: str = "Let's think step by step."

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "stop" in known:
            known["stop"] = tuple(known["stop"])
        return cls(**known)


@dataclass
class ReasoningPath:
    """One sequence the model produced, ending at ``node_id`` of the tree."""

    id: int
    node_id: int
    origin: str  # "greedy", "cot-decoding", "sample", "branch"
    label: str
    finish_reason: str | None
    stop_string: str | None = None
    parent_path: int | None = None
    branch_depth: int | None = None
    # derived from the tokens by Session.evaluate_path
    text: str = ""
    logprob: float = 0.0
    n_tokens: int = 0
    answer: str | None = None
    answer_text: str | None = None
    answer_span: tuple[int, int] | None = None
    answer_tokens: tuple[int, int] | None = None
    confidence: float | None = None
    correct: bool | None = None

    @property
    def finished(self) -> bool:
        return self.finish_reason not in (None, "cancelled")


@dataclass
class SessionSummary:
    votes: dict[str, int]
    majority: metrics.VoteResult
    weighted: metrics.VoteResult
    cot_pick: metrics.PathSelection  # index into the finished paths
    cot_path_id: int | None  # the path CoT-decoding selects
    cot_aggregated: metrics.VoteResult
    consistency: float | None
    vote_entropy: float | None
    chosen_answer: str | None
    correct: bool | None
    greedy_vs_marginal: metrics.GreedyVsMarginal | None = None


@dataclass
class Session:
    question: str
    prompt: str
    prompt_tokens: list[int]
    settings: RunSettings
    model: dict[str, Any]
    gold: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    title: str = ""
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    status: SessionStatus = "running"
    tree: ReasoningTree = field(default_factory=ReasoningTree)
    paths: list[ReasoningPath] = field(default_factory=list)

    def add_path(
        self,
        sequence: GeneratedSequence,
        origin: str,
        label: str,
        *,
        start_node: int = ROOT_ID,
        parent_path: int | None = None,
        branch_depth: int | None = None,
    ) -> ReasoningPath:
        path = self.reserve_path(origin, label, parent_path=parent_path, branch_depth=branch_depth)
        self.complete_path(path, sequence, start_node)
        return path

    def reserve_path(
        self,
        origin: str,
        label: str,
        *,
        parent_path: int | None = None,
        branch_depth: int | None = None,
    ) -> ReasoningPath:
        """A path that is being generated: no tokens and no finish reason yet. Reserving every
        branch first keeps path ids in branch order while branches finish in any order."""
        path = ReasoningPath(
            id=len(self.paths), node_id=ROOT_ID, origin=origin, label=label, finish_reason=None,
            parent_path=parent_path, branch_depth=branch_depth,
        )  # fmt: skip
        self.paths.append(path)
        return path

    def complete_path(
        self, path: ReasoningPath, sequence: GeneratedSequence, start_node: int = ROOT_ID
    ) -> None:
        """Hang a reserved path's tokens on the tree and score it."""
        end, moved = self.tree.add_sequence(sequence.tokens, start_node)
        for other in self.paths:
            other.node_id = moved.get(other.node_id, other.node_id)
        path.node_id = end
        path.finish_reason = sequence.finish_reason
        path.stop_string = sequence.stop_string
        self.evaluate_path(path)

    def boundary_node(self, path: ReasoningPath, depth: int) -> int:
        """The node on ``path`` whose run ends exactly ``depth`` tokens below the root,
        splitting a node if needed (paths that ended at a split node move to its tail)."""
        if depth == 0:
            return ROOT_ID
        node_id, offset = self.tree.locate(path.node_id, depth - 1)
        node = self.tree.nodes[node_id]
        if offset + 1 < len(node.tokens):
            self.tree.split(node_id, offset + 1)
            tail_id = node.children[0]
            for other in self.paths:
                if other.node_id == node_id:
                    other.node_id = tail_id
        return node_id

    def path_tokens(self, path: ReasoningPath) -> list[TokenRecord]:
        return self.tree.tokens_to(path.node_id)

    def evaluate_path(self, path: ReasoningPath) -> None:
        """Recompute text, log-probability, answer, its token span, Δ and correctness."""
        tokens = self.path_tokens(path)
        texts = [t.text for t in tokens]
        full = "".join(texts)
        content = full
        if path.stop_string and path.stop_string in full:
            content = full[: full.index(path.stop_string)]
        path.text, path.n_tokens = content, len(tokens)
        path.logprob = sum(t.logprob for t in tokens)
        found = extract_answer(content, self.settings.answer_rule)
        path.answer = found.normalized if found else None
        path.answer_text = found.text if found else None
        path.answer_span = found.span if found else None
        span = char_span_to_token_range(texts, found.span) if found else None
        path.answer_tokens = span
        path.confidence = metrics.answer_confidence(tokens, span) if span is not None else None
        path.correct = None
        if self.gold is not None and path.finished:
            path.correct = answers_match(path.answer, self.gold, self.settings.answer_rule)

    def set_gold(self, gold: str | None) -> None:
        self.gold = gold
        for path in self.paths:
            self.evaluate_path(path)

    def voting_paths(self) -> list[ReasoningPath]:
        """Finished paths that vote (a self-consistency run's greedy reference does not)."""
        reference = self.settings.strategy == "self-consistency"
        return [p for p in self.paths if p.finished and not (reference and p.origin == "greedy")]

    def greedy_reference(self) -> ReasoningPath | None:
        return next((p for p in self.paths if p.origin == "greedy" and p.finished), None)

    def summary(self) -> SessionSummary:
        voters = self.voting_paths()
        answers = [p.answer for p in voters]
        deltas = [p.confidence if p.answer is not None else None for p in voters]
        majority = metrics.majority_vote(answers)
        cot_pick = metrics.select_by_confidence(answers, deltas)
        chosen = self.chosen_answer(majority, cot_pick, voters)
        correct = None
        if self.gold is not None and voters:
            correct = answers_match(chosen, self.gold, self.settings.answer_rule)
        return SessionSummary(
            votes=metrics.vote_distribution(answers),
            majority=majority,
            weighted=metrics.weighted_vote(answers, [p.logprob for p in voters]),
            cot_pick=cot_pick,
            cot_path_id=voters[cot_pick.index].id if cot_pick.index is not None else None,
            cot_aggregated=metrics.aggregated_confidence_vote(answers, deltas),
            consistency=metrics.consistency(answers),
            vote_entropy=metrics.vote_entropy(answers),
            chosen_answer=chosen,
            correct=correct,
            greedy_vs_marginal=self._greedy_vs_marginal(answers),
        )

    def _greedy_vs_marginal(self, answers: list[str | None]) -> metrics.GreedyVsMarginal | None:
        """Greedy's sequence probability against the share of samples reaching its answer."""
        greedy = self.greedy_reference()
        if greedy is None or self.settings.strategy != "self-consistency":
            return None
        return metrics.greedy_vs_marginal(greedy.answer, greedy.logprob, answers)

    def chosen_answer(
        self,
        majority: metrics.VoteResult,
        cot_pick: metrics.PathSelection,
        voters: list[ReasoningPath],
    ) -> str | None:
        """What the session's strategy answers: the greedy path's answer, the highest-Δ path's
        answer (CoT-decoding), or the majority vote (self-consistency)."""
        if self.settings.strategy == "cot-decoding":
            return cot_pick.answer
        if self.settings.strategy == "greedy":
            return voters[0].answer if voters else None
        return majority.answer
