"""Generate the course notebooks ``notebooks/00-*.ipynb`` ... ``05-*.ipynb`` from Python source.

The text and code of every notebook live in ``tools/notebooks_src/`` (one module per
notebook, each defining ``CELLS``), so they can be reviewed as plain Python and
re-generated. This script turns them into ``.ipynb`` files with nbformat.

Outputs: a cell whose id and source did not change keeps the outputs stored in the
existing notebook, so regenerating after a text edit does not throw away results.
``--execute`` runs the notebooks in order and stores fresh outputs; run it without
``AMLHANDSON_QUICK`` so the committed outputs show the full data. By default they run
the way a learner with a fresh clone would: in a temporary copy of the course (the
repository's ``config.json``, ``notebooks/utils.py`` ..., with ``data/`` linked to
``notebooks/data`` so MNIST is downloaded once), with a fresh temporary ``HOME`` and
no ``AMLHANDSON_HOME``. So the outputs show the paths a learner sees
(``~/.amlhandson/...``), start from an empty workspace, are not affected by files
other notebooks left in ``notebooks/`` (``outputs/``, ``.azureml/``), and nothing
touches your own home folder. ``--in-place`` runs in ``notebooks/`` with your
environment instead. After executing, outputs are checked for machine-specific
absolute paths.

Usage (from the repository root)::

    python tools/build_notebooks.py                 # write all notebooks
    python tools/build_notebooks.py 03 04           # only these (number or name)
    python tools/build_notebooks.py --execute 04    # write and run, store outputs
    python tools/build_notebooks.py --check         # exit 1 if a notebook is out of date

Example:
    >>> from build_notebooks import load_specs  # doctest: +SKIP
    >>> sorted(load_specs())[:2]  # doctest: +SKIP
    ['00-overview', '01-workspace']
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SOURCES = Path(__file__).resolve().parent / "notebooks_src"

#: Absolute machine paths that must never appear in a committed notebook.
MACHINE_PATH = re.compile(r"(?<![\w.~$])/(root|home|tmp|work|Users|var/folders)/")

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"notebooks_src_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_specs() -> dict[str, list[tuple[str, str]]]:
    """``{notebook name: [(cell type, source), ...]}`` for every source module.

    A module ``tools/notebooks_src/nb03_visualize.py`` with ``NAME = "03-visualize"``
    and ``CELLS = [("markdown", "..."), ("code", "..."), ...]`` gives
    ``notebooks/03-visualize.ipynb``.
    """
    specs: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(SOURCES.glob("nb[0-9][0-9]_*.py")):
        module = _load_module(path)
        specs[module.NAME] = list(module.CELLS)
    return specs


def _cell_id(name: str, index: int) -> str:
    return f"nb{name[:2]}-{index:02d}"


def build(name: str, cells: list[tuple[str, str]],
          previous: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    """The notebook for ``cells``, keeping outputs of unchanged cells from ``previous``."""
    kept: dict[str, Any] = {}
    if previous is not None:
        for cell in previous.cells:
            if cell.cell_type == "code":
                kept[cell.get("id", "")] = cell
    nb_cells = []
    for index, (kind, source) in enumerate(cells):
        cid = _cell_id(name, index)
        source = source.strip("\n")
        if kind == "markdown":
            cell = new_markdown_cell(source, id=cid)
        elif kind == "code":
            cell = new_code_cell(source, id=cid)
            old = kept.get(cid)
            if old is not None and old.source == source:
                cell.outputs = old.outputs
                cell.execution_count = old.execution_count
        else:
            raise ValueError(f"{name}: unknown cell type {kind!r}")
        nb_cells.append(cell)
    metadata: dict[str, Any] = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    if previous is not None:
        info = previous.metadata.get("language_info")
        if info:
            metadata["language_info"] = info
        if "widgets" in previous.metadata and any(c.get("outputs") for c in nb_cells
                                                   if c.cell_type == "code"):
            metadata["widgets"] = previous.metadata["widgets"]
    nb = new_notebook(cells=nb_cells, metadata=metadata)
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def machine_paths(nb: nbformat.NotebookNode) -> list[str]:
    """Lines of sources and text outputs that contain an absolute machine path."""
    found = []
    for cell in nb.cells:
        texts = [cell.source]
        for out in cell.get("outputs", []):
            if "text" in out:
                texts.append(out["text"])
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    texts.append(value if isinstance(value, str) else str(value))
            if "traceback" in out:
                texts.extend(out["traceback"])
        for text in texts:
            for line in str(text).splitlines():
                if MACHINE_PATH.search(line):
                    found.append(f"{cell.get('id')}: {line.strip()[:160]}")
    return found


def execute(nb: nbformat.NotebookNode, timeout: int = 900, cwd: Path = NOTEBOOKS) -> float:
    """Run ``nb`` in place with the kernel's cwd in ``cwd``; return seconds taken."""
    from nbclient import NotebookClient

    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return time.perf_counter() - start


