"""The strategy runs whose engine calls ``tests/core/data/strategies/recording.json`` holds:
the real default model's answers, replayed by :class:`tests.core.strategies_backend.
RecordedBackend` in the fast tests (``tests/core/test_strategies_recorded.py``).

Each scenario is a function of a backend: run on the real engine through a
:class:`~tests.core.strategies_backend.RecordingBackend` it records, run on the replay it gives
the fast tests the same session (the hooks they pass change no request). After a change to the
model, the engine or a scenario, record again (every scenario, or those named)::

    .venv/bin/python -m tests.core.strategies_recording [SCENARIO ...]

``test_the_recording_is_what_the_default_model_returns`` (and its instruct-model twin, for
``instruct.json``), model-marked, fail while a recording and its model disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector.core.prompts import WorkedExample
from inspector.core.session import RunSettings, Session
from inspector.core.strategies import RunHooks, branch_here, new_session, run_strategy
from tests.conftest import APPLE_PROMPT
from tests.core.strategies_backend import (
    Call,
    RecordedBackend,
    RecordingBackend,
    load_recording,
    save_recording,
)

RECORDING = Path(__file__).parent / "data" / "strategies" / "recording.json"
INSTRUCT_RECORDING = RECORDING.with_name("instruct.json")
QUESTION = APPLE_PROMPT.removeprefix("Q: ").removesuffix("\nA:")
GOLD = "5"

# every setting a run hands to the engine away from its default, so that each can be told
GREEDY = RunSettings(
    strategy="greedy", max_tokens=20, n_alternatives=4, temperature=0.8, top_k=20, top_p=0.9,
    min_p=0.02, seed=5, stop=("\nQ:", "\n\n\n", "\nA:"), use_chat_template=False,
)  # fmt: skip
BRANCH_DEPTH = 1  # greedy's " 3 apples" (" ", "3", " apples"): branch at the "3"
BRANCH_SAMPLED_SEED = 9
COT = RunSettings(strategy="cot-decoding", k=4, max_tokens=24, n_alternatives=3,
                  use_chat_template=False)  # fmt: skip
SELF_CONSISTENCY = RunSettings(
    strategy="self-consistency", samples=4, temperature=0.9, top_k=40, top_p=0.9, min_p=0.05,
    seed=3, max_tokens=24, use_chat_template=False,
)  # fmt: skip
ADAPTIVE = RunSettings(
    strategy="adaptive", max_tokens=16, branch_entropy=2.5, branch_margin=0.1,
    branch_min_prob=0.05, branch_width=2, branch_depth=2, token_budget=100,
    use_chat_template=False,
)  # fmt: skip
ADAPTIVE_SAMPLED = RunSettings(
    strategy="adaptive", adaptive_sample=True, temperature=0.7, top_p=0.95, seed=4,
    max_tokens=12, branch_entropy=2.0, branch_margin=0.15, branch_min_prob=0.1, branch_width=1,
    branch_depth=2, token_budget=60, use_chat_template=False,
)  # fmt: skip
PROBE = RunSettings(strategy="cot-decoding", k=3, max_tokens=16, answer_probe="So the answer is",
                    probe_tokens=5, stop=("\nQ:", "\n\n"), use_chat_template=False)  # fmt: skip
ADAPTIVE_PROBE = RunSettings(
    strategy="adaptive", max_tokens=12, branch_width=1, branch_depth=1, token_budget=60,
    answer_probe="So the answer is", probe_tokens=4, use_chat_template=False,
)  # fmt: skip
EXAMPLES = [WorkedExample("What is 1 + 1?", "1 + 1 = 2.", "2")]
RETRIEVED = [WorkedExample("What is 2 + 2?", "2 + 2 = 4.", "4")]
PROMPTS = {
    "zero-shot-cot": RunSettings(prompt_style="zero-shot-cot", zero_shot_suffix="Reason first.",
                                 max_tokens=8, use_chat_template=False),
    "few-shot-cot": RunSettings(prompt_style="few-shot-cot", max_tokens=8,
                                use_chat_template=False),
    "analogical": RunSettings(prompt_style="analogical", max_tokens=8, use_chat_template=False),
    "chat": RunSettings(prompt_style="zero-shot-cot", zero_shot_suffix="Reason first.",
                        max_tokens=8, use_chat_template=True),
    "chat-few-shot": RunSettings(prompt_style="few-shot-cot", max_tokens=8,
                                 use_chat_template=True),
    "chat-analogical": RunSettings(prompt_style="analogical", max_tokens=8,
                                   use_chat_template=True),
}  # fmt: skip
# left to the model: the instruct model's chat template and its kind's token limit
INSTRUCT_CHAT = RunSettings(prompt_style="zero-shot-cot", zero_shot_suffix="Reason first.")


def run(backend: Any, settings: RunSettings, hooks: RunHooks | None = None) -> Session:
    session = new_session(backend, QUESTION, settings, gold=GOLD)
    return run_strategy(backend, session, hooks)


def greedy_and_branches(backend: Any, hooks: RunHooks | None = None) -> Session:
    """Greedy, then branch here at :data:`BRANCH_DEPTH` into every other recorded token
    (greedy continuations), then into the third most likely one sampled."""
    session = run(backend, GREEDY, hooks)
    branch_here(backend, session, 0, BRANCH_DEPTH, hooks=hooks)
    third = session.path_tokens(session.paths[0])[BRANCH_DEPTH].top[2].token_id
    branch_here(
        backend, session, 0, BRANCH_DEPTH, [third], sample=True, seed=BRANCH_SAMPLED_SEED,
        hooks=hooks,
    )  # fmt: skip
    return session


def probe_and_branch(backend: Any, hooks: RunHooks | None = None) -> Session:
    """CoT-decoding with the answer probe, then branch here on the first path's "3" into its
    second most likely token (probed too)."""
    session = run(backend, PROBE, hooks)
    second = session.path_tokens(session.paths[0])[BRANCH_DEPTH].top[1].token_id
    branch_here(backend, session, 0, BRANCH_DEPTH, [second], hooks=hooks)
    return session


CONTROL_QUESTION = "What is <start_of_turn> 2 + 3?"


def control_text(backend: Any) -> tuple[Session, list[int]]:
    """A raw prompt holding a control token's text, and that prompt tokenized as control
    tokens (what a raw prompt must not become)."""
    settings = RunSettings(max_tokens=8, use_chat_template=False)
    session = new_session(backend, CONTROL_QUESTION, settings)
    return session, backend.tokenize_prompt(session.prompt, special=True)


def prompts(backend: Any) -> dict[str, Any]:
    """The sessions of :data:`PROMPTS` (no run); the chat template's error for the default
    model, which has none."""
    made: dict[str, Any] = {}
    for name, settings in PROMPTS.items():
        try:
            made[name] = new_session(backend, QUESTION, settings, examples=EXAMPLES,
                                     retrieved=RETRIEVED)  # fmt: skip
        except Exception as error:  # the recorded error is the answer
            made[name] = error
    return made


def instruct_chat(backend: Any) -> tuple[Session, list[int]]:
    """A session through the instruct model's chat template, and its prompt tokenized as plain
    text (what a templated prompt must not become)."""
    session = new_session(backend, QUESTION, INSTRUCT_CHAT)
    return session, backend.tokenize_prompt(session.prompt, special=False)


SCENARIOS: dict[str, Callable[[Any], Any]] = {
    "greedy": greedy_and_branches,
    "cot-decoding": lambda backend: run(backend, COT),
    "self-consistency": lambda backend: run(backend, SELF_CONSISTENCY),
    "adaptive": lambda backend: run(backend, ADAPTIVE),
    "adaptive-sampled": lambda backend: run(backend, ADAPTIVE_SAMPLED),
    "probe": lambda backend: probe_and_branch(backend),
    "control-text": lambda backend: control_text(backend),
    "prompts": prompts,
    "adaptive-probe": lambda backend: run(backend, ADAPTIVE_PROBE),
}
# on Qwen2.5-Coder-0.5B-Instruct (the ``instruct-model`` extra), in INSTRUCT_RECORDING
INSTRUCT_SCENARIOS: dict[str, Callable[[Any], Any]] = {"instruct-chat": instruct_chat}


def record(engine: Any, scenarios: dict[str, Callable[[Any], Any]]) -> dict[str, list[Call]]:
    """Each of ``scenarios`` on the real ``engine``, each from an empty cache."""
    recorded: dict[str, list[Call]] = {}
    for name, scenario in scenarios.items():
        engine.forget_cache()
        backend = RecordingBackend(engine)
        scenario(backend)
        recorded[name] = backend.calls
    return recorded


def replay(name: str) -> RecordedBackend:
    """A backend that answers scenario ``name``'s calls as the model did."""
    data = recording(INSTRUCT_RECORDING if name in INSTRUCT_SCENARIOS else RECORDING)
    return RecordedBackend(data["scenarios"][name], data["n_ctx"])


