"""The CLI leaves the chat template and the token limit to the model unless told
(``--chat-template`` / ``--no-chat-template``, ``--max-tokens``), and notes on stderr when most
paths hit the limit — for one run and, added up, for an experiment."""

from __future__ import annotations

import json

import pytest

from inspector.cli import main
from inspector.cli.main import build_parser
from inspector.cli.run import run_settings


def settings_of(*argv: str):
    return run_settings(build_parser().parse_args(["run", "q", *argv]))


def test_nothing_named_is_left_to_the_model() -> None:
    settings = settings_of()
    assert (settings.use_chat_template, settings.max_tokens) == (None, None)


def test_what_is_named_is_kept() -> None:
    assert settings_of("--chat-template").use_chat_template is True
    assert settings_of("--no-chat-template").use_chat_template is False
    # 128 is the base model's default, but named it stays 128 on every model
    assert settings_of("--max-tokens", "128").max_tokens == 128


@pytest.mark.parametrize(
    "flags",
    [("--chat-template", "--no-chat-template"), ("--no-chat-template", "--chat-template")],
    ids=["on-off", "off-on"],
)
def test_the_template_flags_exclude_each_other(flags, tmp_path, capsys) -> None:
    db = tmp_path / "s.db"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "q", *flags, "--db", str(db)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flags[1]}: not allowed with argument {flags[0]}" in err
    assert not db.exists()


def test_an_experiment_notes_the_limit_over_all_its_runs(tmp_path, capsys, model_path) -> None:
    data = tmp_path / "q.jsonl"
    rows = [{"question": "Explain how to add 17 and 25.", "answer": "42"}] * 2
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    argv = ["experiment", str(data), "--max-tokens", "2", "--db", str(tmp_path / "s.db")]
    assert main([*argv, "--model", str(model_path), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ran"] == 2
    assert "inspector: note: 2 of 2 paths hit the 2-token limit: raise max tokens" in (
        captured.err.splitlines()
    )
