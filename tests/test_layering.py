"""The architecture's import rules (docs/architecture.md), checked on every module.

Layers, lowest first: engine → core → store → service → ui → bench → cli. A module may import
its own layer and the layers below it, never one above. Only ``ui`` may import Qt or
pyqtgraph: the rest runs headless.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "inspector"
GUI_MODULES = {"PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6"}
LAYERS = ("engine", "core", "store", "service", "ui", "bench", "cli")


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def imported_inspector_modules(path: Path) -> set[str]:
    """Dotted names of the inspector modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ["inspector", *path.relative_to(PACKAGE).parent.parts]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.split(".")[0] == "inspector")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.split(".")[0] == "inspector":
                module = node.module
            else:
                continue
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)
    return names


def layer_of(module: str) -> int | None:
    """The rank of a module's layer; None for the package root (``inspector.__version__``)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in {"__init__", "__version__"}:
        return None
    if parts[1] == "__main__":
        return LAYERS.index("cli")
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def module_name(path: Path) -> str:
    return ".".join(["inspector", *path.relative_to(PACKAGE).with_suffix("").parts])


def upward_imports(paths: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        source = layer_of(module_name(path))
        if source is None:
            continue
        for target in sorted(imported_inspector_modules(path)):
            rank = layer_of(target)
            if rank is not None and rank > source:
                found.setdefault(module_name(path), []).append(target)
    return found


def test_every_module_is_in_a_layer():
    loose = [
        module_name(p)
        for p in PACKAGE.rglob("*.py")
        if layer_of(module_name(p)) is None and p.name not in {"__init__.py"}
    ]
    assert loose == []


def test_nothing_imports_upward():
    assert upward_imports(sorted(PACKAGE.rglob("*.py"))) == {}


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "inspector"
    (fake / "store").mkdir(parents=True)
    sample = fake / "store" / "sample.py"
    sample.write_text(
        "from inspector.ui.main_window import MainWindow\n"
        "from ..service import run_and_save\n"
        "from inspector.engine import Engine\n"
        "def f():\n    import inspector.cli.main\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert upward_imports([sample]) == {
        "inspector.store.sample": [
            "inspector.cli.main",
            "inspector.service",
            "inspector.service.run_and_save",
            "inspector.ui.main_window",
            "inspector.ui.main_window.MainWindow",
        ]
    }


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
        "import sys, inspector.cli, inspector.engine, inspector.bench.engine, "
        "inspector.service, inspector.store; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'PySide6', 'pyqtgraph', 'shiboken6'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
