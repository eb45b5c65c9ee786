"""A backend that replays what the real default model returned, for fast tests of the code
that drives a backend (the strategies) without loading the model.

:class:`RecordingBackend` wraps a real :class:`~inspector.engine.Engine` and writes down every
call and its answer: the request as given (prompt ids, branches, generation settings) and, for
``explore``, the tokens of each sequence and the order the engine streamed them in, finished
them in and looked at the cancel token in. :class:`RecordedBackend` answers the same calls
from that record and refuses any other (an :class:`UnrecordedRequest`): code that asks the
engine for something else than it did when recorded (another temperature, other branches)
fails there. It replays the stream in the recorded order, with ``on_finish`` where the engine
called it, and stops where the engine looked at the cancel token and would have found it set,
so a test that cancels from a callback sees what the engine would have returned.

The record is only as good as its agreement with the model: :func:`replay_on` sends the
recorded calls of a scenario to a real engine again, in order from an empty cache, and
returns what it answers now, for a model-marked test to compare with the record.

(The probe's and the experiments' fast tests were given a replaying backend of their own at the
same time, ``tests/core/recorded_backend.py`` on another branch; the two should become one.)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from inspector.engine import (
    Alternative,
    Branch,
    CancelToken,
    ChatTemplateError,
    GeneratedSequence,
    GenerationSettings,
    ModelInfo,
    SamplingSettings,
    TokenEvent,
)
from tests.core.recorded_backend import token_from_json, token_to_json

Call = dict[str, Any]


class UnrecordedRequest(AssertionError):
    """The code under test asked the backend for something the recording does not hold."""


# -- the JSON form --------------------------------------------------------------------------------
def _sampling_json(sampling: SamplingSettings | None) -> dict[str, Any] | None:
    return None if sampling is None else asdict(sampling)


def branch_json(branch: Branch) -> dict[str, Any]:
    return {
        "forced": list(branch.forced),
        "sampling": _sampling_json(branch.sampling),
        "context": list(branch.context),
        "seed_key": branch.seed_key,
    }


def branch_of(data: dict[str, Any]) -> Branch:
    sampling = data["sampling"]
    return Branch(
        forced=tuple(data["forced"]),
        sampling=None if sampling is None else SamplingSettings(**sampling),
        context=tuple(data["context"]),
        seed_key=data["seed_key"],
    )


def settings_json(settings: GenerationSettings | None) -> dict[str, Any] | None:
    if settings is None:
        return None
    data = asdict(settings)
    data["stop"] = list(settings.stop)
    return data


def settings_of(data: dict[str, Any] | None) -> GenerationSettings | None:
    if data is None:
        return None
    return GenerationSettings(
        **{**data, "stop": tuple(data["stop"]), "sampling": SamplingSettings(**data["sampling"])}
    )


def _ids(prompt: str | Sequence[int]) -> str | list[int]:
    return prompt if isinstance(prompt, str) else [int(t) for t in prompt]


def explore_request(
    prompt: str | Sequence[int], branches: Sequence[Branch], settings: GenerationSettings | None
) -> dict[str, Any]:
    return {
        "prompt": _ids(prompt),
        "branches": [branch_json(b) for b in branches],
        "settings": settings_json(settings),
    }


def _key(method: str, request: Any) -> str:
    return json.dumps([method, request], sort_keys=True)


# -- recording ------------------------------------------------------------------------------------
class _WatchedCancel(CancelToken):
    """A cancel token that is never set and writes down each time the engine looks at it."""

    def __init__(self, order: list[list[Any]]) -> None:
        super().__init__()
        self._order = order

    @property
    def cancelled(self) -> bool:
        # looks with no token or finish in between see the same flag: one mark for them all
        if not self._order or self._order[-1] != ["c"]:
            self._order.append(["c"])
        return False


class RecordingBackend:
    """A real engine, every call to it written down in :attr:`calls` (see the module)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.calls: list[Call] = []
        self.notices: list[str] = engine.notices
        self.can_force_text: bool = engine.can_force_text

    @property
    def n_ctx(self) -> int:
        return self.engine.n_ctx

    def info(self) -> ModelInfo:
        info = self.engine.info()
        self.calls.append({"method": "info", "answer": info.to_dict()})
        return info

    def apply_chat_template(self, messages: Sequence[dict[str, str]]) -> str:
        request = [dict(m) for m in messages]
        try:
            text = self.engine.apply_chat_template(messages)
        except ChatTemplateError as error:
            self.calls.append({"method": "apply_chat_template", "request": request,
                               "error": str(error)})  # fmt: skip
            raise
        self.calls.append({"method": "apply_chat_template", "request": request, "answer": text})
        return text

    def tokenize_prompt(self, prompt: str | Sequence[int], *, special: bool = False) -> list[int]:
        ids = self.engine.tokenize_prompt(prompt, special=special)
        request = {"prompt": _ids(prompt), "special": bool(special)}
        self.calls.append({"method": "tokenize_prompt", "request": request, "answer": ids})
        return ids

    def tokenize_text(self, text: str) -> list[int]:
        ids = self.engine.tokenize_text(text)
        self.calls.append({"method": "tokenize_text", "request": text, "answer": ids})
        return ids

    def detokenize(self, tokens: Sequence[int]) -> str:
        text = self.engine.detokenize(tokens)
        self.calls.append({"method": "detokenize", "request": list(tokens), "answer": text})
        return text

    def next_tokens(
        self, prompt: str | Sequence[int], k: int = 10, cancel: CancelToken | None = None
    ) -> list[Alternative]:
        found = self.engine.next_tokens(prompt, k, cancel)
        answer = [[a.token_id, a.text, a.logprob] for a in found]
        self.calls.append(
            {"method": "next_tokens", "request": {"prompt": _ids(prompt), "k": k}, "answer": answer}
        )
        return found

    def explore(
        self,
        prompt: str | Sequence[int],
        branches: Sequence[Branch],
        settings: GenerationSettings | None = None,
        on_token: Any = None,
        cancel: CancelToken | None = None,
        on_finish: Any = None,
    ) -> list[GeneratedSequence]:
        """The engine's answer; a cancel is not recorded (the replay applies it), so the
        request is decoded to its end and each callback gets what the engine streams."""
        assert cancel is None or not cancel.cancelled, "record without a cancel"
        order: list[list[Any]] = []

        def token(event: TokenEvent) -> None:
            order.append(["t", event.branch])
            if on_token is not None:
                on_token(event)

        def finish(sequence: GeneratedSequence) -> None:
            order.append(["f", sequence.branch])
            if on_finish is not None:
                on_finish(sequence)

        result = self.engine.explore(
            prompt, branches, settings, token, _WatchedCancel(order), finish
        )
        self.calls.append(
            {
                "method": "explore",
                "request": explore_request(prompt, branches, settings),
                "order": order,
                "sequences": [
                    {
                        "tokens": [token_to_json(t) for t in s.tokens],
                        "finish_reason": s.finish_reason,
                        "stop_string": s.stop_string,
                    }
                    for s in result
                ],
            }
        )
        return result

    def generate(self, prompt, settings=None, on_token=None, cancel=None) -> GeneratedSequence:
        return self.explore(prompt, [Branch()], settings, on_token, cancel)[0]

    def remember_texts(self, pairs: Iterable[tuple[int, str]]) -> None:
        self.engine.remember_texts(pairs)

    def forget_cache(self) -> None:
        self.engine.forget_cache()


