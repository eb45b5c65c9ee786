"""`inspector forks`, `inspector steps` and `inspector studies`: resampling studies of a path.

A study samples continuations from prefixes of one saved path (``core/studies.py``); it is
saved as each continuation ends, and running the same command again resumes it. A study
whose estimated cost is over ``COST_LIMIT_TOKENS`` is refused, with the figure, unless
``--yes``.
"""

from __future__ import annotations

import argparse
from typing import Any

from inspector.cli.model import add_model_options, load_engine
from inspector.cli.output import open_store, print_json, print_notices, progress_line
from inspector.cli.run import cancel_on_interrupt
from inspector.core.display import shown_token
from inspector.core.session import Session
from inspector.core.studies import (
    COST_LIMIT_TOKENS,
    NO_ANSWER,
    SPLIT_RULES,
    PositionOutcome,
    StepOutcome,
    Study,
    StudyPlan,
    StudySample,
    StudySettings,
    fork_outcomes,
    forks,
    important_steps,
    step_outcomes,
    studied_tokens,
)

FORK_THRESHOLD = 0.3  # the forking score from which a position is marked a fork


def register(commands: Any) -> None:
    fork = commands.add_parser(
        "forks", help="forking tokens: resample a saved path from each position"
    )
    _common(fork, temperature=1.0)
    where = fork.add_argument_group("positions and tokens")
    where.add_argument("--first", type=int, metavar="T", help="first position (token index)")
    where.add_argument("--last", type=int, metavar="T", help="last position (token index)")
    where.add_argument(
        "--min-entropy", type=float, metavar="NATS",
        help="only positions whose next-token entropy is at least this",
    )  # fmt: skip
    where.add_argument(
        "--alternatives", type=int, default=2,
        help="other tokens per position besides the one taken (default 2)",
    )  # fmt: skip
    where.add_argument(
        "--min-prob", type=float, default=0.05,
        help="an alternative needs at least this probability (default 0.05)",
    )  # fmt: skip
    where.add_argument(
        "--threshold", type=float, default=FORK_THRESHOLD,
        help=f"forking score that marks a fork (default {FORK_THRESHOLD})",
    )  # fmt: skip
    fork.set_defaults(handler=cmd_forks, kind="forks")

    steps = commands.add_parser(
        "steps", help="step importance: resample a saved path from before and after each step"
    )
    _common(steps, temperature=0.6)
    steps.add_argument(
        "--split", choices=SPLIT_RULES, default="sentences",
        help="how the path is cut into steps (default sentences)",
    )  # fmt: skip
    steps.set_defaults(handler=cmd_steps, kind="steps")

    listing = commands.add_parser("studies", help="list the saved studies")
    listing.add_argument("session", nargs="?", metavar="SESSION", help="only this session's")
    listing.add_argument("--db", metavar="PATH", help="session database")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_studies)


def _common(parser: argparse.ArgumentParser, *, temperature: float) -> None:
    parser.add_argument("session", metavar="SESSION", help="the session (its id or a prefix)")
    parser.add_argument("--path", type=int, required=True, metavar="N", help="the path to study")
    parser.add_argument(
        "--samples", type=int, default=4, help="continuations per point (default 4)"
    )
    parser.add_argument(
        "--max-tokens", type=int, default=48, help="tokens per continuation (default 48)"
    )
    parser.add_argument(
        "--temperature", type=float, default=temperature,
        help=f"sampling temperature (default {temperature})",
    )  # fmt: skip
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--yes", action="store_true",
        help=f"run a study over {COST_LIMIT_TOKENS:,} tokens without refusing",
    )  # fmt: skip
    parser.add_argument("--db", metavar="PATH", help="session database")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_model_options(parser)


def study_settings(args: argparse.Namespace) -> StudySettings:
    extra: dict[str, Any] = {}
    if args.kind == "forks":
        extra = {
            "first": args.first, "last": args.last, "min_entropy": args.min_entropy,
            "alternatives": args.alternatives, "min_prob": args.min_prob,
        }  # fmt: skip
    else:
        extra = {"split": args.split}
    return StudySettings(
        kind=args.kind,
        path_id=args.path,
        samples=args.samples,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
        **extra,
    )


def check_cost(plan: StudyPlan, study: Study, yes: bool) -> None:
    left = len(plan.remaining(study))
    cost = left * study.settings.max_tokens
    if cost > COST_LIMIT_TOKENS and not yes:
        raise ValueError(
            f"this study samples {left:,} continuations of up to {study.settings.max_tokens} "
            f"tokens: up to {cost:,} tokens, over the limit of {COST_LIMIT_TOKENS:,}; study "
            "fewer positions or samples, or add --yes to run it"
        )


def _run(args: argparse.Namespace) -> tuple[Session, StudyPlan, Study, str]:
    from inspector.service.studies import StudyProgress, prepare_study, run_and_save_study

    store, _db_path = open_store(args)
    session_id = store.resolve_session_id(args.session)
    session, plan, study = prepare_study(store, session_id, study_settings(args))
    check_cost(plan, study, args.yes)
    with load_engine(args) as engine, cancel_on_interrupt() as cancel:

        def on_progress(progress: StudyProgress) -> None:
            left = progress.seconds_left
            eta = f", about {_duration(left)} left" if left is not None else ""
            progress_line(f"{progress.done}/{progress.total} continuations{eta}")

        run_and_save_study(
            store, engine, session, plan, study, on_progress=on_progress, cancel=cancel
        )
        print_notices(engine)
    progress_line("")
    return session, plan, study, session_id


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def _answer(answer: str) -> str:
    return "no answer" if answer == NO_ANSWER else answer


