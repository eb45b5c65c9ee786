"""Strategies fill a session's tree: greedy, CoT-decoding, self-consistency, adaptive
branching, branch here.

All of them run on the engine's shared-prefix batching, stream tokens through ``on_token``,
and stop on a :class:`CancelToken`, keeping finished paths and marking unfinished ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from inspector.core.adaptive import BranchRule, PlannedBranch, admit, content_end, plan_branches
from inspector.core.display import first_token_label, token_words
from inspector.core.limits import RUN_LIMITS
from inspector.core.model_defaults import resolve_settings
from inspector.core.probe import check_probe_fits, check_probe_text, run_probes
from inspector.core.prompts import WorkedExample, build_prompt, chat_prompt
from inspector.core.session import (
    BASE_MODEL_STOPS,
    SAVED_MAX_TOKENS,
    STRATEGIES,
    ReasoningPath,
    RunSettings,
    Session,
)
from inspector.core.tree import ROOT_ID
from inspector.engine import (
    GREEDY,
    Backend,
    Branch,
    CancelToken,
    GeneratedSequence,
    GenerationSettings,
    InvalidParameterError,
    SamplingSettings,
    TokenCallback,
    TokenEvent,
    TokenRecord,
)

PathCallback = Callable[[Session, ReasoningPath], None]


@dataclass(frozen=True)
class AdaptiveProgress:
    """An adaptive run between two levels: the level about to start (1: the first branches),
    the branches it decodes, the paths so far, the tokens decoded and the budget, and the
    branches the budget left out so far."""

    level: int
    branches: int
    paths: int
    tokens: int
    budget: int
    left_out: int


ProgressCallback = Callable[[Session, AdaptiveProgress], None]


@dataclass
class RunHooks:
    """Optional callbacks: every token as it is chosen, every path once it is in the tree,
    and an adaptive run's progress as each level starts."""

    on_token: TokenCallback | None = None
    on_path: PathCallback | None = None
    cancel: CancelToken | None = None
    on_progress: ProgressCallback | None = None


def validate_settings(settings: RunSettings) -> None:
    """Every setting in its range (``core/limits.py``), and the generation settings the run
    will use buildable — checked before a session exists, so nothing invalid is saved."""
    if settings.max_tokens is None:  # left to the model: each kind's default is in range
        settings = replace(settings, max_tokens=token_limit(settings))
    if settings.strategy not in STRATEGIES:
        raise InvalidParameterError(
            f"unknown strategy '{settings.strategy}' (choose from {', '.join(STRATEGIES)})"
        )
    for name, limit in RUN_LIMITS.items():
        limit.check(getattr(settings, name))
    if settings.strategy == "cot-decoding" and settings.n_alternatives < 2:
        raise InvalidParameterError("CoT-decoding needs at least 2 alternatives per token for Δ")
    if settings.strategy == "adaptive":
        check_adaptive(settings)
    greedy_settings(settings)
    sampled_settings(settings)
    if settings.answer_probe:
        check_probe_text(settings.answer_probe)


def check_adaptive(settings: RunSettings) -> None:
    """Adaptive branching takes its branches from the recorded alternatives, and the budget
    must hold the first path."""
    if settings.branch_width >= settings.n_alternatives:
        raise InvalidParameterError(
            f"adaptive branching into {settings.branch_width} alternatives needs more than "
            f"{settings.branch_width} alternatives recorded per token "
            f"(got {settings.n_alternatives}): raise alternatives or lower the branch width"
        )
    if settings.token_budget < token_limit(settings):
        raise InvalidParameterError(
            f"the token budget ({settings.token_budget}) is smaller than max tokens "
            f"({token_limit(settings)}): not even the first path fits; raise the budget"
        )


def make_prompt(
    engine: Backend,
    question: str,
    settings: RunSettings,
    examples: Sequence[WorkedExample] | None = None,
    retrieved: Sequence[WorkedExample] | None = None,
) -> str:
    """The prompt text; through the model's chat template when ``use_chat_template`` is
    True, or None (the default) and the model has one."""
    if resolve_settings(settings, engine.info()).use_chat_template:
        return chat_prompt(
            question,
            settings.prompt_style,
            engine.apply_chat_template,
            zero_shot_suffix=settings.zero_shot_suffix,
            examples=examples,
            retrieved=retrieved,
        )
    return build_prompt(
        question,
        settings.prompt_style,
        zero_shot_suffix=settings.zero_shot_suffix,
        examples=examples,
        retrieved=retrieved,
    )


