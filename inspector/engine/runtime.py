"""A thin, typed wrapper over llama.cpp's low-level C API (through llama-cpp-python).

It owns one model and one context whose KV cache is *unified*: all sequence ids share the same
cells, so copying a prefix from one sequence id to another costs no memory and no compute.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import llama_cpp
import numpy as np

from inspector.engine import gguf_file, llama_log
from inspector.engine.errors import (
    ChatTemplateError,
    DecodeError,
    EngineError,
    ModelLoadError,
    TruncatedModelError,
    UnsupportedArchitectureError,
)
from inspector.engine.settings import ModelSettings

_backend_lock = threading.Lock()
_backend_ready = False


def _init_backend() -> None:
    global _backend_ready
    with _backend_lock:
        if not _backend_ready:
            llama_log.install()
            llama_cpp.llama_backend_init()
            _backend_ready = True


def gpu_offload_supported() -> bool:
    """Whether this build of llama.cpp can put layers on a GPU (CUDA, Metal, Vulkan…)."""
    _init_backend()
    return bool(llama_cpp.llama_supports_gpu_offload())


@dataclass(frozen=True)
class BatchEntry:
    """One token placed in a batch: at ``pos`` of sequence ``seq``; ``logits`` asks for its row."""

    token: int
    pos: int
    seq: int
    logits: bool


class LlamaRuntime:
    """Model + context + batch. Not thread-safe: use it from one thread at a time."""

    def __init__(self, path: Path, settings: ModelSettings) -> None:
        _init_backend()
        self.path = Path(path)
        self.settings = settings
        gguf_file.check_magic(self.path)
        self._model = _load_model(self.path, settings)
        self._abort_requested: Callable[[], bool] = lambda: False
        self._abort_cb = llama_cpp.ggml_abort_callback(lambda _data: self._abort_requested())
        try:
            self._ctx = _new_context(self._model, settings, self._abort_cb)
        except EngineError:
            llama_cpp.llama_model_free(self._model)
            raise
        self.vocab = llama_cpp.llama_model_get_vocab(self._model)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self.n_ctx = int(llama_cpp.llama_n_ctx(self._ctx))
        # llama.cpp may round the context up and clamp the batch to it: use what it chose.
        self.n_batch = int(llama_cpp.llama_n_batch(self._ctx))
        self.min_rows = settings.min_batch_rows
        # the last sequence id is the padding's scratch sequence (ModelSettings.min_batch_rows)
        n_seq = int(llama_cpp.llama_n_seq_max(self._ctx))
        self._scratch_seq = n_seq - 1 if self.min_rows > 1 else None
        self.n_seq_max = n_seq - 1 if self.min_rows > 1 else n_seq
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self._pieces: dict[int, bytes] = {}
        self._closed = False

    # -- model facts -------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        buffer = ctypes.create_string_buffer(512)
        size = llama_cpp.llama_model_meta_val_str(self._model, key.encode(), buffer, 512)
        return buffer.value.decode("utf-8", "replace") if size >= 0 else None

    def description(self) -> str:
        buffer = ctypes.create_string_buffer(256)
        llama_cpp.llama_model_desc(self._model, buffer, 256)
        return buffer.value.decode("utf-8", "replace")

    def n_params(self) -> int:
        return int(llama_cpp.llama_model_n_params(self._model))

    def n_ctx_train(self) -> int:
        return int(llama_cpp.llama_model_n_ctx_train(self._model))

    def chat_template(self) -> str | None:
        template = llama_cpp.llama_model_chat_template(self._model, None)
        return template.decode("utf-8", "replace") if template else None

    def apply_chat_template(self, messages: Sequence[dict[str, str]]) -> str:
        """Render chat messages with the model's own template (llama.cpp's built-in renderer)."""
        template = llama_cpp.llama_model_chat_template(self._model, None)
        if not template:
            raise ChatTemplateError(
                f"{self.path.name} has no chat template; use the raw prompt format"
            )
        encoded = [(m["role"].encode(), m["content"].encode()) for m in messages]
        chat = (llama_cpp.llama_chat_message * len(encoded))(
            *[llama_cpp.llama_chat_message(role, content) for role, content in encoded]
        )
        size = sum(len(r) + len(c) for r, c in encoded) * 2 + 256
        for _ in range(2):
            buffer = ctypes.create_string_buffer(size)
            needed = llama_cpp.llama_chat_apply_template(
                template, chat, len(encoded), True, buffer, size
            )
            if needed < 0:
                raise ChatTemplateError("llama.cpp does not support this model's chat template")
            if needed <= size:
                return buffer.raw[:needed].decode("utf-8", "replace")
            size = needed
        raise ChatTemplateError("the chat template produced no text")

    def is_end_of_generation(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    # -- text <-> tokens ---------------------------------------------------------------------
    def tokenize(self, text: str, *, add_bos: bool = True, special: bool = False) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 8
        buffer = (llama_cpp.llama_token * capacity)()
        count = llama_cpp.llama_tokenize(
            self.vocab, data, len(data), buffer, capacity, add_bos, special
        )
        if count < 0:
            buffer = (llama_cpp.llama_token * -count)()
            count = llama_cpp.llama_tokenize(
                self.vocab, data, len(data), buffer, -count, add_bos, special
            )
        return list(buffer[:count])

    def piece(self, token: int) -> bytes:
        """The raw bytes a token stands for (byte-fallback tokens give single bytes)."""
        cached = self._pieces.get(token)
        if cached is None:
            buffer = ctypes.create_string_buffer(64)
            size = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, 64, 0, False)
            if size < 0:
                buffer = ctypes.create_string_buffer(-size)
                size = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, -size, 0, False)
            cached = buffer.raw[:size]
            self._pieces[token] = cached
        return cached

    # -- KV cache ----------------------------------------------------------------------------
    def seq_remove(self, seq: int, start: int = -1, end: int = -1) -> bool:
        return bool(llama_cpp.llama_memory_seq_rm(self._memory, seq, start, end))

    def seq_copy(self, src: int, dst: int, start: int = -1, end: int = -1) -> None:
        llama_cpp.llama_memory_seq_cp(self._memory, src, dst, start, end)

    def clear_memory(self) -> None:
        llama_cpp.llama_memory_clear(self._memory, True)

    # -- evaluation --------------------------------------------------------------------------
    def decode(
        self, entries: Sequence[BatchEntry], should_abort: Callable[[], bool] | None = None
    ) -> np.ndarray:
        """Evaluate one batch; return the logit rows asked for, in entry order (a view).

        The view is only valid until the next call. Returns ``None``-free empty array when no
        rows were asked for. Raises :class:`DecodeError` on failure; an abort returns early
        with the cache rolled back to what llama.cpp kept, signalled by ``InterruptedError``.
        A batch of fewer than ``min_rows`` entries is padded with rows of the scratch sequence
        (removed again), so that every row is computed the same way (ModelSettings).
        """
        if len(entries) > self.n_batch:
            raise DecodeError(f"batch of {len(entries)} exceeds the batch size {self.n_batch}")
        scratch = self._scratch_seq
        if scratch is None or not 0 < len(entries) < self.min_rows:
            return self._decode(entries, should_abort)
        padding = [
            BatchEntry(entries[0].token, pos, scratch, False)
            for pos in range(self.min_rows - len(entries))
        ]
        try:
            return self._decode([*entries, *padding], should_abort)
        finally:
            self.seq_remove(scratch)

    def _decode(
        self, entries: Sequence[BatchEntry], should_abort: Callable[[], bool] | None
    ) -> np.ndarray:
        batch = self._batch
        batch.n_tokens = len(entries)
        for index, entry in enumerate(entries):
            batch.token[index] = entry.token
            batch.pos[index] = entry.pos
            batch.n_seq_id[index] = 1
            batch.seq_id[index][0] = entry.seq
            batch.logits[index] = entry.logits
        self._abort_requested = should_abort or (lambda: False)
        try:
            status = llama_cpp.llama_decode(self._ctx, batch)
        finally:
            self._abort_requested = lambda: False
        if status == 2:
            raise InterruptedError("decoding was cancelled")
        if status != 0:
            raise DecodeError(_decode_failure(status))
        n_rows = sum(1 for entry in entries if entry.logits)
        if n_rows == 0:
            return np.empty((0, self.n_vocab), dtype=np.float32)
        pointer = llama_cpp.llama_get_logits(self._ctx)
        return np.ctypeslib.as_array(pointer, shape=(n_rows, self.n_vocab))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        llama_cpp.llama_batch_free(self._batch)
        llama_cpp.llama_free(self._ctx)
        llama_cpp.llama_model_free(self._model)

    def __del__(self) -> None:
        if sys.is_finalizing():  # llama.cpp's globals may already be gone
            return
        with contextlib.suppress(Exception):
            self.close()


def _decode_failure(status: int) -> str:
    if status == 1:
        return "the context is full: no KV cache slot left for this batch (increase the context)"
    return f"llama.cpp failed to evaluate the batch (llama_decode returned {status})"


def _load_model(path: Path, settings: ModelSettings) -> llama_cpp.llama_model_p:
    params = llama_cpp.llama_model_default_params()
    params.n_gpu_layers = 999 if settings.n_gpu_layers == -1 else settings.n_gpu_layers
    # Repacked CPU weight layouts round differently for one-token and multi-token batches
    # (0.15 nats apart on Gemma 3 270M); the plain layout keeps batched and single decoding
    # within 0.05 nats at the same speed here.
    params.use_extra_bufts = False
    marker = llama_log.mark()
    model = llama_cpp.llama_model_load_from_file(str(path).encode("utf-8"), params)
    if not model:
        raise _explain_load_failure(path, llama_log.lines_since(marker))
    return model


def _explain_load_failure(path: Path, log_lines: list[str]) -> EngineError:
    """Turn llama.cpp's refusal into the most specific typed error we can justify."""
    header = gguf_file.read_header(path)  # raises TruncatedModelError / NotGGUFError itself
    log = "\n".join(log_lines).lower()
    if "unknown model architecture" in log or "unsupported model architecture" in log:
        return UnsupportedArchitectureError(
            f"{path.name}: this llama.cpp build cannot run the architecture "
            f"'{header.architecture or 'unknown'}'"
        )
    if "not within the file bounds" in log or "failed to read" in log or "truncated" in log:
        return TruncatedModelError(f"{path} is truncated: its tensor data ends early")
    reason = next((line for line in reversed(log_lines) if "error" in line.lower()), "")
    detail = f": {reason.strip()}" if reason else ""
    return ModelLoadError(f"llama.cpp could not load {path.name}{detail}")


def _new_context(model, settings: ModelSettings, abort_cb) -> llama_cpp.llama_context_p:
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = settings.n_ctx
    params.n_batch = settings.n_batch
    params.n_ubatch = settings.n_batch
    # one more sequence when batches are padded: the padding's scratch sequence
    params.n_seq_max = min(256, settings.n_seq_max + (settings.min_batch_rows > 1))
    params.n_threads = settings.n_threads
    params.n_threads_batch = settings.n_threads
    params.flash_attn_type = 1 if settings.flash_attention else 0
    params.kv_unified = True
    params.swa_full = True  # keep every position so any prefix can be shared and reused
    params.no_perf = True
    params.abort_callback = abort_cb
    marker = llama_log.mark()
    ctx = llama_cpp.llama_init_from_model(model, params)
    if not ctx:
        reason = " ".join(llama_log.lines_since(marker)[-2:]).strip()
        raise ModelLoadError(
            f"llama.cpp could not create a context of {settings.n_ctx} tokens {reason}"
        )
    return ctx
