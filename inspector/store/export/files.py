"""Writing output files safely (exports, reports, plot images; from the CLI and the GUI).

Three rules, checked by :func:`check_output` before anything is written:

* never onto the open session database, its ``-wal``/``-shm``/``-journal`` side files, or any
  SQLite file (its first 16 bytes are ``SQLite format 3\\0``), whether named directly or
  through a symbolic or hard link;
* never over another existing file without consent (``--force`` in the CLI; in the GUI the
  save dialog's overwrite confirmation);
* never half-written: :func:`atomic_output` writes a temporary file in the same directory and
  moves it over the target only once it is complete.

No Qt here: the GUI calls the same functions.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inspector.store.opening import SQLITE_HEADER

SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
_FULL = (errno.ENOSPC, errno.EDQUOT)


class OutputError(ValueError):
    """An output file that may not (or could not) be written; ``str()`` is one line."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(message)


def check_output(
    path: Path | str, *, database: Path | str | None = None, force: bool = False
) -> Path:
    """Check that ``path`` may be written and return the file to write (links resolved).

    ``database`` is the open session database (its side files are protected too). Raises
    :class:`OutputError` for the database, a side file, any SQLite file or a directory, and
    for any other existing file unless ``force``.
    """
    path = Path(path).expanduser()
    real = Path(os.path.realpath(path))
    if database is not None:
        for protected, what in _database_files(Path(database).expanduser()):
            if _same_file(real, protected):
                raise OutputError(path, f"{path}: is {what}; refusing to overwrite it")
    if not os.path.lexists(real):
        return real
    if real.is_dir():
        raise OutputError(path, f"{path}: is a directory; choose a file name")
    if _is_sqlite(real):
        raise OutputError(
            path, f"{path}: is an SQLite database; refusing to overwrite it (choose another file)"
        )
    if not force:
        raise OutputError(path, f"{path} exists; use --force to overwrite")
    return real


def check_outputs(
    paths: list[Path], *, database: Path | str | None = None, force: bool = False
) -> list[Path]:
    """:func:`check_output` for each of several files (all checked before any is written)."""
    return [check_output(p, database=database, force=force) for p in paths]


@contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """A new, empty temporary file beside ``target`` (with its suffix, for writers that pick
    a format by extension), moved over ``target`` when the block succeeds and removed when it
    fails, so ``target`` is either the complete new file or as it was."""
    tmp = _new_temp(target)
    try:
        yield tmp
        _settle(tmp, target)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in _FULL:
            raise OutputError(
                target,
                f"{target}: the disk is full; nothing was written "
                "(free some space or choose another place)",
            ) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _database_files(database: Path) -> list[tuple[Path, str]]:
    """The database and its side files, as named and as resolved (SQLite names the side
    files after the path it opened), each with what it is."""
    files = []
    for db in dict.fromkeys([database, Path(os.path.realpath(database))]):
        files.append((db, f"the open session database {database}"))
        files += [
            (db.with_name(db.name + s), f"the {s} file of the open session database {database}")
            for s in SIDE_SUFFIXES
        ]
    return files


def _same_file(a: Path, b: Path) -> bool:
    """The same file: equal real paths (symbolic links; also for files not created yet) or
    the same inode (hard links)."""
    if Path(os.path.realpath(a)) == Path(os.path.realpath(b)):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError as exc:
        raise OutputError(
            path, f"{path}: cannot read it to check it is not a database ({exc.strerror or exc})"
        ) from exc


def _new_temp(target: Path) -> Path:
    """Create a new file next to ``target`` (never an existing one) and return its path."""
    while True:
        tmp = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.partial{target.suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return tmp


def _settle(tmp: Path, target: Path) -> None:
    """Flush the new file to disk and give it the mode of the file it replaces."""
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return
    os.chmod(tmp, mode)
