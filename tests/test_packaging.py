"""Packaging: the Linux desktop files, the app icons, and the PyInstaller one-folder build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from inspector import __version__

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "io.github.reasoning_inspector.ReasoningInspector"
LINUX = ROOT / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
HICOLOR = ROOT / "resources" / "icons" / "hicolor"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (python3 packaging/bootstrap.py test installs it)")
    return path


def check(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


def test_desktop_file_validates():
    result = check([tool("desktop-file-validate"), str(DESKTOP)])
    assert result.stdout.strip() == ""  # warnings and hints are printed too


def test_metainfo_validates():
    result = check([tool("appstreamcli"), "validate", "--no-net", str(METAINFO)])
    # only infos ("I:") and pedantic hints may remain, no warnings ("W:") or errors ("E:")
    problems = [line for line in result.stdout.splitlines() if line.lstrip()[:2] in ("W:", "E:")]
    assert problems == [], result.stdout


def test_metainfo_matches_the_app():
    component = ET.parse(METAINFO).getroot()
    assert component.findtext("id") == APP_ID
    assert component.findtext("project_license") == "MIT"
    assert component.findtext("launchable") == DESKTOP.name
    releases = component.findall("releases/release")
    newest = max(releases, key=lambda release: release.get("date", ""))
    assert newest.get("version") == __version__
    for image in component.iter("image"):
        assert image.text and image.text.startswith("https://")
        assert (ROOT / "docs" / "screenshots" / image.text.rsplit("/", 1)[-1]).is_file()
    assert f"Icon={APP_ID}\n" in DESKTOP.read_text()


@pytest.mark.parametrize("size", ICON_SIZES)
def test_png_icon(size):
    path = HICOLOR / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(path))
    assert not image.isNull()
    assert (image.width(), image.height()) == (size, size)
    colours = {image.pixel(x, y) for x in range(size) for y in range(size)}
    assert len(colours) > 2  # not blank: more than a background and one colour
    assert any(image.pixelColor(x, size // 2).alpha() == 255 for x in range(size))


def test_scalable_icon_is_the_app_svg():
    scalable = HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg"
    assert scalable.read_bytes() == (ROOT / "resources" / "icons" / "app.svg").read_bytes()


def test_install_and_uninstall_desktop_integration(tmp_path):
    app = tmp_path / "my app"  # a stand-in for a built app folder
    (app / "_internal" / "resources" / "icons").mkdir(parents=True)
    (app / "inspector").write_text("#!/bin/sh\n")
    (app / "inspector").chmod(0o755)
    shutil.copytree(HICOLOR, app / "_internal" / "resources" / "icons" / "hicolor")
    prefix = tmp_path / "prefix with space"
    script = str(LINUX / "install_desktop.sh")
    check(["sh", script, "--prefix", str(prefix), str(app)])
    share = prefix / "share"
    desktop = share / "applications" / DESKTOP.name
    assert f'Exec="{app}/inspector"' in desktop.read_text()
    assert (share / "metainfo" / METAINFO.name).is_file()
    for size in ICON_SIZES:
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    if shutil.which("desktop-file-validate"):
        assert check(["desktop-file-validate", str(desktop)]).stdout.strip() == ""
    check(["sh", script, "--prefix", str(prefix), "--uninstall"])
    assert [path for path in share.rglob(f"{APP_ID}*")] == []


@pytest.fixture(scope="module")
def built_app(tmp_path_factory) -> Path:
    """The app built by packaging/build_app.py into a temporary folder (about a minute)."""
    out = tmp_path_factory.mktemp("build")
    command = [sys.executable, str(ROOT / "packaging" / "build_app.py")]
    result = subprocess.run(
        [*command, "--dist", str(out / "dist"), "--work", str(out / "work")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "dist" / "inspector"


@pytest.fixture
def frozen_env(tmp_path) -> dict[str, str]:
    """Offscreen, and every user file (model cache, settings, database) in a fresh folder."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("INSPECTOR_")}
    return env | {
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "INSPECTOR_CACHE_DIR": str(tmp_path / "inspector-cache"),
        "INSPECTOR_DB": str(tmp_path / "sessions.db"),
    }


@pytest.mark.slow
def test_built_app_answers_version_info_and_run(built_app, frozen_env, tmp_path):
    exe = str(built_app / "inspector")
    assert check([exe, "--version"], env=frozen_env).stdout.strip() == f"inspector {__version__}"
    info = check([exe, "info"], env=frozen_env).stdout
    assert "gemma3" in info
    assert str(tmp_path / "inspector-cache" / "models") in info  # assembled from the bundle
    # the few-shot examples come from the bundled resources/ folder
    run = [exe, "run", "What is 2 + 3?", "--strategy", "greedy", "--prompt", "few-shot-cot"]
    assert "(complete)" in check([*run, "--max-tokens", "4"], env=frozen_env).stdout


@pytest.mark.slow
def test_built_app_opens_the_window(built_app, frozen_env):
    """With no arguments the built app starts the GUI and keeps running (no import error)."""
    app = subprocess.Popen(
        [str(built_app / "inspector")],
        env=frozen_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while app.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    still_running = app.poll() is None
    app.terminate()
    _out, err = app.communicate(timeout=30)
    assert still_running, f"the app exited with {app.returncode}: {err}"
    assert "error" not in err.lower(), err
