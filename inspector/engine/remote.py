"""A backend that talks to an OpenAI-compatible completions server (llama.cpp's llama-server,
vLLM, llama-cpp-python's ``llama_cpp.server``) and offers what :class:`Engine` offers, so every
strategy, the CLI and the GUI work against a model that does not fit the laptop.

Prompts travel as text. A forced token (CoT-decoding's first tokens, "branch here") is taken
from the top-k the server reported at that position (remembered from every answer,
:mod:`inspector.engine.remote_tops`) and appended to the prompt text; the server then continues
it, so a branch costs one request. Self-consistency asks for ``n`` samples in one request and
falls back to one request per sample, sent in parallel, when the server ignores ``n``. Requests
stream (``"stream": true``) when someone watches the tokens, so they show as they come and a
cancel takes effect within one chunk. What a server does not provide (fewer alternatives than
asked, ``n``, a complete stream) is reported in :attr:`notices`, never padded or made up.

The engine is safe to share between threads: an experiment runs several questions at once on
one connection pool (:mod:`inspector.engine.remote_batch` runs the requests of each call).
:attr:`RemoteEngine.concurrency` bounds the requests in flight at once, whatever asks for them
(an experiment's questions, a question's samples, CoT-decoding's branches): set it to the
server's parallel slots, so that it is kept busy and never flooded.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from inspector.engine.backend import Branch, FinishCallback, ModelInfo, TokenCallback
from inspector.engine.cancel import CancelToken
from inspector.engine.errors import (
    ChatTemplateError,
    InvalidParameterError,
    PromptTooLongError,
    RemoteServerError,
)
from inspector.engine.records import Alternative, GeneratedSequence, TokenRecord
from inspector.engine.remote_http import Cancelled, HttpSettings, JsonClient
from inspector.engine.remote_records import fewest_alternatives, parse_logprobs, token_key
from inspector.engine.remote_stream import StreamedChoices
from inspector.engine.remote_tops import TopCache
from inspector.engine.settings import GenerationSettings, SamplingSettings

DEFAULT_CONCURRENCY = 16  # requests in flight at once against a server, by default

PieceCallback = Callable[[int, Any, int], None]  # (choice index, logprobs piece, attempt)


def api_root(base_url: str) -> str:
    """``http://host:8000`` and ``http://host:8000/v1/`` both mean ``http://host:8000/v1``."""
    root = base_url.strip().rstrip("/")
    return root if root.endswith("/v1") else root + "/v1"


def branch_seed(seed: int, key: int) -> int:
    """The seed of the branch whose random stream is named ``key`` (``Branch.seed_key``)."""
    return zlib.crc32(f"{seed}:{key}".encode()) & 0x7FFFFFFF


