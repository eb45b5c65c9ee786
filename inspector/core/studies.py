"""Resampling studies of one saved path: where does the reasoning decide its answer?

Two kinds, both made of continuations sampled from prefixes of the path (the engine decodes
all of them from one cached copy of the path, in shared batches):

* **forks** (Bigelow et al., "Forking Paths in Neural Text Generation"): at each studied
  position t, the token the path took and up to ``alternatives`` other tokens with
  p ≥ ``min_prob`` are each put at t and continued ``samples`` times to the end. The answers
  give the outcome distribution o(t, w) per token; the position's outcome distribution is
  their mixture weighted by the model's probabilities p(w | prefix), renormalised over the
  tokens studied (``share`` says how much of the probability they hold). The forking score
  of a position is the total-variation distance between its outcome distribution and the
  previous studied position's: a fork is where the answer distribution jumps.
* **steps** (Bogdan et al., "Thought Anchors"): the path is split into steps (see
  :func:`split_steps`); ``samples`` continuations are drawn from every step boundary. For step
  i, the continuations from just after it are "with i" and those from just before it whose
  first step differs in text from step i are "without i" (a textual criterion in place of the
  paper's sentence embeddings). Its importance is the KL divergence of the two answer
  distributions (smoothed, :func:`kl_divergence`) and, with a gold answer, the change in
  accuracy.

Every continuation has its own random stream (``Branch.seed_key`` from its position, token
and sample number), so a study that was stopped resumes with the samples it would have drawn.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from inspector.core.answers import answers_match, extract_path_answer, token_index_at
from inspector.core.session import COMPLETED_REASONS, ReasoningPath, Session
from inspector.engine import (
    Backend,
    Branch,
    CancelToken,
    GeneratedSequence,
    GenerationSettings,
    InvalidParameterError,
    SamplingSettings,
    TokenRecord,
)

StudyKind = Literal["forks", "steps"]
STUDY_KINDS: tuple[StudyKind, ...] = ("forks", "steps")
SPLIT_RULES = ("sentences", "lines", "numbered")
StudyStatus = Literal["running", "complete", "cancelled", "interrupted"]
# a study above this many tokens is refused by the CLI without --yes and asked about in the GUI
COST_LIMIT_TOKENS = 20_000
NO_ANSWER = ""  # the outcome of a continuation that states no answer


@dataclass(frozen=True)
class StudySettings:
    """What a study samples; stored with it, so it can be resumed and reproduced."""

    kind: StudyKind
    path_id: int
    samples: int = 4
    max_tokens: int = 48
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int = 0
    # forks: which positions (first, last: a range of token indices; min_entropy: only those
    # whose distribution's entropy is at least this, in nats) and which tokens at each
    first: int | None = None
    last: int | None = None
    min_entropy: float | None = None
    alternatives: int = 2
    min_prob: float = 0.05
    # steps: how the path is cut (split_steps)
    split: str = "sentences"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudySettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class StudyPoint:
    """One continuation to sample: from the path's first ``position`` tokens, with
    ``token_id`` put next (forks; None for steps), sample number ``sample``."""

    position: int
    token_id: int | None
    sample: int
    token_text: str = ""
    token_prob: float | None = None  # the model's p(token | prefix), from the saved path

    @property
    def key(self) -> tuple[int, int | None, int]:
        return (self.position, self.token_id, self.sample)

    def seed_key(self) -> int:
        """The random stream's key: the same point draws the same sample in any run."""
        token = -1 if self.token_id is None else self.token_id
        return ((self.position + 1) * 1_000_003 + token + 1) * 1_000 + self.sample


@dataclass
class StudySample:
    """A continuation sampled for a point, with the answer its whole text states."""

    point: StudyPoint
    text: str
    token_ids: list[int]
    finish_reason: str
    logprob: float
    answer: str | None
    correct: bool | None = None

    @property
    def outcome(self) -> str:
        return NO_ANSWER if self.answer is None else self.answer


