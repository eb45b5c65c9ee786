"""Tree exploration: evaluate a prefix once, then decode many continuations in one batch.

Every continuation (a *branch*) gets its own sequence id whose KV cache starts as a copy of
the prefix's (``llama_memory_seq_cp`` on a unified cache: no memory, no compute). Each step
decodes one token for every live branch in a single ``llama_decode`` call. The KV contents
of the last request are remembered, so a later request that shares a prefix with *any* of
the earlier sequences (e.g. "branch here" at token 40 of path 3) only evaluates what is new.
A branch's own ``context`` (tokens between the prompt and its forced tokens) is served the same
way: a branch whose context continues an earlier sequence takes over that sequence's cells, so
the answer probes of a whole run, one branch per path, evaluate only their probe tokens.
"""

from __future__ import annotations

import codecs
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from inspector.engine.backend import Branch, FinishCallback, TokenCallback
from inspector.engine.cancel import CancelToken
from inspector.engine.distribution import RowAnalyzer, RowStats, choose_token, make_rng
from inspector.engine.errors import InvalidNumbersError, InvalidParameterError, PromptTooLongError
from inspector.engine.records import Alternative, GeneratedSequence, TokenEvent, TokenRecord
from inspector.engine.runtime import BatchEntry, LlamaRuntime
from inspector.engine.settings import GenerationSettings, SamplingSettings

PREFIX_SEQ = 0


@dataclass
class _BranchState:
    index: int
    seq: int
    branch: Branch
    sampling: SamplingSettings
    rng: np.random.Generator
    next_pos: int
    result: GeneratedSequence
    kv_tokens: list[int]
    logits: np.ndarray | None = None  # after the branch's context, when it has one
    pending: int | None = None
    text_tail: str = ""
    reported: bool = False
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace")
    )

    def next_token(self) -> int:
        """The token this live branch feeds to the next batch (chosen by ``_advance``)."""
        assert self.pending is not None, "a live branch always has a token to evaluate"
        return self.pending


