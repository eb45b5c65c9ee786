"""One ``explore`` call against a server: its branches become requests, sent in parallel.

Branches with the same context, forced tokens and sampling form a group. A greedy group is one
request whose continuation every branch of it shares. A sampled group is one request with ``n``
when the server honours ``n``; otherwise (or once it has shown it ignores ``n``) one request per
sample, all handed over together (the engine's request slots pace their sending). A branch with
a ``seed_key`` and a seeded sampling gets its own request with a seed made from the two, so it
draws the same sample whichever branches share the call. The requests run on the engine's thread
pool; their results, and the tokens of streamed answers as they come, travel back through a
queue, so every callback is made on the calling thread. The first error stops the other requests
of the call and is raised once they have stopped; a cancel marks every unfinished branch
"cancelled", with the tokens it had."""

from __future__ import annotations

import queue
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from inspector.engine.backend import Branch, FinishCallback, TokenCallback
from inspector.engine.cancel import CancelToken
from inspector.engine.records import GeneratedSequence, TokenEvent, TokenRecord
from inspector.engine.remote_records import parse_logprobs
from inspector.engine.remote_watch import TICK, Cancelled
from inspector.engine.settings import GenerationSettings, SamplingSettings

if TYPE_CHECKING:
    from inspector.engine.remote import RemoteEngine


@dataclass
class _Group:
    branches: list[int]
    context: tuple[int, ...]
    forced_ids: tuple[int, ...]
    sampling: SamplingSettings
    forced: list[TokenRecord] | None = None  # filled by the first request of the group
    text: str = ""  # the prompt text of its continuation (prefix, context, forced)


@dataclass
class _Request:
    group: _Group
    slots: list[int]  # the branches its choices fill, in choice order
    sampling: SamplingSettings
    shared: bool = False  # one continuation for every slot (greedy)
    attempt: int = 0
    streamed: dict[int, list[TokenRecord]] = field(default_factory=dict)  # choice -> tokens

    @property
    def n(self) -> int:
        return 1 if self.shared else len(self.slots)


def _groups(branches: Sequence[Branch], settings: GenerationSettings) -> list[_Group]:
    groups: dict[tuple[Any, ...], _Group] = {}
    for i, branch in enumerate(branches):
        sampling = branch.sampling or settings.sampling
        key = (branch.context, branch.forced, sampling)
        group = groups.setdefault(key, _Group([], branch.context, branch.forced, sampling))
        group.branches.append(i)
    return list(groups.values())


