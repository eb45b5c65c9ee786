"""Run one question, or branch a saved path, with the session saved as it happens.

The session row is written before the first token, again as each path ends (while the other
branches go on), and once more at the end, whatever ends the run: a cancel, an error, or a
killed process (then the store marks it interrupted when it is next opened).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from inspector.core.prompts import WorkedExample, most_similar
from inspector.core.session import ReasoningPath, RunSettings, Session
from inspector.core.strategies import RunHooks, branch_here, new_session, run_strategy

if TYPE_CHECKING:
    from inspector.engine.backend import Backend
    from inspector.store import Store


def retriever(store: Store, settings: RunSettings) -> Callable[[str], list[WorkedExample]] | None:
    """For analogical prompts: the most similar verified paths from earlier sessions."""
    if settings.prompt_style != "analogical":
        return None
    candidates = store.verified_examples()
    return lambda question: most_similar(question, candidates, n=2)


def saving_hooks(store: Store, hooks: RunHooks | None) -> RunHooks:
    """``hooks`` (or new ones) that also save the session as each path ends."""
    hooks = hooks or RunHooks()
    hooks.on_path = lambda session, _path: store.save_session(session)
    return hooks


def run_and_save(
    store: Store,
    engine: Backend,
    question: str,
    settings: RunSettings,
    *,
    gold: str | None = None,
    examples: Sequence[WorkedExample] | None = None,
    hooks: RunHooks | None = None,
) -> Session:
    """Build the prompt (with retrieved examples for analogical prompts), save the new
    session, run its strategy, and save it as each path ends and when the run ends."""
    retrieve = retriever(store, settings)
    retrieved = retrieve(question) if retrieve else None
    session = new_session(engine, question, settings, gold, examples, retrieved)
    store.save_session(session)
    try:
        run_strategy(engine, session, saving_hooks(store, hooks))
    except BaseException:
        session.status = "interrupted"  # kept, with the paths made so far, not "running"
        raise
    finally:
        store.save_session(session)
    return session


def branch_and_save(
    store: Store,
    engine: Backend,
    session: Session,
    path_id: int,
    depth: int,
    alternatives: Sequence[int] | None = None,
    *,
    sample: bool = False,
    seed: int | None = None,
    hooks: RunHooks | None = None,
) -> list[ReasoningPath]:
    """Branch here on a saved session: the new paths are saved as each ends, and the
    session once more at the end, whatever ends it."""
    try:
        return branch_here(
            engine, session, path_id, depth, alternatives,
            sample=sample, seed=seed, hooks=saving_hooks(store, hooks),
        )  # fmt: skip
    except BaseException:
        # the session itself is still whole: only unfinished new branches are cut off
        if session.status == "running":
            session.status = "interrupted"
        raise
    finally:
        store.save_session(session)
