"""The course's notebooks as files: find them, copy them, make the student edition.

The course is the ``notebooks/`` folder of the repository (``00-overview.ipynb``
...) with ``config.json`` one level up. This module is used by ``amlhandson
course``, by ``tools/build_notebooks.py`` and by the tests, so that all of them
agree on what the course is:

- :func:`course_folder` finds ``notebooks/`` from the current folder or from
  where the package is installed (an editable install of the repository).
- :func:`copy_course` makes a fresh-clone-like copy (``config.json`` and the
  folder's files) where notebooks can run without leaving anything in the
  repository.
- :func:`student_notebook` / :func:`make_student_edition`: the notebooks with
  the exercise solutions removed and the checks kept.

Cells carry their role in their tags (see ``notebooks/README.md``):
``exercise`` (the learner writes code here), ``check`` (immediate feedback),
``hint`` (hints in steps), ``solution`` (worked solutions, further down; left
out of the student edition).

Example:
    >>> nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "x = 1"},
    ...                 {"cell_type": "code", "metadata": {}, "source": "print(1)"}],
    ...       "metadata": {}}
    >>> [c["source"] for c in student_notebook(nb)["cells"]]
    ['print(1)']
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "TAG_EXERCISE", "TAG_CHECK", "TAG_HINT", "TAG_SOLUTION",
    "FIRST_NOTEBOOK", "course_folder", "copy_course", "student_notebook",
    "make_student_edition",
]

TAG_EXERCISE = "exercise"
TAG_CHECK = "check"
TAG_HINT = "hint"
TAG_SOLUTION = "solution"
#: The notebook a learner opens first.
FIRST_NOTEBOOK = "00-overview.ipynb"
#: Files of the course folder a copy never takes (what running the notebooks leaves behind).
_LEFTOVERS = {".azureml", "deploy", "outputs", "data", ".ipynb_checkpoints", "__pycache__"}


def course_folder(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The course's ``notebooks/`` folder, or ``None`` when there is none to be found.

    Looks in ``start`` and its ``notebooks/``; without ``start``, in the current
    folder, its ``notebooks/``, then in the repository the package was installed
    from (``pip install -e .``).

    Example:
        >>> folder = course_folder()
        >>> folder is None or (folder / FIRST_NOTEBOOK).is_file()
        True
    """
    here = Path(start) if start is not None else Path.cwd()
    candidates = [here, here / "notebooks"]
    if start is None:
        candidates.append(Path(__file__).resolve().parents[1] / "notebooks")
    for candidate in candidates:
        if (candidate / FIRST_NOTEBOOK).is_file():
            return candidate.resolve()
    return None


def copy_course(notebooks: str | os.PathLike[str], dest: str | os.PathLike[str], *,
                with_notebooks: bool = True) -> Path:
    """Copy the course to ``dest`` like a fresh clone; return the copy's ``notebooks`` folder.

    ``dest/config.json`` comes from next to ``notebooks``; ``dest/notebooks/``
    gets the folder's files (without the ``.ipynb`` when ``with_notebooks`` is
    false) and none of what running the notebooks leaves behind.

    Example:
        >>> copy_course(course_folder(), tmp_path)  # doctest: +SKIP
        PosixPath('/tmp/.../notebooks')
    """
    source = Path(notebooks)
    root = Path(dest)
    target = root / "notebooks"
    target.mkdir(parents=True, exist_ok=True)
    config = source.parent / "config.json"
    if config.is_file():
        shutil.copy2(config, root / "config.json")
    for item in source.iterdir():
        if item.name in _LEFTOVERS or not item.is_file():
            continue
        if item.suffix == ".ipynb" and not with_notebooks:
            continue
        shutil.copy2(item, target / item.name)
    return target


def _tags(cell: dict[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def student_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """``nb`` (notebook JSON) without its ``solution`` cells; everything else is kept.

    Example:
        >>> student_notebook({"cells": [], "metadata": {}})["cells"]
        []
    """
    result = copy.deepcopy(nb)
    result["cells"] = [c for c in result["cells"] if TAG_SOLUTION not in _tags(c)]
    result.setdefault("metadata", {})["amlhandson"] = {"edition": "student"}
    return result


def make_student_edition(notebooks: str | os.PathLike[str], dest: str | os.PathLike[str], *,
                         overwrite: bool = False) -> list[Path]:
    """Write the student edition of the course into ``dest``; return the notebooks written.

    ``dest`` gets a copy of the course (:func:`copy_course`, so ``config.json``
    sits next to it) with every notebook passed through :func:`student_notebook`.
    Notebooks already in ``dest`` are kept (a learner may have worked in them)
    unless ``overwrite`` is true.

    Example:
        >>> make_student_edition(course_folder(), "student")  # doctest: +SKIP
        [PosixPath('student/notebooks/00-overview.ipynb'), ...]
    """
    source = Path(notebooks)
    target = copy_course(source, dest, with_notebooks=False)
    written = []
    for path in sorted(source.glob("[0-9][0-9]-*.ipynb")):
        out = target / path.name
        if out.exists() and not overwrite:
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = json.dumps(student_notebook(nb), ensure_ascii=False, indent=1)
        out.write_text(text + "\n", encoding="utf-8")
        written.append(out)
    return written
