"""Run (or resume) a resampling study of a saved path, each continuation saved as it ends.

The CLI (``inspector forks`` / ``inspector steps``) and the GUI's study dialogs both call
:func:`run_and_save_study`. A study with the same settings on the same session is resumed:
only the continuations not saved yet are sampled (each has its own random stream).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inspector.core.strategies import stop_strings
from inspector.core.studies import (
    Study,
    StudyPlan,
    StudySample,
    StudySettings,
    open_continuations,
    plan_study,
    run_study,
)
from inspector.engine import CancelToken

if TYPE_CHECKING:
    from inspector.core.session import ReasoningPath, Session
    from inspector.engine.backend import Backend
    from inspector.store import Store


@dataclass(frozen=True)
class StudyProgress:
    """Where a running study stands: continuations done of all, and the time left at the
    pace of this run so far (None until one has ended)."""

    done: int
    total: int
    elapsed: float
    seconds_left: float | None


ProgressCallback = Callable[[StudyProgress], None]


def prepare_study(
    store: Store, session_id: str, settings: StudySettings
) -> tuple[Session, StudyPlan, Study]:
    """The session, the plan (checked: raises InvalidParameterError) and the study to run —
    the stored one with the same settings when there is one, else a new, unsaved one."""
    session = store.load_session(session_id)
    plan = plan_study(session, settings)
    found = store.find_study(session_id, settings)
    study = store.load_study(found) if found is not None else Study(session_id, settings)
    return session, plan, study


def run_and_save_study(
    store: Store,
    engine: Backend,
    session: Session,
    plan: StudyPlan,
    study: Study,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Study:
    """Save ``study`` (if new), sample what it lacks, save each continuation as it ends,
    and its final status whatever ends the run."""
    if study.id is None:
        store.create_study(study, session.id, len(plan.points))
    assert study.id is not None
    study_id = study.id
    store.set_study_status(study_id, "running", len(plan.points))
    started = time.monotonic()
    first_done: list[int] = []

    def progress(done: int, total: int) -> None:
        if on_progress is None:
            return
        if not first_done:
            first_done.append(done)
        elapsed = time.monotonic() - started
        new = done - first_done[0]
        left = elapsed / new * (total - done) if new > 0 else None
        on_progress(StudyProgress(done, total, elapsed, left))

    def save(sample: StudySample) -> None:
        store.add_study_sample(study_id, sample)

    try:
        run_study(
            engine, session, study, stop_strings(session.settings),
            on_sample=save,
            on_progress=progress, cancel=cancel,
        )  # fmt: skip
    except BaseException:
        study.status = "interrupted"
        raise
    finally:
        store.set_study_status(study_id, study.status)
    return study


def open_and_save_continuations(
    store: Store,
    engine: Backend,
    session: Session,
    study: Study,
    samples: Sequence[StudySample],
    *,
    cancel: CancelToken | None = None,
) -> list[ReasoningPath]:
    """:func:`~inspector.core.studies.open_continuations`, the session saved as each new
    path is in the tree and once more at the end."""
    try:
        return open_continuations(
            engine, session, study, samples, stop_strings(session.settings),
            on_path=lambda s, _path: store.save_session(s), cancel=cancel,
        )  # fmt: skip
    finally:
        store.save_session(session)
