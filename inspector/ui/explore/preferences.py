"""What the Explore page keeps between launches (QSettings): the run settings last used
(strategy, prompt, k, samples, temperature, seed, answer settings) and its splitter positions.

A value that no longer reads (another version, a hand-edited file) is ignored: the page opens
with its defaults rather than refusing to start.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QSplitter

from inspector.core.session import RunSettings

RUN_SETTINGS_KEY = "explore/run_settings"
SPLITTER_KEY = "explore/splitter/"


def save_run_settings(preferences: QSettings, settings: RunSettings) -> None:
    preferences.setValue(RUN_SETTINGS_KEY, json.dumps(settings.to_dict()))


def load_run_settings(preferences: QSettings) -> RunSettings | None:
    """The settings saved by :func:`save_run_settings`, or None (none saved, or unreadable)."""
    raw = preferences.value(RUN_SETTINGS_KEY)
    if not isinstance(raw, str):
        return None
    try:
        data = json.loads(raw)
        return RunSettings.from_dict(data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None


def save_splitters(preferences: QSettings, splitters: dict[str, QSplitter]) -> None:
    for name, splitter in splitters.items():
        preferences.setValue(SPLITTER_KEY + name, splitter.saveState())


def restore_splitters(preferences: QSettings, splitters: dict[str, QSplitter]) -> set[str]:
    """Put each saved splitter back where it was; the names of those restored."""
    restored = set()
    for name, splitter in splitters.items():
        state = preferences.value(SPLITTER_KEY + name)
        if isinstance(state, QByteArray) and splitter.restoreState(state):
            restored.add(name)
    return restored
