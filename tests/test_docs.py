"""The documents a user reads name everything the program offers."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from inspector.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def code_blocks(markdown: str) -> str:
    return "\n".join(re.findall(r"```[a-z]*\n(.*?)```", markdown, flags=re.S))


def test_the_readme_shows_every_subcommand():
    commands = subparsers(build_parser())
    shown = code_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    missing = [name for name in commands if not re.search(rf"^\s*inspector {name}\b", shown, re.M)]
    assert len(commands) >= 7
    assert missing == []


def test_the_exports_doc_describes_every_format():
    export = subparsers(build_parser())["export"]
    formats = next(a.choices for a in export._actions if a.dest == "fmt")
    headings = re.findall(r"^## (\w+)", (ROOT / "docs/exports.md").read_text(), flags=re.M)
    assert set(formats) >= {"json", "html", "md", "csv", "jsonl"}
    assert [f for f in formats if f not in headings] == []


def test_the_checks_see_a_missing_entry():
    assert code_blocks("text\n```sh\ninspector run X\n```\nmore") == "inspector run X\n"
    assert not re.search(r"^\s*inspector stats\b", "inspector run X\n", re.M)