class Exploration:
    def __init__(
        self,
        engine: RemoteEngine,
        prefix: str,
        branches: Sequence[Branch],
        settings: GenerationSettings,
    ) -> None:
        self.engine = engine
        self.prefix = prefix
        self.branches = branches
        self.settings = settings
        self.results = [GeneratedSequence(i) for i in range(len(branches))]
        self._events: queue.Queue[tuple[_Request, int, Any, int]] = queue.Queue()
        self._stream = False
        self._partial: dict[int, list[TokenRecord]] = {}  # branch -> tokens streamed so far

    # -- planning ----------------------------------------------------------------------------
    def _first_requests(self, group: _Group) -> list[_Request]:
        sampling = group.sampling
        slots = group.branches
        if sampling.greedy or len(slots) == 1:
            return [self._single(group, slots, 0, shared=sampling.greedy)]
        keyed = sampling.seed is not None and any(
            self.branches[i].seed_key is not None for i in slots
        )
        if keyed or self.engine.n_supported() is False:
            return [self._single(group, [slot], position) for position, slot in enumerate(slots)]
        return [_Request(group, list(slots), sampling)]

    def _single(
        self, group: _Group, slots: list[int], position: int, *, shared: bool = False
    ) -> _Request:
        """A request for one sample (``slots[0]``, at ``position`` in its group), seeded by
        its branch's ``seed_key`` or by its position (``seed``, ``seed + 1``…)."""
        sampling = group.sampling
        if sampling.seed is not None and not shared:
            key = self.branches[slots[0]].seed_key
            from inspector.engine.remote import branch_seed

            seed = sampling.seed + position if key is None else branch_seed(sampling.seed, key)
            sampling = replace(sampling, seed=seed)
        return _Request(group, list(slots), sampling, shared=shared)

    # -- running -----------------------------------------------------------------------------
    def run(
        self,
        on_token: TokenCallback | None,
        cancel: CancelToken | None,
        on_finish: FinishCallback | None,
    ) -> list[GeneratedSequence]:
        self._stream = on_token is not None
        inner = CancelToken()  # set by the caller's cancel, or by a failed request
        running: dict[Future[list[dict[str, Any]]], _Request] = {}
        failure: BaseException | None = None

        def submit(request: _Request) -> None:  # the engine's request slots pace the sending
            running[self.engine.pool().submit(self._perform, request, inner)] = request

        try:
            for group in _groups(self.branches, self.settings):
                for request in self._first_requests(group):
                    submit(request)
            while running:
                done, _ = wait(list(running), timeout=TICK, return_when=FIRST_COMPLETED)
                if cancel is not None and cancel.cancelled:
                    inner.cancel()
                self._drain(on_token)
                for future in done:
                    request = running.pop(future)
                    try:
                        choices = future.result()
                    except Cancelled:
                        continue
                    except BaseException as error:  # the first is raised, once all stopped
                        failure = failure or error
                        inner.cancel()
                        continue
                    for follow_up in self._finish(request, choices, on_token, on_finish):
                        submit(follow_up)
            self._drain(on_token)
        except BaseException:  # a callback failed: the requests still running stop too
            inner.cancel()
            raise
        if failure is not None and not (cancel is not None and cancel.cancelled):
            raise failure
        for result in self.results:
            if result.finish_reason is None:  # cut by the cancel: kept with what it had
                result.tokens = list(self._partial.get(result.branch, result.tokens))
                result.finish_reason = "cancelled"
        return self.results

    def _perform(self, request: _Request, cancel: CancelToken) -> list[dict[str, Any]]:
        """On a pool thread: the forced tokens' records (once per group), then the request."""
        engine, group, settings = self.engine, request.group, self.settings
        if group.forced is None:
            start = self.prefix + engine.detokenize(group.context)
            group.forced, group.text = engine.forced(
                start, group.forced_ids, settings.n_alternatives, cancel
            )
        left = settings.max_tokens - len(group.forced)
        if left <= 0:
            return []

        def on_piece(index: int, logprobs: Any, attempt: int) -> None:
            self._events.put((request, index, logprobs, attempt))

        return engine.complete(
            group.text, settings, request.sampling, left, request.n, cancel,
            on_piece if self._stream else None,
        )  # fmt: skip

    def _drain(self, on_token: TokenCallback | None) -> None:
        """Streamed tokens, shown as they come (a try started again shows from its start)."""
        k = self.settings.n_alternatives
        while True:
            try:
                request, index, logprobs, attempt = self._events.get_nowait()
            except queue.Empty:
                return
            if attempt != request.attempt:
                request.attempt, request.streamed = attempt, {}
            records = parse_logprobs(logprobs, k)
            got = request.streamed.setdefault(index, [])
            first = len(got)
            got.extend(records)
            forced = request.group.forced or []
            for slot in self._slots(request, index):
                self._partial[slot] = forced + got
                if on_token is None:
                    continue
                if first == 0:
                    for i, token in enumerate(forced):
                        on_token(TokenEvent(slot, i, token))
                for i, token in enumerate(records, start=len(forced) + first):
                    on_token(TokenEvent(slot, i, token))

    def _slots(self, request: _Request, index: int) -> list[int]:
        if request.shared:
            return list(request.slots)
        return [request.slots[index]] if index < len(request.slots) else []

    def _finish(
        self,
        request: _Request,
        choices: list[dict[str, Any]],
        on_token: TokenCallback | None,
        on_finish: FinishCallback | None,
    ) -> list[_Request]:
        """Fill the branches this request answered; the requests for samples it did not
        return (a server that ignores ``n``)."""
        group, settings, engine = request.group, self.settings, self.engine
        forced = group.forced or []
        left = settings.max_tokens - len(forced)
        if request.n > 1 and left > 0:
            engine.learn_n(request.n, len(choices))
        for position, slot in enumerate(request.slots):
            if left > 0 and not request.shared and position >= len(choices):
                break
            choice = (choices[0] if request.shared else choices[position]) if choices else None
            k = settings.n_alternatives
            tokens = parse_logprobs(choice.get("logprobs"), k) if choice else []
            engine.check_alternatives(tokens, settings.n_alternatives)
            engine.learn(group.text, tokens)
            streamed = request.streamed.get(0 if request.shared else position, [])
            same = [t.text for t in streamed] == [t.text for t in tokens[: len(streamed)]]
            result = self.results[slot]
            result.tokens = forced + tokens
            if on_token is not None:  # what the stream showed, unless it showed other tokens
                start = len(forced) + len(streamed) if streamed and same else 0
                for i, token in enumerate(result.tokens[start:], start=start):
                    on_token(TokenEvent(slot, i, token))
            result.finish_reason = _finish_reason(choice, settings, left)
            result.stop_string = _stop_found(result.text, settings.stop)
            if result.stop_string is not None:
                result.finish_reason = "stop"
            if on_finish is not None:
                on_finish(result)
        missing = request.slots[len(choices) :] if not request.shared and left > 0 else []
        offset = group.branches.index(missing[0]) if missing else 0
        return [self._single(group, [slot], offset + i) for i, slot in enumerate(missing)]


def _stop_found(text: str, stops: Sequence[str]) -> str | None:
    """The stop string that ends ``text`` first (servers may return the tokens that made it)."""
    found = [(text.find(stop), stop) for stop in stops if stop in text]
    return min(found)[1] if found else None


def _finish_reason(choice: dict[str, Any] | None, settings: GenerationSettings, left: int) -> Any:
    if choice is None or left <= 0:
        return "length"
    reason = choice.get("finish_reason")
    if reason == "length":
        return "length"
    return "stop" if settings.stop else "eos"
