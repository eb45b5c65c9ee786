"""Run defaults that fit the model, and the note when a run's token limit was too small.

A :class:`~inspector.core.session.RunSettings` may leave two settings to the model:
``use_chat_template=None`` (use the model's chat template if it has one) and
``max_tokens=None`` (the default limit of the model's kind, :data:`DEFAULT_MAX_TOKENS`).
:func:`resolve_settings` turns them into the values a run uses; ``new_session`` stores those,
so a saved session records what was actually used.

The limits come from a measurement (README, "Defaults that fit the model"): a base model's
``Q: … A:`` answer is a sentence or two; Qwen2.5-Coder-0.5B-Instruct's greedy zero-shot chain
of thought through its chat template took 134–208 tokens on 12 grade-school questions (512
leaves room for CoT-decoding's and sampling's longer paths); a thinking model writes its
``<think>`` section first, often a thousand tokens or more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from inspector.core.session import RunSettings, SessionSummary
from inspector.engine.backend import ModelInfo
from inspector.engine.model_kind import ModelKind

DEFAULT_MAX_TOKENS: dict[ModelKind, int] = {"base": 128, "instruct": 512, "thinking": 2048}


def resolve_settings(settings: RunSettings, info: ModelInfo) -> RunSettings:
    """``settings`` with what it leaves to the model decided for ``info``'s model: the chat
    template when the model has one, and the token limit of the model's kind. Settings that
    are already decided come back unchanged (the same object)."""
    template = settings.use_chat_template
    max_tokens = settings.max_tokens
    if template is not None and max_tokens is not None:
        return settings
    return replace(
        settings,
        use_chat_template=info.has_chat_template if template is None else template,
        max_tokens=DEFAULT_MAX_TOKENS[info.kind] if max_tokens is None else max_tokens,
    )


def token_limit_note(
    summaries: SessionSummary | Iterable[SessionSummary], max_tokens: int
) -> str | None:
    """The sentence "8 of 10 paths hit the 256-token limit: raise max tokens" when at least
    half of the voting paths (of one run, or of all the runs given) were cut by the limit
    (or the context); None when fewer did."""
    if isinstance(summaries, SessionSummary):
        summaries = [summaries]
    hit = voting = 0
    for summary in summaries:
        hit += summary.n_hit_limit
        voting += summary.n_voting
    if hit == 0 or 2 * hit < voting:
        return None
    return f"{hit} of {voting} paths hit the {max_tokens}-token limit: raise max tokens"