_CACHE: dict[Path, Any] = {}


def recording(path: Path = RECORDING) -> dict[str, Any]:
    if path not in _CACHE:
        _CACHE[path] = load_recording(path)
    return _CACHE[path]


def main(names: list[str]) -> None:
    """Record the scenarios ``names`` (all of them when none is named) into the files."""
    from inspector.engine import Engine, ModelSettings, default_model
    from inspector.engine.default_model import INSTRUCT_MODEL, default_model_path

    models = [
        (RECORDING, SCENARIOS, default_model_path),
        (INSTRUCT_RECORDING, INSTRUCT_SCENARIOS,
         lambda: default_model.instruct_model_path(INSTRUCT_MODEL)),
    ]  # fmt: skip
    for path, scenarios, model_path in models:
        chosen = {n: f for n, f in scenarios.items() if not names or n in names}
        if not chosen:
            continue
        # the settings of tests/conftest.py's engine fixtures
        with Engine.load(model_path(), ModelSettings(n_ctx=4096, n_seq_max=17)) as engine:
            kept = load_recording(path)["scenarios"] if names and path.exists() else {}
            made = record(engine, chosen)
            ordered = {n: made.get(n, kept.get(n)) for n in scenarios if n in made or n in kept}
            save_recording(path, engine.info().to_dict(), engine.n_ctx, ordered)
        print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
