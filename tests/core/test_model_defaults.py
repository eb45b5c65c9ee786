"""Defaults that fit the model (issue 11 §3): its kind, the chat template and the token limit
left to it, the note when most paths hit the limit. No model needed except the last two tests,
which only open a session on the default (base) model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inspector.core.model_defaults import DEFAULT_MAX_TOKENS, resolve_settings, token_limit_note
from inspector.core.session import BASE_MODEL_STOPS, RunSettings, Session, SessionSummary
from inspector.core.strategies import greedy_settings, new_session
from inspector.engine import ModelInfo
from inspector.engine.model_kind import ModelKind, classify_model

QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
R1_TEMPLATE = "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}"


def info(kind: ModelKind, has_chat_template: bool) -> ModelInfo:
    return ModelInfo(
        path="m.gguf", file_size=1, architecture="qwen2", description="m", n_params=1,
        n_vocab=1, context_length=1, quantization="Q4_K_M", has_chat_template=has_chat_template,
        gpu_offload_supported=False, n_gpu_layers=0, load_seconds=0.0, kind=kind,
    )  # fmt: skip


BASE, INSTRUCT, THINKING = info("base", False), info("instruct", True), info("thinking", True)


# -- the kind of a model --------------------------------------------------------------------
def test_a_model_is_base_instruct_or_thinking() -> None:
    assert classify_model(None) == "base"
    assert classify_model(QWEN_TEMPLATE) == "instruct"
    assert classify_model(R1_TEMPLATE) == "thinking"
    assert classify_model(QWEN_TEMPLATE + "{{ '<think>\\n' }}") == "thinking"
    assert classify_model(QWEN_TEMPLATE, has_think_tokens=True) == "thinking"
    assert classify_model(None, has_think_tokens=True) == "thinking"  # the vocabulary says so


# -- what a run leaves to the model ---------------------------------------------------------
def test_the_defaults_are_left_to_the_model() -> None:
    defaults = RunSettings()
    assert defaults.use_chat_template is None and defaults.max_tokens is None


@pytest.mark.parametrize(
    ("model", "template", "max_tokens"),
    [(BASE, False, 128), (INSTRUCT, True, 512), (THINKING, True, 2048)],
    ids=["base", "instruct", "thinking"],
)
def test_resolving_follows_the_model(model: ModelInfo, template: bool, max_tokens: int) -> None:
    resolved = resolve_settings(RunSettings(strategy="cot-decoding", k=4), model)
    assert (resolved.use_chat_template, resolved.max_tokens) == (template, max_tokens)
    assert DEFAULT_MAX_TOKENS[model.kind] == max_tokens
    assert replace(resolved, use_chat_template=None, max_tokens=None) == RunSettings(
        strategy="cot-decoding", k=4
    )  # nothing else changed


def test_what_the_user_chose_is_kept() -> None:
    chosen = RunSettings(use_chat_template=False, max_tokens=64)
    assert resolve_settings(chosen, INSTRUCT) is chosen
    forced = resolve_settings(RunSettings(use_chat_template=True), BASE)
    assert (forced.use_chat_template, forced.max_tokens) == (True, 128)
    limited = resolve_settings(RunSettings(max_tokens=40), THINKING)
    assert (limited.use_chat_template, limited.max_tokens) == (True, 40)


def test_unresolved_settings_run_like_a_base_model() -> None:
    """Settings not resolved yet (no model) keep the base-model stops and limit."""
    generation = greedy_settings(RunSettings())
    assert (generation.max_tokens, generation.stop) == (128, BASE_MODEL_STOPS)


def test_saved_settings_load_as_they_were_used() -> None:
    """A session saved before these could be left to the model stored numbers, or nothing
    (older still): either way it loads as what it ran with, never as "the model's"."""
    old = {"strategy": "greedy", "max_tokens": 96, "use_chat_template": True, "stop": ["\nQ:"]}
    loaded = RunSettings.from_dict(old)
    assert (loaded.max_tokens, loaded.use_chat_template, loaded.stop) == (96, True, ("\nQ:",))
    oldest = RunSettings.from_dict({"strategy": "greedy"})
    assert (oldest.max_tokens, oldest.use_chat_template) == (128, False)
    resolved = resolve_settings(RunSettings(), INSTRUCT)
    assert RunSettings.from_dict(resolved.to_dict()) == resolved


# -- the note when most paths hit the limit -------------------------------------------------
def summary(n_voting: int, n_hit_limit: int) -> SessionSummary:
    empty = Session("q?", "Q: q?\nA:", [], RunSettings(max_tokens=256), {}).summary()
    return replace(empty, n_voting=n_voting, n_hit_limit=n_hit_limit)


def test_the_note_when_most_paths_hit_the_limit() -> None:
    assert (
        token_limit_note(summary(10, 8), 256)
        == "8 of 10 paths hit the 256-token limit: raise max tokens"
    )
    assert (
        token_limit_note(summary(10, 5), 128)
        == "5 of 10 paths hit the 128-token limit: raise max tokens"
    )  # half is enough
    assert token_limit_note(summary(1, 1), 512) == (
        "1 of 1 paths hit the 512-token limit: raise max tokens"
    )


def test_no_note_when_fewer_than_half_hit_it() -> None:
    assert token_limit_note(summary(10, 4), 256) is None
    assert token_limit_note(summary(10, 0), 256) is None
    assert token_limit_note(summary(0, 0), 256) is None
    assert token_limit_note([], 256) is None


def test_an_experiments_note_adds_up_its_runs() -> None:
    runs = [summary(10, 3), summary(10, 9), summary(11, 0)]
    assert token_limit_note(runs, 512) is None  # 12 of 31
    runs.append(summary(9, 9))
    assert token_limit_note(runs, 512) == (
        "21 of 40 paths hit the 512-token limit: raise max tokens"
    )  # fmt: skip
    assert token_limit_note(iter([summary(4, 2), summary(2, 1)]), 64) == (
        "3 of 6 paths hit the 64-token limit: raise max tokens"
    )


# -- the default (base) model keeps today's prompts and limits ------------------------------
def test_the_default_model_is_a_base_model(engine) -> None:
    model = engine.info()
    assert (model.has_chat_template, model.kind) == (False, "base")


@pytest.mark.parametrize("style", ["plain", "zero-shot-cot"])
def test_the_default_model_keeps_its_raw_prompt_and_limit(engine, style: str) -> None:
    session = new_session(engine, "What is 2 + 3?", RunSettings(prompt_style=style))
    explicit = new_session(
        engine,
        "What is 2 + 3?",
        RunSettings(prompt_style=style, use_chat_template=False, max_tokens=128),
    )
    assert session.prompt == explicit.prompt and session.prompt.startswith("Q: What is 2 + 3?\nA:")
    assert session.prompt_tokens == explicit.prompt_tokens
    assert session.settings == explicit.settings  # stored as used: False, 128
    assert (session.settings.use_chat_template, session.settings.max_tokens) == (False, 128)
    generation = greedy_settings(session.settings)
    assert (generation.max_tokens, generation.stop) == (128, BASE_MODEL_STOPS)
