"""The engine a caller uses: load a model, tokenize, and explore reasoning trees."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from inspector.engine.backend import Branch, FinishCallback, ModelInfo, TokenCallback
from inspector.engine.cancel import CancelToken
from inspector.engine.default_model import resolve_model_path
from inspector.engine.errors import PromptTooLongError
from inspector.engine.explorer import TreeExplorer
from inspector.engine.model_kind import VOCABULARY_THINK_TOKENS, ModelKind, classify_model
from inspector.engine.records import Alternative, GeneratedSequence
from inspector.engine.runtime import LlamaRuntime, gpu_offload_supported
from inspector.engine.settings import GenerationSettings, ModelSettings

# llama.cpp's enum llama_ftype, for the quantisation names people know.
_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
}  # fmt: skip


def _has_think_tokens(runtime: LlamaRuntime) -> bool:
    """The vocabulary holds ``<think>`` and ``</think>`` as single (special) tokens."""
    return all(
        len(runtime.tokenize(marker, add_bos=False, special=True)) == 1
        for marker in VOCABULARY_THINK_TOKENS
    )


class Engine:
    """One loaded model, a :class:`~inspector.engine.backend.Backend` on llama.cpp. Calls are
    serialised by a lock, so a GUI worker and a caller on another thread cannot interleave
    batches on the same context."""

    def __init__(self, runtime: LlamaRuntime, load_seconds: float) -> None:
        self.runtime = runtime
        self.explorer = TreeExplorer(runtime, default_seed=runtime.settings.seed)
        self.load_seconds = load_seconds
        self.notices: list[str] = []  # what a backend could not provide (none, locally)
        self.can_force_text = True  # every token is scored, forced or not
        self._lock = threading.RLock()
        self.kind: ModelKind = classify_model(runtime.chat_template(), _has_think_tokens(runtime))

    @classmethod
    def load(cls, path: str | Path | None = None, settings: ModelSettings | None = None) -> Engine:
        """Load ``path`` (or ``$INSPECTOR_MODEL``, or the default model).

        One token is evaluated before the engine is handed out, so a file whose tensors hold
        garbage (NaN logits) is refused here, with InvalidNumbersError, not in the first run.
        """
        started = time.perf_counter()
        runtime = LlamaRuntime(resolve_model_path(path), settings or ModelSettings())
        engine = cls(runtime, time.perf_counter() - started)
        try:
            engine._check_numbers()
        except BaseException:
            engine.close()
            raise
        return engine

    def _check_numbers(self) -> None:
        first = self.runtime.tokenize("", add_bos=True)[:1] or [0]
        with self._lock:
            self.explorer.next_token_distribution(first, 1)
            self.explorer.forget()

    @property
    def n_ctx(self) -> int:
        return self.runtime.n_ctx

    def info(self) -> ModelInfo:
        rt = self.runtime
        file_type = rt.meta("general.file_type")
        quantization = _FILE_TYPES.get(int(file_type), f"type {file_type}") if file_type else "?"
        return ModelInfo(
            path=str(rt.path.resolve()),
            file_size=rt.path.stat().st_size,
            architecture=rt.meta("general.architecture") or "unknown",
            description=rt.description(),
            n_params=rt.n_params(),
            n_vocab=rt.n_vocab,
            context_length=rt.n_ctx_train(),
            quantization=quantization,
            has_chat_template=rt.chat_template() is not None,
            gpu_offload_supported=gpu_offload_supported(),
            n_gpu_layers=rt.settings.n_gpu_layers,
            load_seconds=self.load_seconds,
            kind=self.kind,
        )

    def chat_template(self) -> str | None:
        return self.runtime.chat_template()

    def apply_chat_template(self, messages: Sequence[dict[str, str]]) -> str:
        with self._lock:
            return self.runtime.apply_chat_template(messages)

    def tokenize(self, text: str, *, add_bos: bool = True, special: bool = False) -> list[int]:
        with self._lock:
            return self.runtime.tokenize(text, add_bos=add_bos, special=special)

    def tokenize_text(self, text: str) -> list[int]:
        """Text that continues a sequence: no BOS, control-token text stays text."""
        return self.tokenize(text, add_bos=False)

    def detokenize(self, tokens: Sequence[int]) -> str:
        with self._lock:
            return b"".join(self.runtime.piece(t) for t in tokens).decode("utf-8", "replace")

    def tokenize_prompt(self, prompt: str | Sequence[int], *, special: bool = False) -> list[int]:
        """The prompt's token ids. ``special`` parses control-token text (``<|im_start|>``…)
        into the model's control tokens: right for a prompt the chat template rendered, wrong
        for text a person typed, which then stays the plain text it is."""
        tokens = self.tokenize(prompt, special=special) if isinstance(prompt, str) else list(prompt)
        if len(tokens) >= self.n_ctx:
            raise PromptTooLongError(
                f"the prompt is {len(tokens)} tokens but the context holds {self.n_ctx}; "
                "shorten the prompt or raise the context length"
            )
        return tokens

    def next_tokens(
        self, prompt: str | Sequence[int], k: int = 10, cancel: CancelToken | None = None
    ) -> list[Alternative]:
        """The k most likely next tokens after the prompt (CoT-decoding's first-token branches)."""
        tokens = self.tokenize_prompt(prompt)
        with self._lock:
            found = self.explorer.next_token_distribution(tokens, k, cancel)
        return found[0] if found else []

    def explore(
        self,
        prompt: str | Sequence[int],
        branches: Sequence[Branch],
        settings: GenerationSettings | None = None,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        on_finish: FinishCallback | None = None,
    ) -> list[GeneratedSequence]:
        """Decode each branch from the shared prompt, batched; see :class:`TreeExplorer`."""
        tokens = self.tokenize_prompt(prompt)
        with self._lock:
            return self.explorer.generate(
                tokens, branches, settings or GenerationSettings(), on_token, cancel, on_finish
            )

    def generate(
        self,
        prompt: str | Sequence[int],
        settings: GenerationSettings | None = None,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> GeneratedSequence:
        """One continuation of the prompt."""
        return self.explore(prompt, [Branch()], settings, on_token, cancel)[0]

    def remember_texts(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Nothing to learn: local token ids are the model's own (see RemoteEngine)."""

    def forget_cache(self) -> None:
        with self._lock:
            self.explorer.forget()

    def close(self) -> None:
        with self._lock:
            self.runtime.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