def new_session(
    engine: Backend,
    question: str,
    settings: RunSettings,
    gold: str | None = None,
    examples: Sequence[WorkedExample] | None = None,
    retrieved: Sequence[WorkedExample] | None = None,
) -> Session:
    """A session with its prompt built and tokenized (raises if it does not fit).

    What ``settings`` leaves to the model (the chat template, the token limit) is decided
    here for ``engine``'s model and stored in the session's settings as used."""
    info = engine.info()
    settings = resolve_settings(settings, info)
    validate_settings(settings)
    prompt = make_prompt(engine, question, settings, examples, retrieved)
    # the template's turn markers must become the model's control tokens; a raw prompt is
    # the user's own text, so "<|im_start|>" typed into a question stays text
    tokens = engine.tokenize_prompt(prompt, special=settings.use_chat_template is True)
    check_probe_fits(engine, settings, tokens)
    model = {
        "path": info.path,
        "description": info.description,
        "n_params": info.n_params,
        "file_size": info.file_size,
        "quantization": info.quantization,
    }
    return Session(question, prompt, tokens, settings, model, gold)


def stop_strings(settings: RunSettings) -> tuple[str, ...]:
    """The stop strings a run applies. A chat-templated prompt ends on the model's own
    end-of-turn token, so the base-model stops (``\\nQ:``…) are left out; others stay."""
    if not settings.use_chat_template:
        return settings.stop
    return tuple(stop for stop in settings.stop if stop not in BASE_MODEL_STOPS)


def token_limit(settings: RunSettings) -> int:
    """The token limit of a path: a session's settings hold the resolved number; settings
    not resolved yet (``max_tokens=None``) fall back to the base-model default."""
    return SAVED_MAX_TOKENS if settings.max_tokens is None else settings.max_tokens


def greedy_settings(settings: RunSettings) -> GenerationSettings:
    return GenerationSettings(
        max_tokens=token_limit(settings),
        stop=stop_strings(settings),
        n_alternatives=settings.n_alternatives,
    )


def sampled_settings(settings: RunSettings, seed: int | None = None) -> GenerationSettings:
    sampling = SamplingSettings(
        temperature=settings.temperature,
        top_k=settings.top_k,
        top_p=settings.top_p,
        min_p=settings.min_p,
        seed=settings.seed if seed is None else seed,
    )
    return GenerationSettings(
        max_tokens=token_limit(settings),
        stop=stop_strings(settings),
        n_alternatives=settings.n_alternatives,
        sampling=sampling,
    )


def _finish(session: Session, cancel: CancelToken | None) -> Session:
    cancelled = cancel is not None and cancel.cancelled
    session.status = "cancelled" if cancelled else "complete"
    return session


def _run_branches(
    engine: Backend,
    session: Session,
    prefix: list[int],
    branches: list[Branch],
    labels: list[tuple[str, str]],
    generation: GenerationSettings,
    hooks: RunHooks,
    start_node: int | Sequence[int] = ROOT_ID,
    *,
    wheres: Sequence[dict[str, int | None]] | None = None,
    stream_as_paths: bool = False,
    **where: int | None,
) -> list[ReasoningPath]:
    """Reserve a path per branch, then fill each the moment its branch ends (saved through
    ``hooks.on_path`` while the others go on); branches cut by a cancel stay, marked.

    ``start_node`` and ``wheres`` (parent path and branch depth) may be given per branch;
    ``stream_as_paths`` streams each token under its path's id instead of its branch index
    (a run of several requests, whose branch indices start again at 0 each time)."""
    wheres = wheres or [where] * len(labels)
    paths = [
        session.reserve_path(origin, label, **place)
        for (origin, label), place in zip(labels, wheres, strict=True)
    ]
    starts = [start_node] * len(paths) if isinstance(start_node, int) else list(start_node)
    if hooks.on_path is not None and paths:
        hooks.on_path(session, paths[0])

    def finished(sequence: GeneratedSequence) -> None:
        path = paths[sequence.branch]
        session.complete_path(path, sequence, starts[sequence.branch])
        if hooks.on_path is not None:
            hooks.on_path(session, path)

    on_token = hooks.on_token
    if stream_as_paths and on_token is not None:
        forward = on_token

        def on_token(event: TokenEvent) -> None:
            forward(TokenEvent(paths[event.branch].id, event.index, event.token))

    sequences = engine.explore(prefix, branches, generation, on_token, hooks.cancel, finished)
    for path, sequence in zip(paths, sequences, strict=True):
        if path.finish_reason is None:
            finished(sequence)
    return paths


