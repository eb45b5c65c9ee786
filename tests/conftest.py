"""Shared fixtures. GUI tests run offscreen; the real default model backs every model test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from hypothesis import settings

from inspector.engine import Engine, ModelSettings, default_model
from inspector.engine.default_model import INSTRUCT_MODEL, default_model_path
from inspector.store import Store

# property tests (hypothesis): the same cases on every run (no flaky CI), no time limit per
# case (a loaded 2-core machine is slow) and no example database left in the checkout
settings.register_profile("project", deadline=None, derandomize=True, database=None)
settings.load_profile("project")

# tests that load a real model carry the ``model`` mark (deselect with -m "not model": the
# mutation run uses only the fast ones)
MODEL_FIXTURES = {"model_path", "engine", "fresh_engine", "instruct_model_path", "instruct_engine"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


APPLE_PROMPT = (
    "Q: I have 3 apples, my dad has 2 more apples than me, how many apples do we have in total?\nA:"
)


@pytest.fixture(scope="session")
def model_path():
    return default_model_path()


@pytest.fixture(scope="session")
def engine(model_path):
    """One loaded default model for the whole run (it loads in about a second)."""
    with Engine.load(model_path, ModelSettings(n_ctx=4096, n_seq_max=17)) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def instruct_model_path() -> Path:
    """Qwen2.5-Coder-0.5B-Instruct (Q4_K_M), assembled from the ``instruct-model`` extra."""
    missing = default_model.missing_packages(INSTRUCT_MODEL)
    if missing:
        pytest.skip(
            f"the instruct model's packages are not installed ({', '.join(missing)}); "
            "python3 packaging/bootstrap.py test installs them"
        )
    return default_model.instruct_model_path(INSTRUCT_MODEL)


@pytest.fixture(scope="session")
def instruct_engine(instruct_model_path: Path) -> Iterator[Engine]:
    """One loaded instruct model (a chat template, a real end-of-turn token) for the run."""
    with Engine.load(instruct_model_path, ModelSettings(n_ctx=4096, n_seq_max=17)) as loaded:
        yield loaded


@pytest.fixture
def fresh_engine(engine):
    """The shared engine with its prefix cache emptied, for tests that count evaluations."""
    engine.forget_cache()
    return engine


@pytest.fixture
def db_path(tmp_path):
    """A fresh session database file (created on first open)."""
    return tmp_path / "sessions.db"


@pytest.fixture
def store(db_path):
    with Store.open(db_path) as opened:
        yield opened


@pytest.fixture(scope="session")
def llama_server_url(model_path):
    """A real ``python -m llama_cpp.server`` on the default model, on 127.0.0.1."""
    from tests.engine.remote_servers import llama_cpp_server

    with llama_cpp_server(model_path) as url:
        yield url
