"""Export a session or an experiment as json, html, md, csv or jsonl (see ``docs/exports.md``).

One module per format (:mod:`.json`, :mod:`.html`, :mod:`.md`, :mod:`.csv`, :mod:`.jsonl`);
:mod:`.report` gathers what the human-readable formats show, :mod:`.files` writes output files
safely (never onto a database, never over a file without ``force``, never half-written).

The store stays Qt-free: plots come from an optional ``render`` object (a
:class:`PlotRenderer`; ``inspector.ui.plot_render.QtPlotRenderer`` in the app and CLI). Without
one, the html and md reports show the plot data as tables only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inspector.store.database import Store
from inspector.store.export.csv import write_csv
from inspector.store.export.files import OutputError, atomic_output, check_output, check_outputs
from inspector.store.export.html import render_html
from inspector.store.export.json import build_document, path_doc, write_json
from inspector.store.export.jsonl import write_jsonl
from inspector.store.export.md import render_markdown
from inspector.store.export.report import PlotRenderer, Report, collect_report

EXPORT_FORMATS: tuple[str, ...] = ("json", "html", "md", "csv", "jsonl")

__all__ = [
    "EXPORT_FORMATS",
    "ExportResult",
    "OutputError",
    "PlotRenderer",
    "atomic_output",
    "check_output",
    "export",
    "markdown_assets_dir",
    "path_doc",
]


@dataclass
class ExportResult:
    """The files written (the main file first) and, for jsonl, the number of records."""

    files: list[Path] = field(default_factory=list)
    records: int | None = None


def markdown_assets_dir(out: Path) -> Path:
    """Where a Markdown report's images go: ``report.md`` -> ``report_files/``."""
    return out.with_name(f"{out.stem}_files")


def export(
    store: Store,
    out: Path | str,
    fmt: str,
    *,
    session_id: str | None = None,
    experiment_id: int | None = None,
    render: PlotRenderer | None = None,
    pairs: bool = False,
    force: bool = False,
) -> ExportResult:
    """Export one session (``session_id``) or one experiment (``experiment_id``) to ``out``.

    ``pairs`` switches jsonl from chat ``messages`` to ``prompt``/``completion`` records.
    Raises ``NotFoundError`` for an unknown session or experiment, ``ValueError`` for a bad
    format and :class:`OutputError` for an output file that is the store's database (or one
    of its side files), any SQLite file, or an existing file when ``force`` is false. Each
    file is replaced only once it is complete.
    """
    out = Path(out).expanduser()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose {', '.join(EXPORT_FORMATS)})")
    if (session_id is None) == (experiment_id is None):
        raise ValueError("export needs exactly one of a session id or an experiment id")
    target = check_output(out, database=store.path, force=force)
    if fmt == "json":
        document = build_document(store, session_id=session_id, experiment_id=experiment_id)
        with atomic_output(target) as tmp:
            write_json(document, tmp)
        return ExportResult([out])
    report = collect_report(
        store,
        session_id=session_id,
        experiment_id=experiment_id,
        render=render if fmt in ("html", "md") else None,
    )
    if fmt == "md":
        return _write_markdown(report, out, target, database=store.path, force=force)
    result = ExportResult([out])
    with atomic_output(target) as tmp:
        if fmt == "html":
            tmp.write_text(render_html(report), encoding="utf-8")
        elif fmt == "csv":
            write_csv(report, tmp)
        else:
            result.records = write_jsonl(report, tmp, pairs=pairs)
    return result


def _write_markdown(
    report: Report, out: Path, target: Path, *, database: Path, force: bool
) -> ExportResult:
    """The ``.md`` file and its images in ``<stem>_files/``, every one checked first."""
    assets = markdown_assets_dir(out)
    text, images = render_markdown(report, assets.name)
    names = [assets / name for name in images]
    if names and assets.exists() and not assets.is_dir():
        raise OutputError(assets, f"{assets}: exists and is not a directory (for the images)")
    image_targets = check_outputs(names, database=database, force=force)
    result = ExportResult([out])
    with atomic_output(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        if images:
            assets.mkdir(exist_ok=True)
        for name, image_target, png in zip(names, image_targets, images.values(), strict=True):
            with atomic_output(image_target) as image_tmp:
                image_tmp.write_bytes(png)
            result.files.append(name)
    return result