class RemoteEngine:
    """The :class:`Engine` interface over HTTP; safe to share between threads."""

    thread_safe = True  # experiments may run several questions on it at once

    def __init__(self, client: JsonClient, model: str, load_seconds: float = 0.0) -> None:
        self.client = client
        self.model = model
        self.load_seconds = load_seconds
        self.notices: list[str] = []
        self.can_force_text = False  # a forced token must be among the server's top-k
        self.tops = TopCache()
        self.stream = True  # until the server shows it cannot finish a stream
        self._texts: dict[int, str] = {}
        self._n_supported: bool | None = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def connect(
        cls,
        base_url: str,
        api_key: str | None = None,
        model: str | None = None,
        http: HttpSettings | None = None,
    ) -> RemoteEngine:
        """Check the server answers and serves ``model`` (default: the first it lists)."""
        started = time.perf_counter()
        client = JsonClient(api_root(base_url), api_key, http)
        try:
            listed = client.get("/models")
            names = [m.get("id") for m in (listed or {}).get("data", []) if isinstance(m, dict)]
            if model is None:
                if not names:
                    raise RemoteServerError(f"the server at {client.base_url} lists no models")
                model = str(names[0])
            elif names and model not in names:
                raise RemoteServerError(
                    f"the server does not serve {model!r}; it serves: {', '.join(map(str, names))}"
                )
        except BaseException:
            client.close()
            raise
        return cls(client, model, time.perf_counter() - started)

    # -- what the strategies and the GUI ask of an engine --------------------------------------
    n_ctx = 0  # unknown: the server says when a prompt is too long

    @property
    def concurrency(self) -> int:
        """Requests in flight at once at most (further ones wait for one to end)."""
        return self.client.slots.limit

    @concurrency.setter
    def concurrency(self, requests: int) -> None:
        self.client.slots.limit = min(max(1, requests), self.client.http.max_connections)

    def info(self) -> ModelInfo:
        host = urlsplit(self.client.base_url).netloc
        return ModelInfo(
            path=f"{self.client.base_url}#{self.model}",
            file_size=0,
            architecture="remote",
            description=f"{self.model} @ {host}",
            n_params=0,
            n_vocab=0,
            context_length=0,
            quantization="remote",
            has_chat_template=False,
            gpu_offload_supported=False,
            n_gpu_layers=0,
            load_seconds=self.load_seconds,
        )

    def apply_chat_template(self, messages: Sequence[dict[str, str]]) -> str:
        raise ChatTemplateError(
            "chat templates are not available with a remote server: use a plain prompt style"
        )

    def remember_texts(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Learn the text behind token ids saved by an earlier run (to branch from them)."""
        for token_id, text in pairs:
            self._texts.setdefault(token_id, text)

    def tokenize_prompt(self, prompt: str | Sequence[int], *, special: bool = False) -> list[int]:
        """A text prompt is one opaque token here: the server tokenizes it (whether it parses
        control-token text, ``special``, is the server's own rule)."""
        if not isinstance(prompt, str):
            return list(prompt)
        key = token_key(prompt)
        self._texts[key] = prompt
        return [key]

    def tokenize_text(self, text: str) -> list[int]:
        """Text inside a sequence is one opaque token too; it travels as text."""
        key = token_key(text)
        self._texts[key] = text
        return [key]

    def detokenize(self, tokens: Sequence[int]) -> str:
        try:
            return "".join(self._texts[t] for t in tokens)
        except KeyError as missing:
            raise InvalidParameterError(
                f"token {missing} was not made by this server connection"
            ) from None

    def forget_cache(self) -> None:
        self.tops.clear()

    def close(self) -> None:
        self.tops.clear()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def __enter__(self) -> RemoteEngine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- generation ----------------------------------------------------------------------------
    def next_tokens(
        self, prompt: str | Sequence[int], k: int = 10, cancel: CancelToken | None = None
    ) -> list[Alternative]:
        text = self._text(prompt)
        try:
            return list(self.top_after(text, k, cancel))
        except Cancelled:
            return []

    def generate(
        self,
        prompt: str | Sequence[int],
        settings: GenerationSettings | None = None,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> GeneratedSequence:
        return self.explore(prompt, [Branch()], settings, on_token, cancel)[0]

    def explore(
        self,
        prompt: str | Sequence[int],
        branches: Sequence[Branch],
        settings: GenerationSettings | None = None,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        on_finish: FinishCallback | None = None,
    ) -> list[GeneratedSequence]:
        """Each branch from the prompt: forced tokens first (with the server's probabilities
        for them), then the server's continuation. The requests run in parallel; every
        callback is made on the calling thread."""
        from inspector.engine.remote_batch import Exploration

        settings = settings or GenerationSettings()
        exploration = Exploration(self, self._text(prompt), branches, settings)
        return exploration.run(on_token, cancel, on_finish)

    def _text(self, prompt: str | Sequence[int]) -> str:
        return prompt if isinstance(prompt, str) else self.detokenize(prompt)

    # -- what remote_batch asks of the engine ------------------------------------------------------
    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                # one thread per connection at most: the request slots decide how many send
                most = self.client.http.max_connections
                self._pool = ThreadPoolExecutor(most, "inspector-remote")
            return self._pool

    def note(self, text: str) -> None:
        with self._lock:
            if text not in self.notices:
                self.notices.append(text)

    def n_supported(self) -> bool | None:
        return self._n_supported

    def learn_n(self, asked: int, got: int) -> None:
        with self._lock:
            self._n_supported = got >= asked
        if got < asked:
            self.note(
                f"the server ignores n (asked {asked} samples, got {got}): one request per "
                "sample instead, sent in parallel"
            )

    def learn(self, prompt: str, records: Sequence[TokenRecord]) -> None:
        """Remember the texts and the per-position top-k of tokens that continue ``prompt``."""
        for record in records:
            self._texts.setdefault(record.token_id, record.text)
            for alt in record.top:
                self._texts.setdefault(alt.token_id, alt.text)
        self.tops.learn(prompt, records)

    def check_alternatives(self, records: Sequence[TokenRecord], asked: int) -> None:
        fewest = fewest_alternatives(records)
        if fewest is not None and fewest < asked:
            self.note(
                f"the server returned {fewest} alternatives per token where {asked} were asked; "
                "only those are shown"
            )

    def top_after(
        self, prefix: str, k: int, cancel: CancelToken | None, token: int | None = None
    ) -> tuple[Alternative, ...]:
        """The k most likely next tokens after ``prefix``: remembered (when at least k, or
        holding ``token``), else one one-token greedy request."""
        known = self.tops.get(prefix)
        if known is not None and (len(known) >= k or any(a.token_id == token for a in known)):
            return known[:k]
        settings = GenerationSettings(max_tokens=1, n_alternatives=k)
        choice = self.complete(prefix, settings, SamplingSettings(), 1, 1, cancel)[0]
        records = parse_logprobs(choice.get("logprobs"), k)
        if not records:
            raise RemoteServerError("the server returned no token for a one-token request")
        self.check_alternatives(records, k)
        self.learn(prefix, records)
        return records[0].top

    def forced(
        self, prefix: str, forced: Sequence[int], k: int, cancel: CancelToken | None
    ) -> tuple[list[TokenRecord], str]:
        """Records of the forced tokens, each with the server's probability at its position,
        and the text they make after ``prefix``."""
        records, text = [], prefix
        for token_id in forced:
            piece = self.detokenize([token_id])
            top = self.top_after(text, k, cancel, token_id)
            logprob = next((a.logprob for a in top if a.token_id == token_id), None)
            if logprob is None:  # its probability is unknown: never record a made-up one
                raise RemoteServerError(
                    f"the server no longer ranks the token {piece!r} among its top {k} "
                    "here, so its probability is unknown; branch with another token"
                )
            records.append(
                TokenRecord(token_id, piece, piece.encode("utf-8"), logprob, float("nan"), top)
            )
            text += piece
        return records, text

    def complete(
        self, prompt: str, settings: GenerationSettings, sampling: SamplingSettings,
        max_tokens: int, n: int, cancel: CancelToken | None,
        on_piece: PieceCallback | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """The choices of one completions request, streamed when ``on_piece`` listens (and
        the server can finish its streams)."""
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "logprobs": settings.n_alternatives,
            "n": n,
            "temperature": 0.0 if sampling.greedy else sampling.temperature,
            "top_p": sampling.top_p,
            "stream": False,
        }
        if sampling.top_k:
            body["top_k"] = sampling.top_k
        if sampling.min_p:
            body["min_p"] = sampling.min_p
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if settings.stop:
            body["stop"] = list(settings.stop)
        try:
            if on_piece is not None and self.stream:
                streamed = self._streamed(body, cancel, on_piece)
                if streamed is not None:
                    return streamed
                body["stream"] = False
            answer = self.client.post("/completions", body, cancel)
        except RemoteServerError as error:
            if "context" in str(error).lower():
                raise PromptTooLongError(f"the server cannot take this prompt: {error}") from None
            raise
        return _choices_of(answer)

    def _streamed(
        self, body: dict[str, Any], cancel: CancelToken | None, on_piece: PieceCallback
    ) -> list[dict[str, Any]] | None:
        """The choices of a streamed request; None when the stream came incomplete (then the
        caller asks again without streaming, and so do later requests)."""
        streams: dict[int, StreamedChoices] = {}

        def on_event(event: dict[str, Any], attempt: int) -> None:
            choices = streams.setdefault(attempt, StreamedChoices())
            for index, piece in choices.add(event):
                on_piece(index, piece, attempt)

        answer = self.client.post_stream("/completions", {**body, "stream": True}, cancel, on_event)
        if answer is not None:  # the server answered with plain JSON
            return _choices_of(answer)
        last = streams[max(streams)] if streams else None
        if last is not None and last.complete():
            return sorted(last.choices(), key=lambda c: c.get("index", 0))
        self.stream = False
        self.note(
            "the server ended a stream before its choices finished (it may stop one request "
            "to serve another): requests no longer stream on this connection"
        )
        return None


def _choices_of(answer: Any) -> list[dict[str, Any]]:
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not choices:
        raise RemoteServerError("the server's answer has no choices")
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise RemoteServerError("the server's answer is malformed: `choices` is not a list")
    return sorted(choices, key=lambda c: c.get("index", 0))
