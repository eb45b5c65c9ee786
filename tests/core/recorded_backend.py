"""A backend that replays the real default model's answers, recorded once, so that fast tests
(the mutation run's, ``-m "not model"``) reach the code that needs a model: the answer probe
(core/probe.py) and experiments (core/experiment.py).

A *scenario* is a function that drives a backend (a strategy run, probes, an experiment).
:func:`record` runs it on the real engine through :class:`RecordingBackend`, which keeps every
request and the engine's answer; :class:`RecordedBackend` gives those answers back, in order,
and refuses any request that differs from the recorded one (a changed request would have got
another answer from the model). Token ids of a text are looked up, not sequenced. The
recordings live in ``tests/core/data/recorded_streams.json``;
``tests/core/test_recorded_streams.py`` (model-backed) checks that the real model still gives
exactly them, and with ``INSPECTOR_RECORD=1`` writes them anew.

``n_ctx`` is the scenario's declared context size: the engine below is loaded with room to
spare, and the backend reports the declared size, so the code's context checks see a small
context while every answer is the real model's to the request made.

A cancel behaves as the engine's does: once the token is set (by a callback), the ends
reported with it still come (the engine reports a step's ends together), then no token more:
the sequences not ended come back marked ``"cancelled"`` with the tokens streamed so far.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inspector.engine import (
    Alternative,
    Branch,
    CancelToken,
    GeneratedSequence,
    GenerationSettings,
    ModelInfo,
    TokenEvent,
    TokenRecord,
)
from inspector.engine.backend import FinishCallback, TokenCallback

RECORDINGS = Path(__file__).parent / "data" / "recorded_streams.json"
# the real engine the scenarios were recorded on: a context with room for every scenario and
# a fixed thread count (the arithmetic then repeats exactly)
ENGINE_N_CTX = 4096
ENGINE_THREADS = 2
ENGINE_SEQ_MAX = 17


# -- (de)serialising the engine's values ---------------------------------------------------------
def token_to_json(token: TokenRecord) -> list[Any]:
    top = [[a.token_id, a.text, a.logprob] for a in token.top]
    return [token.token_id, token.text, token.piece.hex(), token.logprob, token.entropy, top]


def token_from_json(data: list[Any]) -> TokenRecord:
    token_id, text, piece, logprob, entropy, top = data
    alternatives = tuple(Alternative(i, t, lp) for i, t, lp in top)
    entropy = math.nan if entropy is None else entropy
    return TokenRecord(token_id, text, bytes.fromhex(piece), logprob, entropy, alternatives)


def sequence_to_json(sequence: GeneratedSequence) -> dict[str, Any]:
    return {
        "branch": sequence.branch,
        "tokens": [token_to_json(t) for t in sequence.tokens],
        "finish_reason": sequence.finish_reason,
        "stop_string": sequence.stop_string,
    }


def sequence_from_json(data: dict[str, Any]) -> GeneratedSequence:
    tokens = [token_from_json(t) for t in data["tokens"]]
    return GeneratedSequence(data["branch"], tokens, data["finish_reason"], data["stop_string"])


def request_to_json(
    prompt: str | Sequence[int], branches: Sequence[Branch], settings: GenerationSettings | None
) -> dict[str, Any]:
    """A request as plain JSON values (tuples become lists), for comparing with a recording."""
    plain = json.loads(
        json.dumps(
            {
                "prompt": prompt if isinstance(prompt, str) else list(prompt),
                "branches": [asdict(b) for b in branches],
                "settings": asdict(settings or GenerationSettings()),
            }
        )
    )
    return plain


# -- recording ---------------------------------------------------------------------------------
@dataclass
class Recording:
    """What a scenario asked the model and what it answered."""

    n_ctx: int
    can_force_text: bool
    info: dict[str, Any]
    texts: dict[str, list[int]] = field(default_factory=dict)  # tokenize_text
    prompts: dict[str, list[int]] = field(default_factory=dict)  # tokenize_prompt (special: key)
    calls: list[dict[str, Any]] = field(default_factory=list)  # next_tokens and explore

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recording:
        return cls(**data)


def _prompt_key(prompt: str, special: bool) -> str:
    return json.dumps([prompt, special])


class RecordingBackend:
    """The real engine, keeping every request and answer (it reports ``n_ctx`` as declared)."""

    def __init__(self, engine: Any, n_ctx: int) -> None:
        self.engine = engine
        self.notices: list[str] = []
        self.can_force_text = engine.can_force_text
        info = engine.info().to_dict()
        # what changes from load to load or machine to machine is not part of a recording
        info.update(path=Path(info["path"]).name, load_seconds=0.0, gpu_offload_supported=False)
        self.recording = Recording(n_ctx, engine.can_force_text, info)

    @property
    def n_ctx(self) -> int:
        return self.recording.n_ctx

    def info(self) -> ModelInfo:
        return self.engine.info()

    def apply_chat_template(self, messages: Sequence[dict[str, str]]) -> str:
        raise AssertionError("the scenarios use raw prompts (use_chat_template=False)")

    def tokenize_prompt(self, prompt: str | Sequence[int], *, special: bool = False) -> list[int]:
        assert isinstance(prompt, str)
        ids = self.engine.tokenize_prompt(prompt, special=special)
        self.recording.prompts[_prompt_key(prompt, special)] = list(ids)
        return ids

    def tokenize_text(self, text: str) -> list[int]:
        ids = self.engine.tokenize_text(text)
        self.recording.texts[text] = list(ids)
        return ids

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.engine.detokenize(tokens)

    def next_tokens(
        self, prompt: str | Sequence[int], k: int = 10, cancel: CancelToken | None = None
    ) -> list[Alternative]:
        top = self.engine.next_tokens(prompt, k, cancel)
        self.recording.calls.append(
            {
                "call": "next_tokens",
                "request": {"prompt": list(prompt), "k": k},
                "answer": [[a.token_id, a.text, a.logprob] for a in top],
            }
        )
        return top

    def explore(
        self,
        prompt: str | Sequence[int],
        branches: Sequence[Branch],
        settings: GenerationSettings | None = None,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        on_finish: FinishCallback | None = None,
    ) -> list[GeneratedSequence]:
        events: list[list[int]] = []  # [branch, index] a token, [branch] an end

        def token(event: TokenEvent) -> None:
            events.append([event.branch, event.index])
            if on_token is not None:
                on_token(event)

        def finish(sequence: GeneratedSequence) -> None:
            events.append([sequence.branch])
            if on_finish is not None:
                on_finish(sequence)

        request = request_to_json(prompt, branches, settings)
        results = self.engine.explore(prompt, branches, settings, token, cancel, finish)
        self.recording.calls.append(
            {
                "call": "explore",
                "request": request,
                "answer": [sequence_to_json(s) for s in results],
                "events": events,
            }
        )
        return results

    def generate(self, *_args: object, **_kwargs: object) -> GeneratedSequence:
        raise AssertionError("no scenario generates outside explore")

    def remember_texts(self, pairs: Iterable[tuple[int, str]]) -> None:
        self.engine.remember_texts(pairs)

    def forget_cache(self) -> None:
        self.engine.forget_cache()

    def close(self) -> None:
        pass

    def __enter__(self) -> RecordingBackend:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass


# -- replaying ---------------------------------------------------------------------------------
class UnrecordedRequest(AssertionError):
    """The code asked the model something the recording does not hold."""


class RecordedBackend:
    """Gives back a scenario's recorded answers, request by request (see the module text).
    ``requests`` keeps every explore request as sent (branches, settings), for tests to
    inspect."""

    def __init__(self, recording: Recording, *, n_ctx: int | None = None) -> None:
        self.recording = recording
        self.notices: list[str] = []
        self.can_force_text = recording.can_force_text
        self._n_ctx = recording.n_ctx if n_ctx is None else n_ctx
        self._calls = list(recording.calls)
        self.requests: list[tuple[list[Branch], GenerationSettings | None]] = []
        self.remembered: list[tuple[int, str]] = []

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    @property
    def pending(self) -> int:
        """Recorded requests not asked yet."""
        return len(self._calls)

    def info(self) -> ModelInfo:
        return ModelInfo(**self.recording.info)

    def apply_chat_template(self, messages: Sequence[dict[str, str]]) -> str:
        raise UnrecordedRequest("the scenarios use raw prompts (use_chat_template=False)")

    def tokenize_prompt(self, prompt: str | Sequence[int], *, special: bool = False) -> list[int]:
        key = _prompt_key(str(prompt), special)
        if key not in self.recording.prompts:
            raise UnrecordedRequest(f"prompt not recorded: {key}")
        return list(self.recording.prompts[key])

    def tokenize_text(self, text: str) -> list[int]:
        if text not in self.recording.texts:
            raise UnrecordedRequest(f"text not recorded: {text!r}")
        return list(self.recording.texts[text])

    def detokenize(self, tokens: Sequence[int]) -> str:
        raise UnrecordedRequest("detokenize is not recorded")

    def _next(self, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        if not self._calls:
            raise UnrecordedRequest(f"{kind} after the last recorded request: {request}")
        call = self._calls.pop(0)
        if call["call"] != kind or call["request"] != request:
            raise UnrecordedRequest(
                f"{kind} {request}\n  differs from the recorded {call['call']} {call['request']}"
            )
        return call

    def next_tokens(
        self, prompt: str | Sequence[int], k: int = 10, cancel: CancelToken | None = None
    ) -> list[Alternative]:
        call = self._next("next_tokens", {"prompt": list(prompt), "k": k})
        return [Alternative(i, t, lp) for i, t, lp in call["answer"]]

    def explore(
        self,
        prompt: str | Sequence[int],
        branches: Sequence[Branch],
        settings: GenerationSettings | None = None,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        on_finish: FinishCallback | None = None,
    ) -> list[GeneratedSequence]:
        self.requests.append((list(branches), settings))
        call = self._next("explore", request_to_json(prompt, branches, settings))
        full = [sequence_from_json(s) for s in call["answer"]]
        results = [GeneratedSequence(s.branch) for s in full]
        for event in call["events"]:
            branch = event[0]
            if len(event) == 2:
                if cancel is not None and cancel.cancelled:
                    break  # the engine checks before its next step; the ends of this one stay
                token = full[branch].tokens[event[1]]
                results[branch].tokens.append(token)
                if on_token is not None:
                    on_token(TokenEvent(branch, event[1], token))
            else:
                results[branch].finish_reason = full[branch].finish_reason
                results[branch].stop_string = full[branch].stop_string
                if on_finish is not None:
                    on_finish(results[branch])
        for result in results:
            if result.finish_reason is None:
                result.finish_reason = "cancelled"
        return results

    def generate(self, *_args: object, **_kwargs: object) -> GeneratedSequence:
        raise UnrecordedRequest("generate is not recorded")

    def remember_texts(self, pairs: Iterable[tuple[int, str]]) -> None:
        self.remembered.extend(pairs)

    def forget_cache(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> RecordedBackend:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass


# -- the stored recordings -----------------------------------------------------------------------
Scenario = Callable[[Any], Any]


def load_recordings(path: Path = RECORDINGS) -> dict[str, Recording]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: Recording.from_json(value) for name, value in data["scenarios"].items()}


def replay(name: str, *, n_ctx: int | None = None) -> RecordedBackend:
    """A backend replaying scenario ``name`` (``n_ctx`` overrides the declared size, for the
    checks that read only the size)."""
    return RecordedBackend(load_recordings()[name], n_ctx=n_ctx)


def record(engine: Any, scenario: Scenario, n_ctx: int) -> Recording:
    """Run ``scenario`` on the real engine (its cache emptied first) and keep what it asked."""
    engine.forget_cache()
    backend = RecordingBackend(engine, n_ctx)
    scenario(backend)
    return backend.recording
