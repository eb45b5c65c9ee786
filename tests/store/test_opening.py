"""Opening files: bad databases are refused untouched, migrations, read-only, two writers."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest

from inspector.store import (
    CorruptDatabaseError,
    ForeignDatabaseError,
    NewerSchemaError,
    NotSQLiteError,
    ReadOnlyError,
    Store,
    StoreBusyError,
    StoreError,
    default_db_path,
    latest_version,
    opening,
    resolve_db_path,
    schema,
)
from tests.store.conftest import assert_same_session, cot_session, sc_session


def side_files(path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def written_db(path, sessions: int = 4) -> bytes:
    """A real, closed (checkpointed) database; returns its bytes."""
    with Store.open(path) as store:
        for _ in range(sessions):
            store.save_session(cot_session())
    return path.read_bytes()


def assert_refused(path, error: type[StoreError], match: str) -> None:
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(error, match=match) as caught:
            Store.open(path, read_only=read_only)
        assert str(path) in str(caught.value)
    assert path.read_bytes() == before
    assert side_files(path) == []


def test_text_file_is_not_sqlite(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    assert_refused(path, NotSQLiteError, "is not an SQLite database")


def test_corrupt_page_is_refused(tmp_path):
    path = tmp_path / "broken.db"
    data = bytearray(written_db(path))
    page = int.from_bytes(data[16:18], "big")
    data[page : page + 64] = b"\xff" * 64  # the b-tree header of page 2
    path.write_bytes(bytes(data))
    assert_refused(path, CorruptDatabaseError, "is corrupt")


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "cut.db"
    data = written_db(path)
    path.write_bytes(data[: len(data) // 2])
    assert_refused(path, CorruptDatabaseError, "is corrupt")


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    written_db(path, sessions=1)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    assert_refused(path, NewerSchemaError, "schema 99.*upgrade the application")


def test_another_applications_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    assert_refused(path, ForeignDatabaseError, "another application")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


def test_read_only_file_is_refused_untouched(tmp_path, monkeypatch):
    """Simulated: tests usually run as root, for whom chmod 0o444 does not stop writes."""
    path = tmp_path / "locked.db"
    before = written_db(path, sessions=1)
    monkeypatch.setattr(opening.os, "access", lambda *_args: False)
    with pytest.raises(ReadOnlyError, match="read-only"):
        Store.open(path)
    assert path.read_bytes() == before and side_files(path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_chmod_read_only_file_is_refused(tmp_path):
    path = tmp_path / "locked.db"
    before = written_db(path, sessions=1)
    path.chmod(0o444)
    with pytest.raises(ReadOnlyError, match="read-only"):
        Store.open(path)
    assert path.read_bytes() == before


def test_read_only_mode_reads_and_refuses_writes(tmp_path):
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        session = cot_session()
        store.save_session(session)
    before = path.read_bytes()
    with Store.open(path, read_only=True) as store:
        assert_same_session(store.load_session(session.id), session)
        assert [r.id for r in store.list_sessions(search="apples")] == [session.id]
        with pytest.raises(ReadOnlyError, match="opened read-only"):
            store.save_session(session)
        with pytest.raises(ReadOnlyError):
            store.delete_session(session.id)
    assert path.read_bytes() == before
    with pytest.raises(StoreError, match="no such database"):
        Store.open(tmp_path / "missing.db", read_only=True)


# -- migrations -------------------------------------------------------------------------------
def test_new_and_empty_files_get_the_current_schema(tmp_path):
    fresh = tmp_path / "sub" / "dir" / "new.db"  # missing directories are created
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    v0 = tmp_path / "v0.db"  # a real SQLite file at version 0 with no tables
    conn = sqlite3.connect(v0)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")
    conn.commit()
    conn.close()
    assert v0.stat().st_size > 0
    for path in (fresh, empty, v0):
        with Store.open(path) as store:
            assert store.schema_version == latest_version() == len(schema.MIGRATIONS)
            assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
            assert store.db.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
            assert store.integrity_check() == ["ok"]
            store.save_session(cot_session())


def test_a_new_migration_upgrades_in_place_keeping_data(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        session = cot_session()
        store.save_session(session)

    def v2(db):
        db.execute("ALTER TABLE sessions ADD COLUMN starred INTEGER NOT NULL DEFAULT 0")

    released = latest_version()
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, v2])
    with Store.open(path) as store:
        assert store.schema_version == latest_version() == released + 1  # patched: one more
        assert "starred" in store.db["sessions"].columns_dict
        assert_same_session(store.load_session(session.id), session)


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        session = cot_session()
        store.save_session(session)

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="migration bug"):
        Store.open(path)
    monkeypatch.undo()
    with Store.open(path) as store:
        assert store.schema_version == latest_version()
        assert "half_done" not in store.db.table_names()
        assert_same_session(store.load_session(session.id), session)


# -- two writers ------------------------------------------------------------------------------
def test_two_stores_on_one_file_write_in_turn(db_path):
    with Store.open(db_path) as first, Store.open(db_path) as second:
        a, b = cot_session(), sc_session(["8", "8"])
        first.save_session(a)
        second.save_session(b)
        second.add_annotation(a.id, "correct", path_id=2)
        first.rename_session(b.id, "from the first store")
        for store in (first, second):
            assert {r.id for r in store.list_sessions()} == {a.id, b.id}
            assert store.load_session(b.id).title == "from the first store"
            assert len(store.annotations(a.id)) == 1


def test_first_opens_of_a_new_file_at_once_all_succeed(tmp_path):
    """The GUI opens a new database from two threads at start: both must get it (the WAL
    switch used to answer "database is locked" to the loser of the race)."""
    failures = []
    for trial in range(60):
        path = tmp_path / f"new-{trial}.db"
        start = threading.Barrier(4)

        def open_it(path=path, start=start) -> None:
            start.wait()
            try:
                Store.open(path).close()
            except StoreError as error:
                failures.append(str(error))

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_a_writer_waits_for_another_process_lock(db_path):
    with Store.open(db_path) as store:
        other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        committing = threading.Event()

        def commit() -> None:
            committing.set()  # before the lock goes: a save that ended earlier did not wait
            other.execute("COMMIT")

        release = threading.Timer(0.3, commit)
        release.start()
        store.save_session(cot_session())  # blocks until the other writer commits
        assert committing.is_set()
        release.join()
        other.close()


def test_a_lock_held_too_long_is_a_clear_error(db_path):
    with Store.open(db_path) as store:
        store.db.execute("PRAGMA busy_timeout = 50")
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreBusyError, match="busy"):
                store.save_session(cot_session())
        finally:
            other.execute("ROLLBACK")
            other.close()
        store.save_session(cot_session())
        assert len(store.list_sessions()) == 1


# -- where the database lives -------------------------------------------------------------------
def test_database_location(monkeypatch, tmp_path):
    monkeypatch.delenv("INSPECTOR_DB", raising=False)
    default = default_db_path()
    assert default.name == "sessions.db" and default.parent.name == "reasoning-inspector"
    monkeypatch.setenv("INSPECTOR_DB", str(tmp_path / "env.db"))
    assert default_db_path() == tmp_path / "env.db"
    assert resolve_db_path(None) == tmp_path / "env.db"
    assert resolve_db_path(str(tmp_path / "cli.db")) == tmp_path / "cli.db"