# -- replaying ------------------------------------------------------------------------------------
class RecordedBackend:
    """Answers the calls of one recorded scenario (see the module); every call it gets is kept
    in :attr:`requests` (method, request) and every ``remember_texts`` in :attr:`remembered`."""

    can_force_text = True

    def __init__(self, calls: Sequence[Call], n_ctx: int) -> None:
        self._answers: dict[str, Call] = {}
        self._info: dict[str, Any] | None = None
        for call in calls:
            if call["method"] == "info":
                self._info = call["answer"]
            else:
                self._answers.setdefault(_key(call["method"], call["request"]), call)
        self._n_ctx = n_ctx
        self.notices: list[str] = []
        self.requests: list[tuple[str, Any]] = []
        self.remembered: list[list[tuple[int, str]]] = []

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    def _answer(self, method: str, request: Any) -> Call:
        self.requests.append((method, request))
        call = self._answers.get(_key(method, request))
        if call is None:
            raise UnrecordedRequest(f"no recorded {method} for {json.dumps(request)[:2000]}")
        return call

    def info(self) -> ModelInfo:
        assert self._info is not None, "the recording holds no info()"
        return ModelInfo(**self._info)

    def apply_chat_template(self, messages: Sequence[dict[str, str]]) -> str:
        call = self._answer("apply_chat_template", [dict(m) for m in messages])
        if "error" in call:
            raise ChatTemplateError(call["error"])
        return call["answer"]

    def tokenize_prompt(self, prompt: str | Sequence[int], *, special: bool = False) -> list[int]:
        request = {"prompt": _ids(prompt), "special": bool(special)}
        return list(self._answer("tokenize_prompt", request)["answer"])

    def tokenize_text(self, text: str) -> list[int]:
        return list(self._answer("tokenize_text", text)["answer"])

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self._answer("detokenize", list(tokens))["answer"]

    def next_tokens(
        self, prompt: str | Sequence[int], k: int = 10, cancel: CancelToken | None = None
    ) -> list[Alternative]:
        call = self._answer("next_tokens", {"prompt": _ids(prompt), "k": k})
        if cancel is not None and cancel.cancelled:
            return []
        return [Alternative(i, t, lp) for i, t, lp in call["answer"]]

    def explore(
        self,
        prompt: str | Sequence[int],
        branches: Sequence[Branch],
        settings: GenerationSettings | None = None,
        on_token: Any = None,
        cancel: CancelToken | None = None,
        on_finish: Any = None,
    ) -> list[GeneratedSequence]:
        if not branches:  # the engine's answer to no branches, without decoding anything
            self.requests.append(("explore", explore_request(prompt, branches, settings)))
            return []
        call = self._answer("explore", explore_request(prompt, branches, settings))
        recorded = call["sequences"]
        results = [GeneratedSequence(branch=i) for i in range(len(recorded))]
        for kind, *branch in call["order"]:
            if kind == "c":
                if cancel is not None and cancel.cancelled:
                    break
                continue
            (index,) = branch
            sequence, data = results[index], recorded[index]
            if kind == "t":
                token = token_from_json(data["tokens"][len(sequence.tokens)])
                sequence.tokens.append(token)
                if on_token is not None:
                    on_token(TokenEvent(index, len(sequence.tokens) - 1, token))
            else:
                sequence.finish_reason = data["finish_reason"]
                sequence.stop_string = data["stop_string"]
                if on_finish is not None:
                    on_finish(sequence)
        for sequence, data in zip(results, recorded, strict=True):
            if sequence.finish_reason is None:
                sequence.finish_reason = "cancelled"
            assert (
                cancel is not None or [token_to_json(t) for t in sequence.tokens] == data["tokens"]
            )
        return results

    def generate(self, prompt, settings=None, on_token=None, cancel=None) -> GeneratedSequence:
        return self.explore(prompt, [Branch()], settings, on_token, cancel)[0]

    def remember_texts(self, pairs: Iterable[tuple[int, str]]) -> None:
        self.remembered.append(list(pairs))

    def forget_cache(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> RecordedBackend:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass


# -- the file -------------------------------------------------------------------------------------
def save_recording(
    path: Path, info: dict[str, Any], n_ctx: int, scenarios: dict[str, list[Call]]
) -> None:
    data = {"model": info, "n_ctx": n_ctx, "scenarios": scenarios}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")


def load_recording(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def replay_on(engine: Any, calls: Sequence[Call]) -> list[Call]:
    """The recorded calls sent to ``engine`` again, in order from an empty cache, and what it
    answers now (recorded the same way, to compare with ``calls``)."""
    engine.forget_cache()
    again = RecordingBackend(engine)
    for call in calls:
        method, request = call["method"], call.get("request")
        if method == "info":
            again.info()
        elif method == "apply_chat_template":
            with contextlib.suppress(ChatTemplateError):
                again.apply_chat_template(request)
        elif method == "tokenize_prompt":
            again.tokenize_prompt(request["prompt"], special=request["special"])
        elif method in ("tokenize_text", "detokenize"):
            getattr(again, method)(request)
        elif method == "next_tokens":
            again.next_tokens(request["prompt"], request["k"])
        elif method == "explore":
            branches = [branch_of(b) for b in request["branches"]]
            again.explore(request["prompt"], branches, settings_of(request["settings"]))
        else:
            raise AssertionError(f"unknown recorded call {method}")
    return again.calls
