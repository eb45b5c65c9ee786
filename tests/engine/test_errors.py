"""Every kind of bad input raises its own typed error with a clear message, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.engine import (
    Branch,
    Engine,
    GenerationSettings,
    InvalidParameterError,
    ModelFileNotFoundError,
    ModelSettings,
    NotGGUFError,
    PromptTooLongError,
    SamplingSettings,
    TruncatedModelError,
    UnsupportedArchitectureError,
)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileNotFoundError, match="not found"):
        Engine.load(tmp_path / "nope.gguf")


def test_a_directory_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileNotFoundError, match="not a file"):
        Engine.load(tmp_path)


def test_not_gguf(tmp_path):
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("these are my notes, not a model")
    with pytest.raises(NotGGUFError, match="not a GGUF"):
        Engine.load(bogus)


def test_truncated_default_model(tmp_path, model_path):
    cut = tmp_path / "cut.gguf"
    with model_path.open("rb") as source:
        cut.write_bytes(source.read(5_000_000))
    with pytest.raises(TruncatedModelError, match="truncated"):
        Engine.load(cut)


def test_truncated_inside_the_header(tmp_path, model_path):
    cut = tmp_path / "header.gguf"
    with model_path.open("rb") as source:
        cut.write_bytes(source.read(40))
    with pytest.raises(TruncatedModelError, match="truncated"):
        Engine.load(cut)


def _tiny_gguf(path, architecture: str) -> None:
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_block_count(1)
    writer.add_context_length(64)
    writer.add_embedding_length(8)
    writer.add_tensor("token_embd.weight", np.zeros((16, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_unknown_architecture(tmp_path):
    model = tmp_path / "alien.gguf"
    _tiny_gguf(model, "alienformer")
    with pytest.raises(UnsupportedArchitectureError, match="alienformer"):
        Engine.load(model)


def test_prompt_longer_than_the_context(model_path):
    with (
        Engine.load(model_path, ModelSettings(n_ctx=256)) as small,
        pytest.raises(PromptTooLongError, match=f"context holds {small.n_ctx}"),
    ):
        small.generate("word " * 1000)


def test_forced_tokens_that_overflow_the_context(model_path):
    with (
        Engine.load(model_path, ModelSettings(n_ctx=256)) as small,
        pytest.raises(PromptTooLongError),
    ):
        small.explore("Hi", [Branch(forced=(100,) * (small.n_ctx + 1))])


def test_generation_stops_at_a_full_context(model_path):
    with Engine.load(model_path, ModelSettings(n_ctx=256)) as small:
        prompt = small.tokenize("Count: 1 2 3")
        path = small.generate(prompt, GenerationSettings(max_tokens=1000, ignore_eos=True))
        assert path.finish_reason == "context"
        assert len(prompt) + len(path.tokens) == small.n_ctx + 1


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: GenerationSettings(n_alternatives=0), "between 1 and 20"),
        (lambda: GenerationSettings(n_alternatives=21), "between 1 and 20"),
        (lambda: GenerationSettings(max_tokens=0), "max tokens"),
        (lambda: GenerationSettings(stop=("",)), "stop strings"),
        (lambda: SamplingSettings(temperature=-0.5), "temperature"),
        (lambda: SamplingSettings(top_p=0.0), "top-p"),
        (lambda: SamplingSettings(top_p=1.5), "top-p"),
        (lambda: SamplingSettings(min_p=1.0), "min-p"),
        (lambda: SamplingSettings(top_k=-1), "top-k"),
        (lambda: SamplingSettings(seed=-3), "seed"),
        (lambda: ModelSettings(n_ctx=0), "context length"),
        (lambda: ModelSettings(n_threads=0), "threads"),
        (lambda: ModelSettings(n_seq_max=1), "sequences"),
    ],
)
def test_invalid_parameters(build, message):
    with pytest.raises(InvalidParameterError, match=message):
        build()


def test_empty_prompt_and_bad_token_ids(engine):
    with pytest.raises(InvalidParameterError, match="empty"):
        engine.explore([], [Branch()])
    with pytest.raises(InvalidParameterError, match="outside the vocabulary"):
        engine.explore("Hi", [Branch(forced=(engine.runtime.n_vocab + 5,))])
