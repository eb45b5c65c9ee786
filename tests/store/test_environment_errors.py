"""A full disk, a lock held by another program, a read-only database: each is a message that
names the file and what to do, never "unexpected error"; read-only commands need no write."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.store import (
    ReadOnlyError,
    Store,
    StoreBusyError,
    StoreError,
    StoreFullError,
    latest_version,
)
from inspector.store import database as database_module
from inspector.store.export import export
from tests.store.conftest import cot_session, sc_session

OLD_SCHEMA = Path(__file__).parent / "data" / "schema_v1.db"


def _fill_to_the_brim(store: Store) -> None:
    """The database may not grow any more: SQLite then fails as on a full disk."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")


def _hold_exclusive_lock(path: Path) -> sqlite3.Connection:
    """Another program holding the whole file (readers are locked out too)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("UPDATE sessions SET title = 'mine'")
    return other


def test_a_full_disk_while_saving_is_a_clear_error_and_keeps_the_data(db_path):
    first = cot_session()
    with Store.open(db_path) as store:
        store.save_session(first)
        _fill_to_the_brim(store)
        big = sc_session([str(i % 3) for i in range(400)])
        with pytest.raises(StoreFullError) as caught:
            store.save_session(big)
        message = str(caught.value)
        assert message.startswith(f"{db_path}: ") and "free some space" in message
        assert not store.db.conn.in_transaction
        assert [r.id for r in store.list_sessions()] == [first.id]
        assert store.load_session(first.id).paths == first.paths


def test_a_full_disk_during_import_is_one_line_naming_the_database(
    db_path, tmp_path, monkeypatch, capsys
):
    source = tmp_path / "source.db"
    with Store.open(source) as store:
        session = sc_session([str(i % 3) for i in range(400)])
        store.save_session(session)
        export(store, tmp_path / "big.json", "json", session_id=session.id)
    with Store.open(db_path) as store:
        store.save_session(cot_session())
    before = db_path.read_bytes()
    connect = database_module.connect

    def brimful(path, *, read_only):
        conn = connect(path, read_only=read_only)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(database_module, "connect", brimful)
    code = main(["import", str(tmp_path / "big.json"), "--db", str(db_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"inspector: error: {db_path}: the disk holding the database is full")
    assert "unexpected" not in err and len(err.strip().splitlines()) == 1
    monkeypatch.undo()
    with Store.open(db_path, read_only=True) as store:
        assert not store.has_session(session.id)
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_a_lock_held_by_another_program_during_export_names_the_file(db_path, tmp_path, fmt):
    session = cot_session()
    with Store.open(db_path) as store:
        store.save_session(session)
    out = tmp_path / f"out.{fmt}"
    with Store.open_for_reading(db_path) as reader:
        reader.db.execute("PRAGMA busy_timeout = 50")
        other = _hold_exclusive_lock(db_path)
        try:
            with pytest.raises(StoreBusyError) as caught:
                export(reader, out, fmt, session_id=session.id)
        finally:
            other.execute("ROLLBACK")
            other.close()
        message = str(caught.value)
        assert message.startswith(f"{db_path}: the database is busy")
        assert "try again" in message and not out.exists()
        export(reader, out, fmt, session_id=session.id)  # the lock is gone: it works
    assert out.stat().st_size > 0


def _read_only_everywhere(monkeypatch) -> None:
    """Simulated (tests usually run as root, whom file modes do not stop)."""
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode, **kw: mode != os.W_OK and real_access(path, mode, **kw)
    )


def _saved_db(db_path: Path) -> str:
    with Store.open(db_path) as store:
        session = sc_session(["7", "7", "3"], gold="7")
        store.save_session(session)
    return session.id


def test_stats_and_export_read_a_read_only_database(db_path, tmp_path, monkeypatch, capsys):
    session_id = _saved_db(db_path)
    before = db_path.read_bytes()
    _read_only_everywhere(monkeypatch)
    assert main(["stats", "--db", str(db_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == 1
    out = tmp_path / "out.json"
    assert main(["export", "--session", session_id, "--format", "json", "-o", str(out),
                 "--db", str(db_path)]) == 0  # fmt: skip
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("sessions")) == [
        "sessions.db"
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_stats_reads_a_database_in_a_read_only_folder(tmp_path, capsys):
    folder = tmp_path / "frozen"
    folder.mkdir()
    db_path = folder / "sessions.db"
    _saved_db(db_path)
    db_path.chmod(0o444)
    folder.chmod(0o555)
    try:
        assert main(["stats", "--db", str(db_path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["runs"] == 1
    finally:
        folder.chmod(0o755)


def test_an_old_read_only_database_says_how_to_upgrade_it(tmp_path, monkeypatch, capsys):
    db_path = tmp_path / "old.db"
    shutil.copy(OLD_SCHEMA, db_path)
    before = db_path.read_bytes()
    _read_only_everywhere(monkeypatch)
    assert main(["stats", "--db", str(db_path)]) == 1
    err = capsys.readouterr().err
    assert str(db_path) in err and "needs upgrading" in err and "writable" in err
    assert "open it read-only" not in err and db_path.read_bytes() == before
    with pytest.raises(ReadOnlyError, match="make the file and its directory writable"):
        Store.open_for_reading(db_path)


def test_an_old_writable_database_is_upgraded_for_reading(tmp_path):
    db_path = tmp_path / "old.db"
    shutil.copy(OLD_SCHEMA, db_path)
    with Store.open_for_reading(db_path) as store:
        assert store.schema_version == latest_version()
        assert store.list_sessions() is not None


def test_reading_a_missing_database(tmp_path, capsys):
    missing = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="no such database file"):
        Store.open_for_reading(missing)
    assert not missing.exists()
    assert main(["stats", "--db", str(missing), "--json"]) == 0  # as before: 0 runs
    assert json.loads(capsys.readouterr().out)["runs"] == 0
