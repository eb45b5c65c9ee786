"""The bundled model is assembled once, verified, reused, and repaired if damaged."""

from __future__ import annotations

import os

import pytest

from inspector.engine import default_model
from inspector.engine.default_model import (
    CACHE_ENV,
    MODEL_ENV,
    default_model_path,
    resolve_model_path,
    sha256_of,
)

EXPECTED = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    return tmp_path


def test_assembles_verifies_and_reuses(empty_cache, monkeypatch):
    path = default_model_path()
    assert path.parent.parent == empty_cache
    assert sha256_of(path) == EXPECTED
    calls = []
    monkeypatch.setattr(default_model, "sha256_of", lambda p: calls.append(p) or EXPECTED)
    assert default_model_path() == path
    assert calls == []  # the stamp spared a second hash of 253 MB


def test_a_damaged_copy_is_rebuilt(empty_cache):
    path = default_model_path()
    with path.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 64)
    os.utime(path, ns=(1, 1))
    assert default_model_path() == path
    assert sha256_of(path) == EXPECTED


def test_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "env.gguf"))
    assert resolve_model_path(tmp_path / "arg.gguf") == tmp_path / "arg.gguf"
    assert resolve_model_path() == tmp_path / "env.gguf"
