"""A real instruct model (Qwen2.5-Coder-0.5B-Instruct): chat-template prompts hold the model's
control tokens, a chat run ends on its end-of-turn token, and typed text stays text.

The chunked-model assembly is checked on small fake chunk packages, so that part costs
nothing; the model tests share one loaded engine and decode a few dozen tokens in all.
"""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from inspector.core.session import BASE_MODEL_STOPS, RunSettings
from inspector.core.strategies import greedy_settings, new_session, run_strategy, sampled_settings
from inspector.engine import DefaultModelError, Engine, default_model
from inspector.engine.default_model import CACHE_ENV, ChunkedModel, sha256_of

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"


# -- assembling a chunked model ----------------------------------------------------------------
def _fake_chunks(root: Path, prefix: str, chunks: list[bytes]) -> tuple[str, ...]:
    names = []
    for index, data in enumerate(chunks):
        name = f"{prefix}{index + 1}"
        package = root / name
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{index + 1:02d}.bin").write_bytes(data)
        names.append(name)
    return tuple(names)


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ChunkedModel, bytes]:
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"\x01\x02" * 3000, b"tail"]
    whole = b"".join(chunks)
    site = tmp_path / "site"
    names = _fake_chunks(site, f"fake_chunk_{tmp_path.name.replace('-', '_')}_p", chunks)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    whole_path = tmp_path / "whole.bin"
    whole_path.write_bytes(whole)
    model = ChunkedModel("fake.gguf", sha256_of(whole_path), len(whole), names, "install it")
    return model, whole


def test_chunks_are_concatenated_in_order_verified_and_reused(
    fake_model: tuple[ChunkedModel, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, whole = fake_model
    path = default_model.instruct_model_path(model)
    assert path.read_bytes() == whole
    assert not list(path.parent.glob("*.partial"))
    hashed: list[Path] = []

    def counting_sha256(path: Path) -> str:
        hashed.append(path)
        return model.sha256

    monkeypatch.setattr(default_model, "sha256_of", counting_sha256)
    assert default_model.instruct_model_path(model) == path
    assert hashed == []  # the stamp spares a second hash


def test_a_missing_chunk_package_is_named(fake_model: tuple[ChunkedModel, bytes]) -> None:
    model, _ = fake_model
    absent = ChunkedModel(
        model.file_name, model.sha256, model.size, (*model.packages, "no_such_chunk_p9"), "hint"
    )
    assert default_model.missing_packages(absent) == ["no-such-chunk-p9"]
    with pytest.raises(DefaultModelError, match=r"no-such-chunk-p9.*not installed; hint"):
        default_model.instruct_model_path(absent)


def test_a_wrong_chunk_is_refused_and_leaves_no_file(
    fake_model: tuple[ChunkedModel, bytes],
) -> None:
    model, whole = fake_model
    wrong = ChunkedModel(model.file_name, "0" * 64, model.size, model.packages, "reinstall")
    with pytest.raises(DefaultModelError, match=r"sha256 [0-9a-f]{64}, expected 0{64}"):
        default_model.instruct_model_path(wrong)
    short = ChunkedModel(model.file_name, model.sha256, model.size + 1, model.packages, "x")
    with pytest.raises(DefaultModelError, match=f"add up to {len(whole)} bytes"):
        default_model.instruct_model_path(short)
    assert not list(default_model.cache_dir().glob("models/*"))


def test_the_assembled_instruct_model_is_the_pinned_file(instruct_model_path: Path) -> None:
    assert instruct_model_path.stat().st_size == default_model.INSTRUCT_MODEL.size
    with instruct_model_path.open("rb") as handle:
        assert handle.read(4) == b"GGUF"
    # the stamp holds what was verified, so a later start skips the hash
    assert default_model._stamp_matches(instruct_model_path, default_model.INSTRUCT_MODEL.sha256)


# -- the chat template's control tokens --------------------------------------------------------
def _control_token(engine: Engine, text: str) -> int:
    """The id the vocabulary gives the control token ``text`` (looked up, not tokenized)."""
    vocab = engine.runtime.vocab
    for token in reversed(range(engine.runtime.n_vocab)):  # control tokens come last
        if llama_cpp.llama_vocab_get_text(vocab, token) == text.encode():
            assert llama_cpp.llama_vocab_get_attr(vocab, token) & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
            return token
    raise AssertionError(f"{text} is not in the vocabulary")


@pytest.fixture(scope="module")
def control(instruct_engine: Engine) -> dict[str, int]:
    return {text: _control_token(instruct_engine, text) for text in (IM_START, IM_END)}


def _contains(tokens: list[int], part: list[int]) -> bool:
    return any(tokens[i : i + len(part)] == part for i in range(len(tokens) - len(part) + 1))


def test_a_templated_prompt_holds_the_models_control_tokens(
    instruct_engine: Engine, control: dict[str, int]
) -> None:
    settings = RunSettings(use_chat_template=True, prompt_style="zero-shot-cot")
    session = new_session(instruct_engine, "What is 2 + 3?", settings)
    assert IM_START in session.prompt
    tokens = session.prompt_tokens
    assert tokens.count(control[IM_START]) == session.prompt.count(IM_START) >= 2
    assert tokens.count(control[IM_END]) == session.prompt.count(IM_END) >= 1
    as_text = instruct_engine.tokenize(IM_START, add_bos=False)
    assert len(as_text) > 1 and not _contains(tokens, as_text)  # no "<", "|", "im", …


def test_control_text_typed_into_a_raw_prompt_stays_text(
    instruct_engine: Engine, control: dict[str, int]
) -> None:
    question = f"What does {IM_START} mean in a prompt?"
    session = new_session(instruct_engine, question, RunSettings(use_chat_template=False))
    assert IM_START in session.prompt
    assert control[IM_START] not in session.prompt_tokens
    assert instruct_engine.detokenize(session.prompt_tokens) == session.prompt


def test_a_greedy_chat_run_ends_on_the_end_of_turn_token(
    instruct_engine: Engine, control: dict[str, int]
) -> None:
    settings = RunSettings(use_chat_template=True, max_tokens=48)
    session = new_session(instruct_engine, "What is 2 + 3? Reply with the number only.", settings)
    path = run_strategy(instruct_engine, session).paths[0]
    assert path.finish_reason == "eos", path.text
    assert 0 < path.n_tokens < settings.max_tokens
    assert "5" in path.text and IM_END not in path.text
    # the token that ended the path is the model's end-of-turn: the most likely next token
    tokens = session.prompt_tokens + [t.token_id for t in session.path_tokens(path)]
    ender = instruct_engine.next_tokens(tokens, 1)[0].token_id
    assert ender == control[IM_END]
    assert instruct_engine.runtime.is_end_of_generation(ender)


def test_the_base_model_stops_are_not_applied_with_the_chat_template() -> None:
    custom = ("\nQ:", "###")
    for settings in (RunSettings(), RunSettings(stop=custom)):
        assert greedy_settings(settings).stop == settings.stop
        assert sampled_settings(settings).stop == settings.stop
    chat = RunSettings(use_chat_template=True)
    assert greedy_settings(chat).stop == sampled_settings(chat).stop == ()
    chat_custom = RunSettings(use_chat_template=True, stop=(*BASE_MODEL_STOPS, "###"))
    assert greedy_settings(chat_custom).stop == ("###",)
