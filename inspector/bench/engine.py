"""`inspector bench`: what probability capture and shared-prefix batching cost and save.

Each figure is a ratio of two timings taken on the same machine within one run (the machine
is shared and noisy, so ratios are what is worth tracking). Each timing is the median of
``repeats`` runs, alternating the two sides so drift hits both alike.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inspector.engine.engine import Engine
from inspector.engine.explorer import Branch
from inspector.engine.settings import GenerationSettings, SamplingSettings

BENCH_PROMPT = (
    "Q: I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?\nA:"
)


@dataclass
class BenchResult:
    figures: dict[str, Any] = field(default_factory=dict)
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, key: str | None = None) -> None:
        self.rows.append((name, f"{value:,.2f}", unit))
        if key:
            self.figures[key] = round(value, 4)


def _median_seconds(action: Callable[[], int], repeats: int) -> tuple[float, int]:
    """Median wall time of ``action`` (which returns the tokens it produced)."""
    times, tokens = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        tokens = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), tokens


def _decode(engine: Engine, branches: list[Branch], settings: GenerationSettings) -> int:
    engine.forget_cache()
    return sum(len(s.tokens) for s in engine.explore(BENCH_PROMPT, branches, settings))


def _one_at_a_time(engine: Engine, branches: list[Branch], settings: GenerationSettings) -> int:
    return sum(_decode(engine, [branch], settings) for branch in branches)


def bench_capture(engine: Engine, result: BenchResult, n_tokens: int, repeats: int) -> None:
    capture = GenerationSettings(max_tokens=n_tokens, n_alternatives=5, ignore_eos=True)
    plain = GenerationSettings(max_tokens=n_tokens, capture=False, ignore_eos=True)
    plain_s, _ = _median_seconds(lambda: _decode(engine, [Branch()], plain), repeats)
    capture_s, _ = _median_seconds(lambda: _decode(engine, [Branch()], capture), repeats)
    result.add(
        f"greedy {n_tokens} tokens, no capture",
        n_tokens / plain_s,
        "tokens/s",
        "greedy_plain_tokens_per_second",
    )
    result.add(
        f"greedy {n_tokens} tokens, top-5 capture",
        n_tokens / capture_s,
        "tokens/s",
        "greedy_tokens_per_second",
    )
    result.add(
        "capture overhead (time ratio, target ≤ 1.10)",
        capture_s / plain_s,
        "×",
        "capture_overhead_ratio",
    )
    result.figures["_capture_seconds_per_token"] = capture_s / n_tokens


def bench_llama_cpp_logprobs(engine: Engine, result: BenchResult, n_tokens: int) -> None:
    """llama-cpp-python's own way to get log-probabilities, on the same prompt."""
    from llama_cpp import Llama

    settings = engine.runtime.settings
    llm = Llama(
        str(engine.runtime.path), n_ctx=2048, n_threads=settings.n_threads,
        n_gpu_layers=settings.n_gpu_layers, logits_all=True, verbose=False,
    )  # fmt: skip
    started = time.perf_counter()
    out = llm.create_completion(BENCH_PROMPT, max_tokens=n_tokens, temperature=0.0, logprobs=5)
    seconds = time.perf_counter() - started
    assert isinstance(out, dict)  # not streamed
    produced = max(1, out["usage"]["completion_tokens"])
    del llm
    per_token = seconds / produced
    result.add(
        "llama-cpp-python create_completion(logprobs=5)",
        1 / per_token,
        "tokens/s",
        "llama_cpp_logprobs_tokens_per_second",
    )
    ratio = per_token / result.figures["_capture_seconds_per_token"]
    result.add("  its time per token over ours", ratio, "×", "llama_cpp_logprobs_ratio")


def bench_batched(
    engine: Engine, result: BenchResult, label: str, key: str,
    branches: list[Branch], settings: GenerationSettings, repeats: int,
) -> None:  # fmt: skip
    prefix = key.removesuffix("_speedup_ratio")
    batched_s, tokens = _median_seconds(lambda: _decode(engine, branches, settings), repeats)
    serial_s, _ = _median_seconds(lambda: _one_at_a_time(engine, branches, settings), repeats)
    result.add(
        f"{label}: batched, shared prefix",
        tokens / batched_s,
        "tokens/s",
        f"{prefix}_batched_tokens_per_second",
    )
    result.add(
        f"{label}: one at a time, prompt re-evaluated",
        tokens / serial_s,
        "tokens/s",
        f"{prefix}_serial_tokens_per_second",
    )
    result.add(f"{label}: speed-up", serial_s / batched_s, "×", key)


