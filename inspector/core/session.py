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
from inspector.core.adaptive import Leaf, MarginalDistribution, marginal_distribution
from inspector.core.answers import (
    THINK_MARKERS,
    answers_match,
    char_span_to_token_range,
    extract_answer,
    extract_path_answer,
    token_index_at,
)
from inspector.core.tree import ROOT_ID, ReasoningTree
from inspector.engine.records import GeneratedSequence, TokenRecord

Strategy = Literal["greedy", "cot-decoding", "self-consistency", "adaptive"]
# What ends a base model's answer in the raw ``Q: … A:`` format; a chat-templated prompt ends
# on the model's own end-of-turn token instead (see strategies.stop_strings).
BASE_MODEL_STOPS: tuple[str, ...] = ("\nQ:", "\n\n\n")
STRATEGIES: tuple[str, ...] = ("greedy", "cot-decoding", "self-consistency", "adaptive")
# The token limit every run had before the default followed the model (a base model's still).
SAVED_MAX_TOKENS = 128
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
    # None: the default limit of the model's kind (core/model_defaults.py), decided when the
    # session is created; a saved session holds the number it used
    max_tokens: int | None = None
    n_alternatives: int = 5
    answer_rule: str = "auto"
    stop: tuple[str, ...] = BASE_MODEL_STOPS
    # None: the model's chat template if it has one (decided and stored like max_tokens)
    use_chat_template: bool | None = None
    zero_shot_suffix: str = "Let's think step by step."
    # the answer probe appended after each ended path ("So the answer is"; empty: off) and
    # how many tokens are decoded after it (core/probe.py)
    answer_probe: str = ""
    probe_tokens: int = 8
    # adaptive branching (core/adaptive.py): a position branches when its entropy (nats) is
    # above ``branch_entropy`` or its top-1/top-2 margin below ``branch_margin``, into at most
    # ``branch_width`` alternatives with p ≥ ``branch_min_prob``; at most ``branch_depth``
    # branch points per root-to-leaf path, at most ``token_budget`` tokens decoded in all;
    # greedy continuations, or sampled ones (temperature, top-p… and the seed) with
    # ``adaptive_sample``
    branch_entropy: float = 2.5
    branch_margin: float = 0.1
    branch_min_prob: float = 0.05
    branch_width: int = 2
    branch_depth: int = 3
    token_budget: int = 4096
    adaptive_sample: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "stop" in known:
            known["stop"] = tuple(known["stop"])
        # settings saved before these could be left to the model held the values then used
        known.setdefault("max_tokens", SAVED_MAX_TOKENS)
        known.setdefault("use_chat_template", False)
        return cls(**known)


# How a path ended that counts as finishing its reasoning: end-of-sequence (or end-of-turn) or
# a stop string. A path cut by the token limit, the context or a cancel is unfinished.
COMPLETED_REASONS = ("eos", "stop")