@dataclass
class Study:
    """A study of one path of a saved session; ``samples`` grow as it runs."""

    session_id: str | None
    settings: StudySettings
    id: int | None = None
    status: StudyStatus = "running"
    samples: list[StudySample] = field(default_factory=list)
    created_at: str | None = None

    def done_keys(self) -> set[tuple[int, int | None, int]]:
        return {s.point.key for s in self.samples}


@dataclass(frozen=True)
class Step:
    """Tokens ``[start, end)`` of the path: one step of its reasoning."""

    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class StudyPlan:
    points: list[StudyPoint]
    steps: list[Step]
    tokens: int  # the most tokens the continuations may decode

    def remaining(self, study: Study) -> list[StudyPoint]:
        done = study.done_keys()
        return [p for p in self.points if p.key not in done]


# -- planning -----------------------------------------------------------------------------------
def validate_study(session: Session, settings: StudySettings) -> ReasoningPath:
    """The studied path, once every setting is checked (InvalidParameterError otherwise)."""
    if settings.kind not in STUDY_KINDS:
        raise InvalidParameterError(
            f"unknown study '{settings.kind}' (choose from {', '.join(STUDY_KINDS)})"
        )
    if not 0 <= settings.path_id < len(session.paths):
        known = f"0 to {len(session.paths) - 1}" if session.paths else "none"
        raise InvalidParameterError(
            f"this session has no path {settings.path_id} (its paths: {known})"
        )
    path = session.paths[settings.path_id]
    tokens = studied_tokens(session, path)
    if not tokens:
        raise InvalidParameterError(f"path {settings.path_id} has no tokens to study")
    if not 1 <= settings.samples <= 256:
        raise InvalidParameterError(f"samples must be 1 to 256, got {settings.samples}")
    if not 1 <= settings.max_tokens <= 4096:
        raise InvalidParameterError(f"max tokens must be 1 to 4096, got {settings.max_tokens}")
    if not 0 < settings.temperature <= 5:
        raise InvalidParameterError(
            f"a study samples: temperature must be above 0 and at most 5, got "
            f"{settings.temperature}"
        )
    if not 0 < settings.top_p <= 1:
        raise InvalidParameterError(f"top-p must be above 0 and at most 1, got {settings.top_p}")
    if settings.kind == "forks":
        if not 0 <= settings.alternatives <= 20:
            raise InvalidParameterError(
                f"alternatives must be 0 to 20, got {settings.alternatives}"
            )
        if not 0 <= settings.min_prob <= 1:
            raise InvalidParameterError(
                f"the minimum probability must be 0 to 1, got {settings.min_prob}"
            )
        if any(math.isnan(t.logprob) for t in tokens) or (
            settings.alternatives > 0 and not any(t.top for t in tokens)
        ):
            raise InvalidParameterError(
                f"path {settings.path_id} was saved without its tokens' probabilities (a "
                "server that returned none): a forking study weighs every token by them"
            )
        first, last = _position_range(settings, len(tokens))
        if first > last:
            raise InvalidParameterError(
                f"no position to study: path {settings.path_id} has tokens 0 to "
                f"{len(tokens) - 1}, the range asked is {settings.first} to {settings.last}"
            )
    elif settings.split not in SPLIT_RULES:
        raise InvalidParameterError(
            f"unknown split '{settings.split}' (choose from {', '.join(SPLIT_RULES)})"
        )
    return path


def _position_range(settings: StudySettings, n_tokens: int) -> tuple[int, int]:
    first = 0 if settings.first is None else max(0, settings.first)
    last = n_tokens - 1 if settings.last is None else min(n_tokens - 1, settings.last)
    return first, last


def studied_tokens(session: Session, path: ReasoningPath) -> list[TokenRecord]:
    """The path's tokens up to the end of its text: a stop string that ended it ("\nQ:")
    is not part of the reasoning, so no study continues from inside it."""
    tokens = session.path_tokens(path)
    texts = [t.text for t in tokens]
    if path.stop_string and len(path.text) < len("".join(texts)):
        return tokens[: max(1, token_index_at(texts, len(path.text)))]
    return tokens