def study_branches(
    engine: Engine, path_tokens: int, samples: int, alternatives: int = 2, min_prob: float = 0.05
) -> tuple[list[int], list[Branch]]:
    """A forking-token study of the greedy path of ``BENCH_PROMPT``: at every position the
    taken token and up to ``alternatives`` others with p ≥ ``min_prob``, ``samples`` each."""
    prompt = engine.tokenize_prompt(BENCH_PROMPT)
    path = engine.generate(prompt, GenerationSettings(max_tokens=path_tokens, ignore_eos=True))
    ids = path.token_ids
    branches = []
    for t, record in enumerate(path.tokens):
        others = [a for a in record.top if a.token_id != record.token_id and a.prob >= min_prob]
        for token in [record.token_id, *(a.token_id for a in others[:alternatives])]:
            branches += [
                Branch(
                    context=tuple(ids[:t]),
                    forced=(token,),
                    seed_key=(t * 7 + s) * 1_000_003 + token,
                )
                for s in range(samples)
            ]
    return prompt, branches


def bench_resampling(engine: Engine, result: BenchResult, quick: bool) -> None:
    """The study batched (each continuation's context a copy of the path's cache) against a
    spread-out subset of the same continuations run one by one, the prefix evaluated anew."""
    path_tokens, samples, new_tokens = (16, 2, 16) if quick else (48, 6, 48)
    prompt, branches = study_branches(engine, path_tokens, samples)
    sampling = SamplingSettings(temperature=1.0, seed=5)
    # what a study records (core/studies.run_study): each token's probability, no alternatives
    settings = GenerationSettings(
        max_tokens=new_tokens, n_alternatives=1, sampling=sampling, ignore_eos=True
    )
    engine.forget_cache()
    started = time.perf_counter()
    tokens = sum(len(s.tokens) for s in engine.explore(prompt, branches, settings))
    batched_s = time.perf_counter() - started
    subset = branches[:: max(1, len(branches) // 16)]
    started = time.perf_counter()
    serial_tokens = 0
    for branch in subset:
        engine.forget_cache()
        alone = Branch(forced=branch.forced, seed_key=branch.seed_key)
        serial_tokens += len(
            engine.explore(prompt + list(branch.context), [alone], settings)[0].tokens
        )
    serial_s = time.perf_counter() - started
    label = f"resampling study, {path_tokens}-token path × {samples} samples × {new_tokens}"
    result.add(f"{label}: continuations", len(branches), "", "study_continuations")
    result.add(f"{label}: batched from the path's cache", tokens / batched_s, "tokens/s",
               "study_batched_tokens_per_second")  # fmt: skip
    result.add(f"  the same one by one, prefix re-evaluated ({len(subset)} of them)",
               serial_tokens / serial_s, "tokens/s", "study_serial_tokens_per_second")  # fmt: skip
    result.add(f"{label}: speed-up", (tokens / batched_s) / (serial_tokens / serial_s), "×",
               "study_speedup_ratio")  # fmt: skip
    result.add(f"{label}: whole study batched", batched_s, "s", "study_batched_seconds")


def run_benchmark(engine: Engine, *, repeats: int = 3, quick: bool = False) -> BenchResult:
    result = BenchResult()
    result.add("model load time", engine.load_seconds, "s", "model_load_seconds")
    n_tokens, branch_tokens = (32, 16) if quick else (128, 64)
    bench_capture(engine, result, n_tokens, repeats)
    first = engine.next_tokens(BENCH_PROMPT, k=10)
    tree = [Branch(forced=(alt.token_id,)) for alt in first]
    greedy = GenerationSettings(max_tokens=branch_tokens, ignore_eos=True)
    bench_batched(
        engine,
        result,
        f"CoT tree k=10 × {branch_tokens}",
        "tree_speedup_ratio",
        tree,
        greedy,
        repeats,
    )
    sampling = SamplingSettings(temperature=0.8, top_p=0.95, seed=1)
    sampled = GenerationSettings(max_tokens=branch_tokens, sampling=sampling, ignore_eos=True)
    samples = [Branch() for _ in range(16)]
    bench_batched(engine, result, f"self-consistency N=16 × {branch_tokens}",
                  "self_consistency_speedup_ratio", samples, sampled, repeats)  # fmt: skip
    bench_resampling(engine, result, quick)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak_kb / (1024 * 1024 if sys.platform == "darwin" else 1024)
    result.add("peak resident memory of the engine", peak_mb, "MB", "peak_rss_mb")
    # last: its logits_all context holds a 262k-float row per context position
    bench_llama_cpp_logprobs(engine, result, n_tokens)
    result.figures.pop("_capture_seconds_per_token", None)
    result.figures["threads"] = engine.runtime.settings.n_threads
    return result


def format_table(result: BenchResult) -> str:
    width = max(len(name) for name, _, _ in result.rows)
    lines = [f"{'measure'.ljust(width)}  {'value':>10}  unit", "-" * (width + 20)]
    lines += [f"{name.ljust(width)}  {value:>10}  {unit}" for name, value, unit in result.rows]
    return "\n".join(lines)
