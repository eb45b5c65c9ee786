"""A backend that talks to an OpenAI-compatible completions server (llama.cpp's llama-server,
vLLM, llama-cpp-python's ``llama_cpp.server``) and offers what :class:`Engine` offers, so every
strategy, the CLI and the GUI work against a model that does not fit the laptop.

Prompts travel as text. A forced token (CoT-decoding's first tokens, "branch here") is taken
from the top-k the server reports at that position and appended to the prompt text; the
server then continues it. Self-consistency asks for ``n`` samples in one request and falls back
to one request per sample when the server ignores ``n``. What a server does not provide (fewer
alternatives than asked, ``n``) is reported in :attr:`notices`, never padded or made up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
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
from inspector.engine.records import Alternative, GeneratedSequence, TokenEvent, TokenRecord
from inspector.engine.remote_http import Cancelled, HttpSettings, JsonClient
from inspector.engine.remote_records import fewest_alternatives, parse_logprobs, token_key
from inspector.engine.settings import GenerationSettings, SamplingSettings

MAX_TOP_CACHE = 64


def api_root(base_url: str) -> str:
    """``http://host:8000`` and ``http://host:8000/v1/`` both mean ``http://host:8000/v1``."""
    root = base_url.strip().rstrip("/")
    return root if root.endswith("/v1") else root + "/v1"


