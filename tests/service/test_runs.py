"""run_and_save / branch_and_save on the real default model: saved before the first token,
as each path ends, and at the end, whatever ends the run."""

from __future__ import annotations

import pytest

from inspector.core.session import RunSettings
from inspector.core.strategies import RunHooks
from inspector.engine import TokenEvent
from inspector.service import branch_and_save, run_and_save

QUESTION = "I have 3 apples, my dad has 2 more apples than me. How many apples do we have?"


def test_a_run_is_saved_with_every_path(store, engine):
    settings = RunSettings(strategy="cot-decoding", k=3, max_tokens=12)
    session = run_and_save(store, engine, QUESTION, settings, gold="8")
    saved = store.load_session(session.id)
    assert saved.status == "complete"
    assert [p.text for p in saved.paths] == [p.text for p in session.paths]
    assert len(saved.paths) == 3


class Boom(RuntimeError):
    pass


def test_a_run_that_fails_midway_is_kept_as_interrupted(store, engine):
    """Issue 14 item 6: a failing run left a session 'running' behind."""
    seen: list[TokenEvent] = []

    def on_token(event: TokenEvent) -> None:
        seen.append(event)
        if len(seen) == 5:
            raise Boom("the model failed")

    settings = RunSettings(strategy="greedy", max_tokens=16)
    with pytest.raises(Boom):
        run_and_save(store, engine, QUESTION, settings, hooks=RunHooks(on_token=on_token))
    [row] = store.list_sessions()
    assert row.status == "interrupted"
    assert store.load_session(row.id).question == QUESTION


def test_branch_here_is_saved(store, engine):
    settings = RunSettings(strategy="greedy", max_tokens=10)
    session = run_and_save(store, engine, QUESTION, settings)
    new = branch_and_save(store, engine, session, 0, 2)
    saved = store.load_session(session.id)
    assert len(saved.paths) == 1 + len(new) > 1
    assert {p.parent_path for p in saved.paths[1:]} == {0}
    assert saved.status == "complete"
