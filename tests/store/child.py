"""A separate process for the durability tests: ``python -m tests.store.child MODE DB ...``.

``hold DB N``: save N complete sessions and one running session, print ``ready``, then wait
(to be killed). ``write DB TAG N``: save N sessions path by path, as a run does.
``claim DB ID``: claim experiment ID as its runner, print ``ready``, then wait (to be killed).
"""

from __future__ import annotations

import random
import sys
import time

from inspector.bench.synthetic import synthetic_session
from inspector.core.session import Session
from inspector.engine.records import GeneratedSequence
from inspector.store import Store


def hold(db: str, n: int) -> None:
    rng = random.Random(1)
    with Store.open(db) as store:
        for _ in range(n):
            store.save_session(synthetic_session(rng, n_paths=4))
        running = synthetic_session(rng, n_paths=3)
        running.id, running.status = "in-progress", "running"
        store.save_session(running)
        print("ready", flush=True)
        time.sleep(600)


def write(db: str, tag: str, n: int) -> None:
    """Each path saved as it is added (incremental saves), then the finished session."""
    rng = random.Random(tag)
    with Store.open(db) as store:
        for i in range(n):
            done = synthetic_session(rng, n_paths=6)
            session = Session(done.question, done.prompt, [], done.settings, done.model, "8")
            session.id = f"{tag}-{i}"
            store.save_session(session)
            for path in done.paths:
                sequence = GeneratedSequence(
                    0, done.path_tokens(path), path.finish_reason, path.stop_string
                )
                session.add_path(sequence, path.origin, path.label)
                store.save_session(session)
            session.status = "complete"
            store.save_session(session)
    print("done", flush=True)


def claim(db: str, experiment_id: int) -> None:
    with Store.open(db) as store:
        store.claim_experiment(experiment_id)
        print("ready", flush=True)
        time.sleep(600)


if __name__ == "__main__":
    mode, db, *rest = sys.argv[1:]
    if mode == "hold":
        hold(db, int(rest[0]))
    elif mode == "claim":
        claim(db, int(rest[0]))
    else:
        write(db, rest[0], int(rest[1]))
