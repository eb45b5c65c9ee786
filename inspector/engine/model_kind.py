"""What kind of model a file holds — base, instruct or thinking — decided in one place.

- **base**: no chat template; it continues text, so the raw ``Q: … A:`` prompt fits it.
- **instruct**: a chat template; the prompt styles go through it by default.
- **thinking**: an instruct model that writes a reasoning section first — its chat template
  mentions reasoning markers (``<think>``…), or its vocabulary has ``<think>`` and
  ``</think>`` as single tokens (DeepSeek-R1 distills, Qwen3 and the like).

The run defaults that follow from the kind (the token limit) are core's:
``inspector/core/model_defaults.py``.
"""

from __future__ import annotations

from typing import Literal

ModelKind = Literal["base", "instruct", "thinking"]
MODEL_KINDS: tuple[ModelKind, ...] = ("base", "instruct", "thinking")
# Text that, in a chat template, shows the model writes a reasoning section first.
TEMPLATE_REASONING_MARKERS: tuple[str, ...] = (
    "<think>",
    "</think>",
    "<|begin_of_thought|>",
    "<seed:think>",
    "reasoning_content",
)
# The pair of tokens a thinking model's vocabulary holds as single tokens.
VOCABULARY_THINK_TOKENS: tuple[str, str] = ("<think>", "</think>")


def classify_model(chat_template: str | None, has_think_tokens: bool = False) -> ModelKind:
    """The kind of a model from its chat template (None: it has none) and whether its
    vocabulary holds ``<think>`` and ``</think>`` as single tokens."""
    template = chat_template or ""
    if has_think_tokens or any(marker in template for marker in TEMPLATE_REASONING_MARKERS):
        return "thinking"
    return "instruct" if chat_template else "base"