def plan_study(session: Session, settings: StudySettings) -> StudyPlan:
    """Every continuation the study samples, and the most tokens that costs."""
    path = validate_study(session, settings)
    tokens = studied_tokens(session, path)
    steps: list[Step] = []
    if settings.kind == "forks":
        points = _fork_points(tokens, settings)
    else:
        steps = split_steps([t.text for t in tokens], settings.split)
        boundaries = sorted({step.start for step in steps})
        points = [StudyPoint(b, None, s) for b in boundaries for s in range(settings.samples)]
    forced = sum(1 for p in points if p.token_id is not None)
    return StudyPlan(points, steps, len(points) * settings.max_tokens + forced)


def _fork_points(tokens: Sequence[TokenRecord], settings: StudySettings) -> list[StudyPoint]:
    first, last = _position_range(settings, len(tokens))
    points = []
    for t in range(first, last + 1):
        record = tokens[t]
        if settings.min_entropy is not None and not record.entropy >= settings.min_entropy:
            continue
        chosen = [(record.token_id, record.text, record.prob)]
        others = [a for a in record.top if a.token_id != record.token_id]
        others = [a for a in others if a.prob >= settings.min_prob][: settings.alternatives]
        chosen += [(a.token_id, a.text, a.prob) for a in others]
        for token_id, text, prob in chosen:
            points += [StudyPoint(t, token_id, s, text, prob) for s in range(settings.samples)]
    return points


# a line that numbers a step; MULTILINE: split_steps matches it at a line's start inside the text
_NUMBERED = re.compile(r"^\s*(?:step\s*)?\d+[.):]", re.IGNORECASE | re.MULTILINE)


def split_steps(texts: Sequence[str], rule: str = "sentences") -> list[Step]:
    """Cut a path (its tokens' texts) into steps, each a run of whole tokens.

    ``lines``: a step ends with a token holding a line break. ``sentences``: also after a
    token ending in ``.``, ``!`` or ``?`` when the next token starts with a space or a line
    break (so "3.5" and "e.g." inside a word do not cut, nor the "1." that numbers a
    step). ``numbered``: a new step starts at
    each line that begins with a number ("1.", "2)", "Step 3:"); text before the first is a
    step of its own. Steps holding only whitespace join the step before them.
    """
    if rule not in SPLIT_RULES:
        raise InvalidParameterError(
            f"unknown split '{rule}' (choose from {', '.join(SPLIT_RULES)})"
        )
    cuts = [0]
    if rule == "numbered":
        # the number is read from the whole text at the token's offset: "Step 10:" is five
        # tokens for a model that splits digits; a cut needs some text before it
        full = "".join(texts)
        offset, line_start = 0, True
        for i, text in enumerate(texts):
            if line_start and offset > 0 and _NUMBERED.match(full, offset):
                cuts.append(i)
            offset += len(text)
            if text:
                line_start = text.endswith("\n")
    else:
        for i, text in enumerate(texts[:-1]):
            following = texts[i + 1]
            if "\n" in text or (
                rule == "sentences"
                and text.rstrip().endswith((".", "!", "?"))
                and following[:1] in (" ", "\n")
                and not _NUMBERED.fullmatch("".join(texts[cuts[-1] : i + 1]).strip())
            ):
                cuts.append(i + 1)
    cuts = [*sorted(set(cuts)), len(texts)]
    steps: list[Step] = []
    for start, end in itertools.pairwise(cuts):
        if start >= end:
            continue
        text = "".join(texts[start:end])
        if steps and not text.strip():
            last = steps[-1]
            steps[-1] = Step(last.index, last.start, end, last.text + text)
            continue
        steps.append(Step(len(steps), start, end, text))
    return steps


# -- running ------------------------------------------------------------------------------------
ProgressCallback = Callable[[int, int], None]
SampleCallback = Callable[[StudySample], None]


