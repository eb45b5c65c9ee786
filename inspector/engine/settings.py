"""Validated settings for loading a model and for generating text."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from inspector.engine.errors import InvalidParameterError

MAX_ALTERNATIVES = 20


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidParameterError(message)


def cpu_count() -> int:
    return max(1, os.cpu_count() or 1)


def default_thread_count() -> int:
    """Physical-ish core count: llama.cpp gains nothing from hyper-threads."""
    return min(8, cpu_count())


@dataclass(frozen=True)
class Limit:
    """The allowed range of one numeric setting, as its user knows it (``docs/limits.md``).

    Values must be finite numbers within ``[low, high]`` (integers where ``integer``); a value
    outside gets one message naming the setting, its range and what was given.
    """

    name: str
    low: float
    high: float
    integer: bool = True

    def describe(self) -> str:
        low, high = (int(self.low), int(self.high)) if self.integer else (self.low, self.high)
        return f"{low}–{high}"

    def check(self, value: float) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and self.low <= value <= self.high
        if ok and self.integer:
            ok = float(value).is_integer()
        _require(ok, f"{self.name} must be {self.describe()}, got {value}")


# Model loading: more threads than CPUs only slows llama.cpp down (and 10,000 froze the
# machine); the context is bounded by what a laptop can hold.
THREADS = Limit("threads", 1, cpu_count())
CONTEXT = Limit("context length", 16, 1_048_576)
GPU_LAYERS = Limit("GPU layers", -1, 10_000)
SEED = Limit("seed", 0, 2**32 - 1)


@dataclass(frozen=True)
class ModelSettings:
    """How a model file is loaded and how big its context is.

    ``n_ctx`` is the number of KV cells shared by all sequences (a unified cache), so a
    shared prompt occupies its cells once however many branches continue it.
    """

    n_ctx: int = 8192
    n_threads: int = field(default_factory=default_thread_count)
    n_gpu_layers: int = 0
    seed: int = 0
    n_seq_max: int = 33
    n_batch: int = 512
    # Off by default: on CPU, llama.cpp's flash attention computes in half precision and moved
    # Gemma 3's first-token log-probabilities by up to 0.12 nats against the exact path.
    flash_attention: bool = False
    # Every batch padded to at least this many rows (a scratch sequence, no logits; 1: off).
    # On CPU llama.cpp computes a row with one arithmetic in a batch of 1 row, another in 2-7
    # rows and a third from 8 rows on (up to 0.6 in a logit), and a row's KV cells carry that
    # into every later token. With 8, a row's numbers no longer depend on what shares its
    # batch (tests/engine/test_batch_invariance.py); what remains is where the cache placed
    # its cells (a few hundredths of a nat). Off by default: a lone path then costs 8 rows.
    min_batch_rows: int = 1

    def __post_init__(self) -> None:
        CONTEXT.check(self.n_ctx)
        THREADS.check(self.n_threads)
        GPU_LAYERS.check(self.n_gpu_layers)
        _require(
            2 <= self.n_seq_max <= 256, f"sequences must be between 2 and 256, got {self.n_seq_max}"
        )
        _require(self.n_batch >= 1, f"batch size must be at least 1, got {self.n_batch}")
        _require(
            1 <= self.min_batch_rows <= self.n_batch,
            f"the smallest batch must be between 1 and the batch size {self.n_batch} rows, "
            f"got {self.min_batch_rows}",
        )
        SEED.check(self.seed)


@dataclass(frozen=True)
class SamplingSettings:
    """Temperature 0 means greedy; otherwise sample from the tempered, truncated distribution."""

    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    min_p: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        _require(
            math.isfinite(self.temperature) and self.temperature >= 0,
            f"temperature must be ≥ 0, got {self.temperature}",
        )
        _require(self.top_k >= 0, f"top-k must be ≥ 0 (0 = off), got {self.top_k}")
        _require(0 < self.top_p <= 1, f"top-p must be in (0, 1], got {self.top_p}")
        _require(0 <= self.min_p < 1, f"min-p must be in [0, 1), got {self.min_p}")
        _require(self.seed is None or self.seed >= 0, f"seed must be ≥ 0, got {self.seed}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0 or self.top_k == 1


GREEDY = SamplingSettings()


@dataclass(frozen=True)
class GenerationSettings:
    """What to generate and how much of the distribution to record at each token."""

    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    n_alternatives: int = 5
    sampling: SamplingSettings = GREEDY
    capture: bool = True
    ignore_eos: bool = False  # keep decoding past end-of-sequence (benchmarks)

    def __post_init__(self) -> None:
        _require(self.max_tokens >= 1, f"max tokens must be at least 1, got {self.max_tokens}")
        _require(
            1 <= self.n_alternatives <= MAX_ALTERNATIVES,
            f"alternatives per token (k) must be between 1 and {MAX_ALTERNATIVES}, "
            f"got {self.n_alternatives}",
        )
        _require(all(isinstance(s, str) and s for s in self.stop), "stop strings must be non-empty")