class RemoteEngine:
    """The :class:`Engine` interface over HTTP. Safe to share between threads: it keeps no
    per-request state besides a small cache of next-token distributions."""

    def __init__(self, client: JsonClient, model: str, load_seconds: float = 0.0) -> None:
        self.client = client
        self.model = model
        self.load_seconds = load_seconds
        self.notices: list[str] = []
        self.can_force_text = False  # a forced token must be among the server's top-k
        self._texts: dict[int, str] = {}
        self._tops: dict[str, tuple[Alternative, ...]] = {}
        self._n_supported: bool | None = None

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
        return cls(client, model, time.perf_counter() - started)

    # -- what the strategies and the GUI ask of an engine --------------------------------------
    n_ctx = 0  # unknown: the server says when a prompt is too long

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
        self._tops.clear()

    def close(self) -> None:
        self._tops.clear()

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
            return list(self._top_after(text, k, cancel))
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
        for them), then the server's continuation. Samples with the same settings share one
        request with ``n`` when the server honours it."""
        settings = settings or GenerationSettings()
        prefix = self._text(prompt)
        results = [GeneratedSequence(i) for i in range(len(branches))]
        try:
            for group in _groups(branches, settings):
                self._run_group(
                    prefix, branches, group, settings, results, cancel, on_token, on_finish
                )
        except Cancelled:
            for result in results:
                if result.finish_reason is None:
                    result.finish_reason = "cancelled"
        return results

    # -- internals -------------------------------------------------------------------------------
    def _text(self, prompt: str | Sequence[int]) -> str:
        return prompt if isinstance(prompt, str) else self.detokenize(prompt)

    def _remember(self, records: Iterable[TokenRecord]) -> None:
        for record in records:
            self._texts.setdefault(record.token_id, record.text)
            for alt in record.top:
                self._texts.setdefault(alt.token_id, alt.text)

    def _note(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    def _complete(
        self, prompt: str, settings: GenerationSettings, sampling: SamplingSettings,
        max_tokens: int, n: int, cancel: CancelToken | None,
    ) -> list[dict[str, Any]]:  # fmt: skip
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
            answer = self.client.post("/completions", body, cancel)
        except RemoteServerError as error:
            if "context" in str(error).lower():
                raise PromptTooLongError(f"the server cannot take this prompt: {error}") from None
            raise
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not choices:
            raise RemoteServerError("the server's answer has no choices")
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise RemoteServerError("the server's answer is malformed: `choices` is not a list")
        return sorted(choices, key=lambda c: c.get("index", 0))

    def _top_after(
        self, prefix: str, k: int, cancel: CancelToken | None
    ) -> tuple[Alternative, ...]:
        """The k most likely next tokens after ``prefix`` (one one-token greedy request)."""
        cached = self._tops.get(prefix)
        if cached is not None and len(cached) >= k:
            return cached[:k]
        settings = GenerationSettings(max_tokens=1, n_alternatives=k)
        choice = self._complete(prefix, settings, SamplingSettings(), 1, 1, cancel)[0]
        records = parse_logprobs(choice.get("logprobs"), k)
        if not records:
            raise RemoteServerError("the server returned no token for a one-token request")
        top = records[0].top
        self._check_alternatives(records, k)
        self._remember(records)
        if len(self._tops) >= MAX_TOP_CACHE:
            self._tops.clear()
        self._tops[prefix] = top
        return top

    def _check_alternatives(self, records: Sequence[TokenRecord], asked: int) -> None:
        fewest = fewest_alternatives(records)
        if fewest is not None and fewest < asked:
            self._note(
                f"the server returned {fewest} alternatives per token where {asked} were asked; "
                "only those are shown"
            )

    def _forced(
        self, prefix: str, forced: Sequence[int], k: int, cancel: CancelToken | None
    ) -> tuple[list[TokenRecord], str]:
        """Records of the forced tokens, each with the server's probability at its position."""
        records, text = [], prefix
        for token_id in forced:
            piece = self.detokenize([token_id])
            top = self._top_after(text, k, cancel)
            logprob = next((a.logprob for a in top if a.token_id == token_id), None)
            if logprob is None:  # its probability is unknown: never record a made-up one
                raise RemoteServerError(
                    f"the server no longer ranks the token {piece!r} among its top {k} "
                    "here, so its probability is unknown; branch with another token"
                )
            records.append(
                TokenRecord(token_id, piece, piece.encode("utf-8"), logprob, math.nan, top)
            )
            text += piece
        return records, text

    def _run_group(
        self, prefix: str, branches: Sequence[Branch], group: list[int],
        settings: GenerationSettings, results: list[GeneratedSequence],
        cancel: CancelToken | None, on_token: TokenCallback | None,
        on_finish: FinishCallback | None,
    ) -> None:  # fmt: skip
        branch = branches[group[0]]
        sampling = branch.sampling or settings.sampling
        start = prefix + self.detokenize(branch.context)
        forced, text = self._forced(start, branch.forced, settings.n_alternatives, cancel)
        left = settings.max_tokens - len(forced)
        choices = (
            self._choices(text, settings, sampling, left, len(group), cancel) if left > 0 else []
        )
        for position, index in enumerate(group):
            result = results[index]
            # a sampled group has one choice per branch; a greedy group one shared by all
            choice = choices[min(position, len(choices) - 1)] if choices else None
            tokens = forced + (
                parse_logprobs(choice.get("logprobs"), settings.n_alternatives) if choice else []
            )
            self._check_alternatives(tokens[len(forced) :], settings.n_alternatives)
            self._remember(tokens)
            for i, token in enumerate(tokens):
                result.tokens.append(token)
                if on_token is not None:
                    on_token(TokenEvent(index, i, token))
            result.finish_reason = _finish_reason(choice, settings, left)
            result.stop_string = _stop_found(result.text, settings.stop)
            if result.stop_string is not None:
                result.finish_reason = "stop"
            if on_finish is not None:
                on_finish(result)

    def _choices(
        self, prompt: str, settings: GenerationSettings, sampling: SamplingSettings,
        max_tokens: int, n: int, cancel: CancelToken | None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """``n`` sampled continuations: one request with ``n`` if the server honours it, else
        one request per sample (seeds ``seed``, ``seed + 1``…)."""
        if sampling.greedy or n == 1:
            return self._complete(prompt, settings, sampling, max_tokens, 1, cancel)
        if self._n_supported is not False:
            choices = self._complete(prompt, settings, sampling, max_tokens, n, cancel)
            self._n_supported = len(choices) >= n
            if self._n_supported:
                return choices[:n]
            self._note(f"the server ignores n (asked {n} samples, got {len(choices)}): "
                       "one request per sample instead")  # fmt: skip
        choices = []
        for i in range(n):
            seeded = sampling if sampling.seed is None else _reseed(sampling, sampling.seed + i)
            choices += self._complete(prompt, settings, seeded, max_tokens, 1, cancel)[:1]
        return choices


def _reseed(sampling: SamplingSettings, seed: int) -> SamplingSettings:
    return SamplingSettings(
        sampling.temperature, sampling.top_k, sampling.top_p, sampling.min_p, seed
    )


def _groups(branches: Sequence[Branch], settings: GenerationSettings) -> list[list[int]]:
    """Branches with the same context, forced tokens and sampling, in first-appearance order."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, branch in enumerate(branches):
        key = (branch.context, branch.forced, branch.sampling or settings.sampling)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def _stop_found(text: str, stops: Sequence[str]) -> str | None:
    """The stop string that ends ``text`` first (servers may return the tokens that made it)."""
    found = [(text.find(stop), stop) for stop in stops if stop in text]
    return min(found)[1] if found else None


def _finish_reason(choice: dict[str, Any] | None, settings: GenerationSettings, left: int):
    if choice is None or left <= 0:
        return "length"
    reason = choice.get("finish_reason")
    if reason == "length":
        return "length"
    return "stop" if settings.stop else "eos"
