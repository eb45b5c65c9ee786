"""`inspector run` and `inspector experiment`: strategies from the shell.

Each saves what it produces to the session database as it goes (``--db``, ``$INSPECTOR_DB`` or
the user data directory).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.cli.model import add_model_options, load_engine
from inspector.cli.options import CONCURRENCY, QUESTION_LIMIT, bounded
from inspector.cli.output import open_store, print_json, print_notices, progress_line
from inspector.core.adaptive import MarginalDistribution, marginal_lines
from inspector.core.answers import parse_rule
from inspector.core.display import answer_or_none, fmt, path_number, text_or_dash, token_words
from inspector.core.limits import RUN_LIMITS
from inspector.core.model_defaults import DEFAULT_MAX_TOKENS, token_limit_note
from inspector.core.probe import DEFAULT_PROBE, check_probe_text
from inspector.core.prompts import PROMPT_STYLES, WorkedExample, load_examples
from inspector.core.session import STRATEGIES, AnswerProbe, RunSettings, Session
from inspector.engine import CancelToken, TokenEvent, TokenRecord
from inspector.store.export.json import path_doc, probe_doc

if TYPE_CHECKING:
    from inspector.core.experiment import ExperimentOutcome, ExperimentProgress
    from inspector.store import ExperimentResult

DEFAULTS = RunSettings()


def register(commands: Any) -> None:
    """Add ``run`` and ``experiment`` to ``commands`` (argparse subparsers)."""
    run = commands.add_parser("run", help="run a strategy on one question and save the session")
    run.add_argument("question", help="the question to ask")
    run.add_argument("--gold", help="the known answer (to score the paths)")
    add_model_options(run)
    add_run_options(run)
    run.set_defaults(handler=cmd_run)

    experiment = commands.add_parser("experiment", help="run a strategy over a question set")
    experiment.add_argument("file", help="JSONL, CSV or GSM8K file with question and answer")
    experiment.add_argument(
        "--limit", type=bounded(QUESTION_LIMIT), help="only the first N questions"
    )
    experiment.add_argument("--name", help="a name for the experiment")
    experiment.add_argument(
        "--concurrency", type=bounded(CONCURRENCY), default=None, metavar="N",
        help="requests in flight at once with --backend openai, as many questions together "
        "(default 16; match the server's parallel slots); the local engine runs one",
    )  # fmt: skip
    add_model_options(experiment)
    add_run_options(experiment)
    experiment.set_defaults(handler=cmd_experiment)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("strategy")
    group.add_argument("--strategy", choices=STRATEGIES, default="greedy")
    group.add_argument(
        "--k",
        type=bounded(RUN_LIMITS["k"]),
        default=DEFAULTS.k,
        help="CoT-decoding first-token branches",
    )
    group.add_argument(
        "--samples",
        type=bounded(RUN_LIMITS["samples"]),
        default=DEFAULTS.samples,
        help="self-consistency paths",
    )
    group.add_argument(
        "--temperature", type=bounded(RUN_LIMITS["temperature"]), default=DEFAULTS.temperature
    )
    group.add_argument("--top-p", type=bounded(RUN_LIMITS["top_p"]), default=DEFAULTS.top_p)
    group.add_argument(
        "--top-k",
        type=bounded(RUN_LIMITS["top_k"]),
        default=DEFAULTS.top_k,
        help="sampling top-k (0 = off)",
    )
    group.add_argument("--min-p", type=bounded(RUN_LIMITS["min_p"]), default=DEFAULTS.min_p)
    group.add_argument("--seed", type=bounded(RUN_LIMITS["seed"]), default=DEFAULTS.seed)
    group.add_argument(
        "--max-tokens",
        type=bounded(RUN_LIMITS["max_tokens"]),
        default=None,  # None: the default of the model's kind, decided once the model is open
        help="the longest a path may grow (default: "
        + ", ".join(f"{kind} model {n}" for kind, n in DEFAULT_MAX_TOKENS.items())
        + ")",
    )
    group.add_argument(
        "--alternatives",
        type=bounded(RUN_LIMITS["n_alternatives"]),
        default=DEFAULTS.n_alternatives,
        help="top-k alternatives recorded per token (1–20)",
    )
    group.add_argument("--prompt", choices=PROMPT_STYLES, default="plain", help="prompt style")
    group.add_argument("--few-shot", metavar="FILE", help="worked examples (JSON) for few-shot-cot")
    template = group.add_mutually_exclusive_group()
    template.add_argument(
        "--chat-template",
        dest="chat_template",
        action="store_const",
        const=True,
        default=None,  # None: the model's chat template if it has one
        help="put the prompt through the model's chat template (default: if it has one)",
    )
    template.add_argument(
        "--no-chat-template",
        dest="chat_template",
        action="store_const",
        const=False,
        help="the raw Q: … A: prompt even when the model has a chat template",
    )
    group.add_argument(
        "--answer-rule",
        default=DEFAULTS.answer_rule,
        help="last-number, answer-is, gsm8k, choice or regex:PATTERN",
    )
    group.add_argument(
        "--answer-probe",
        nargs="?",
        const=DEFAULT_PROBE,
        default=None,
        metavar="TEXT",
        help=f"after each path ends, append TEXT (default {DEFAULT_PROBE!r}) on a new line and "
        "measure Δ on the answer decoded after it (CoT-decoding's answer probe)",
    )
    group.add_argument(
        "--probe-tokens",
        type=bounded(RUN_LIMITS["probe_tokens"]),
        default=DEFAULTS.probe_tokens,
        help="tokens decoded greedily after the answer probe",
    )
    add_adaptive_options(parser)
    group.add_argument(
        "--db",
        metavar="PATH",
        help="session database (default: $INSPECTOR_DB or the user data directory)",
    )
    group.add_argument("--json", action="store_true", help="machine-readable output")


def add_adaptive_options(parser: argparse.ArgumentParser) -> None:
    """The settings of ``--strategy adaptive`` (``core/adaptive.py``)."""
    group = parser.add_argument_group(
        "adaptive branching",
        "branch wherever the model is uncertain (--strategy adaptive): a position whose "
        "entropy is above --branch-entropy or whose top-1/top-2 margin is below "
        "--branch-margin branches into its --branch-width most likely alternatives with "
        "p >= --branch-min-prob",
    )
    options: list[tuple[str, str, str]] = [
        ("--branch-entropy", "branch_entropy", "entropy of the next-token distribution (nats)"),
        ("--branch-margin", "branch_margin", "p(top-1) − p(top-2) below which a position branches"),
        (
            "--branch-min-prob",
            "branch_min_prob",
            "least probability of an alternative to branch on",
        ),
        ("--branch-width", "branch_width", "alternatives per branch point, at most"),
        ("--branch-depth", "branch_depth", "branch points per root-to-leaf path, at most"),
        ("--token-budget", "token_budget", "tokens the whole run may decode"),
    ]
    for flag, name, words in options:
        default = getattr(DEFAULTS, name)
        group.add_argument(
            flag, type=bounded(RUN_LIMITS[name]), default=default,
            help=f"{words} (default {default})",
        )  # fmt: skip
    group.add_argument(
        "--adaptive-sample",
        action="store_true",
        help="continue the branches by sampling (--temperature, --top-p, --seed…), not greedily",
    )


def run_settings(args: argparse.Namespace) -> RunSettings:
    parse_rule(args.answer_rule)  # a bad rule fails before the model loads
    if args.answer_probe is not None:  # so does an empty probe text
        check_probe_text(args.answer_probe)
    return RunSettings(
        strategy=args.strategy,
        prompt_style=args.prompt,
        k=args.k,
        samples=args.samples,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        min_p=args.min_p,
        seed=args.seed,
        max_tokens=args.max_tokens,
        n_alternatives=args.alternatives,
        answer_rule=args.answer_rule,
        use_chat_template=args.chat_template,
        answer_probe=args.answer_probe or "",
        probe_tokens=args.probe_tokens,
        branch_entropy=args.branch_entropy,
        branch_margin=args.branch_margin,
        branch_min_prob=args.branch_min_prob,
        branch_width=args.branch_width,
        branch_depth=args.branch_depth,
        token_budget=args.token_budget,
        adaptive_sample=args.adaptive_sample,
    )


@contextlib.contextmanager
def cancel_on_interrupt() -> Iterator[CancelToken]:
    """Ctrl+C cancels the work gracefully (paths so far are kept and saved)."""
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def few_shot_examples(args: argparse.Namespace) -> list[WorkedExample] | None:
    return load_examples(Path(args.few_shot)) if args.few_shot else None


# the fields of the export's path serialisation that `run --json` prints, in its order
_PATH_KEYS = (
    "id",
    "origin",
    "label",
    "text",
    "answer",
    "confidence",
    "logprob",
    "n_tokens",
    "correct",
    "finish_reason",
    "answer_tokens",
)


def _token_json(token: TokenRecord) -> dict[str, Any]:
    return {
        "text": token.text,
        "logprob": token.logprob,
        "entropy": token.entropy,
        "top": [{"text": a.text, "logprob": a.logprob} for a in token.top],
    }


def _probe_json(probe: AnswerProbe | None) -> dict[str, Any] | None:
    """The answer probe of a path as the JSON export writes it (:func:`probe_doc`), with
    the CLI's token records and the continuation's text."""
    if probe is None:
        return None
    return {
        **probe_doc(probe, strict=False),
        "continuation": probe.continuation,
        "tokens": [_token_json(t) for t in probe.tokens],
    }


def session_json(session: Session) -> dict[str, Any]:
    summary = session.summary()
    paths = []
    for path in session.paths:
        tokens = session.path_tokens(path)
        doc = path_doc(path, strict=False)
        paths.append(
            {
                **{key: doc[key] for key in _PATH_KEYS},
                "tokens": [_token_json(t) for t in tokens],
                "probe": _probe_json(path.probe),
            }
        )
    return {
        "session_id": session.id,
        "strategy": session.settings.strategy,
        "prompt_style": session.settings.prompt_style,
        "prompt": session.prompt,
        "question": session.question,
        "gold": session.gold,
        "status": session.status,
        "settings": session.settings.to_dict(),
        "model": session.model,
        "paths": paths,
        "votes": summary.votes,
        "chosen_answer": summary.chosen_answer,
        "majority_answer": summary.majority.answer,
        "weighted_answer": summary.weighted.answer,
        "cot_path_id": summary.cot_path_id,
        "cot_aggregated_answer": summary.cot_aggregated.answer,
        "tied": list(summary.majority.tied),
        "consistency": summary.consistency,
        "vote_entropy": summary.vote_entropy,
        "greedy_vs_marginal": asdict(summary.greedy_vs_marginal)
        if summary.greedy_vs_marginal
        else None,
        "correct": summary.correct,
        "marginal": marginal_json(summary.marginal),
    }


def marginal_json(marginal: MarginalDistribution | None) -> dict[str, Any] | None:
    """An adaptive run's explored mass and marginal answer distribution (None otherwise)."""
    if marginal is None:
        return None
    return {
        "leaves": marginal.n_leaves,
        "explored_mass": marginal.explored_mass,
        "answered_mass": marginal.answered_mass,
        "answer": marginal.answer,
        "tied": list(marginal.tied),
        "distribution": marginal.distribution,
        "lower_bound": marginal.mass,
        "log_mass": marginal.log_mass,
    }