def run_strategy(engine: Backend, session: Session, hooks: RunHooks | None = None) -> Session:
    """Fill ``session`` with the paths of its strategy."""
    hooks = hooks or RunHooks()
    settings = session.settings
    prompt = session.prompt_tokens
    if settings.strategy == "adaptive":
        paths = run_adaptive(engine, session, hooks)
        _probe(engine, session, paths, hooks)
        return _finish(session, hooks.cancel)
    if settings.strategy == "greedy":
        branches, labels = [Branch()], [("greedy", "greedy")]
        generation = greedy_settings(settings)
    elif settings.strategy == "cot-decoding":
        first = engine.next_tokens(prompt, settings.k, hooks.cancel)
        branches = [Branch(forced=(alt.token_id,)) for alt in first]
        labels = [
            ("cot-decoding", first_token_label(i + 1, alt.text)) for i, alt in enumerate(first)
        ]
        generation = greedy_settings(settings)
    else:
        # The greedy path rides along in the same batch as a reference that does not vote:
        # its sequence probability against the samples' vote shows what greedy optimises.
        branches = [Branch() for _ in range(settings.samples)] + [Branch(sampling=GREEDY)]
        labels = [("sample", f"sample {i + 1}") for i in range(settings.samples)]
        labels.append(("greedy", "greedy reference"))
        generation = sampled_settings(settings)
    paths = _run_branches(engine, session, prompt, branches, labels, generation, hooks)
    _probe(engine, session, paths, hooks)
    return _finish(session, hooks.cancel)


def branch_rule(settings: RunSettings) -> BranchRule:
    return BranchRule(
        entropy=settings.branch_entropy,
        margin=settings.branch_margin,
        min_prob=settings.branch_min_prob,
        width=settings.branch_width,
    )


@dataclass(frozen=True)
class _Grown:
    """A path of an adaptive run and what its scan needs: the first position it decoded
    itself, the branch points it passed before that, and its seed key."""

    path: ReasoningPath
    start: int
    depth: int
    key: int


def run_adaptive(engine: Backend, session: Session, hooks: RunHooks) -> list[ReasoningPath]:
    """Adaptive branching (``core/adaptive.py``): the first path greedily (or sampled), then
    level by level, one request each, every branch point found on the paths of the level
    before, continued the same way. A branch starts only when the budget left holds its whole
    ``max_tokens``; the most likely branches go first. Returns every path made."""
    settings = session.settings
    rule = branch_rule(settings)
    generation = (
        sampled_settings(settings) if settings.adaptive_sample else greedy_settings(settings)
    )
    first = ("sample", "sampled path") if settings.adaptive_sample else ("greedy", "greedy path")
    prompt = session.prompt_tokens
    root = Branch(seed_key=0)
    made = _run_branches(engine, session, prompt, [root], [first], generation, hooks)
    grown = [_Grown(made[0], 0, 0, 0)]
    used, left_out, level = _tokens_of(made), 0, 1
    while grown and not _cancelled(hooks):
        planned = [branch for g in grown for branch in _plan(session, rule, g)]
        started, skipped = admit(planned, settings.token_budget - used, token_limit(settings))
        left_out += len(skipped)
        # each parent's branches by position: a boundary node found for one stays the
        # boundary when a deeper one splits the nodes below it
        started.sort(key=lambda branch: (branch.parent, branch.position))
        if not started:
            break
        if hooks.on_progress is not None:
            progress = AdaptiveProgress(
                level, len(started), len(session.paths), used, settings.token_budget, left_out
            )
            hooks.on_progress(session, progress)
        paths = _grow_level(engine, session, started, generation, hooks)
        made += paths
        used += _tokens_of(paths)
        grown = [
            _Grown(path, branch.position + 1, branch.depth, branch.key)
            for path, branch in zip(paths, started, strict=True)
            if path.finished
        ]
        level += 1
    return made


def _cancelled(hooks: RunHooks) -> bool:
    return hooks.cancel is not None and hooks.cancel.cancelled


