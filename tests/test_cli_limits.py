"""Every numeric option has an enforced range; invalid settings and text are refused before
anything is written; a closed pipe ends the command quietly (issue 14, items 5, 8, 10, 12)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from inspector.cli import main
from inspector.core.limits import RUN_LIMITS
from inspector.core.model_defaults import DEFAULT_MAX_TOKENS
from inspector.core.session import RunSettings
from inspector.core.strategies import validate_settings
from inspector.engine import InvalidParameterError
from inspector.engine.settings import THREADS, Limit, cpu_count
from inspector.service import run_and_save

BAD_OPTIONS = [
    ("run", "q", "--threads", "10000"),
    ("run", "q", "--threads", "0"),
    ("run", "q", "--ctx", "8"),
    ("run", "q", "--temperature", "inf"),
    ("run", "q", "--temperature", "nan"),
    ("run", "q", "--temperature", "-1"),
    ("run", "q", "--top-p", "2"),
    ("run", "q", "--top-p", "nan"),
    ("run", "q", "--min-p", "nan"),
    ("run", "q", "--seed", "-1"),
    ("run", "q", "--max-tokens", "0"),
    ("run", "q", "--k", "65"),
    ("run", "q", "--samples", "1000"),
    ("run", "q", "--alternatives", "21"),
    ("run", "q", "--timeout", "0"),
    ("experiment", "data.jsonl", "--limit", "0"),
    ("stats", "--bins", "100000000"),
    ("bench", "--repeats", "0"),
]


@pytest.mark.parametrize("argv", BAD_OPTIONS, ids=lambda argv: " ".join(argv[-2:]))
def test_out_of_range_options_are_refused_before_anything_happens(argv, tmp_path, capsys):
    db = tmp_path / "sessions.db"
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--db", str(db)] if argv[0] != "bench" else list(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {argv[-2]}: must be" in err
    assert not db.exists()  # no database, so no session row either


def test_limits_name_the_setting_and_the_range():
    limit = Limit("bins", 1, 100)
    limit.check(1)
    limit.check(100)
    for bad in (0, 101, math.nan, math.inf, 2.5, True):
        with pytest.raises(InvalidParameterError, match=r"bins must be 1–100, got"):
            limit.check(bad)
    assert THREADS.high == cpu_count()


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": math.inf},
        {"temperature": math.nan},
        {"temperature": -1.0},
        {"top_p": 2.0},
        {"top_p": math.nan},
        {"top_p": 0.0},
        {"min_p": math.nan},
        {"seed": -1},
        {"max_tokens": 0},
        {"k": 0},
        {"samples": 257},
        {"n_alternatives": 0},
    ],
    ids=str,
)
def test_invalid_settings_never_reach_the_database(change, store, engine):
    settings = RunSettings(
        **{"strategy": "self-consistency", "samples": 2, "max_tokens": 4, **change}
    )
    with pytest.raises(InvalidParameterError):
        validate_settings(settings)
    with pytest.raises(InvalidParameterError):
        run_and_save(store, engine, "What is 2 + 3?", settings)
    assert store.list_sessions() == []


def test_every_default_setting_is_within_its_limit():
    validate_settings(RunSettings())  # max tokens left to the model
    for max_tokens in DEFAULT_MAX_TOKENS.values():  # what it resolves to, for each kind
        defaults = RunSettings(max_tokens=max_tokens)
        validate_settings(defaults)
        for name, limit in RUN_LIMITS.items():
            assert limit.low <= getattr(defaults, name) <= limit.high


def test_text_that_is_not_utf8_gets_a_clear_message(tmp_path, capsys):
    db = tmp_path / "sessions.db"
    question = b"bad \xff text".decode("utf-8", "surrogateescape")  # what argv holds
    assert main(["run", question, "--db", str(db)]) == 1
    assert capsys.readouterr().err.strip() == (
        "inspector: error: question is not valid UTF-8 text: check the terminal's encoding"
    )
    assert not db.exists()


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`inspector stats | head -1`: no "Broken pipe" message, the status of SIGPIPE."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inspector",
            "stats",
            "--bins",
            "100",
            "--db",
            str(tmp_path / "s.db"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader goes away before the first line
    err = process.stderr.read()
    assert process.wait(timeout=60) == 141
    assert err == b""