def print_session(session: Session, db_path: Path) -> None:
    summary = session.summary()
    print(f"session {session.id} ({session.status}) saved in {db_path}")
    print(
        f"strategy {session.settings.strategy} · prompt {session.settings.prompt_style} · "
        f"model {session.model.get('description', '?')}"
    )
    adaptive = session.settings.strategy == "adaptive"
    # an adaptive run's paths begin at their branch point: its token, not the first one
    token_head, p_head = ("branch token", "p(branch)") if adaptive else ("first token", "p(first)")
    print(
        f"{'':2}{'#':>3}  {token_head:<14}{p_head:>9}  {'answer':<10}{'Δ':>7}{'logprob':>9}  text"
    )
    for path in session.paths:
        tokens = session.path_tokens(path)
        own = (path.branch_depth or 0) if adaptive else 0
        first = tokens[own] if own < len(tokens) else None
        picked = session.settings.strategy == "cot-decoding" and path.id == summary.cot_path_id
        mark = "*" if picked else " "  # CoT-decoding's pick
        text = " ".join(path.text.split())[:60]
        print(
            f"{mark:2}{path.id:>3}  {token_words(first.text) if first else '—':<14}"
            f"{fmt(first.prob if first else None):>9}  {answer_or_none(path.answer):<10}"
            f"{fmt(path.confidence):>7}{path.logprob:>9.2f}  {text}"
        )
        if path.probe is not None:
            probe = path.probe
            said = " ".join(probe.continuation.split())[:40]
            print(
                f"{'':5}probe “{probe.text}” → {answer_or_none(probe.answer)} "
                f"(Δ {fmt(probe.confidence)}): {said!r}"
            )
    votes = ", ".join(f"{answer} ×{count}" for answer, count in summary.votes.items()) or "none"
    tie = f" (tie between {', '.join(summary.majority.tied)})" if summary.majority.is_tie else ""
    print(f"votes: {votes}{tie}")
    print(
        f"chosen answer: {answer_or_none(summary.chosen_answer)} · majority "
        f"{answer_or_none(summary.majority.answer)} · weighted "
        f"{answer_or_none(summary.weighted.answer)}"
        + (
            f" · CoT-decoding pick: {path_number(summary.cot_path_id)} "
            f"({answer_or_none(summary.cot_pick.answer)}), aggregated "
            f"{answer_or_none(summary.cot_aggregated.answer)}"
            if session.settings.strategy == "cot-decoding"
            else ""
        )
    )
    marginal = summary.greedy_vs_marginal
    if marginal is not None:
        print(
            f"greedy path: answer {answer_or_none(marginal.greedy_answer)}, sequence probability "
            f"{marginal.greedy_sequence_probability:.2e}; share of samples reaching it "
            f"{fmt(marginal.greedy_answer_probability, 2)} (majority "
            f"{answer_or_none(marginal.majority_answer)}: "
            f"{fmt(marginal.majority_answer_probability, 2)})"
        )
    if summary.marginal is not None:
        for line in marginal_lines(summary.marginal):
            print(line)
    correct = {True: "yes", False: "no", None: "no gold answer"}[summary.correct]
    gold = text_or_dash(session.gold)
    print(f"consistency {fmt(summary.consistency, 2)} · gold {gold} · correct: {correct}")