@dataclass
class AnswerProbe:
    """CoT-decoding's answer probe: ``text`` ("So the answer is") appended after a finished
    path and a few tokens decoded greedily, so that Δ can be measured on an explicit answer.
    ``tokens`` are the probe text's own tokens (forced) followed by the decoded ones."""

    text: str
    tokens: list[TokenRecord]
    n_forced: int  # how many of ``tokens`` are the probe text itself
    answer: str | None = None
    answer_text: str | None = None
    answer_tokens: tuple[int, int] | None = None  # indices into ``tokens``
    confidence: float | None = None

    @property
    def continuation(self) -> str:
        return "".join(t.text for t in self.tokens[self.n_forced :])


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
    answer_rule: str | None = None  # what found the answer: boxed, gsm8k, answer-is, probe…
    thinking_tokens: tuple[int, int] | None = None  # token range of a <think>…</think> section
    thinking_ended: bool = True  # False: the path stopped inside its thinking
    probe: AnswerProbe | None = None
    answer_logprob: float | None = None  # mean log-probability of the answer's tokens

    @property
    def finished(self) -> bool:
        """The path ended (not cancelled, not still running); it may still be unfinished in
        its reasoning: see :attr:`completed`."""
        return self.finish_reason not in (None, "cancelled")

    @property
    def completed(self) -> bool:
        """It ended by itself (end-of-sequence or a stop string) and outside its thinking:
        only such a path may take "the last number" as its answer."""
        return self.finish_reason in COMPLETED_REASONS and self.thinking_ended


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
    n_voting: int = 0  # paths that could vote (ended, not a reference)
    n_completed: int = 0  # of those, how many finished their reasoning by themselves
    n_answered: int = 0  # of those, how many have an answer (only these vote)
    n_hit_limit: int = 0  # of those, how many were cut by the token limit or the context
    delta_range: tuple[float, float] | None = None  # Δ of the answered paths, lowest–highest
    # each selection rule's answer side by side (greedy, cot-decoding, cot-aggregated,
    # majority, weighted), and whether any voting path is correct (pass@k)
    selections: dict[str, str | None] = field(default_factory=dict)
    any_correct: bool | None = None
    # an adaptive run: the explored probability mass and the marginal answer distribution
    marginal: MarginalDistribution | None = None


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

    @property
    def starts_in_thinking(self) -> bool:
        """The prompt (a thinking model's template) already opened the thinking section."""
        return self.prompt.rstrip().endswith(THINK_MARKERS[0])

    def evaluate_path(self, path: ReasoningPath) -> None:
        """Recompute text, log-probability, thinking section, answer (and which rule found
        it), its token span, Δ and correctness.

        A path cut by the token limit or a cancel, or one still inside its thinking, is
        unfinished: only an explicit marker (\\boxed, ####, "the answer is") gives it an
        answer, never its last number. An answer probe, when run, measures Δ on the probe's
        answer and answers a completed path that stated none."""
        tokens = self.path_tokens(path)
        texts = [t.text for t in tokens]
        full = "".join(texts)
        content = full
        if path.stop_string and path.stop_string in full:
            content = full[: full.index(path.stop_string)]
        path.text, path.n_tokens = content, len(tokens)
        path.logprob = sum(t.logprob for t in tokens)
        rule = self.settings.answer_rule
        ended_by_itself = path.finish_reason in COMPLETED_REASONS
        result = extract_path_answer(
            content, rule, finished=ended_by_itself, starts_in_thinking=self.starts_in_thinking
        )
        split = result.thinking
        path.thinking_ended = split.ended
        path.thinking_tokens = None
        if split.thinking is not None:
            start, end = split.thinking
            path.thinking_tokens = (token_index_at(texts, start), token_index_at(texts, end))
        found = result.answer
        path.answer = found.normalized if found else None
        path.answer_text = found.text if found else None
        path.answer_span = found.span if found else None
        path.answer_rule = found.rule if found else None
        span = char_span_to_token_range(texts, found.span) if found else None
        path.answer_tokens = span
        path.confidence = metrics.answer_confidence(tokens, span) if span else None
        path.answer_logprob = metrics.mean_logprob(tokens, span)
        if path.probe is not None:
            self._apply_probe(path)
        path.correct = None
        if self.gold is not None and path.finished:
            path.correct = answers_match(path.answer, self.gold, rule)

    def _apply_probe(self, path: ReasoningPath) -> None:
        """Score the probe's continuation; its Δ becomes the path's confidence, and its answer
        the path's answer when a completed path stated none."""
        probe = path.probe
        assert probe is not None
        texts = [t.text for t in probe.tokens]
        offset = sum(len(t) for t in texts[: probe.n_forced])
        found = extract_answer("".join(texts), self.settings.answer_rule, start=offset)
        probe.answer = found.normalized if found else None
        probe.answer_text = found.text if found else None
        probe.answer_tokens = char_span_to_token_range(texts, found.span) if found else None
        probe.confidence = (
            metrics.answer_confidence(probe.tokens, probe.answer_tokens)
            if probe.answer_tokens
            else None
        )
        if path.answer is None and path.completed and probe.answer is not None:
            path.answer, path.answer_text, path.answer_rule = (
                probe.answer,
                probe.answer_text,
                "probe",
            )
            path.answer_span = path.answer_tokens = None
            path.answer_logprob = metrics.mean_logprob(probe.tokens, probe.answer_tokens)
        if path.answer is not None:
            path.confidence = probe.confidence

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
        """Votes and selections over the voting paths. Only answered paths vote; consistency
        is the share of the answered voting paths that agree with the majority."""
        voters = self.voting_paths()
        answers = [p.answer for p in voters]
        deltas = [p.confidence if p.answer is not None else None for p in voters]
        majority = metrics.majority_vote(answers)
        cot_pick = metrics.select_by_confidence(
            answers, deltas, tie_break=[p.answer_logprob for p in voters]
        )
        probed = any(p.probe is not None for p in voters)
        weighted = metrics.weighted_vote(answers, [p.logprob for p in voters])
        cot_aggregated = metrics.aggregated_confidence_vote(answers, deltas)
        chosen = self.chosen_answer(majority, cot_pick, voters)
        correct = any_correct = None
        if self.gold is not None and voters:
            correct = answers_match(chosen, self.gold, self.settings.answer_rule)
            any_correct = any(p.correct for p in voters)
        greedy = self.greedy_path()
        selections = {
            "greedy": greedy.answer if greedy is not None else None,
            "cot-decoding": cot_pick.answer,
            "cot-aggregated": cot_aggregated.answer,
            "majority": majority.answer,
            "weighted": weighted.answer,
        }
        if probed:
            # the same paths picked by their own answer Δ: the run without the probe
            selections["cot-no-probe"] = self._own_delta_pick(voters).answer
        return SessionSummary(
            votes=metrics.vote_distribution(answers),
            majority=majority,
            weighted=weighted,
            cot_pick=cot_pick,
            cot_path_id=voters[cot_pick.index].id if cot_pick.index is not None else None,
            cot_aggregated=cot_aggregated,
            consistency=metrics.consistency(answers),
            vote_entropy=metrics.vote_entropy(answers),
            chosen_answer=chosen,
            correct=correct,
            greedy_vs_marginal=self._greedy_vs_marginal(answers),
            n_voting=len(voters),
            n_completed=sum(1 for p in voters if p.completed),
            n_answered=sum(1 for a in answers if a is not None),
            n_hit_limit=sum(1 for p in voters if p.finish_reason in ("length", "context")),
            delta_range=metrics.value_range(deltas),
            selections=selections,
            any_correct=any_correct,
            marginal=self.marginal() if self.settings.strategy == "adaptive" else None,
        )

    def leaves(self) -> list[ReasoningPath]:
        """The voting paths that are distinct leaves of the tree, each counted once: a path
        ending where another ended (the same tokens) or above it (the other's prefix, whose
        probability already covers it) is left out."""
        voters = [p for p in self.voting_paths() if p.n_tokens]
        ends = {p.node_id for p in voters}
        counted: set[int] = set()
        leaves = []
        for path in voters:
            above = {n.id for n in self.tree.chain(path.node_id)} - {path.node_id}
            if path.node_id in counted or above & ends:
                continue
            counted.add(path.node_id)
            leaves.append(path)
        return leaves

    def marginal(self) -> MarginalDistribution:
        """The explored mass and the marginal answer distribution over :meth:`leaves`."""
        return marginal_distribution([Leaf(p.answer, p.logprob) for p in self.leaves()])

    def own_delta(self, path: ReasoningPath) -> float | None:
        """Δ over the path's own answer tokens, whether or not an answer probe replaced its
        ``confidence``; None when it has no answer of its own (the probe alone answered)."""
        if path.answer is None or path.answer_rule == "probe" or path.answer_tokens is None:
            return None
        if path.probe is None:
            return path.confidence
        return metrics.answer_confidence(self.path_tokens(path), path.answer_tokens)

    def _own_delta_pick(self, voters: list[ReasoningPath]) -> metrics.PathSelection:
        """CoT-decoding's pick by each path's own answer Δ, as if no probe had run: a path
        the probe alone answered has no answer of its own and does not take part."""
        deltas = [self.own_delta(p) for p in voters]
        answers = [p.answer if d is not None else None for p, d in zip(voters, deltas, strict=True)]
        tie_break = [p.answer_logprob for p in voters]
        return metrics.select_by_confidence(answers, deltas, tie_break=tie_break)

    def greedy_path(self) -> ReasoningPath | None:
        """The path greedy decoding takes: a greedy run's path, a self-consistency run's greedy
        reference, or CoT-decoding's branch on the most likely first token (its first branch:
        paths are numbered in branch order, whatever their labels say)."""
        path = next((p for p in self.paths if p.origin in ("greedy", "cot-decoding")), None)
        return path if path is not None and path.finished else None

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
        answer (CoT-decoding), the answer with the most explored probability mass (adaptive),
        or the majority vote (self-consistency)."""
        if self.settings.strategy == "cot-decoding":
            return cot_pick.answer
        if self.settings.strategy == "adaptive":
            return self.marginal().answer
        if self.settings.strategy == "greedy":
            return voters[0].answer if voters else None
        return majority.answer