def run_study(
    engine: Backend,
    session: Session,
    study: Study,
    stop: tuple[str, ...],
    *,
    on_sample: SampleCallback | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Study:
    """Sample every continuation of ``study`` not sampled yet; each is appended to
    ``study.samples`` and passed to ``on_sample`` (to be saved) the moment it ends.
    ``on_progress(done, total)`` follows. Status ends "complete" or "cancelled"."""
    settings = study.settings
    plan = plan_study(session, settings)
    path = session.paths[settings.path_id]
    tokens = studied_tokens(session, path)
    ids = [t.token_id for t in tokens]
    texts = [t.text for t in tokens]
    remaining = plan.remaining(study)
    total = len(plan.points)
    done = total - len(remaining)
    if on_progress is not None:
        on_progress(done, total)
    if not remaining:
        study.status = "complete"
        return study
    sampling = SamplingSettings(
        temperature=settings.temperature, top_p=settings.top_p, seed=settings.seed
    )
    generation = GenerationSettings(
        max_tokens=settings.max_tokens, stop=stop, n_alternatives=1, sampling=sampling
    )
    branches = [
        Branch(
            context=tuple(ids[: p.position]),
            forced=() if p.token_id is None else (p.token_id,),
            seed_key=p.seed_key(),
        )
        for p in remaining
    ]
    engine.remember_texts(_texts_of(tokens))
    counted = [done]

    def finished(sequence: GeneratedSequence) -> None:
        point = remaining[sequence.branch]
        sample = make_sample(session, point, "".join(texts[: point.position]), sequence)
        study.samples.append(sample)
        counted[0] += 1
        if on_sample is not None:
            on_sample(sample)
        if on_progress is not None:
            on_progress(counted[0], total)

    engine.explore(session.prompt_tokens, branches, generation, None, cancel, finished)
    cancelled = cancel is not None and cancel.cancelled
    study.status = "cancelled" if cancelled and counted[0] < total else "complete"
    return study


def _texts_of(tokens: Sequence[TokenRecord]) -> list[tuple[int, str]]:
    """(id, text) of the tokens and their alternatives (what a server connection is told)."""
    return [(t.token_id, t.text) for t in tokens] + [
        (a.token_id, a.text) for t in tokens for a in t.top
    ]


def open_continuations(
    engine: Backend,
    session: Session,
    study: Study,
    samples: Sequence[StudySample],
    stop: tuple[str, ...],
    *,
    on_path: Callable[[Session, ReasoningPath], None] | None = None,
    cancel: CancelToken | None = None,
) -> list[ReasoningPath]:
    """Put study continuations into the session's tree as branch paths of the studied path.

    A sample keeps only its token ids, so each is decoded again with all of them forced: the
    engine scores forced tokens with the model's real probabilities and alternatives, so the
    new path holds the same tokens with their full records (one batch, every continuation's
    prefix copied from the path). It ends the way the continuation ended."""
    path_id = study.settings.path_id
    tokens = studied_tokens(session, session.paths[path_id])
    ids = [t.token_id for t in tokens]
    chosen = [s for s in samples if s.token_ids and s.point.position < len(tokens)]
    if not chosen:
        raise InvalidParameterError("no continuation with tokens to open")
    # a branch ends once its forced tokens are in (never before: max_tokens is at most that)
    generation = GenerationSettings(
        max_tokens=1, stop=(), n_alternatives=session.settings.n_alternatives
    )
    branches = [
        Branch(context=tuple(ids[: s.point.position]), forced=tuple(s.token_ids)) for s in chosen
    ]
    # the path's texts, for a server connection that did not make them (the samples' own tokens
    # it must have made: a sample keeps only their ids)
    engine.remember_texts(_texts_of(tokens))
    paths = []
    for s in chosen:
        shown = s.point.token_text or "the path's own text"
        label = (
            f"study {study.id}: position {s.point.position}, {shown!r}, sample {s.point.sample + 1}"
        )
        paths.append(
            session.reserve_path(
                "branch", label, parent_path=path_id, branch_depth=s.point.position
            )
        )
    sequences = engine.explore(session.prompt_tokens, branches, generation, None, cancel)
    for sample, path, sequence in zip(chosen, paths, sequences, strict=True):
        if sequence.finish_reason == "cancelled":
            session.complete_path(
                path, sequence, session.boundary_node(session.paths[path_id], sample.point.position)
            )
            continue
        sequence.finish_reason = sample.finish_reason  # type: ignore[assignment]
        if sample.finish_reason == "stop":
            full = sequence.text
            sequence.stop_string = next(
                (x for x in stop if full.find(x, len(sample.text)) == len(sample.text)), None
            )
        start = session.boundary_node(session.paths[path_id], sample.point.position)
        session.complete_path(path, sequence, start)
        if on_path is not None:
            on_path(session, path)
    return paths


def make_sample(
    session: Session, point: StudyPoint, before: str, sequence: GeneratedSequence
) -> StudySample:
    """A finished continuation: its answer is looked for in the path's text before the
    point followed by the continuation (up to a stop string), with the session's rule."""
    content = sequence.content
    finished = sequence.finish_reason in COMPLETED_REASONS
    found = extract_path_answer(
        before + content,
        session.settings.answer_rule,
        finished=finished,
        starts_in_thinking=session.starts_in_thinking,
    ).answer
    answer = found.normalized if found else None
    correct = None
    if session.gold is not None:
        correct = answers_match(answer, session.gold, session.settings.answer_rule)
    return StudySample(
        point=point,
        text=content,
        token_ids=sequence.token_ids,
        finish_reason=sequence.finish_reason or "cancelled",
        logprob=sequence.logprob,
        answer=answer,
        correct=correct,
    )


# -- analysis -----------------------------------------------------------------------------------
Distribution = dict[str, float]


def distribution(outcomes: Iterable[str]) -> Distribution:
    """Outcome shares (they sum to 1; empty for no outcomes), most frequent first."""
    counts = Counter(outcomes)
    n = sum(counts.values())
    return {k: v / n for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def total_variation(p: Distribution, q: Distribution) -> float:
    """½ Σ |p(a) − q(a)|: 0 for the same distribution, 1 for disjoint ones."""
    keys = set(p) | set(q)
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys)


def kl_divergence(p_counts: Counter[str], q_counts: Counter[str], smoothing: float = 0.5) -> float:
    """KL(p ‖ q) in nats of two answer count tables, each smoothed by adding ``smoothing``
    to every answer either holds (so an answer seen on one side only gives a finite value)."""
    keys = set(p_counts) | set(q_counts)
    if not keys:
        return 0.0
    p_total = sum(p_counts.values()) + smoothing * len(keys)
    q_total = sum(q_counts.values()) + smoothing * len(keys)
    kl = 0.0
    for k in keys:
        p = (p_counts.get(k, 0) + smoothing) / p_total
        q = (q_counts.get(k, 0) + smoothing) / q_total
        kl += p * math.log(p / q)
    return kl


@dataclass(frozen=True)
class TokenOutcome:
    """o(t, w): the answers of the continuations with token ``token_id`` at a position."""

    token_id: int
    text: str
    prob: float
    taken: bool
    distribution: Distribution
    n: int


@dataclass(frozen=True)
class PositionOutcome:
    position: int
    tokens: list[TokenOutcome]
    distribution: Distribution  # the mixture over the tokens studied, renormalised
    share: float  # Σ p(w | prefix) over the tokens studied
    score: float | None  # TV distance to the previous studied position (None for the first)


def fork_outcomes(study: Study, path_tokens: Sequence[TokenRecord]) -> list[PositionOutcome]:
    """Per studied position, o(t, w) per token, the mixture and the forking score."""
    by_point: dict[tuple[int, int], list[StudySample]] = {}
    for sample in study.samples:
        token = sample.point.token_id
        if token is not None:
            by_point.setdefault((sample.point.position, token), []).append(sample)
    positions = sorted({position for position, _ in by_point})
    result: list[PositionOutcome] = []
    previous: Distribution | None = None
    for t in positions:
        taken = path_tokens[t].token_id if t < len(path_tokens) else None
        outcomes = []
        for (position, token), samples in sorted(by_point.items()):
            if position != t:
                continue
            first = samples[0].point
            prob = first.token_prob if first.token_prob is not None else 0.0
            outcomes.append(
                TokenOutcome(
                    token, first.token_text, prob, token == taken,
                    distribution(s.outcome for s in samples), len(samples),
                )
            )  # fmt: skip
        outcomes.sort(key=lambda o: (not o.taken, -o.prob))
        share = sum(o.prob for o in outcomes)
        mixture: dict[str, float] = {}
        for o in outcomes:
            weight = o.prob / share if share > 0 else 1 / len(outcomes)
            for answer, p in o.distribution.items():
                mixture[answer] = mixture.get(answer, 0.0) + weight * p
        ordered = dict(sorted(mixture.items(), key=lambda kv: (-kv[1], kv[0])))
        score = None if previous is None else total_variation(previous, ordered)
        result.append(PositionOutcome(t, outcomes, ordered, share, score))
        previous = ordered
    return result


def forks(outcomes: Sequence[PositionOutcome], threshold: float = 0.3) -> list[int]:
    """Positions whose forking score is at least ``threshold``, highest first."""
    marked = [o for o in outcomes if o.score is not None and o.score >= threshold]
    return [o.position for o in sorted(marked, key=lambda o: -(o.score or 0.0))]


@dataclass(frozen=True)
class StepOutcome:
    step: Step
    before: Distribution  # all continuations from just before the step
    with_step: Distribution  # those from just after it (the path's own answer after the last)
    without_step: Distribution  # those from before whose first step differs from this one
    n_without: int
    importance: float  # KL(with ‖ without), smoothed; 0 when nothing differs
    accuracy_with: float | None = None
    accuracy_without: float | None = None

    @property
    def accuracy_change(self) -> float | None:
        if self.accuracy_with is None or self.accuracy_without is None:
            return None
        return self.accuracy_with - self.accuracy_without


def _first_step_text(text: str, rule: str) -> str:
    """The text of a continuation's first step (by the study's rule), whitespace folded."""
    pieces = re.split(r"(?<=\n)" if rule != "sentences" else r"(?<=\n)|(?<=[.!?])(?=\s)", text)
    first = next((piece for piece in pieces if piece.strip()), "")
    return " ".join(first.split())


def step_outcomes(
    study: Study, steps: Sequence[Step], path: ReasoningPath, gold: str | None
) -> list[StepOutcome]:
    """Per step, the answers with it and without it, their divergence and accuracies."""
    by_start: dict[int, list[StudySample]] = {}
    for sample in study.samples:
        by_start.setdefault(sample.point.position, []).append(sample)
    own = NO_ANSWER if path.answer is None else path.answer
    result = []
    for i, step in enumerate(steps):
        before = by_start.get(step.start, [])
        if i + 1 < len(steps):
            after = by_start.get(steps[i + 1].start, [])
            with_counts = Counter(s.outcome for s in after)
            with_correct = [s.correct for s in after]
        else:  # after the last step the path has ended: its own answer
            with_counts = Counter([own]) if before else Counter()
            with_correct = [path.correct] if before else []
        own_text = " ".join(step.text.split())
        without = [s for s in before if _first_step_text(s.text, study.settings.split) != own_text]
        without_counts = Counter(s.outcome for s in without)
        importance = kl_divergence(with_counts, without_counts) if without and with_counts else 0.0
        result.append(
            StepOutcome(
                step,
                distribution(s.outcome for s in before),
                distribution(with_counts.elements()),
                distribution(without_counts.elements()),
                len(without),
                importance,
                _accuracy(with_correct) if gold is not None else None,
                _accuracy([s.correct for s in without]) if gold is not None else None,
            )
        )
    return result


def _accuracy(marks: Sequence[bool | None]) -> float | None:
    known = [m for m in marks if m is not None]
    return sum(known) / len(known) if known else None


def important_steps(outcomes: Sequence[StepOutcome], top: int = 3) -> list[int]:
    """The indices of the (at most ``top``) steps with the highest non-zero importance."""
    ranked = sorted((o for o in outcomes if o.importance > 0), key=lambda o: -o.importance)
    return [o.step.index for o in ranked[:top]]