def print_limit_note(sessions: list[Session]) -> None:
    """On stderr, when at least half the paths of these sessions (one run, or an experiment's
    runs, which share their settings) hit the token limit: "8 of 10 paths hit…"."""
    if not sessions or sessions[0].settings.max_tokens is None:
        return
    note = token_limit_note([s.summary() for s in sessions], sessions[0].settings.max_tokens)
    if note is not None:
        print(f"inspector: note: {note}", file=sys.stderr)


# -- commands -------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from inspector.core.strategies import AdaptiveProgress, RunHooks
    from inspector.service import run_and_save

    settings = run_settings(args)
    examples = few_shot_examples(args)
    store, db_path = open_store(args)
    with load_engine(args) as engine, cancel_on_interrupt() as cancel:
        counter = {"tokens": 0}
        stage = {"text": ""}  # an adaptive run's level, before the token count

        def on_token(_event: TokenEvent) -> None:
            counter["tokens"] += 1
            progress_line(f"{stage['text']}{counter['tokens']} tokens…")

        def on_progress(_session: Session, progress: AdaptiveProgress) -> None:
            stage["text"] = (
                f"level {progress.level}: {progress.branches} branches "
                f"({progress.paths} paths so far, budget {progress.tokens}/{progress.budget}) · "
            )

        hooks = RunHooks(on_token=on_token, cancel=cancel, on_progress=on_progress)
        session = run_and_save(
            store, engine, args.question, settings, gold=args.gold, examples=examples, hooks=hooks
        )
        print_notices(engine)
    progress_line("")
    if args.json:
        print_json(session_json(session))
    else:
        print_session(session, db_path)
    print_limit_note([session])
    return 130 if session.status == "cancelled" else 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from inspector.core.datasets import load_dataset
    from inspector.core.strategies import RunHooks
    from inspector.service import run_saved_experiment

    settings = run_settings(args)
    dataset = load_dataset(args.file, limit=args.limit)
    examples = few_shot_examples(args)
    store, db_path = open_store(args)

    def on_progress(progress: ExperimentProgress) -> None:
        eta = f", about {progress.remaining:.0f} s left" if progress.remaining else ""
        progress_line(f"question {progress.done}/{progress.total}{eta}")

    with load_engine(args) as engine, cancel_on_interrupt() as cancel:
        saved = run_saved_experiment(
            store,
            engine,
            dataset,
            settings,
            name=args.name,
            limit=args.limit,
            hooks=RunHooks(cancel=cancel),
            on_progress=on_progress,
            examples=examples,
            concurrency=args.concurrency,
        )
        print_notices(engine)
    progress_line("")
    print_limit_note(saved.outcome.sessions)
    rows = store.experiment_results(saved.experiment_id)
    return _report_experiment(args, saved.experiment_id, db_path, rows, saved.outcome)


