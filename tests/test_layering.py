"""Only inspector/ui may import Qt or pyqtgraph: the engine, core and store run headless."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "inspector"
GUI_MODULES = {"PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_qt_import_outside_ui():
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(imported_roots(path) & GUI_MODULES)
        for path in PACKAGE.rglob("*.py")
        if "ui" not in path.relative_to(PACKAGE).parts
    }
    offenders = {name: mods for name, mods in offenders.items() if mods}
    assert offenders == {}


def test_the_checker_sees_a_qt_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from PySide6.QtCore import QObject\nimport pyqtgraph as pg\n")
    assert imported_roots(sample) & GUI_MODULES == {"PySide6", "pyqtgraph"}


def test_headless_modules_load_without_qt():
    code = (
        "import sys, inspector.cli, inspector.engine, inspector.bench.engine; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'PySide6', 'pyqtgraph', 'shiboken6'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
