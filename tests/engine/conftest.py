"""Fixtures of the engine tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inspector.engine.remote import RemoteEngine


@pytest.fixture
def open_remote() -> Iterator[Callable[..., RemoteEngine]]:
    """``RemoteEngine.connect`` whose engines are closed when the test ends (their pooled
    connections with them)."""
    opened: list[RemoteEngine] = []

    def connect(*args: Any, **kwargs: Any) -> RemoteEngine:
        engine = RemoteEngine.connect(*args, **kwargs)
        opened.append(engine)
        return engine

    yield connect
    for engine in opened:
        engine.close()
