"""File ▸ Export / Import for the desktop app, over the store's exporters."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from inspector.store import Store
from inspector.store.export import export
from inspector.store.imports import import_json
from inspector.ui.shared.plot_render import QtPlotRenderer

EXPORT_FILTERS: dict[str, str] = {
    "HTML report (*.html)": "html",
    "Markdown report (*.md)": "md",
    "JSON, lossless (*.json)": "json",
    "CSV, one row per path (*.csv)": "csv",
    "Training data, verified paths (*.jsonl)": "jsonl",
}


def _ask_target(parent: QWidget, what: str, title: str) -> tuple[Path, str] | None:
    """The file and format chosen in a save dialog, or None if cancelled."""
    suggested = "".join(c if c.isalnum() or c in "-_" else "_" for c in title)[:40] or what
    path, chosen = QFileDialog.getSaveFileName(
        parent, f"Export {what}", suggested, ";;".join(EXPORT_FILTERS)
    )
    if not path:
        return None
    fmt = EXPORT_FILTERS.get(chosen, "html")
    if not path.endswith(f".{fmt}"):
        path += f".{fmt}"
    return Path(path), fmt


def export_session_dialog(
    parent: QWidget, db_path: Path, session_id: str, title: str
) -> str | None:
    """Ask for a file and a format, export, and return a status message (None if cancelled)."""
    target = _ask_target(parent, "session", title)
    return None if target is None else export_session(db_path, session_id, *target)


def export_experiment_dialog(
    parent: QWidget, db_path: Path, experiment_id: int, name: str
) -> str | None:
    """The same for a whole experiment: every session, the results and the plots."""
    target = _ask_target(parent, "experiment", name)
    return None if target is None else export_experiment(db_path, experiment_id, *target)


def export_session(db_path: Path, session_id: str, path: Path, fmt: str) -> str:
    return _export(db_path, path, fmt, session_id=session_id)


def export_experiment(db_path: Path, experiment_id: int, path: Path, fmt: str) -> str:
    return _export(db_path, path, fmt, experiment_id=experiment_id)


def _export(db_path: Path, path: Path, fmt: str, **target) -> str:
    try:
        with Store.open(db_path, read_only=True) as store:
            # the save dialog asked before overwriting; a database is refused all the same
            result = export(store, path, fmt, render=QtPlotRenderer(), force=True, **target)
    except (ValueError, OSError) as error:
        return f"Export failed: {error}"
    extra = f" ({result.records} records)" if result.records is not None else ""
    return f"Exported to {result.files[0]}{extra}"


def import_dialog(parent: QWidget, db_path: Path) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Import sessions", "", "JSON export (*.json)")
    if not path:
        return None
    try:
        with Store.open(db_path) as store:
            imported = import_json(store, path)
    except (ValueError, OSError) as error:
        QMessageBox.warning(parent, "Import failed", str(error))
        return "Import failed: nothing was changed"
    return f"Imported {len(imported)} session(s)"
