"""The structure promised in docs/architecture.md, checked on the source itself.

* the import graph of ``amlhandson`` has no cycle (imports inside functions count;
  imports under ``if TYPE_CHECKING:`` do not, they never run);
* only ``amlhandson/_store/`` speaks SQL;
* importing the package and every module changes nothing in the interpreter.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "amlhandson"


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("amlhandson"):
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            if prefix.startswith("amlhandson"):
                for alias in node.names:
                    full = f"{prefix}.{alias.name}"
                    add(full if full in modules else prefix)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            strong(v)
    return result


def test_the_import_graph_has_no_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    # A package's __init__ re-exporting its own submodules is not a cycle of concern,
    # but a submodule importing its parent package is: keep both directions visible
    # by dropping only the edges from a package to its own submodules.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    assert _cycles(graph) == []


def test_the_cycle_detector_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# SQL in this code base is written in capitals; prose ("select files ...") is not SQL.
_SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|"
                  r"DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|PRAGMA\s+\w+)")


def test_only_the_store_speaks_sql() -> None:
    offenders = []
    for name, path in _modules().items():
        if name.startswith("amlhandson._store"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*import sqlite3|^\s*from sqlite3", text, re.MULTILINE):
            offenders.append(f"{name}: imports sqlite3")
        for match in _SQL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            offenders.append(f"{name}:{line}: {match.group(0)}")
    assert offenders == []


_IMPORT_ALL = """
import importlib, pkgutil, sys
import amlhandson
skip = ('amlhandson.core.webservice._server', 'amlhandson.datasets.mnist.__main__',
        'amlhandson.cli.__main__')
for m in pkgutil.walk_packages(amlhandson.__path__, 'amlhandson.'):
    if m.name not in skip:
        importlib.import_module(m.name)
"""


def test_importing_everything_changes_nothing() -> None:
    # First learn which other libraries our modules import (logging, multiprocessing ...
    # register atexit handlers of their own), then import those before taking the
    # baseline, so that only amlhandson's own effects are measured.
    listing = _IMPORT_ALL + "print(' '.join(k for k in sys.modules if not k.startswith('amlhandson')))"
    others = subprocess.run([sys.executable, "-c", listing], capture_output=True, text=True,
                            cwd=PACKAGE.parent, check=True).stdout.split()
    code = (
        "import atexit, sys, threading, types, importlib\n"
        f"for name in {others!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        pass\n"
        "hook, threads, n = sys.excepthook, threading.active_count(), atexit._ncallbacks()\n"
        + _IMPORT_ALL +
        "assert sys.excepthook is hook, 'excepthook changed'\n"
        "assert threading.active_count() == threads, 'a thread started'\n"
        "assert atexit._ncallbacks() == n, 'an atexit handler was added'\n"
        "swapped = [k for k, v in sys.modules.items() if k.startswith('amlhandson')\n"
        "           and type(v) is not types.ModuleType]\n"
        "assert not swapped, swapped\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=PACKAGE.parent)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize("name", ["amlhandson.core.run", "amlhandson.core.model",
                                  "amlhandson.core.workspace", "amlhandson.tracking",
                                  "amlhandson.cli.runs", "amlhandson.widgets._summary"])
def test_no_private_state_of_other_objects(name: str) -> None:
    text = _modules()[name].read_text(encoding="utf-8")
    found = re.findall(r"(?<![\w.])(?!self\b|amlhandson\b)\w+\._(?:store|pk|row|rec|folder)\b",
                       text)
    assert found == [], (name, found)