def _report_experiment(
    args: argparse.Namespace,
    experiment_id: int,
    db_path: Path,
    rows: list[ExperimentResult],
    outcome: ExperimentOutcome,
) -> int:
    answered = [r for r in rows if r.correct is not None]
    accuracy = sum(1 for r in answered if r.correct) / len(answered) if answered else None
    data = {
        "experiment_id": experiment_id,
        "ran": len(outcome.sessions),
        "skipped": outcome.skipped,
        "cancelled": outcome.cancelled,
        "questions": len(rows),
        "accuracy": accuracy,
        "results": [
            {
                "question_index": r.question_index,
                "question": r.question,
                "gold": r.gold,
                "chosen_answer": r.chosen_answer,
                "correct": r.correct,
                "consistency": r.consistency,
                "session_id": r.session_id,
            }
            for r in rows
        ],
    }
    if args.json:
        print_json(data)
    else:
        print(
            f"experiment {experiment_id} in {db_path}: ran {len(outcome.sessions)}, "
            f"resumed past {outcome.skipped}{' (cancelled)' if outcome.cancelled else ''}"
        )
        for r in rows:
            mark = {True: "✓", False: "✗", None: "?"}[r.correct]
            print(
                f"  {mark} #{r.question_index + 1:<4} gold {r.gold!s:<8} chosen "
                f"{r.chosen_answer!s:<8} consistency {fmt(r.consistency, 2)}"
            )
        print(f"accuracy {fmt(accuracy, 3)} over {len(answered)} questions")
    return 130 if outcome.cancelled else 0
