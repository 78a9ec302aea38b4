"""Which files a dataset definition selects: sources, globs, and file-level transforms.

A definition is a JSON object::

    {"sources": [{"datastore": "workspaceblobstore", "path": "mnist/*.gz"},
                 {"local": "/home/me/data/extra.csv"}],
     "transforms": [{"skip": 1}, {"take": 10}, {"split": {"percentage": 0.8, "seed": 1, "part": 0}}]}

Globs: ``*`` and ``?`` stay within one folder, ``**`` crosses folders. A path
without glob characters selects a file, or every file below a folder. Each
selected file has a *relative name*: its path below the source's fixed part
(the folder before the first glob), as v1's ``to_path()`` showed it.

Example:
    >>> glob_regex("mnist/*.gz").match("mnist/train.gz") is not None
    True
    >>> glob_regex("mnist/*.gz").match("mnist/sub/train.gz") is None
    True
    >>> glob_regex("data/**/*.csv").match("data/a/b/c.csv") is not None
    True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import UserErrorException
from ._backends import Backend, FolderBackend, clean_path

__all__ = ["Selected", "glob_regex", "select_files", "apply_file_transforms", "NO_DATA"]

#: v1's message when the paths of a dataset match no file.
NO_DATA = ("Cannot load any data from the specified path. Make sure the path is accessible "
           "and contains data.")
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Selected:
    """One selected file: relative name, where it is, and its local path if it has one.

    Example:
        >>> Selected("a.gz", None, "mnist/a.gz", None).rel
        'a.gz'
    """

    rel: str
    backend: Backend | None
    store_path: str
    local: Path | None

    @property
    def source_label(self) -> str:
        """Where the file is, for messages and listings."""
        return str(self.local) if self.local is not None else self.store_path


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regular expression matching store paths against ``pattern``.

    Example:
        >>> bool(glob_regex("a/?.txt").match("a/b.txt"))
        True
    """
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _fixed_part(path: str) -> str:
    parts = path.split("/")
    fixed = []
    for part in parts:
        if _GLOB.search(part):
            break
        fixed.append(part)
    return "/".join(fixed)


def _select_source(source: dict[str, Any],
                   datastore_of: Callable[[str], Any]) -> list[Selected]:
    if "local" in source:
        root = Path(source["local"])
        if root.is_file():
            return [Selected(root.name, None, root.name, root)]
        backend: Backend = FolderBackend(root)
        path = clean_path(source.get("path", ""))
    else:
        backend = datastore_of(source["datastore"]).backend
        path = clean_path(source.get("path", ""))
    local_root = backend.local_root()
    if _GLOB.search(path):
        base = _fixed_part(path)
        regex = glob_regex(path)
        files = [f for f in backend.list(base) if regex.match(f.path)]
    else:
        base = path
        files = backend.list(path)
        if len(files) == 1 and files[0].path == path:
            base = path.rpartition("/")[0]
    found = []
    for f in files:
        rel = f.path[len(base):].lstrip("/") if base else f.path
        local = (local_root / f.path) if local_root is not None else None
        found.append(Selected(rel or f.name, backend, f.path, local))
    return found


def select_files(definition: dict[str, Any], datastore_of: Callable[[str], Any],
           validate: bool = True) -> list[Selected]:
    """The files ``definition`` selects, in order (sources in order, paths sorted).

    ``datastore_of(name)`` returns the datastore called ``name``. With
    ``validate``, selecting nothing raises v1's "Cannot load any data" error.

    Example:
        >>> select_files({"sources": [{"local": "data"}]}, None)  # doctest: +SKIP
        [Selected(rel='train-images.gz', ...), ...]
    """
    selected: list[Selected] = []
    for source in definition.get("sources", []):
        selected += _select_source(source, datastore_of)
    selected = apply_file_transforms(selected, definition.get("transforms", []))
    if validate and not selected and not definition.get("transforms"):
        where = ", ".join(_describe(s) for s in definition.get("sources", []))
        raise UserErrorException(f"{NO_DATA} (指定されたパス {where} にファイルがありません。"
                                 "パスとアップロードしたかを確認してください。)")
    return selected


def _describe(source: dict[str, Any]) -> str:
    if "local" in source:
        return str(source["local"])
    return f"({source['datastore']}, {source.get('path', '')!r})"


def _in_part(key: str, seed: int, percentage: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < percentage


def apply_file_transforms(items: Sequence[Any], transforms: Sequence[dict[str, Any]],
                          key: Callable[[Any], str] = lambda s: s.store_path) -> list[Any]:
    """Apply take / skip / split / sample transforms, in order, to a list of items.

    A split or sample puts each item by a hash of (seed, item), so adding files
    later never moves the existing ones to the other part.

    Example:
        >>> apply_file_transforms(list("abcdef"), [{"skip": 1}, {"take": 3}], key=str)
        ['b', 'c', 'd']
    """
    out = list(items)
    for step in transforms:
        if "take" in step:
            out = out[: step["take"]]
        elif "skip" in step:
            out = out[step["skip"]:]
        elif "split" in step:
            spec = step["split"]
            keep = spec["part"] == 0
            out = [x for x in out
                   if _in_part(key(x), spec["seed"], spec["percentage"]) == keep]
        elif "sample" in step:
            spec = step["sample"]
            out = [x for x in out if _in_part(key(x), spec["seed"], spec["probability"])]
    return out
