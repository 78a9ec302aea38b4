"""Generate the course notebooks ``notebooks/NN-*.ipynb`` from Python source.

The text and code of every notebook live in ``tools/notebooks_src/`` (one module per
notebook, each defining ``NAME`` and ``CELLS``), so they can be reviewed as plain
Python and re-generated. This script turns them into ``.ipynb`` files with nbformat.
A cell is ``(kind, source)`` or ``(kind, source, tags)``; ``tags`` (a string or a
tuple of strings) go into the cell's metadata: nbval's markers
(``nbval-check-output``, ``nbval-ignore-output``, ``nbval-skip``,
``nbval-raises-exception``) and the course's roles (``exercise``, ``check``,
``hint``, ``solution``; see notebooks/README.md).

Outputs: a cell whose id and source did not change keeps the outputs stored in the
existing notebook, so regenerating after a text edit does not throw away results.
``--execute`` runs the notebooks in order and stores fresh outputs. They run the way
a learner with a fresh clone would: in a temporary copy of the course
(:func:`amlhandson._course.copy_course`) with a fresh temporary ``HOME`` and no
``AMLHANDSON_HOME``, so the outputs show the paths a learner sees
(``~/.amlhandson/...``), start from an empty workspace, and nothing touches your
own home folder or ``notebooks/``. MNIST is taken from your own course data
folder (``~/.amlhandson/datasets/mnist``, linked into the temporary home) when it
holds the full set, else fetched through ``AMLHANDSON_MNIST_MIRROR``. After
executing, progress bars are dropped from the outputs (they would show as an
empty "0%" bar wherever widgets are not rendered), unused widget state is
pruned, outputs are checked for machine-specific absolute paths, and the time
each notebook took is printed (docs/instructor.md quotes these figures).

``--student DIR`` writes the student edition (solutions removed, checks kept)
with :func:`amlhandson._course.make_student_edition`.

Usage (from the repository root)::

    python tools/build_notebooks.py                 # write all notebooks
    python tools/build_notebooks.py 03 04           # only these (number or name)
    python tools/build_notebooks.py --execute 04    # write and run, store outputs
    python tools/build_notebooks.py --check         # exit 1 if a notebook is out of date
    python tools/build_notebooks.py --student /tmp/student   # the student edition

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
sys.path.insert(0, str(REPO))  # the amlhandson of this checkout, installed or not

#: Absolute machine paths that must never appear in a committed notebook.
MACHINE_PATH = re.compile(r"(?<![\w.~$])/(root|home|tmp|work|Users|var/folders)/")

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

#: A cell as written in a source module: (kind, source) or (kind, source, tags).
CellSpec = tuple[str, str, tuple[str, ...]]


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"notebooks_src_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _normal(cell: tuple[Any, ...]) -> CellSpec:
    if len(cell) == 2:
        return cell[0], cell[1], ()
    kind, source, tags = cell
    return kind, source, (tags,) if isinstance(tags, str) else tuple(tags)


def load_specs() -> dict[str, list[CellSpec]]:
    """``{notebook name: [(cell type, source, tags), ...]}`` for every source module.

    A module ``tools/notebooks_src/nb03_visualize.py`` with ``NAME = "03-visualize"``
    and ``CELLS = [("markdown", "..."), ("code", "...", "nbval-check-output"), ...]``
    gives ``notebooks/03-visualize.ipynb``.
    """
    specs: dict[str, list[CellSpec]] = {}
    for path in sorted(SOURCES.glob("nb[0-9][0-9]_*.py")):
        module = _load_module(path)
        specs[module.NAME] = [_normal(cell) for cell in module.CELLS]
    return specs


def _cell_id(name: str, index: int) -> str:
    return f"nb{name[:2]}-{index:02d}"


def cell_key(cell: nbformat.NotebookNode) -> tuple[str, str, tuple[str, ...]]:
    """What the generator decides about a cell: type, source and tags."""
    return cell.cell_type, cell.source, tuple(cell.get("metadata", {}).get("tags", ()))


def build(name: str, cells: list[CellSpec],
          previous: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    """The notebook for ``cells``, keeping outputs of unchanged cells from ``previous``."""
    kept: dict[str, Any] = {}
    if previous is not None:
        for cell in previous.cells:
            if cell.cell_type == "code":
                kept[cell.get("id", "")] = cell
    nb_cells = []
    for index, spec in enumerate(cells):
        kind, source, tags = _normal(spec)
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
        if tags:
            cell.metadata["tags"] = list(tags)
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
    _prune_widget_state(nb)
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


# -- widgets in outputs -----------------------------------------------------------------------
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_MODEL_REF = re.compile(r"IPY_MODEL_([0-9a-f]+)")
_PROGRESS_TEXT = re.compile(r"\d+%\|")


def _widget_models(nb: nbformat.NotebookNode) -> dict[str, Any]:
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _is_progress_bar(output: Any, models: dict[str, Any]) -> bool:
    """A tqdm bar: an HBox holding a progress model (or its text form ``  0%|``)."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return False
    root = models.get(data[WIDGET_VIEW].get("model_id", ""), {})
    children = root.get("state", {}).get("children", [])
    for ref in children if isinstance(children, list) else []:
        match = _MODEL_REF.search(str(ref))
        if match and "Progress" in models.get(match.group(1), {}).get("model_name", ""):
            return True
    text = data.get("text/plain", "")
    return bool(_PROGRESS_TEXT.search("".join(text) if isinstance(text, list) else text))


