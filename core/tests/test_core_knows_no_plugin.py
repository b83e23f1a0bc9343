"""Core has no code path for a particular plugin: no core module imports a plugin module,
statically or when imported with every plugin installed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ox_core

SRC = Path(ox_core.__file__).parent


def test_no_core_module_imports_a_plugin_module() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith("ox_") and n != "ox_core"
                if not n.startswith("ox_core.")
            ]
    assert found == []


def test_importing_all_of_core_loads_no_plugin() -> None:
    """With every plugin installed (this environment), importing each core module (the kits
    included) loads no plugin module: plugins are loaded only by `load_plugins`."""
    code = (
        "import importlib, pkgutil, sys, ox_core\n"
        "for m in pkgutil.walk_packages(ox_core.__path__, 'ox_core.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('ox_') and m != 'ox_core'\n"
        "             and not m.startswith('ox_core.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