def make_sandbox() -> Path:
    """A fresh-clone-like copy of the course; returns its ``notebooks`` folder.

    Also gives the process (and so the kernels) a fresh ``HOME`` without
    ``AMLHANDSON_HOME``.
    """
    root = Path(tempfile.mkdtemp(prefix="amlhandson-build-"))
    shutil.copy2(REPO / "config.json", root / "config.json")
    course = root / "notebooks"
    course.mkdir()
    for item in NOTEBOOKS.iterdir():
        if item.is_file() and item.suffix != ".ipynb":
            shutil.copy2(item, course / item.name)
    (NOTEBOOKS / "data").mkdir(exist_ok=True)
    (course / "data").symlink_to(NOTEBOOKS / "data", target_is_directory=True)
    home = root / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)
    os.environ.pop("AMLHANDSON_HOME", None)
    return course


_DATA_URI = re.compile(r"(data:image/[a-z+]+;base64,)([A-Za-z0-9+/=\s]+)")
_BINARY_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def _wrap_base64(nb: nbformat.NotebookNode) -> None:
    """Store base64 images as a list of pieces, each starting at a ``/``.

    nbformat joins such lists back on reading (any non-JSON MIME type may be a
    multi-line string), so nothing changes for Jupyter or nbval; but a random
    ``.../Ab/cd...`` run inside base64 no longer looks like a file path to the
    path checks that keep machine-specific paths out of the committed outputs.
    """
    def pieces(text: str) -> list[str]:
        parts = text.split("/")
        return [parts[0]] + ["/" + p for p in parts[1:]]

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime, value in data.items():
                if isinstance(value, list):
                    value = "".join(value)
                if not isinstance(value, str) or "/" not in value:
                    continue
                if mime in _BINARY_MIMES:
                    data[mime] = pieces(value)
                elif mime.startswith("text/") and ";base64," in value:  # inline data URIs
                    lines = value.splitlines(keepends=True)
                    data[mime] = [p for line in lines
                                  for p in (pieces(line) if ";base64," in line else [line])]
    # Saved widget state holds HTML strings that cannot be split into lists; there, put a
    # space before each "/" of a data URI's base64 (browsers drop ASCII whitespace when
    # decoding base64 data URLs: "forgiving-base64 decode").
    widgets = nb.metadata.get("widgets", {})
    for state in widgets.values():
        for model in (state.get("state") or {}).values():
            values = model.get("state", {})
            for key, value in values.items():
                if isinstance(value, str) and ";base64," in value:
                    values[key] = _DATA_URI.sub(
                        lambda m: m.group(1) + re.sub(r"\s*/", " /", m.group(2)), value)


def write(path: Path, nb: nbformat.NotebookNode) -> None:
    """Validate and write ``nb`` (UTF-8, one-space JSON indent like Jupyter, final newline)."""
    nbformat.validate(nb)
    _wrap_base64(nb)
    text = nbformat.writes(nb)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def _select(specs: dict[str, Any], wanted: Iterable[str]) -> list[str]:
    wanted = list(wanted)
    if not wanted:
        return list(specs)
    chosen = []
    for item in wanted:
        matches = [n for n in specs if n == item or n.startswith(item)]
        if not matches:
            raise SystemExit(f"no notebook matches {item!r} (known: {', '.join(specs)})")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    parser.add_argument("--execute", action="store_true", help="run and store outputs")
    parser.add_argument("--check", action="store_true",
                        help="only report notebooks whose cells differ from the source")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--in-place", action="store_true",
                        help="execute in notebooks/ with the current HOME and AMLHANDSON_HOME")
    args = parser.parse_args(argv)
    cwd = NOTEBOOKS
    if args.execute and not args.in_place:
        cwd = make_sandbox()
        print(f"executing in a fresh copy of the course: {cwd}")

    specs = load_specs()
    status = 0
    for name in _select(specs, args.notebooks):
        path = NOTEBOOKS / f"{name}.ipynb"
        previous = nbformat.read(path, as_version=4) if path.exists() else None
        nb = build(name, specs[name], previous)
        if args.check:
            old = [(c.cell_type, c.source) for c in previous.cells] if previous else None
            new = [(c.cell_type, c.source) for c in nb.cells]
            if old != new:
                print(f"{path.relative_to(REPO)}: out of date (run tools/build_notebooks.py)")
                status = 1
            continue
        if args.execute:
            quick = os.environ.get("AMLHANDSON_QUICK") == "1"
            seconds = execute(nb, args.timeout, cwd)
            print(f"{name}: executed in {seconds:.1f} s ({'quick' if quick else 'full'} mode)")
        bad = machine_paths(nb)
        if bad:
            print(f"{name}: machine-specific paths found, not written:", *bad, sep="\n  ")
            status = 1
            continue
        write(path, nb)
        print(f"wrote {path.relative_to(REPO)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
