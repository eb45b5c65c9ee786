"""Build Reasoning Inspector as a one-folder desktop app with PyInstaller.

    .venv/bin/python packaging/build_app.py [--dist DIR] [--work DIR]

Run it with the Python of the environment the app is installed in (the checkout's .venv): the
build bundles that environment's PySide6, llama-cpp-python (with whatever llama.cpp build flags
it was compiled with) and default model. The app lands in DIR/inspector (default: dist/ in the
checkout); `DIR/inspector/inspector` is the `inspector` command, and `DIR/inspector/linux/`
holds the desktop integration (install_desktop.sh). Nothing is installed except PyInstaller
itself, into the running environment, when it is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "pyinstaller" / "inspector.spec"
LINUX = ROOT / "packaging" / "linux"
PYINSTALLER = "pyinstaller>=6.10"


def ensure_pyinstaller() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print(f"[build_app] installing {PYINSTALLER} into {sys.prefix}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PYINSTALLER], check=True)


def disk_usage(path: Path) -> int:
    """Bytes on disk under ``path`` (like ``du``: symlinks are not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


def build(dist: Path, work: Path) -> Path:
    command = [
        sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--log-level", "WARN",
        "--distpath", str(dist), "--workpath", str(work),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=ROOT)
    app = dist / "inspector"
    if not (app / "inspector").is_file():
        raise SystemExit(f"build_app: PyInstaller made no {app / 'inspector'}")
    if sys.platform.startswith("linux"):
        shutil.copytree(LINUX, app / "linux", dirs_exist_ok=True)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the one-folder desktop app.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller's cache"
    )
    args = parser.parse_args(argv)
    ensure_pyinstaller()
    started = time.monotonic()
    app = build(args.dist.resolve(), args.work.resolve())
    print(
        f"[build_app] built {app} in {time.monotonic() - started:.0f} s: "
        f"{disk_usage(app) / 2**20:.0f} MiB on disk; run {app / 'inspector'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