def drop_progress_bars(nb: nbformat.NotebookNode) -> int:
    """Remove download/progress bars from the outputs; return how many were removed.

    Where widgets are not rendered (GitHub, nbval, a notebook opened without its
    kernel) a saved bar shows as an empty "0%" widget, which says nothing.
    """
    models = _widget_models(nb)
    removed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = [o for o in cell.outputs if not _is_progress_bar(o, models)]
        removed += len(cell.outputs) - len(keep)
        cell.outputs = keep
    _prune_widget_state(nb)
    return removed


def _prune_widget_state(nb: nbformat.NotebookNode) -> None:
    """Keep only the saved widget models that some output still shows (and their parts)."""
    models = _widget_models(nb)
    if not models:
        nb.metadata.pop("widgets", None)
        return
    todo = [o["data"][WIDGET_VIEW].get("model_id", "") for c in nb.cells
            for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
    seen: set[str] = set()
    while todo:
        model_id = todo.pop()
        if model_id in seen or model_id not in models:
            continue
        seen.add(model_id)
        todo.extend(_MODEL_REF.findall(str(models[model_id].get("state", {}))))
    if not seen:
        nb.metadata.pop("widgets", None)
        return
    for model_id in list(models):
        if model_id not in seen:
            del models[model_id]


def merge_streams(nb: nbformat.NotebookNode) -> None:
    """Join consecutive stdout (or stderr) pieces of a cell into one output, as Jupyter shows them."""
    for cell in nb.cells:
        merged: list[Any] = []
        for out in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (out.output_type == "stream" and previous is not None
                    and previous.output_type == "stream" and previous.name == out.name):
                previous.text = "".join(previous.text) + "".join(out.text)
            else:
                merged.append(out)
        if cell.cell_type == "code":
            cell.outputs = merged


# -- executing -------------------------------------------------------------------------------
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
    ``AMLHANDSON_HOME``, with your MNIST folder linked in when it holds the full set.
    """
    from amlhandson._course import copy_course
    from amlhandson.datasets import mnist

    data = mnist.status()
    root = Path(tempfile.mkdtemp(prefix="amlhandson-build-"))
    course = copy_course(NOTEBOOKS, root, with_notebooks=False)
    home = root / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)
    os.environ.pop("AMLHANDSON_HOME", None)
    if data.kind == "full":
        linked = mnist.data_dir()  # under the new HOME now
        linked.parent.mkdir(parents=True)
        linked.symlink_to(data.folder, target_is_directory=True)
    else:
        print(f"MNIST: {data} (not the full set: the notebooks fetch it through "
              "AMLHANDSON_MNIST_MIRROR or fall back to the sample)")
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
    parser.add_argument("--student", metavar="DIR", default=None,
                        help="write the student edition (solutions removed) into DIR")
    args = parser.parse_args(argv)
    if args.student:
        from amlhandson._course import make_student_edition

        for path in make_student_edition(NOTEBOOKS, args.student, overwrite=True):
            print(f"wrote {path}")
        return 0
    sandbox = make_sandbox() if args.execute else None
    if sandbox is not None:
        print(f"executing in a fresh copy of the course: {sandbox}")
    try:
        return _build_all(args, sandbox)
    finally:
        if sandbox is not None:
            import shutil

            shutil.rmtree(sandbox.parent, ignore_errors=True)


def _build_all(args: argparse.Namespace, sandbox: Path | None) -> int:
    specs = load_specs()
    status = 0
    timings: list[tuple[str, float]] = []
    for name in _select(specs, args.notebooks):
        path = NOTEBOOKS / f"{name}.ipynb"
        previous = nbformat.read(path, as_version=4) if path.exists() else None
        nb = build(name, specs[name], previous)
        if args.check:
            old = [cell_key(c) for c in previous.cells] if previous else None
            if old != [cell_key(c) for c in nb.cells]:
                print(f"{path.relative_to(REPO)}: out of date (run tools/build_notebooks.py)")
                status = 1
            continue
        if sandbox is not None:
            seconds = execute(nb, args.timeout, sandbox)
            timings.append((name, seconds))
            dropped = drop_progress_bars(nb)
            merge_streams(nb)
            print(f"{name}: executed in {seconds:.1f} s"
                  + (f" ({dropped} progress bars dropped)" if dropped else ""))
        bad = machine_paths(nb)
        if bad:
            print(f"{name}: machine-specific paths found, not written:", *bad, sep="\n  ")
            status = 1
            continue
        write(path, nb)
        print(f"wrote {path.relative_to(REPO)}")
    if timings:
        print("\nexecution time per notebook (this machine, one after another):")
        for name, seconds in timings:
            print(f"  {name:28s} {seconds:6.1f} s")
        print(f"  {'total':28s} {sum(s for _, s in timings):6.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
