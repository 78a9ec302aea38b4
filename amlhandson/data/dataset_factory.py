"""``Dataset.File`` and ``Dataset.Tabular``: building datasets from paths, as in v1.

A path is a ``(datastore, "folder/or/glob")`` tuple, a ``DataPath`` or
``DataReference`` (``datastore.path("mnist")``), a datastore (all of it), or a
list of these. Beyond v1, a local path or glob (``"data/*.gz"``) is accepted
too (v1 needed an upload first); web URLs are refused offline.

Example:
    >>> from amlhandson.core import Dataset
    >>> files = Dataset.File.from_files([(datastore, "mnist/*.gz")])  # doctest: +SKIP
    >>> table = Dataset.Tabular.from_delimited_files((datastore, "results/"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..exceptions import UserErrorException
from ._backends import clean_path
from ._selection import select_files
from .file_dataset import FileDataset
from .tabular_dataset import TabularDataset

__all__ = ["FileDatasetFactory", "TabularDatasetFactory", "sources_of"]

_GLOB = re.compile(r"[*?\[]")


def _source(item: Any) -> tuple[dict[str, Any], Any]:
    """One path spec as a definition source and the workspace it belongs to (or None)."""
    if isinstance(item, tuple):
        if len(item) != 2 or not hasattr(item[0], "backend"):
            raise UserErrorException(
                f"パス {item!r} は使えません。(datastore, 'フォルダー/パターン') の形にして"
                "ください (例: (ws.get_default_datastore(), 'mnist/*.gz'))。"
            )
        return ({"datastore": item[0].name, "path": clean_path(item[1])},
                item[0].workspace)
    if hasattr(item, "path_on_datastore") and hasattr(item, "datastore"):
        return ({"datastore": item.datastore.name, "path": item.path_on_datastore},
                item.datastore.workspace)
    if hasattr(item, "backend") and hasattr(item, "workspace"):
        return {"datastore": item.name, "path": ""}, item.workspace
    if isinstance(item, (str, os.PathLike)):
        text = os.fspath(item)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) and not text.startswith("file://"):
            raise UserErrorException(
                f"URL {text!r} はオフラインでは読めません。ファイルを取得してデータストアに "
                "upload するか、ローカルのパスを指定してください。"
            )
        if text.startswith("file://"):
            text = text[len("file://"):]
        parts = Path(text).expanduser().parts
        fixed = []
        for part in parts:
            if _GLOB.search(part):
                break
            fixed.append(part)
        rest = "/".join(parts[len(fixed):])
        base = Path(*fixed).resolve() if fixed else Path.cwd()
        return {"local": str(base), "path": rest}, None
    raise UserErrorException(
        f"パス {item!r} ({type(item).__name__}) は使えません。(datastore, 'パス') のタプル、"
        "datastore.path('パス')、ローカルのパス、またはそれらのリストを渡してください。"
    )


def sources_of(path: Any) -> tuple[list[dict[str, Any]], Any]:
    """Definition sources for ``path`` (one spec or a list) and their workspace.

    Example:
        >>> sources_of("data/*.gz")[0][0]["path"]
        '*.gz'
    """
    items = path if isinstance(path, list) else [path]
    if not items:
        raise UserErrorException("パスのリストが空です。")
    sources, workspaces = [], []
    for item in items:
        source, ws = _source(item)
        sources.append(source)
        if ws is not None:
            workspaces.append(ws)
    if any(ws != workspaces[0] for ws in workspaces):
        raise UserErrorException("1 つのデータセットには同じワークスペースのデータストアだけを"
                                 "使ってください。")
    return sources, (workspaces[0] if workspaces else None)


class FileDatasetFactory:
    """``Dataset.File``.

    Example:
        >>> FileDatasetFactory.from_files("data/*.gz", validate=False).definition["sources"][0]["path"]
        '*.gz'
    """

    @staticmethod
    def from_files(path: Any, validate: bool = True) -> FileDataset:
        """A file dataset over ``path`` (tuples, references, local paths, globs, lists).

        With ``validate`` (default), selecting no file raises v1's "Cannot load
        any data from the specified path" error.

        Example:
            >>> Dataset.File.from_files((datastore, "mnist/")).to_path()  # doctest: +SKIP
        """
        sources, workspace = sources_of(path)
        dataset = FileDataset({"sources": sources}, workspace)
        if validate:
            dataset._selected()
        return dataset


class TabularDatasetFactory:
    """``Dataset.Tabular``.

    Example:
        >>> TabularDatasetFactory.from_delimited_files("r/*.csv", validate=False).definition["tabular"]["separator"]
        ','
    """

    @staticmethod
    def from_delimited_files(path: Any, validate: bool = True, include_path: bool = False,
                             infer_column_types: bool = True,
                             set_column_types: dict[str, Any] | None = None,
                             separator: str = ",", header: bool = True,
                             encoding: str = "utf8", **_: Any) -> TabularDataset:
        """A tabular dataset over delimited files (CSV by default).

        Example:
            >>> Dataset.Tabular.from_delimited_files((datastore, "results/*.csv"))  # doctest: +SKIP
        """
        if not isinstance(separator, str) or not separator:
            raise UserErrorException("separator には区切り文字 (',' や '\\t') を指定してください。")
        sources, workspace = sources_of(path)
        types = {str(k): _type_name(v) for k, v in (set_column_types or {}).items()}
        definition = {"sources": sources, "tabular": {
            "separator": separator, "header": bool(header), "include_path": bool(include_path),
            "infer_column_types": bool(infer_column_types), "encoding": encoding,
            "column_types": types}}
        dataset = TabularDataset(definition, workspace)
        if validate:
            select_files(definition, dataset._datastore, validate=True)
        return dataset


def _type_name(kind: Any) -> str:
    names = {int: "int64", float: "float64", str: "str", bool: "bool"}
    if kind in names:
        return names[kind]
    if isinstance(kind, str):
        return kind
    raise UserErrorException(f"set_column_types の型 {kind!r} は使えません (int, float, str, "
                             "bool か 'int64' のような名前)。")
