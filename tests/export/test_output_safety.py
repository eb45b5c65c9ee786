"""No output file may replace the database, its side files or any SQLite file; an existing
file is overwritten only with --force; a failed export leaves no half-written file."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.store import Store
from inspector.store import export as export_package
from inspector.store.export import OutputError, check_output, export
from inspector.store.export.files import atomic_output
from tests.export.conftest import hostile_session

PNG = b"\x89PNG\r\n\x1a\nfake"


@pytest.fixture
def saved(db_path: Path) -> str:
    with Store.open(db_path) as store:
        session = hostile_session()
        store.save_session(session)
    return session.id


def _export(session_id: str, out: Path, db: Path, *extra: str) -> int:
    return main(
        [
            *("export", "--session", session_id, "--format", "json"),
            *("-o", str(out), "--db", str(db), *extra),
        ]
    )


def _still_holds(db: Path, session_id: str) -> None:
    with Store.open(db, read_only=True) as store:
        assert store.load_session(session_id).id == session_id


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".partial" in p.name]


@pytest.mark.parametrize("force", [False, True])
def test_export_onto_the_database_itself_is_refused(db_path, saved, capsys, force):
    before = db_path.read_bytes()
    code = _export(saved, db_path, db_path, *(["--force"] if force else []))
    err = capsys.readouterr().err
    assert code == 1
    assert "refusing to overwrite" in err and "session database" in err
    assert len(err.strip().splitlines()) == 1
    assert db_path.read_bytes() == before
    _still_holds(db_path, saved)


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_export_onto_a_side_file_of_the_database_is_refused(db_path, saved, capsys, suffix):
    side = db_path.with_name(db_path.name + suffix)
    with Store.open(db_path) as writer:  # an open writer keeps the side files in place
        writer.rename_session(saved, "still here")
        assert side.exists()
        before = side.read_bytes()
        assert _export(saved, side, db_path, "--force") == 1
        after = side.read_bytes()  # SQLite itself updates -shm counters as the export reads
        assert len(after) == len(before) and b"reasoning-inspector" not in after
    assert f"{suffix} file of the open session database" in capsys.readouterr().err
    _still_holds(db_path, saved)


def test_a_side_file_name_is_refused_before_the_side_file_exists(db_path, saved):
    with Store.open(db_path, read_only=True) as store:
        for suffix in ("-wal", "-shm", "-journal"):
            side = db_path.with_name(db_path.name + suffix)
            assert not side.exists()
            with pytest.raises(OutputError, match="open session database"):
                export(store, side, "json", session_id=saved, force=True)
            assert not side.exists()


def test_export_onto_another_sqlite_file_is_refused(db_path, saved, tmp_path, capsys):
    other = tmp_path / "notes.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.close()
    before = other.read_bytes()
    assert _export(saved, other, db_path, "--force") == 1
    assert "is an SQLite database; refusing to overwrite it" in capsys.readouterr().err
    assert other.read_bytes() == before


def test_an_existing_file_needs_force(db_path, saved, tmp_path, capsys):
    out = tmp_path / "notes.txt"
    out.write_text("my notes\n", encoding="utf-8")
    assert _export(saved, out, db_path) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"inspector: error: {out} exists; use --force to overwrite"
    assert out.read_text(encoding="utf-8") == "my notes\n"

    assert _export(saved, out, db_path, "--force") == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [s["id"] for s in document["sessions"]] == [saved]
    assert _leftovers(tmp_path) == []


def test_a_new_file_needs_no_force(db_path, saved, tmp_path):
    out = tmp_path / "new.json"
    assert _export(saved, out, db_path) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "reasoning-inspector"


def test_a_symlink_to_the_database_is_refused(db_path, saved, tmp_path, capsys):
    link = tmp_path / "export.json"
    link.symlink_to(db_path)
    before = db_path.read_bytes()
    assert _export(saved, link, db_path, "--force") == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert link.is_symlink() and db_path.read_bytes() == before
    _still_holds(db_path, saved)


def test_a_hard_link_to_the_database_is_refused(db_path, saved, tmp_path):
    link = tmp_path / "export.json"
    os.link(db_path, link)
    before = db_path.read_bytes()
    with Store.open(db_path, read_only=True) as store, pytest.raises(OutputError):
        export(store, link, "json", session_id=saved, force=True)
    assert db_path.read_bytes() == before


def test_the_database_through_a_symlinked_folder_is_refused(db_path, saved, tmp_path):
    folder = tmp_path / "elsewhere"
    folder.symlink_to(tmp_path, target_is_directory=True)
    with Store.open(db_path, read_only=True) as store, pytest.raises(OutputError):
        export(store, folder / db_path.name, "html", session_id=saved, force=True)
    _still_holds(db_path, saved)


class FakeRenderer:
    def votes(self, votes, correct=None):
        return PNG

    def calibration(self, bins, ece):
        return PNG

    def accuracy_curve(self, points):
        return PNG


def test_markdown_images_are_checked_too(db_path, saved, tmp_path):
    out = tmp_path / "report.md"
    assets = tmp_path / "report_files"
    assets.mkdir()
    image = assets / "votes-1.png"
    image.write_bytes(b"an older image")
    with Store.open(db_path, read_only=True) as store:
        with pytest.raises(OutputError, match=r"votes-1\.png exists; use --force"):
            export(store, out, "md", session_id=saved, render=FakeRenderer())
        assert not out.exists() and image.read_bytes() == b"an older image"
        os.unlink(image)
        os.symlink(db_path, image)  # an image name pointing at the database
        with pytest.raises(OutputError, match="open session database"):
            export(store, out, "md", session_id=saved, render=FakeRenderer(), force=True)
        assert not out.exists()
        os.unlink(image)
        result = export(store, out, "md", session_id=saved, render=FakeRenderer())
    assert image in result.files and image.read_bytes() == PNG
    assert "report_files/votes-1.png" in out.read_text(encoding="utf-8")


def test_a_failed_export_leaves_the_old_file_and_no_partial_file(
    db_path, saved, tmp_path, monkeypatch
):
    out = tmp_path / "report.html"
    out.write_text("the old report", encoding="utf-8")

    def broken(report):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(export_package, "render_html", broken)
    with Store.open(db_path, read_only=True) as store, pytest.raises(RuntimeError):
        export(store, out, "html", session_id=saved, force=True)
    assert out.read_text(encoding="utf-8") == "the old report"
    assert _leftovers(tmp_path) == []


def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path):
    out = tmp_path / "big.json"
    with pytest.raises(OutputError) as caught, atomic_output(out) as tmp:
        tmp.write_text("half of it", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert str(caught.value) == (
        f"{out}: the disk is full; nothing was written (free some space or choose another place)"
    )
    assert not out.exists() and _leftovers(tmp_path) == []


def test_force_keeps_the_replaced_files_mode(tmp_path):
    out = tmp_path / "shared.csv"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o640)
    target = check_output(out, force=True)
    with atomic_output(target) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "new"
    assert out.stat().st_mode & 0o777 == 0o640


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(OutputError, match="is a directory"):
        check_output(tmp_path, force=True)


def test_the_app_refuses_a_database_as_export_or_plot_file(qtbot, db_path, saved, tmp_path):
    from inspector.ui.experiments.stats_plots import StatsPlots
    from inspector.ui.shared.export_actions import export_session

    before = db_path.read_bytes()
    message = export_session(db_path, saved, db_path, "json")
    assert message.startswith("Export failed:") and "refusing to overwrite" in message
    plots = StatsPlots(db_path)
    qtbot.addWidget(plots)
    said: list[str] = []
    plots.message.connect(said.append)
    link = tmp_path / "plot.png"  # the save dialog confirmed overwriting "plot.png"
    link.symlink_to(db_path)
    assert plots.export_plot("calibration", link) is None
    assert "refusing to overwrite" in said[-1]
    assert db_path.read_bytes() == before and link.is_symlink()
    # the dialog's confirmation is the consent to replace an ordinary file
    (tmp_path / "old.png").write_bytes(b"old")
    saved_plot = plots.export_plot("calibration", tmp_path / "old.png")
    assert saved_plot is not None and saved_plot.read_bytes().startswith(b"\x89PNG")
    assert _leftovers(tmp_path) == []
