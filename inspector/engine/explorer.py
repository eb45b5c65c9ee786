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
from collections import deque
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
    full_len: int = 0  # prompt + context: the cells this branch must hold before it decodes
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
        # before the prefix is prepared (it drops the other cached sequences): the cached
        # sequences that hold more of some branch's context than the prefix itself
        keep = self._useful_cached(prefix, branches)
        logits = self._prepare_prefix(prefix, cancel, keep=keep)
        if logits is None:
            return _mark_cancelled(results)
        pool = _Pool(self, prefix, branches, settings, results)
        pool.run(logits, self._stats(logits, settings), (on_token, on_finish), cancel)
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

    def _useful_cached(self, prefix: list[int], branches: Sequence[Branch]) -> set[int]:
        """Cached sequences (not the prefix's) that share more than ``prefix`` with the
        context of some branch: they can serve that context without evaluating it."""
        contexts = {tuple(b.context) for b in branches if b.context}
        useful: set[int] = set()
        for seq, tokens in self._slots.items():
            if seq == PREFIX_SEQ or len(tokens) <= len(prefix) or tokens[: len(prefix)] != prefix:
                continue
            first = tokens[len(prefix)]
            if any(context[0] == first for context in contexts):
                useful.add(seq)
        return useful

    def _best_cached(self, prefix: list[int]) -> tuple[int, int]:
        best_seq, best_len = PREFIX_SEQ, 0
        for seq, tokens in self._slots.items():
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


