"""Export a session or an experiment as json, html, md, csv or jsonl (see ``docs/exports.md``).

The store stays Qt-free: plots come from an optional ``render`` object (a
:class:`PlotRenderer`; ``inspector.ui.plot_render.QtPlotRenderer`` in the app and CLI). Without
one, the html and md reports show the plot data as tables only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.store.exporting_html import render_html
from inspector.store.exporting_json import build_document, write_json
from inspector.store.exporting_md import render_markdown
from inspector.store.exporting_report import PlotRenderer, Report, collect_report
from inspector.store.exporting_tables import write_csv, write_jsonl

EXPORT_FORMATS: tuple[str, ...] = ("json", "html", "md", "csv", "jsonl")

__all__ = ["EXPORT_FORMATS", "ExportResult", "PlotRenderer", "export", "markdown_assets_dir"]


@dataclass
class ExportResult:
    """The files written (the main file first) and, for jsonl, the number of records."""

    files: list[Path] = field(default_factory=list)
    records: int | None = None


def markdown_assets_dir(out: Path) -> Path:
    """Where a Markdown report's images go: ``report.md`` -> ``report_files/``."""
    return out.with_name(f"{out.stem}_files")


def export(
    store: Any,
    out: Path | str,
    fmt: str,
    *,
    session_id: str | None = None,
    experiment_id: int | None = None,
    render: PlotRenderer | None = None,
    pairs: bool = False,
) -> ExportResult:
    """Export one session (``session_id``) or one experiment (``experiment_id``) to ``out``.

    ``pairs`` switches jsonl from chat ``messages`` to ``prompt``/``completion`` records.
    Raises ``NotFoundError`` for an unknown session or experiment and ``ValueError`` for a
    bad format; the output file is replaced only once it is complete.
    """
    out = Path(out).expanduser()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose {', '.join(EXPORT_FORMATS)})")
    if (session_id is None) == (experiment_id is None):
        raise ValueError("export needs exactly one of a session id or an experiment id")
    if fmt == "json":
        document = build_document(store, session_id=session_id, experiment_id=experiment_id)
        with _replacing(out) as tmp:
            write_json(document, tmp)
        return ExportResult([out])
    report = collect_report(
        store,
        session_id=session_id,
        experiment_id=experiment_id,
        render=render if fmt in ("html", "md") else None,
    )
    return _write_report(report, out, fmt, pairs=pairs)


def _write_report(report: Report, out: Path, fmt: str, *, pairs: bool) -> ExportResult:
    result = ExportResult([out])
    with _replacing(out) as tmp:
        if fmt == "html":
            tmp.write_text(render_html(report), encoding="utf-8")
        elif fmt == "csv":
            write_csv(report, tmp)
        elif fmt == "jsonl":
            result.records = write_jsonl(report, tmp, pairs=pairs)
        else:
            assets = markdown_assets_dir(out)
            text, images = render_markdown(report, assets.name)
            tmp.write_text(text, encoding="utf-8")
            result.files += _write_images(assets, images)
    return result


def _write_images(assets: Path, images: dict[str, bytes]) -> list[Path]:
    if not images:
        return []
    assets.mkdir(exist_ok=True)
    written = []
    for name, png in images.items():
        target = assets / name
        target.write_bytes(png)
        written.append(target)
    return written


@contextmanager
def _replacing(out: Path) -> Iterator[Path]:
    """A temporary file next to ``out`` that replaces it on success (removed on failure)."""
    tmp = out.with_name(f".{out.name}.partial")
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
