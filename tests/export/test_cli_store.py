"""`inspector export` and `inspector import`: exit status 0, or one line on stderr."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from inspector.cli import main
from inspector.store import Store
from inspector.store.export import export
from tests.export.conftest import hostile_session, make_experiment


@pytest.fixture
def saved(db_path):
    with Store.open(db_path) as store:
        session = hostile_session()
        store.save_session(session)
        exp, _ = make_experiment(store)
    return session.id, exp


@pytest.mark.parametrize("fmt", ["json", "html", "md", "csv", "jsonl"])
def test_export_every_format(db_path, saved, tmp_path, capsys, fmt):
    """The command writes what the library's exporter writes for the same target (exports are
    deterministic), and says where."""
    session_id, exp = saved
    targets = (
        (["--session", session_id], {"session_id": session_id}),
        (["--experiment", str(exp)], {"experiment_id": exp}),
    )
    for flags, target in targets:
        out = tmp_path / f"out-{flags[0][2:]}.{fmt}"
        plain = ["--no-plots"] if fmt in ("html", "md") else []  # the library call draws none
        args = ["export", *flags, "--format", fmt, "-o", str(out), "--db", str(db_path), *plain]
        code = main(args)
        assert code == 0, capsys.readouterr().err
        assert str(out) in capsys.readouterr().out
        reference = tmp_path / f"reference-{flags[0][2:]}.{fmt}"
        with Store.open(db_path, read_only=True) as store:
            export(store, reference, fmt, **target)
        assert out.read_bytes() == reference.read_bytes()
    # and the two targets are not the same file: the session's export holds only its session
    session_file = (tmp_path / f"out-session.{fmt}").read_bytes()
    assert session_file != (tmp_path / f"out-experiment.{fmt}").read_bytes()
    if fmt == "json":
        document = json.loads(session_file)
        assert [s["id"] for s in document["sessions"]] == [session_id]
    if fmt in ("html", "md"):  # with plots: the images are drawn and referenced
        drawn = tmp_path / f"drawn.{fmt}"
        args = ["export", "--session", session_id, "--format", fmt, "-o", str(drawn)]
        assert main([*args, "--db", str(db_path)]) == 0
        text = drawn.read_text(encoding="utf-8")
        if fmt == "html":
            assert "data:image/png;base64," in text
        else:
            images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
            assert images and all(
                (tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in images
            )


def test_export_then_import_into_a_new_database(db_path, saved, tmp_path, capsys):
    _, exp = saved
    out = tmp_path / "exp.json"
    assert (
        main(
            [
                "export",
                "--experiment",
                str(exp),
                "--format",
                "json",
                "-o",
                str(out),
                "--db",
                str(db_path),
            ]
        )
        == 0
    )
    other = tmp_path / "other.db"
    assert main(["import", str(out), "--db", str(other)]) == 0
    printed = capsys.readouterr().out
    assert "imported 3 sessions" in printed and "experiment 1" in printed
    # again: refused (one line), then replaced
    assert main(["import", str(out), "--db", str(other)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "--replace" in err
    assert main(["import", str(out), "--db", str(other), "--replace"]) == 0
    assert "(replaced)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--session", "nope", "--format", "json", "-o", "{tmp}/x.json"], "no session"),
        (["export", "--experiment", "99", "--format", "csv", "-o", "{tmp}/x.csv"], "no experiment"),
        (
            ["export", "--session", "{sid}", "--format", "html", "-o", "{tmp}/no/dir/x.html"],
            "No such",
        ),
        (["import", "{tmp}/missing.json"], "cannot read the file"),
    ],
)
def test_errors_are_one_line(db_path, saved, tmp_path, capsys, args, message):
    session_id, _ = saved
    argv = [a.format(tmp=tmp_path, sid=session_id) for a in args] + ["--db", str(db_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("inspector: error:") and err.count("\n") == 1
    assert message in err and "Traceback" not in err


def test_export_in_a_subprocess_renders_plots_offscreen(db_path, saved, tmp_path):
    session_id, _ = saved
    out = tmp_path / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "export",
            "--session",
            session_id,
            "--format",
            "html",
            "-o",
            str(out),
            "--db",
            str(db_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "data:image/png;base64," in out.read_text(encoding="utf-8")