def _shares(dist: dict[str, float], n: int = 3) -> str:
    if not dist:
        return "-"
    return ", ".join(f"{_answer(a)} {p:.2f}" for a, p in list(dist.items())[:n])


def cmd_forks(args: argparse.Namespace) -> int:
    session, _plan, study, session_id = _run(args)
    tokens = studied_tokens(session, session.paths[args.path])
    outcomes = fork_outcomes(study, tokens)
    marked = forks(outcomes, args.threshold)
    if args.json:
        print_json(forks_json(study, session_id, outcomes, marked))
    else:
        print(f"forking tokens of path {args.path} ({study.status}, study {study.id}):")
        print(f"{'pos':>4}  {'token':<14} {'studied':>7}  {'score':>5}  outcome distribution")
        for o in outcomes:
            score = "" if o.score is None else f"{o.score:.2f}"
            mark = "  ← fork" if o.position in marked else ""
            token = shown_token(tokens[o.position].text)
            print(
                f"{o.position:>4}  {token:<14.14} {o.share:>7.2f}  {score:>5}  "
                f"{_shares(o.distribution)}{mark}"
            )
        print(
            "score: total-variation distance between a position's outcome distribution and the "
            "previous position's; studied: the probability share of the tokens sampled there"
        )
    return 130 if study.status == "cancelled" else 0


def cmd_steps(args: argparse.Namespace) -> int:
    session, plan, study, session_id = _run(args)
    path = session.paths[args.path]
    outcomes = step_outcomes(study, plan.steps, path, session.gold)
    top = important_steps(outcomes)
    if args.json:
        print_json(steps_json(study, session_id, outcomes, top))
    else:
        print(f"step importance of path {args.path} ({study.status}, study {study.id}):")
        for o in outcomes:
            mark = " ★" if o.step.index in top else ""
            change = o.accuracy_change
            accuracy = "" if change is None else f" · accuracy {change:+.2f}"
            text = " ".join(o.step.text.split())
            print(f"step {o.step.index + 1}{mark}: KL {o.importance:.3f}{accuracy} · {text[:60]}")
            print(
                f"    with it: {_shares(o.with_step)} · without it ({o.n_without}): "
                f"{_shares(o.without_step)}"
            )
        print(
            "KL: divergence of the answers with the step from those without it (resamples "
            "from before it whose first step reads differently; add-½ smoothing)"
        )
    return 130 if study.status == "cancelled" else 0


def cmd_studies(args: argparse.Namespace) -> int:
    store, _db_path = open_store(args, read_only=True)
    session_id = store.resolve_session_id(args.session) if args.session else None
    rows = store.list_studies(session_id)
    if args.json:
        print_json([row.__dict__ for row in rows])
        return 0
    if not rows:
        print("no studies yet")
    for row in rows:
        print(
            f"study {row.id}: {row.kind} of path {row.path_id} in session {row.session_id[:8]} · "
            f"{row.n_samples}/{row.n_planned} continuations · {row.status} · {row.created[:16]}"
        )
    return 0


def _sample_json(study: Study) -> list[dict[str, Any]]:
    return [
        {
            "position": s.point.position,
            "token_id": s.point.token_id,
            "token_text": s.point.token_text,
            "token_prob": s.point.token_prob,
            "sample": s.point.sample,
            "text": s.text,
            "answer": s.answer,
            "correct": s.correct,
            "finish_reason": s.finish_reason,
            "logprob": s.logprob,
        }
        for s in sorted(study.samples, key=_sample_order)
    ]


def _sample_order(sample: StudySample) -> tuple[int, int, int]:
    """By position, token and sample number: the order the store reads them back in."""
    point = sample.point
    return (point.position, -1 if point.token_id is None else point.token_id, point.sample)


def _study_json(study: Study, session_id: str) -> dict[str, Any]:
    """What every study's JSON starts with."""
    return {
        "study": study.id,
        "session": session_id,
        "kind": study.settings.kind,
        "status": study.status,
        "settings": study.settings.to_dict(),
    }


def forks_json(
    study: Study, session_id: str, outcomes: list[PositionOutcome], marked: list[int]
) -> dict[str, Any]:
    return {
        **_study_json(study, session_id),
        "score": "total variation distance to the previous studied position",
        "forks": marked,
        "positions": [
            {
                "position": o.position,
                "share": o.share,
                "score": o.score,
                "distribution": o.distribution,
                "tokens": [
                    {
                        "token_id": t.token_id,
                        "text": t.text,
                        "prob": t.prob,
                        "taken": t.taken,
                        "n": t.n,
                        "distribution": t.distribution,
                    }
                    for t in o.tokens
                ],
            }
            for o in outcomes
        ],
        "samples": _sample_json(study),
    }


def steps_json(
    study: Study, session_id: str, outcomes: list[StepOutcome], top: list[int]
) -> dict[str, Any]:
    return {
        **_study_json(study, session_id),
        "importance": "KL(with ‖ without), add-½ smoothing",
        "important": top,
        "steps": [
            {
                "index": o.step.index,
                "start": o.step.start,
                "end": o.step.end,
                "text": o.step.text,
                "importance": o.importance,
                "before": o.before,
                "with": o.with_step,
                "without": o.without_step,
                "n_without": o.n_without,
                "accuracy_with": o.accuracy_with,
                "accuracy_without": o.accuracy_without,
            }
            for o in outcomes
        ],
        "samples": _sample_json(study),
    }
