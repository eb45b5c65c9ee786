"""Adaptive branching: where a decoded path branches, which branches a run can afford, and what
the explored tree says about the answer.

The rule (entropix's uncertainty trigger, CoT-decoding generalised to every depth): a position
is a *branch point* when the entropy of the model's full next-token distribution is above
``entropy`` (nats) or the margin p(top-1) − p(top-2) is below ``margin``, and at least one
recorded alternative other than the token taken has probability ≥ ``min_prob``; it branches
into the ``width`` most likely such alternatives. Every root-to-leaf path passes at most
``depth`` branch points (those it inherits from the paths it continues count), so a tree has
at most (width + 1) ** depth leaves.

A greedy continuation is deterministic, so scanning a path after it is decoded finds the same
branch points as deciding at each step; the tree grows one level at a time (one engine request
per level). :func:`plan_branches` is that scan, in plain Python.

Over the explored tree (:func:`marginal_distribution`): each leaf's path probability is the
product of its token probabilities; the *explored mass* is their sum, and Σ path probability
per answer is a lower bound of P(answer | question) under the model — exact for the paths it
counts, since distinct leaves are disjoint events (each fork takes another token at its
position). Normalised over the answered leaves it is the marginal answer distribution.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from inspector.engine.records import Alternative, TokenRecord

# ties between answers' masses within this relative tolerance are ties (float sums)
MASS_TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class BranchRule:
    """When a position branches and into what (see the module's docstring)."""

    entropy: float
    margin: float
    min_prob: float
    width: int

    def margin_at(self, token: TokenRecord) -> float | None:
        """p(top-1) − p(top-2) at the token's position (None with fewer than 2 recorded)."""
        if len(token.top) < 2:
            return None
        return token.top[0].prob - token.top[1].prob

    def is_uncertain(self, token: TokenRecord) -> bool:
        """Entropy above the threshold or margin below it (an unknown entropy — a server that
        reports none — never triggers; the margin still can)."""
        margin = self.margin_at(token)
        high_entropy = math.isfinite(token.entropy) and token.entropy > self.entropy
        return high_entropy or (margin is not None and margin < self.margin)

    def alternatives(self, token: TokenRecord) -> list[Alternative]:
        """The branches at this position: the most likely recorded alternatives other than the
        token taken with p ≥ ``min_prob``, at most ``width``, most likely first; none where
        the position is not uncertain."""
        if not self.is_uncertain(token):
            return []
        others = [a for a in token.top if a.token_id != token.token_id and a.prob >= self.min_prob]
        return others[: self.width]


@dataclass(frozen=True)
class BranchPoint:
    """A position of a path where it branches, and the tokens its branches take there."""

    position: int
    alternatives: tuple[Alternative, ...]
    depth: int  # branch points on the way from the root up to and including this one


def branch_points(
    tokens: Sequence[TokenRecord],
    rule: BranchRule,
    *,
    start: int,
    end: int,
    depth: int,
    max_depth: int,
) -> list[BranchPoint]:
    """The branch points of a decoded path among positions ``start`` ≤ t < ``end``, while the
    path has passed fewer than ``max_depth`` (it has passed ``depth`` before ``start``)."""
    points: list[BranchPoint] = []
    for position in range(start, end):
        if depth >= max_depth:
            break
        alternatives = rule.alternatives(tokens[position])
        if alternatives:
            depth += 1
            points.append(BranchPoint(position, tuple(alternatives), depth))
    return points


def content_end(tokens: Sequence[TokenRecord], content: str) -> int:
    """How many leading tokens may branch: those that start inside ``content`` (the text before
    a stop string) and the one that starts right at its end (where the model chose to stop,
    or its end-of-sequence token). Tokens further into the stop string do not branch."""
    offset = 0
    for index, token in enumerate(tokens):
        if offset > len(content):
            return index
        offset += len(token.text)
    return len(tokens)


def seed_key(parent_key: int, position: int, token_id: int) -> int:
    """A branch's random stream named by its place in the tree: its parent path's key, the
    position it forks at and the token it takes there (63 bits, whatever the batch holds)."""
    digest = hashlib.blake2b(f"{parent_key}:{position}:{token_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@dataclass(frozen=True)
class PlannedBranch:
    """A branch the next level may decode: path ``parent`` continued from ``position`` with
    ``token``; ``logprob`` is the log-probability of its prefix including the token."""

    parent: int
    position: int
    token: Alternative
    depth: int
    logprob: float
    key: int


def plan_branches(
    tokens: Sequence[TokenRecord],
    rule: BranchRule,
    *,
    parent: int,
    parent_key: int,
    start: int,
    end: int,
    depth: int,
    max_depth: int,
) -> list[PlannedBranch]:
    """Every branch a decoded path asks for (see :func:`branch_points`), with the probability
    of the prefix each would continue."""
    planned: list[PlannedBranch] = []
    prefix = 0.0
    points = {
        p.position: p
        for p in branch_points(tokens, rule, start=start, end=end, depth=depth, max_depth=max_depth)
    }
    for position, token in enumerate(tokens[:end]):
        point = points.get(position)
        if point is not None:
            for alternative in point.alternatives:
                planned.append(
                    PlannedBranch(
                        parent, position, alternative, point.depth,
                        prefix + alternative.logprob,
                        seed_key(parent_key, position, alternative.token_id),
                    )
                )  # fmt: skip
        prefix += token.logprob
    return planned


def admit(
    planned: Sequence[PlannedBranch], budget_left: int, tokens_each: int
) -> tuple[list[PlannedBranch], list[PlannedBranch]]:
    """(started, left out): the most likely branches first (ties: in the order planned), as
    many as ``budget_left`` tokens can hold when each may decode ``tokens_each``."""
    order = sorted(range(len(planned)), key=lambda i: -planned[i].logprob)
    room = max(0, budget_left) // max(1, tokens_each)
    chosen = sorted(order[:room])
    left = sorted(order[room:])
    return [planned[i] for i in chosen], [planned[i] for i in left]


@dataclass(frozen=True)
class Leaf:
    """One explored leaf: its answer (None: none found) and its path's log-probability."""

    answer: str | None
    logprob: float


@dataclass(frozen=True)
class MarginalDistribution:
    """What an explored tree says about the answer.

    ``mass`` is Σ path probability per answer (a lower bound of P(answer | question)),
    ``distribution`` the same normalised over the answered leaves; ``explored_mass`` sums
    every leaf, ``answered_mass`` the answered ones; ``answer`` has the most mass (``tied``:
    those within float tolerance of it, first appearance first, when more than one). The sums
    are taken in log space (``log_mass``), so long paths whose probabilities underflow a float
    still get their share of the normalised distribution."""

    mass: dict[str, float] = field(default_factory=dict)
    distribution: dict[str, float] = field(default_factory=dict)
    log_mass: dict[str, float] = field(default_factory=dict)
    explored_mass: float = 0.0
    answered_mass: float = 0.0
    n_leaves: int = 0
    answer: str | None = None
    tied: tuple[str, ...] = ()
    unanswered_mass: float = 0.0  # summed over the unanswered leaves (not a difference)


def log_sum_exp(values: Sequence[float]) -> float:
    """log Σ exp(v), shifted by the largest value (−inf for none)."""
    if not values:
        return -math.inf
    top = max(values)
    if top == -math.inf:
        return top
    return top + math.log(sum(math.exp(v - top) for v in values))


def marginal_distribution(leaves: Sequence[Leaf]) -> MarginalDistribution:
    """The marginal answer distribution and explored mass of ``leaves`` (distinct leaves of
    one tree: the caller counts each once)."""
    by_answer: dict[str, list[float]] = {}
    for leaf in leaves:
        if leaf.answer is not None:
            by_answer.setdefault(leaf.answer, []).append(leaf.logprob)
    log_mass = {answer: log_sum_exp(values) for answer, values in by_answer.items()}
    log_answered = log_sum_exp(list(log_mass.values()))
    distribution = (
        {a: math.exp(m - log_answered) for a, m in log_mass.items()}
        if log_answered > -math.inf
        else {}
    )
    winner: str | None = None
    tied: tuple[str, ...] = ()
    if log_mass:
        best = max(log_mass.values())
        top = tuple(
            a for a, m in log_mass.items()
            if math.isclose(math.exp(m - best), 1.0, rel_tol=MASS_TIE_TOLERANCE)
        )  # fmt: skip
        winner, tied = top[0], (top if len(top) > 1 else ())
    return MarginalDistribution(
        mass={a: math.exp(m) for a, m in log_mass.items()},
        distribution=distribution,
        log_mass=log_mass,
        explored_mass=math.exp(log_sum_exp([leaf.logprob for leaf in leaves])),
        answered_mass=math.exp(log_answered),
        n_leaves=len(leaves),
        answer=winner,
        tied=tied,
        unanswered_mass=math.exp(log_sum_exp([x.logprob for x in leaves if x.answer is None])),
    )


# -- in words (the CLI, the GUI's answers panel and the reports share these) -----------------
def share_words(probability: float) -> str:
    """A probability as a reader sees it, to 3 significant digits: "77.1%", "0.898%"; below
    0.01% in scientific notation ("1.36e-08"); "0" only when it is zero (or underflows)."""
    if probability >= 0.0001:
        return f"{probability * 100:.3g}%"
    return f"{probability:.2e}" if probability > 0 else "0"


def marginal_lines(marginal: MarginalDistribution) -> list[str]:
    """The explored mass, the marginal answer distribution (normalised) and its lower bounds,
    most mass first, one line each."""
    ranked = sorted(marginal.mass, key=lambda a: -marginal.log_mass[a])
    lines = [
        f"explored: {marginal.n_leaves} leaves, probability mass "
        f"{share_words(marginal.explored_mass)} (answered {share_words(marginal.answered_mass)}"
        f", no answer {share_words(marginal.unanswered_mass)})"
    ]
    if not ranked:
        lines.append("marginal answer distribution: no explored path answered")
        return lines
    lines.append(
        "marginal P(answer) over the explored paths: "
        + " · ".join(f"{a} {share_words(marginal.distribution[a])}" for a in ranked)
    )
    lines.append(
        "lower bound of P(answer | question): "
        + " · ".join(f"{a} ≥ {share_words(marginal.mass[a])}" for a in ranked)
    )
    tie = f" (tie between {', '.join(marginal.tied)})" if marginal.tied else ""
    lines.append(f"marginal answer: {marginal.answer}{tie}")
    return lines
