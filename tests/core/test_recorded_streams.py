"""The recorded model answers that fast tests replay (tests/core/recorded_backend.py) are what
the real default model answers: every scenario is run again on it and compared request by
request. ``INSPECTOR_RECORD=1`` writes the recordings anew instead."""

from __future__ import annotations

import json
import math
import os

import pytest

from inspector.engine import Engine, ModelSettings
from tests.core.recorded_backend import (
    ENGINE_N_CTX,
    ENGINE_SEQ_MAX,
    ENGINE_THREADS,
    RECORDINGS,
    load_recordings,
    record,
)
from tests.core.recorded_scenarios import SCENARIOS


@pytest.fixture(scope="module")
def recording_engine(model_path):
    settings = ModelSettings(n_ctx=ENGINE_N_CTX, n_threads=ENGINE_THREADS, n_seq_max=ENGINE_SEQ_MAX)
    with Engine.load(model_path, settings) as loaded:
        yield loaded


def same(recorded, fresh, where: str = "") -> None:
    """Equal JSON values; floats equal up to 1e-9 (the same arithmetic repeats exactly; the
    tolerance only absorbs a last-digit difference of another build)."""
    if isinstance(recorded, float) or isinstance(fresh, float):
        assert math.isclose(recorded, fresh, rel_tol=0, abs_tol=1e-9), where
    elif isinstance(recorded, dict):
        assert recorded.keys() == fresh.keys(), where
        for key in recorded:
            same(recorded[key], fresh[key], f"{where}.{key}")
    elif isinstance(recorded, list):
        assert len(recorded) == len(fresh), where
        for i, (a, b) in enumerate(zip(recorded, fresh, strict=True)):
            same(a, b, f"{where}[{i}]")
    else:
        assert recorded == fresh, where


def test_the_recordings_are_what_the_real_model_answers(recording_engine, model_path):
    fresh = {
        name: json.loads(json.dumps(record(recording_engine, scenario, n_ctx).to_json()))
        for name, (n_ctx, scenario) in SCENARIOS.items()
    }
    if os.environ.get("INSPECTOR_RECORD") == "1":
        data = {"model": model_path.name, "scenarios": fresh}
        RECORDINGS.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    stored = json.loads(RECORDINGS.read_text(encoding="utf-8"))
    assert stored["model"] == model_path.name
    assert set(load_recordings()) == set(SCENARIOS)
    for name in SCENARIOS:
        same(stored["scenarios"][name], fresh[name], name)
