"""Where the session database lives: ``--db``, then ``$INSPECTOR_DB``, then the user data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "reasoning-inspector"
DB_FILENAME = "sessions.db"
ENV_VAR = "INSPECTOR_DB"


def default_db_path() -> Path:
    """``$INSPECTOR_DB`` if set, else ``<user data dir>/reasoning-inspector/sessions.db``."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The database to use: ``explicit`` (e.g. ``--db``) when given, else the default."""
    if explicit:
        return Path(explicit).expanduser()
    return default_db_path()
