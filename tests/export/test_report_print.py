"""The HTML report rendered by a real browser (headless Chromium, Debian's ``chromium``
package, installed by ``python3 packaging/bootstrap.py test``): on screen, and printed, where
its print stylesheet puts each session on its own page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from inspector.store.export import export
from inspector.ui.shared.plot_render import QtPlotRenderer
from tests.export.conftest import make_experiment

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian package 'chromium'; "
    "python3 packaging/bootstrap.py test installs it)",
)


def chromium(*args: str, cwd: Path) -> None:
    assert CHROMIUM is not None
    env = dict(os.environ, HOME=str(cwd))  # its profile and crash files stay in tmp_path
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-extensions", f"--user-data-dir={cwd / 'profile'}", *args,
    ]  # fmt: skip
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=120, check=True)


def not_blank(png: Path) -> tuple[int, int]:
    """The image's size, after checking it has content (not one colour)."""
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull(), png
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, 400, 7)}
    assert len(colours) > 5, "a blank page"
    return image.width(), image.height()


@pytest.fixture
def report(store, tmp_path) -> Path:
    exp, _ = make_experiment(store)
    out = tmp_path / "experiment.html"
    export(store, out, "html", experiment_id=exp, render=QtPlotRenderer())
    return out


def test_the_report_renders_on_screen_and_in_print(report, tmp_path):
    screen = tmp_path / "screen.png"
    chromium(f"--screenshot={screen}", "--window-size=1100,2400", report.as_uri(), cwd=tmp_path)
    assert not_blank(screen) == (1100, 2400)
    # the print stylesheet applied on screen: how the page looks on paper
    html = report.read_text(encoding="utf-8")
    assert html.count("@media print") == 1
    as_printed = tmp_path / "as-printed.html"
    as_printed.write_text(html.replace("@media print", "@media all"), encoding="utf-8")
    printed = tmp_path / "printed.png"
    chromium(f"--screenshot={printed}", "--window-size=800,2400", as_printed.as_uri(), cwd=tmp_path)
    not_blank(printed)
    pdf = tmp_path / "report.pdf"
    chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", report.as_uri(), cwd=tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 1 + 3  # the experiment, then each of its three sessions on a new page
    keep = os.environ.get("INSPECTOR_KEEP_RENDERS")  # a folder: keep the images to look at
    if keep:
        for made in (screen, printed, pdf):
            shutil.copy(made, Path(keep) / made.name)
