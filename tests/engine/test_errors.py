"""Every kind of bad input raises its own typed error with a clear message, never a crash."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from inspector.engine import (
    Branch,
    Engine,
    GenerationSettings,
    InvalidNumbersError,
    InvalidParameterError,
    ModelFileNotFoundError,
    ModelSettings,
    NotGGUFError,
    PromptTooLongError,
    SamplingSettings,
    TruncatedModelError,
    UnsupportedArchitectureError,
    gguf_file,
)
from tests.conftest import APPLE_PROMPT


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


def _tensor_span(path, name: str) -> tuple[int, int]:
    """(file offset, bytes) of an F32 tensor's data, read from the GGUF tensor table."""
    with path.open("rb") as handle:
        reader = gguf_file._Reader(handle, path)
        reader.take(4 + 4)
        n_tensors, n_kv = reader.scalar("<Q"), reader.scalar("<Q")
        alignment = 32
        for _ in range(n_kv):
            key, kind = reader.string(), reader.scalar("<I")
            value = reader.value(kind)
            alignment = int(value) if key == "general.alignment" else alignment
        found = None
        for _ in range(n_tensors):
            tensor = reader.string()
            dims = [reader.scalar("<Q") for _ in range(reader.scalar("<I"))]
            kind, offset = reader.scalar("<I"), reader.scalar("<Q")
            if tensor == name:
                assert kind == 0  # F32
                found = (offset, 4 * math.prod(dims))
        start = -(-handle.tell() // alignment) * alignment
    assert found is not None
    return start + found[0], found[1]


def _damaged_copy(tmp_path, model_path, tensor: str):
    """The default model with one tensor's data overwritten by 0xFF bytes (NaN as F32)."""
    offset, size = _tensor_span(model_path, tensor)
    damaged = tmp_path / "damaged.gguf"
    shutil.copyfile(model_path, damaged)
    with damaged.open("r+b") as file:
        file.seek(offset)
        file.write(b"\xff" * size)
    return damaged


def test_a_model_whose_tensors_hold_garbage_is_refused_at_load(tmp_path, model_path):
    damaged = _damaged_copy(tmp_path, model_path, "output_norm.weight")
    with pytest.raises(
        InvalidNumbersError, match=r"invalid numbers .* damaged\.gguf may be damaged"
    ):
        Engine.load(damaged, ModelSettings(n_ctx=256))


def test_invalid_logits_in_a_run_stop_it_before_any_token_is_kept(engine, monkeypatch):
    engine.forget_cache()
    decode = engine.runtime.decode
    calls = []

    def poisoned(entries, should_abort=None):
        rows = decode(entries, should_abort)
        calls.append(len(entries))
        if len(calls) == 3 and len(rows):  # a few tokens in: one row turns to NaN
            rows = rows.copy()
            rows[0, 7] = np.nan
        return rows

    monkeypatch.setattr(engine.runtime, "decode", poisoned)
    kept = []
    with pytest.raises(InvalidNumbersError, match="the model produced invalid numbers"):
        engine.explore(
            APPLE_PROMPT,
            [Branch(), Branch()],
            GenerationSettings(max_tokens=8),
            on_finish=kept.append,
        )
    assert kept == []
    monkeypatch.undo()
    engine.forget_cache()
    assert np.isfinite(engine.generate(APPLE_PROMPT, GenerationSettings(max_tokens=2)).logprob)