class TreeExplorer:
    """Decodes branches from shared prefixes on one :class:`LlamaRuntime`."""

    def __init__(self, runtime: LlamaRuntime, default_seed: int = 0) -> None:
        self.runtime = runtime
        self.default_seed = default_seed
        self._analyzer = RowAnalyzer(runtime.n_vocab)
        self._slots: dict[int, list[int]] = {}

    def forget(self) -> None:
        """Drop every cached sequence (the next request evaluates its prefix from scratch)."""
        self.runtime.clear_memory()
        self._slots.clear()

    def next_token_distribution(
        self, prefix: Sequence[int], k: int, cancel: CancelToken | None = None
    ) -> tuple[list[Alternative], float] | None:
        """The top-k next tokens after ``prefix`` and the entropy there (None if cancelled)."""
        logits = self._prepare_prefix(list(prefix), cancel)
        if logits is None:
            return None
        stats = self._analyze(logits, k)
        return list(self._alternatives(stats)), stats.entropy

    def generate(
        self,
        prefix: Sequence[int],
        branches: Sequence[Branch],
        settings: GenerationSettings,
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
        on_finish: FinishCallback | None = None,
    ) -> list[GeneratedSequence]:
        """Decode every branch from ``prefix``; returns one sequence per branch, in order.

        ``on_finish`` receives each branch the moment it ends (so a caller can save it while
        the others go on); branches stopped by a cancel are only returned.
        """
        prefix = list(prefix)
        self._validate(prefix, branches)
        results = [GeneratedSequence(branch=i) for i in range(len(branches))]
        if not branches:
            return results
        waves = self._waves(len(prefix), branches, settings)
        # before the prefix is prepared (it drops the other cached sequences): which cached
        # sequence each branch of the first wave continues with its context
        claims = self._claim_cached(prefix, waves[0], branches)
        logits = self._prepare_prefix(prefix, cancel, keep=set(claims.values()))
        if logits is None:
            return _mark_cancelled(results)
        stats = self._stats(logits, settings)
        states: list[_BranchState] = []
        for number, wave in enumerate(waves):
            if cancel is not None and cancel.cancelled:
                break
            # a later wave takes over the earlier wave's sequences (and their cells) first
            reused = [state.seq for state in states]
            states = self._start_wave(
                prefix, wave, branches, settings, results, claims if number == 0 else {}, reused
            )
            if not self._evaluate_contexts(prefix, states, cancel):
                break
            self._run_wave(states, logits, stats, settings, (on_token, on_finish), cancel)
        return _mark_cancelled(results)

    # -- prefix --------------------------------------------------------------------------------
    def _validate(self, prefix: list[int], branches: Sequence[Branch]) -> None:
        if not prefix:
            raise InvalidParameterError("the prompt is empty: nothing to continue")
        n_ctx = self.runtime.n_ctx
        longest = max((len(b.context) + len(b.forced) for b in branches), default=0)
        if len(prefix) + longest >= n_ctx:
            raise PromptTooLongError(
                f"the prompt is {len(prefix) + longest} tokens but the context holds {n_ctx}; "
                "shorten the prompt or raise the context length"
            )
        bad = [
            t for b in branches for t in b.context + b.forced if not 0 <= t < self.runtime.n_vocab
        ]
        if bad:
            raise InvalidParameterError(f"token id {bad[0]} is outside the vocabulary")

    def _prepare_prefix(
        self, prefix: list[int], cancel: CancelToken | None, keep: set[int] | None = None
    ) -> np.ndarray | None:
        """Make sequence 0 hold ``prefix``; return a copy of the logits after its last token.
        The other cached sequences are dropped, except those in ``keep``."""
        reuse_seq, common = self._best_cached(prefix)
        common = min(common, len(prefix) - 1)  # the last token is re-evaluated for its logits
        runtime = self.runtime
        if reuse_seq != PREFIX_SEQ:
            runtime.seq_remove(PREFIX_SEQ)
            if common > 0:
                runtime.seq_copy(reuse_seq, PREFIX_SEQ, 0, common)
        elif not runtime.seq_remove(PREFIX_SEQ, common, -1):
            runtime.seq_remove(PREFIX_SEQ)
            common = 0
        keep = keep or set()
        for seq in [s for s in self._slots if s != PREFIX_SEQ and s not in keep]:
            runtime.seq_remove(seq)
        kept = {seq: tokens for seq, tokens in self._slots.items() if seq in keep}
        self._slots = {PREFIX_SEQ: prefix[:common], **kept}
        try:
            logits = self._evaluate(prefix, common, cancel)
        except InterruptedError:
            runtime.seq_remove(PREFIX_SEQ)
            self._slots.pop(PREFIX_SEQ)
            return None
        self._slots[PREFIX_SEQ] = list(prefix)
        return logits

    def _claim_cached(
        self, prefix: list[int], wave: list[int], branches: Sequence[Branch]
    ) -> dict[int, int]:
        """Branch index → the cached sequence (not the prefix's) that holds more of
        ``prefix + context`` than the prefix itself; each sequence serves one branch."""
        claims: dict[int, int] = {}
        for index in wave:
            context = branches[index].context
            if not context:
                continue
            seq, length = self._best_cached(prefix + list(context), exclude=set(claims.values()))
            if seq != PREFIX_SEQ and length > len(prefix):
                claims[index] = seq
        return claims

    def _best_cached(self, prefix: list[int], exclude: set[int] | None = None) -> tuple[int, int]:
        best_seq, best_len = PREFIX_SEQ, 0
        for seq, tokens in self._slots.items():
            if exclude and seq in exclude:
                continue
            length = _common_length(tokens, prefix)
            if length > best_len or (length == best_len and seq == PREFIX_SEQ):
                best_seq, best_len = seq, length
        return best_seq, best_len

    def _evaluate(self, prefix: list[int], start: int, cancel: CancelToken | None) -> np.ndarray:
        """Evaluate ``prefix[start:]``; the last token always goes alone in its own batch.

        llama.cpp rounds differently for different batch shapes, so evaluating the last token
        the same way whether or not the rest came from the cache keeps a seeded sample
        reproducible.
        """
        chunk = self.runtime.n_batch
        abort = (lambda: cancel.cancelled) if cancel is not None else None
        last = len(prefix) - 1
        for begin in range(start, last, chunk):
            if cancel is not None and cancel.cancelled:
                raise InterruptedError
            end = min(begin + chunk, last)
            self.runtime.decode(
                [BatchEntry(prefix[p], p, PREFIX_SEQ, False) for p in range(begin, end)], abort
            )
        if cancel is not None and cancel.cancelled:
            raise InterruptedError
        rows = self.runtime.decode([BatchEntry(prefix[last], last, PREFIX_SEQ, True)], abort)
        return np.array(rows[0], copy=True)

    # -- waves of branches -----------------------------------------------------------------------
    def _waves(
        self, prefix_len: int, branches: Sequence[Branch], settings: GenerationSettings
    ) -> list[list[int]]:
        """Split branches into groups whose KV cells fit in the context together. Branches
        with a context go first: only the first wave can continue the previous request's
        cached sequences."""
        longest = max(len(b.context) for b in branches)
        per_branch = longest + max(settings.max_tokens, max(len(b.forced) for b in branches)) + 1
        room = max(1, (self.runtime.n_ctx - prefix_len) // per_branch)
        size = max(1, min(room, self.runtime.n_seq_max - 1, self.runtime.n_batch))
        indices = sorted(range(len(branches)), key=lambda i: not branches[i].context)
        return [indices[i : i + size] for i in range(0, len(indices), size)]

    def _start_wave(
        self,
        prefix: list[int],
        wave: list[int],
        branches: Sequence[Branch],
        settings: GenerationSettings,
        results: list[GeneratedSequence],
        claims: dict[int, int],
        reused: list[int],
    ) -> list[_BranchState]:
        """A sequence id per branch: a claimed cached sequence keeps the cells its branch's
        context shares with it (the rest is removed); every other branch starts as a copy of
        the prefix (taking the ``reused`` ids first). Each state's ``kv_tokens`` are the tokens
        its cells hold."""
        claimed = set(claims.values())
        ids = reused + [seq for seq in range(1, self.runtime.n_seq_max) if seq not in reused]
        free = (seq for seq in ids if seq not in claimed)
        states = []
        for index in wave:
            branch = branches[index]
            full = prefix + list(branch.context)
            seq = claims.get(index)
            held = list(prefix)
            if seq is not None:
                cached = self._slots[seq]
                # the last context token is evaluated again: its logits choose the next token
                length = min(_common_length(cached, full), len(full) - 1)
                if self.runtime.seq_remove(seq, length, -1):
                    held = full[:length]
                else:
                    seq = None
            if seq is None:
                seq = next(free)
                self.runtime.seq_remove(seq)
                self.runtime.seq_copy(PREFIX_SEQ, seq)
            sampling = branch.sampling or settings.sampling
            seed = self.default_seed if sampling.seed is None else sampling.seed
            state = _BranchState(
                index, seq, branch, sampling,
                make_rng(seed, index if branch.seed_key is None else branch.seed_key), len(held),
                results[index], held,
            )  # fmt: skip
            self._slots[seq] = state.kv_tokens
            states.append(state)
        return states

    def _evaluate_contexts(
        self, prefix: list[int], states: list[_BranchState], cancel: CancelToken | None
    ) -> bool:
        """Evaluate what each branch's context still lacks, batched across branches, keeping
        the logits after each context's last token. False when cancelled (the cells hold
        what their ``kv_tokens`` say)."""
        pending: list[tuple[_BranchState, int]] = []
        for state in states:
            full = prefix + list(state.branch.context)
            pending += [(state, token) for token in full[len(state.kv_tokens) :]]
        ends = {id(state): len(prefix) + len(state.branch.context) for state in states}
        abort = (lambda: cancel.cancelled) if cancel is not None else None
        for begin in range(0, len(pending), self.runtime.n_batch):
            chunk = pending[begin : begin + self.runtime.n_batch]
            entries = []
            for state, token in chunk:
                pos = state.next_pos
                state.next_pos += 1
                entries.append(BatchEntry(token, pos, state.seq, state.next_pos == ends[id(state)]))
            try:
                if cancel is not None and cancel.cancelled:
                    raise InterruptedError
                rows = self.runtime.decode(entries, abort)
            except InterruptedError:
                for state in states:
                    state.next_pos = len(state.kv_tokens)
                    self.runtime.seq_remove(state.seq, state.next_pos, -1)
                return False
            row = 0
            for (state, token), entry in zip(chunk, entries, strict=True):
                state.kv_tokens.append(token)
                if entry.logits:
                    state.logits = np.array(rows[row], copy=True)
                    row += 1
        return True

    def _run_wave(
        self,
        states: list[_BranchState],
        prefix_logits: np.ndarray,
        prefix_stats: RowStats,
        settings: GenerationSettings,
        callbacks: tuple[TokenCallback | None, FinishCallback | None],
        cancel: CancelToken | None,
    ) -> None:
        on_token, on_finish = callbacks
        for state in states:
            if state.logits is None:
                self._advance(state, prefix_logits, prefix_stats, settings, on_token)
            else:
                stats = self._stats(state.logits, settings)
                self._advance(state, state.logits, stats, settings, on_token)
                state.logits = None
        _report_finished(states, on_finish)
        live = [s for s in states if s.result.finish_reason is None]
        while live:
            if cancel is not None and cancel.cancelled:
                return
            entries = [BatchEntry(s.next_token(), s.next_pos, s.seq, True) for s in live]
            try:
                rows = self.runtime.decode(entries, (lambda: cancel.cancelled) if cancel else None)
            except InterruptedError:
                for state in live:
                    self.runtime.seq_remove(state.seq, state.next_pos, -1)
                return
            for state, row in zip(live, rows, strict=True):
                state.kv_tokens.append(state.next_token())
                state.next_pos += 1
                self._advance(state, row, self._stats(row, settings), settings, on_token)
            _report_finished(live, on_finish)
            live = [s for s in live if s.result.finish_reason is None]

    # -- one token -------------------------------------------------------------------------------
    def _stats(self, logits: np.ndarray, settings: GenerationSettings) -> RowStats:
        if settings.capture:
            return self._analyze(logits, settings.n_alternatives)
        best = int(np.argmax(logits))  # a NaN anywhere in the row is what argmax picks
        if not math.isfinite(float(logits[best])):
            raise self._invalid_numbers()
        return RowStats(math.nan, math.nan, np.array([best], dtype=np.int64), np.array([math.nan]))

    def _analyze(self, logits: np.ndarray, k: int) -> RowStats:
        """Row statistics, refusing a row with a NaN or +inf logit (both make the
        normaliser non-finite): the engine's boundary for a damaged model file."""
        stats = self._analyzer.analyze(logits, k)
        if not (math.isfinite(stats.logsumexp) and np.isfinite(stats.top_logprobs).all()):
            raise self._invalid_numbers()
        return stats

    def _invalid_numbers(self) -> InvalidNumbersError:
        return InvalidNumbersError(
            f"the model produced invalid numbers (NaN or infinite logits) — the file "
            f"{self.runtime.path.name} may be damaged; download or convert it again"
        )

    def _advance(
        self,
        state: _BranchState,
        logits: np.ndarray,
        stats: RowStats,
        settings: GenerationSettings,
        on_token: TokenCallback | None,
    ) -> None:
        """Choose the branch's next token from ``logits``, record it, and decide if it ends."""
        result, forced = state.result, state.branch.forced
        n_done = len(result.tokens)
        if n_done < len(forced):
            token = forced[n_done]
        else:
            token = choose_token(logits, stats, state.sampling, state.rng)
            if not settings.ignore_eos and self.runtime.is_end_of_generation(token):
                result.finish_reason = "eos"
                return
        record = self._record(token, logits, stats, state, settings)
        result.tokens.append(record)
        state.pending = token
        if on_token is not None:
            on_token(TokenEvent(state.index, n_done, record))
        self._check_finished(state, record, settings)

    def _record(
        self,
        token: int,
        logits: np.ndarray,
        stats: RowStats,
        state: _BranchState,
        settings: GenerationSettings,
    ) -> TokenRecord:
        piece = self.runtime.piece(token)
        text = state.decoder.decode(piece)
        if not settings.capture:
            return TokenRecord(token, text, piece, math.nan, math.nan, ())
        logprob = stats.logprob_of(logits, token)
        if not math.isfinite(logprob):  # a forced token with a logit of -inf
            raise InvalidNumbersError(
                f"the model gives token {token} no probability at all here (its logit is "
                "-inf), so it cannot be recorded; branch with another token"
            )
        return TokenRecord(token, text, piece, logprob, stats.entropy, self._alternatives(stats))

    def _alternatives(self, stats: RowStats) -> tuple[Alternative, ...]:
        return tuple(
            Alternative(
                int(t), self.runtime.piece(int(t)).decode("utf-8", "backslashreplace"), float(lp)
            )
            for t, lp in zip(stats.top_ids, stats.top_logprobs, strict=True)
        )

    def _check_finished(
        self, state: _BranchState, record: TokenRecord, settings: GenerationSettings
    ) -> None:
        result = state.result
        if settings.stop:
            longest = max(len(s) for s in settings.stop)
            state.text_tail = (state.text_tail + record.text)[-(longest + len(record.text)) :]
            decoding = len(result.tokens) > len(state.branch.forced)
            hit = next((s for s in settings.stop if s in state.text_tail), None)
            if decoding and hit is not None:
                result.finish_reason, result.stop_string = "stop", hit
                return
        if len(result.tokens) >= max(settings.max_tokens, len(state.branch.forced)):
            result.finish_reason = "length"
        elif state.next_pos >= self.runtime.n_ctx:
            result.finish_reason = "context"


def _common_length(a: Sequence[int], b: Sequence[int]) -> int:
    length = 0
    for x, y in zip(a, b):  # noqa: B905 - stops at the shorter on purpose
        if x != y:
            break
        length += 1
    return length


def _report_finished(states: list[_BranchState], on_finish: FinishCallback | None) -> None:
    if on_finish is None:
        return
    for state in states:
        if state.result.finish_reason is not None and not state.reported:
            state.reported = True
            on_finish(state.result)


def _mark_cancelled(results: list[GeneratedSequence]) -> list[GeneratedSequence]:
    for result in results:
        if result.finish_reason is None:
            result.finish_reason = "cancelled"
    return results