def _tokens_of(paths: Sequence[ReasoningPath]) -> int:
    """Tokens decoded for ``paths``: a branch's own tokens, not the prefix it continues."""
    return sum(p.n_tokens - (p.branch_depth or 0) for p in paths)


def _plan(session: Session, rule: BranchRule, grown: _Grown) -> list[PlannedBranch]:
    path = grown.path
    tokens = session.path_tokens(path)
    return plan_branches(
        tokens, rule, parent=path.id, parent_key=grown.key, start=grown.start,
        end=content_end(tokens, path.text), depth=grown.depth,
        max_depth=session.settings.branch_depth,
    )  # fmt: skip


def _grow_level(
    engine: Backend,
    session: Session,
    started: Sequence[PlannedBranch],
    generation: GenerationSettings,
    hooks: RunHooks,
) -> list[ReasoningPath]:
    """One level: every started branch in one request, each continuing its parent path's
    tokens before its position (its ``context``) with its own token forced."""
    branches: list[Branch] = []
    labels: list[tuple[str, str]] = []
    starts: list[int] = []
    wheres: list[dict[str, int | None]] = []
    for planned in started:
        parent = session.paths[planned.parent]
        tokens = session.path_tokens(parent)
        context = tuple(t.token_id for t in tokens[: planned.position])
        branches.append(
            Branch(context=context, forced=(planned.token.token_id,), seed_key=planned.key)
        )
        words = token_words(planned.token.text)
        labels.append(("adaptive", f"{words} at token {planned.position} of path #{parent.id}"))
        starts.append(session.boundary_node(parent, planned.position))
        wheres.append({"parent_path": parent.id, "branch_depth": planned.position})
    return _run_branches(
        engine, session, session.prompt_tokens, branches, labels, generation, hooks, starts,
        wheres=wheres, stream_as_paths=True,
    )  # fmt: skip


def _probe(engine: Backend, session: Session, paths: list[ReasoningPath], hooks: RunHooks) -> None:
    """The answer probe (when the settings ask for it) on every path that ended, one batch;
    each probed path is saved through ``hooks.on_path`` as its probe ends."""
    stop = stop_strings(session.settings)
    run_probes(engine, session, paths, stop, cancel=hooks.cancel, on_path=hooks.on_path)


def saved_texts(session: Session, tokens: Sequence[TokenRecord]) -> list[tuple[int, str]]:
    """(token id, text) of a saved path and its alternatives: a remote backend, whose ids
    stand for texts, needs them to continue a session made by an earlier connection."""
    pairs = [(t.token_id, t.text) for t in tokens]
    pairs += [(a.token_id, a.text) for t in tokens for a in t.top]
    if len(session.prompt_tokens) == 1:
        pairs.append((session.prompt_tokens[0], session.prompt))
    return pairs


def branch_here(
    engine: Backend,
    session: Session,
    path_id: int,
    depth: int,
    alternatives: Sequence[int] | None = None,
    *,
    sample: bool = False,
    seed: int | None = None,
    hooks: RunHooks | None = None,
) -> list[ReasoningPath]:
    """Continue path ``path_id`` from token position ``depth`` with other tokens.

    ``alternatives`` are token ids to put at that position (default: every recorded top-k
    alternative except the one the path took). Each continues greedily, or by sampling.
    """
    hooks = hooks or RunHooks()
    path = session.paths[path_id]
    tokens = session.path_tokens(path)
    if not 0 <= depth < len(tokens):
        raise InvalidParameterError(f"path {path_id} has no token at position {depth}")
    taken = tokens[depth]
    if alternatives is None:
        alternatives = [a.token_id for a in taken.top if a.token_id != taken.token_id]
    if not alternatives:
        raise InvalidParameterError("no alternative token to branch with")
    start = session.boundary_node(path, depth)
    prefix = session.prompt_tokens + [t.token_id for t in tokens[:depth]]
    engine.remember_texts(saved_texts(session, tokens))
    generation = (
        sampled_settings(session.settings, seed) if sample else greedy_settings(session.settings)
    )
    branches = [Branch(forced=(token,)) for token in alternatives]
    labels = [("branch", f"branch at {depth} of path {path_id}") for _ in alternatives]
    paths = _run_branches(
        engine, session, prefix, branches, labels, generation, hooks, start,
        parent_path=path_id, branch_depth=depth,
    )  # fmt: skip
    _probe(engine, session, paths, hooks)
    return paths
