"""What every model backend offers, and the value types they share.

:class:`Backend` is the interface the strategies, the application service, the CLI and the
GUI program against. Two implementations exist: :class:`~inspector.engine.engine.Engine`
(llama.cpp in this process) and :class:`~inspector.engine.remote.RemoteEngine` (an
OpenAI-compatible server). The request and description types they both speak live here, so
neither implementation imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from inspector.engine.cancel import CancelToken
from inspector.engine.model_kind import ModelKind
from inspector.engine.records import Alternative, GeneratedSequence, TokenEvent
from inspector.engine.settings import GenerationSettings, SamplingSettings

TokenCallback = Callable[[TokenEvent], None]
FinishCallback = Callable[[GeneratedSequence], None]


@dataclass(frozen=True)
class Branch:
    """A continuation to decode: ``forced`` tokens first (recorded with their real
    probabilities), then tokens chosen by ``sampling`` (the request's default when None).

    ``context`` tokens come between the shared prompt and ``forced``: this branch continues
    from them, but they are not recorded or returned (the answer probe continues each saved
    path this way). The local engine serves them from its cache when the previous request
    left them there, so a path just generated is not evaluated again.

    ``seed_key`` names the branch's random stream (with the sampling seed) instead of its
    index in the request: a study that gives each (position, token, sample) its own key gets
    the same samples whichever other branches share the batch, or when it resumes."""

    forced: tuple[int, ...] = ()
    sampling: SamplingSettings | None = None
    context: tuple[int, ...] = ()
    seed_key: int | None = None


@dataclass(frozen=True)
class ModelInfo:
    """What ``inspector info`` shows about a model file (or a server's model)."""

    path: str
    file_size: int
    architecture: str
    description: str
    n_params: int
    n_vocab: int
    context_length: int
    quantization: str
    has_chat_template: bool
    gpu_offload_supported: bool
    n_gpu_layers: int
    load_seconds: float
    kind: ModelKind = "base"  # base, instruct or thinking (engine/model_kind.py)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Backend(Protocol):
    """A loaded model that explores reasoning trees with its real token probabilities.

    Every long call takes an optional :class:`CancelToken`; setting it from another thread
    makes the call return promptly with what it has (unfinished sequences are marked
    ``"cancelled"``, :meth:`next_tokens` returns an empty list).
    """

    notices: list[str]
    """What this backend could not provide as asked (e.g. fewer alternatives), for display."""

    can_force_text: bool
    """Whether any text's tokens can be forced (and scored) in a branch. A local model scores
    every token; a server only scores the tokens it ranks among its top-k at each position,
    so text for it goes in a branch's ``context`` instead."""

    @property
    def n_ctx(self) -> int:
        """The context's size in tokens (0: unknown, a server says when a prompt is too long)."""
        ...

    def info(self) -> ModelInfo: ...

    def apply_chat_template(self, messages: Sequence[dict[str, str]]) -> str:
        """Render chat messages with the model's template (raises ChatTemplateError)."""
        ...

    def tokenize_prompt(self, prompt: str | Sequence[int], *, special: bool = False) -> list[int]:
        """The prompt's token ids (raises PromptTooLongError if it does not fit). ``special``:
        the text was rendered by the chat template, so its control-token text (``<|im_start|>``)
        stands for the model's control tokens; a person's own text is never parsed so."""
        ...

    def tokenize_text(self, text: str) -> list[int]:
        """Ids of text that continues a sequence: no beginning-of-sequence token, and
        control-token text stays text (a server: one id that stands for the text)."""
        ...

    def detokenize(self, tokens: Sequence[int]) -> str: ...

    def next_tokens(
        self, prompt: str | Sequence[int], k: int = 10, cancel: CancelToken | None = None
    ) -> list[Alternative]:
        """The k most likely next tokens after the prompt, most likely first."""
        ...

    def explore(
        self,
        prompt: str | Sequence[int],
        branches: Sequence[Branch],
        settings: GenerationSettings | None = None,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        on_finish: FinishCallback | None = None,
    ) -> list[GeneratedSequence]:
        """One sequence per branch, in order; ``on_finish`` gets each as soon as it ends."""
        ...

    def generate(
        self,
        prompt: str | Sequence[int],
        settings: GenerationSettings | None = None,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> GeneratedSequence:
        """One continuation of the prompt."""
        ...

    def remember_texts(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Learn the text behind token ids saved by an earlier run (to branch from them)."""
        ...

    def forget_cache(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Backend: ...

    def __exit__(self, *_exc: object) -> None: ...