class _Pool:
    """The branches of one request on a fixed set of sequence slots (continuous batching).

    A branch takes a slot as soon as one is free, so a long branch never holds up the start
    of the next. Each step decodes, in the same batches, one token for every live branch and
    whatever context the branches just started still lack. A branch's context is served from
    the cached sequence that holds most of it — the prefix, a sequence the previous request
    left, or another branch of this request — by copying that sequence's position range
    ``[0, n)`` (``llama_memory_seq_cp``: the cells are shared, nothing is evaluated), so the
    continuations of one path from many of its positions evaluate the path once. Branches
    are started in reverse lexicographic order of their contexts: the longest context of a
    path goes first, and the path's shorter contexts then copy it.

    KV cells are counted conservatively: a copied range beyond the prompt counts as the
    copy's own (its source may be dropped while the copy lives), and each live branch keeps
    room for the tokens it may still add; finished sequences stay cached (for the next
    request) until their slot or their cells are needed.
    """

    def __init__(
        self,
        explorer: TreeExplorer,
        prefix: list[int],
        branches: Sequence[Branch],
        settings: GenerationSettings,
        results: list[GeneratedSequence],
    ) -> None:
        self.explorer = explorer
        self.runtime = explorer.runtime
        self.prefix = prefix
        self.branches = branches
        self.settings = settings
        self.results = results
        self.queue = deque(
            sorted(range(len(branches)), key=lambda i: tuple(branches[i].context), reverse=True)
        )
        self.active: list[_BranchState] = []
        self.capacity = self.runtime.n_seq_max - 1
        slots = explorer._slots
        self.owned = {
            seq: len(tokens) - _common_length(tokens, prefix)
            for seq, tokens in slots.items()
            if seq != PREFIX_SEQ
        }
        self.growth: dict[int, int] = {}
        self.ended: list[int] = []  # sequences of ended branches, oldest first

    # -- the loop ------------------------------------------------------------------------------
    def run(
        self,
        prefix_logits: np.ndarray,
        prefix_stats: RowStats,
        callbacks: tuple[TokenCallback | None, FinishCallback | None],
        cancel: CancelToken | None,
    ) -> None:
        on_token, on_finish = callbacks
        while self.queue or self.active:
            if cancel is not None and cancel.cancelled:
                return
            self._admit(prefix_logits, prefix_stats, on_token)
            self._retire(on_finish)
            if not self.active:
                continue
            if not self._step(on_token, cancel):
                return
            self._retire(on_finish)

    def _retire(self, on_finish: FinishCallback | None) -> None:
        for state in [s for s in self.active if s.result.finish_reason is not None]:
            self.active.remove(state)
            self.growth.pop(state.seq, None)
            self.ended.append(state.seq)
            if on_finish is not None and not state.reported:
                state.reported = True
                on_finish(state.result)

    # -- starting branches ---------------------------------------------------------------------
    def _admit(
        self, prefix_logits: np.ndarray, prefix_stats: RowStats, on_token: TokenCallback | None
    ) -> None:
        explorer, settings = self.explorer, self.settings
        while self.queue and len(self.active) < self.capacity:
            index = self.queue[0]
            branch = self.branches[index]
            full = self.prefix + list(branch.context)
            source, length = self._source(full)
            if branch.context:
                length = min(length, len(full) - 1)  # the last one is evaluated for its logits
                if self.active and self._being_evaluated(full, length):
                    return  # a branch started this step evaluates more of it: copy that next
            need = len(full) - length + max(settings.max_tokens, len(branch.forced)) + 1
            take_over = self._can_take_over(source, full, length)
            extra = 0 if take_over or source == PREFIX_SEQ else length - len(self.prefix)
            if not self._make_room(need + extra, keep=source) and self.active:
                return
            seq = source if take_over else self._free_seq(full, keep=source)
            if seq is None:
                if self.active:
                    return
                seq = source  # nothing else to give up: the only other sequence is its source
            self._start(index, seq, source, length, full, need)
            self.queue.popleft()
            state = self.active[-1]
            if not branch.context:
                explorer._advance(state, prefix_logits, prefix_stats, settings, on_token)

    def _source(self, full: list[int]) -> tuple[int, int]:
        """The cached sequence holding most of ``full`` (the prefix's on a tie)."""
        best_seq, best_len = PREFIX_SEQ, len(self.prefix)
        for seq, tokens in self.explorer._slots.items():
            if seq == PREFIX_SEQ:
                continue
            length = _common_length(tokens, full)
            if length > best_len:
                best_seq, best_len = seq, length
        return best_seq, best_len

    def _being_evaluated(self, full: list[int], length: int) -> bool:
        for state in self.active:
            if len(state.kv_tokens) < state.full_len:
                context = self.prefix + list(state.branch.context)
                if _common_length(context, full) > length:
                    return True
        return False

    def _can_take_over(self, source: int, full: list[int], length: int) -> bool:
        """A cached sequence no live branch uses, that the next branch waiting does not
        need either, becomes this branch's own (its cells beyond ``length`` are dropped)."""
        if source == PREFIX_SEQ or any(s.seq == source for s in self.active):
            return False
        if len(self.queue) > 1:
            following = self.prefix + list(self.branches[self.queue[1]].context)
            tokens = self.explorer._slots[source]
            if _common_length(tokens, following) > len(self.prefix):
                return False
        return True

    def _cells_used(self) -> int:
        """Cells held or reserved, with room for a padded batch's scratch rows."""
        held = len(self.prefix) + sum(self.owned.values()) + sum(self.growth.values())
        return held + self.runtime.min_rows

    def _idle(self, keep: int) -> list[int]:
        """Cached sequences no live branch uses (oldest ended first), never ``keep``."""
        busy = {s.seq for s in self.active} | {PREFIX_SEQ, keep}
        idle = [seq for seq in self.explorer._slots if seq not in busy and seq not in self.ended]
        return idle + [seq for seq in self.ended if seq not in busy]

    def _evict(self, seq: int) -> None:
        self.runtime.seq_remove(seq)
        self.explorer._slots.pop(seq, None)
        self.owned.pop(seq, None)
        if seq in self.ended:
            self.ended.remove(seq)

    def _make_room(self, need: int, keep: int) -> bool:
        for seq in self._idle(keep):
            if self._cells_used() + need <= self.runtime.n_ctx:
                break
            self._evict(seq)
        return self._cells_used() + need <= self.runtime.n_ctx

    def _free_seq(self, full: list[int], keep: int) -> int | None:
        slots = self.explorer._slots
        for seq in range(1, self.runtime.n_seq_max):
            if seq not in slots:
                return seq
        idle = self._idle(keep)
        if not idle:
            return None
        # the cached sequence least useful to the branch being started goes
        victim = min(idle, key=lambda seq: _common_length(slots[seq], full))
        self._evict(victim)
        return victim

    def _start(
        self, index: int, seq: int, source: int, length: int, full: list[int], need: int
    ) -> None:
        runtime, explorer = self.runtime, self.explorer
        branch = self.branches[index]
        if seq == source:  # taken over: keep what the context shares with it
            if not runtime.seq_remove(seq, length, -1):
                runtime.seq_remove(seq)
                runtime.seq_copy(PREFIX_SEQ, seq, 0, len(self.prefix))
                length = len(self.prefix)
        else:
            runtime.seq_remove(seq)
            runtime.seq_copy(source, seq, 0, length)
        held = full[:length]
        sampling = branch.sampling or self.settings.sampling
        seed = explorer.default_seed if sampling.seed is None else sampling.seed
        key = index if branch.seed_key is None else branch.seed_key
        state = _BranchState(
            index, seq, branch, sampling, make_rng(seed, key), length, self.results[index],
            held, full_len=len(full),
        )  # fmt: skip
        explorer._slots[seq] = state.kv_tokens
        self.owned[seq] = length - len(self.prefix)
        self.growth[seq] = need
        self.active.append(state)

    # -- one step ------------------------------------------------------------------------------
    def _step(self, on_token: TokenCallback | None, cancel: CancelToken | None) -> bool:
        """One token for every live branch, and the missing context of those just started;
        False when cancelled (every sequence's cells then hold what its ``kv_tokens`` say)."""
        explorer, settings = self.explorer, self.settings
        work: list[tuple[_BranchState, BatchEntry]] = []
        for state in self.active:
            done = len(state.kv_tokens)
            if done < state.full_len:
                context = self.prefix + list(state.branch.context)
                work += [
                    (state, BatchEntry(context[p], p, state.seq, p == state.full_len - 1))
                    for p in range(done, state.full_len)
                ]
            else:
                work.append(
                    (state, BatchEntry(state.next_token(), state.next_pos, state.seq, True))
                )
        abort = (lambda: cancel.cancelled) if cancel is not None else None
        for begin in range(0, len(work), self.runtime.n_batch):
            chunk = work[begin : begin + self.runtime.n_batch]
            try:
                if cancel is not None and cancel.cancelled:
                    raise InterruptedError
                rows = self.runtime.decode([entry for _, entry in chunk], abort)
            except InterruptedError:
                for state in self.active:
                    state.next_pos = len(state.kv_tokens)
                    self.runtime.seq_remove(state.seq, state.next_pos, -1)
                return False
            row = 0
            for state, entry in chunk:
                state.kv_tokens.append(entry.token)
                state.next_pos += 1
                self.owned[state.seq] += 1
                self.growth[state.seq] -= 1
                if entry.logits:
                    logits = rows[row]
                    row += 1
                    explorer._advance(
                        state, logits, explorer._stats(logits, settings), settings, on_token
                    )
        return True


def _common_length(a: Sequence[int], b: Sequence[int]) -> int:
    length = 0
    for x, y in zip(a, b):  # noqa: B905 - stops at the shorter on purpose
        if x != y:
            break
        length += 1
    return length


def _mark_cancelled(results: list[GeneratedSequence]) -> list[GeneratedSequence]:
    for result in results:
        if result.finish_reason is None:
            result.finish_reason = "cancelled"
    return results
