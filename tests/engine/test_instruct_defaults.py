"""On the real instruct model (Qwen2.5-Coder-0.5B-Instruct), with no template flag: the chat
template and the instruct token limit are used and stored, a path ends on end-of-turn;
``--no-chat-template`` gives the raw prompt; an experiment is found again whether its settings
name these values or leave them to the model. Each run decodes a handful of tokens."""

from __future__ import annotations

import json
from pathlib import Path

import llama_cpp

from inspector.cli import main
from inspector.core.datasets import Dataset, DatasetQuestion
from inspector.core.model_defaults import DEFAULT_MAX_TOKENS
from inspector.core.session import RunSettings
from inspector.core.strategies import greedy_settings
from inspector.engine import Engine
from inspector.service import run_and_save
from inspector.service.experiments import open_experiment

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
SHORT = "What is 2 + 3? Reply with the number only."
LONG = "Explain step by step how to add 17 and 25."


def control_id(engine: Engine, text: str) -> int:
    """The model's own control token for ``text`` (and check that it is one)."""
    ids = engine.tokenize(text, add_bos=False, special=True)
    assert len(ids) == 1
    attr = llama_cpp.llama_vocab_get_attr(engine.runtime.vocab, ids[0])
    assert attr & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
    return ids[0]


def test_the_instruct_model_is_classified_instruct(instruct_engine: Engine) -> None:
    model = instruct_engine.info()
    assert (model.has_chat_template, model.kind) == (True, "instruct")


def test_a_default_run_uses_the_template_and_ends_on_end_of_turn(
    instruct_engine: Engine, store
) -> None:
    session = run_and_save(store, instruct_engine, SHORT, RunSettings())
    saved = store.load_session(session.id)
    assert saved.settings.use_chat_template is True
    assert saved.settings.max_tokens == DEFAULT_MAX_TOKENS["instruct"] == 512
    assert saved.prompt.startswith(IM_START) and saved.prompt.count(IM_START) >= 2
    assert saved.prompt_tokens.count(control_id(instruct_engine, IM_START)) >= 2
    assert greedy_settings(saved.settings).stop == ()  # no "\nQ:": end-of-turn ends it
    path = saved.paths[0]
    assert path.finish_reason == "eos", path.text
    assert 0 < path.n_tokens < 16 and IM_END not in path.text
    ended = saved.prompt_tokens + [t.token_id for t in saved.path_tokens(path)]
    assert instruct_engine.next_tokens(ended, 1)[0].token_id == control_id(instruct_engine, IM_END)
    assert path.answer == "5"


def cli_run(capsys, model: Path, db: Path, *flags: str, question: str = SHORT) -> tuple[dict, str]:
    argv = ["run", question, "--model", str(model), "--db", str(db), "--json", *flags]
    assert main(argv) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_no_chat_template_gives_the_raw_prompt(capsys, instruct_model_path: Path, tmp_path) -> None:
    out, err = cli_run(
        capsys, instruct_model_path, tmp_path / "s.db",
        "--no-chat-template", "--max-tokens", "4", question=LONG,
    )  # fmt: skip
    assert out["prompt"] == f"Q: {LONG}\nA:"
    assert (out["settings"]["use_chat_template"], out["settings"]["max_tokens"]) == (False, 4)
    assert out["paths"][0]["finish_reason"] == "length"
    assert "inspector: note: 1 of 1 paths hit the 4-token limit: raise max tokens" in err


def test_an_experiment_is_found_by_what_its_runs_use(instruct_engine: Engine, store) -> None:
    data = Dataset("tiny", Path("tiny.jsonl"), [DatasetQuestion(0, SHORT, "5", None, None)])
    default = open_experiment(store, data, RunSettings(), instruct_engine)
    named = RunSettings(use_chat_template=True, max_tokens=512)
    assert open_experiment(store, data, named, instruct_engine) == default
    raw = open_experiment(store, data, RunSettings(use_chat_template=False), instruct_engine)
    assert raw != default
    longer = open_experiment(store, data, RunSettings(max_tokens=1024), instruct_engine)
    assert longer not in (default, raw)
    assert open_experiment(store, data, RunSettings(use_chat_template=False), instruct_engine) == (
        raw
    )


def test_a_greedy_chat_run_finds_its_boxed_answer(instruct_engine: Engine, store) -> None:
    """Issue 11 §4: a templated greedy run ends on end-of-turn and its answer is found by
    the auto rule's first step, the last \\boxed{}."""
    question = "What is 2 + 3? Put your final answer within \\boxed{}."
    session = run_and_save(store, instruct_engine, question, RunSettings(max_tokens=48))
    path = store.load_session(session.id).paths[0]
    assert path.finish_reason == "eos", path.text
    assert "\\boxed{" in path.text
    assert (path.answer, path.answer_rule, path.completed) == ("5", "boxed", True)


def test_cot_decoding_branches_cut_by_the_limit_neither_answer_nor_vote(
    instruct_engine: Engine, store
) -> None:
    """Issue 11 §4: a CoT-decoding run whose branches are cut by the token limit mid-reasoning
    gives a cut branch no answer from its last number, and such a branch does not vote."""
    question = "Tom has 17 apples and buys 25 more, then gives 9 away. How many are left?"
    settings = RunSettings(
        strategy="cot-decoding", k=4, max_tokens=20, prompt_style="zero-shot-cot"
    )
    session = run_and_save(store, instruct_engine, question, settings)
    loaded = store.load_session(session.id)
    cut = [p for p in loaded.paths if p.finish_reason == "length"]
    assert cut, "no branch was cut by the limit: nothing to check"
    with_numbers = [p for p in cut if any(c.isdigit() for c in p.text)]
    assert with_numbers, "no cut branch wrote a number: the last-number rule is not tested"
    for path in cut:
        assert not path.completed
        # only an explicit marker may answer a cut path, never the last number it wrote
        assert path.answer is None or path.answer_rule in ("boxed", "gsm8k", "answer-is")
    summary = loaded.summary()
    answered = [p for p in loaded.paths if p.answer is not None]
    assert sum(summary.votes.values()) == len(answered) < len(loaded.paths)
    assert summary.n_hit_limit == len(cut) and summary.n_answered == len(answered)
