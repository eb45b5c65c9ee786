"""The allowed range of every numeric run setting, in one table for the CLI, the GUI and the
checks made before a session is created (``docs/limits.md`` lists them)."""

from __future__ import annotations

from inspector.engine.settings import MAX_ALTERNATIVES, SEED, Limit

RUN_LIMITS: dict[str, Limit] = {
    "k": Limit("k (first-token branches)", 1, 64),
    "samples": Limit("samples", 1, 256),
    "temperature": Limit("temperature", 0.0, 10.0, integer=False),
    "top_p": Limit("top-p", 0.0, 1.0, integer=False),
    "top_k": Limit("top-k (0 = off)", 0, 1_000_000),
    "min_p": Limit("min-p", 0.0, 1.0, integer=False),
    "seed": SEED,
    "max_tokens": Limit("max tokens", 1, 32_768),
    "n_alternatives": Limit("alternatives per token", 1, MAX_ALTERNATIVES),
    "probe_tokens": Limit("answer probe tokens", 1, 64),
    # adaptive branching: the entropy of a 262,144-token vocabulary is at most ln(262144) ≈ 12.5
    "branch_entropy": Limit("branch entropy (nats)", 0.0, 20.0, integer=False),
    "branch_margin": Limit("branch margin", 0.0, 1.0, integer=False),
    "branch_min_prob": Limit("branch minimum probability", 0.0, 1.0, integer=False),
    "branch_width": Limit("alternatives per branch point", 1, MAX_ALTERNATIVES - 1),
    "branch_depth": Limit("branch points per path", 1, 12),
    "token_budget": Limit("token budget", 1, 10_000_000),
}
