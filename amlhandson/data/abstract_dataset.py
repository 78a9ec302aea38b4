"""What file and tabular datasets share: definition, registration, versions, subsets.

A dataset is a *definition* (which files, which transformations), not a copy:
like v1, registering one stores the definition under a name and a version.
Beyond v1, each registered version also keeps a content fingerprint (names,
sizes and SHA-256 of the selected files), so amlhandson can say when the files
changed after registration, and runs record the content they actually read.

Example:
    >>> from amlhandson.core import Dataset
    >>> ds = Dataset.File.from_files("data/*.gz")  # doctest: +SKIP
    >>> ds = ds.register(ws, "mnist", create_new_version=True)  # doctest: +SKIP
    >>> ds.name, ds.version  # doctest: +SKIP
    ('mnist', 1)
"""

from __future__ import annotations

import copy
import json
import os
import random
import tempfile
import warnings
from pathlib import Path
from typing import Any

from .._store import Store
from ..core import _catalog
from ..exceptions import AmlHandsOnWarning, UserErrorException
from . import _transfer
from ._fingerprint import files_fingerprint
from ._selection import Selected, select_files

__all__ = ["AbstractDataset", "DatasetChangedWarning"]


class DatasetChangedWarning(AmlHandsOnWarning):
    """The files of a registered dataset version changed after it was registered."""


class AbstractDataset:
    """Base of :class:`FileDataset` and :class:`TabularDataset`.

    Example:
        >>> ds.take(10).to_path()  # doctest: +SKIP
    """

    _KIND = "abstract"

    def __init__(self, definition: dict[str, Any], workspace: Any = None,
                 record: Any = None) -> None:
        self._definition = copy.deepcopy(definition)
        self._workspace = workspace
        self._record = record

    # -- registration ---------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """The registered name (``None`` before :meth:`register`)."""
        return self._record.name if self._record else None

    @property
    def version(self) -> int | None:
        """The registered version."""
        return self._record.version if self._record else None

    @property
    def id(self) -> str | None:
        """The registered version's id."""
        return self._record.id if self._record else None

    @property
    def description(self) -> str | None:
        """The registered description."""
        return self._record.description if self._record else None

    @property
    def tags(self) -> dict[str, Any]:
        """The registered tags."""
        return dict(self._record.tags) if self._record else {}

    @property
    def workspace(self) -> Any:
        """The workspace the dataset is registered in (or whose datastores it reads)."""
        return self._workspace

    @property
    def definition(self) -> dict[str, Any]:
        """The definition as a JSON object (sources and transformations)."""
        return copy.deepcopy(self._definition)

    @property
    def registered_fingerprint(self) -> str | None:
        """The content fingerprint stored when this version was registered."""
        return self._record.fingerprint if self._record else None

    def register(self, workspace: Any, name: str, description: str | None = None,
                 tags: dict[str, Any] | None = None,
                 create_new_version: bool = False) -> AbstractDataset:
        """Register the definition as ``name`` (a new version when asked) and return it.

        Registering what the latest version already holds returns that version.

        Example:
            >>> ds.register(ws, "mnist", create_new_version=True).version  # doctest: +SKIP
            2
        """
        from ..core.workspace import Workspace

        if not isinstance(workspace, Workspace):
            raise UserErrorException("register(workspace, name): 1 つ目の引数には Workspace を"
                                     f"渡してください ({type(workspace).__name__} が渡されました)。")
        if self._workspace is not None and self._workspace != workspace:
            raise UserErrorException("このデータセットは別のワークスペースのデータストアを読んで"
                                     "います。同じワークスペースに登録してください。")
        if not isinstance(name, str) or not name.strip() or len(name) > 250 or "/" in name:
            raise UserErrorException(f"データセットの名前 {name!r} は使えません (250 文字以内、"
                                     "'/' なし)。")
        bound = type(self)(self._definition, workspace)
        record = Store.open(workspace.path).datasets.register(
            name, kind=self._KIND, definition=self._definition,
            fingerprint=bound.fingerprint(), description=description,
            tags={str(k): (None if v is None else str(v)) for k, v in (tags or {}).items()},
            create_new_version=create_new_version)
        return type(self)(record.definition, workspace, record)

    def update(self, description: str | None = None,
               tags: dict[str, Any] | None = None) -> AbstractDataset:
        """Change the registered description and/or tags (the definition never changes).

        Example:
            >>> ds.update(description="MNIST (4 files)")  # doctest: +SKIP
        """
        self._require_registered("update")
        self._record = Store.open(self._workspace.path).datasets.update(
            self._record.pk, description=description, tags=tags)
        return self

    def add_tags(self, tags: dict[str, Any]) -> AbstractDataset:
        """Add tags to the registered version.

        Example:
            >>> ds.add_tags({"source": "yann.lecun.com"})  # doctest: +SKIP
        """
        self._require_registered("add_tags")
        return self.update(tags={**self.tags, **{str(k): v for k, v in tags.items()}})

    def remove_tags(self, tags: list[str]) -> AbstractDataset:
        """Remove tags (by key) from the registered version.

        Example:
            >>> ds.remove_tags(["source"])  # doctest: +SKIP
        """
        self._require_registered("remove_tags")
        return self.update(tags={k: v for k, v in self.tags.items() if k not in set(tags)})

    def _require_registered(self, call: str) -> None:
        if self._record is None:
            raise UserErrorException(f"{call}: 登録されたデータセットにだけ使えます。先に "
                                     "register(ws, name) してください。")

    # -- files ----------------------------------------------------------------------------
    def _datastore(self, name: str) -> Any:
        if self._workspace is None:
            raise UserErrorException(f"データストア {name!r} を読むにはワークスペースが必要です。")
        return _catalog.resolve("Datastore")(self._workspace, name)

    def _selected(self, validate: bool = True) -> list[Selected]:
        return select_files(self._definition, self._datastore, validate=validate)

    def _local_files(self, items: list[Selected], scratch: Path) -> list[tuple[str, Path]]:
        """``(relative name, local path)`` for each item, downloading remote ones to ``scratch``."""
        out = []
        for item in items:
            if item.local is not None:
                out.append((item.rel, item.local))
            else:
                target = scratch / item.rel
                item.backend.get(item.store_path, target)
                out.append((item.rel, target))
        return out

    def fingerprint(self) -> str:
        """The content fingerprint of what the dataset selects now (names, sizes, contents).

        Example:
            >>> len(ds.fingerprint())  # doctest: +SKIP
            64
        """
        items = self._selected(validate=False)
        with tempfile.TemporaryDirectory() as tmp:
            return files_fingerprint(self._local_files(items, Path(tmp)))

    def check_unchanged(self) -> bool:
        """Warn (and return False) when the files changed since this version was registered.

        Example:
            >>> ds.check_unchanged()  # doctest: +SKIP
            True
        """
        if self._record is None:
            return True
        if self.fingerprint() == self._record.fingerprint:
            return True
        warnings.warn(DatasetChangedWarning(
            f"データセット {self.name!r} バージョン {self.version} のファイルが登録したときと"
            "変わっています (データセットは定義だけを保存し、ファイルはコピーしません)。"
            "いまの内容を残すには register(..., create_new_version=True) で新しいバージョンに"
            "してください。"), stacklevel=2)
        return False

    # -- subsets ---------------------------------------------------------------------------
    def _with(self, transform: dict[str, Any]) -> Any:
        definition = self.definition
        definition.setdefault("transforms", []).append(transform)
        return type(self)(definition, self._workspace)

    def take(self, count: int) -> Any:
        """The first ``count`` records (files, or rows of a tabular dataset).

        Example:
            >>> ds.take(2).to_path()  # doctest: +SKIP
        """
        return self._with({"take": _count(count, "take")})

    def skip(self, count: int) -> Any:
        """Everything after the first ``count`` records.

        Example:
            >>> ds.skip(2).to_path()  # doctest: +SKIP
        """
        return self._with({"skip": _count(count, "skip")})

    def take_sample(self, probability: float, seed: int | None = None) -> Any:
        """Each record kept with ``probability`` (repeatable with ``seed``).

        Example:
            >>> ds.take_sample(0.1, seed=1)  # doctest: +SKIP
        """
        return self._with({"sample": {"probability": _fraction(probability, "probability"),
                                      "seed": _seed(seed)}})

    def random_split(self, percentage: float, seed: int | None = None) -> tuple[Any, Any]:
        """Two disjoint datasets: about ``percentage`` of the records, and the rest.

        Example:
            >>> train, test = ds.random_split(0.8, seed=42)  # doctest: +SKIP
        """
        spec = {"percentage": _fraction(percentage, "percentage"), "seed": _seed(seed)}
        return (self._with({"split": {**spec, "part": 0}}),
                self._with({"split": {**spec, "part": 1}}))

    # -- inputs of runs ------------------------------------------------------------------
    def as_named_input(self, name: str) -> Any:
        """This dataset as a script input called ``name`` (then ``.as_mount()`` / ``.as_download()``).

        Example:
            >>> ds.as_named_input("mnist").as_mount()  # doctest: +SKIP
        """
        from .dataset_consumption_config import DatasetConsumptionConfig

        return DatasetConsumptionConfig(name, self)

    def _download_to(self, target: Path, overwrite: bool, show_progress: bool,
                     link: bool = False) -> list[Path]:
        from ..core import _artifacts

        items = self._selected()
        written = []
        bar = _transfer._bar(len(items), show_progress and not link, "Downloading")
        try:
            for it in items:
                local = _artifacts.resolve(target, it.rel)[1]
                if it.local is not None and local.exists() and _same_file(it.local, local):
                    written.append(local)  # downloading a folder's files into that folder
                    if bar is not None:
                        bar.update(1)
                    continue
                if local.exists() or local.is_symlink():
                    if not overwrite:
                        written.append(local)
                        if bar is not None:
                            bar.update(1)
                        continue
                    local.unlink()
                local.parent.mkdir(parents=True, exist_ok=True)
                if it.local is not None and link:
                    try:
                        local.symlink_to(it.local)
                    except OSError:  # no symlinks (Windows without the privilege): copy
                        _copy(it.local, local)
                elif it.local is not None:
                    _copy(it.local, local)
                else:
                    it.backend.get(it.store_path, local)
                written.append(local)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return written

    def __repr__(self) -> str:
        info: dict[str, Any] = {"source": [_source_text(s) for s in
                                           self._definition.get("sources", [])],
                                "definition": [next(iter(t)) for t in
                                               self._definition.get("transforms", [])]}
        if self._record is not None:
            info["registration"] = {"id": self.id, "name": self.name, "version": self.version,
                                    "workspace": self._workspace.name}
        return f"{type(self).__name__}\n{json.dumps(info, indent=2, ensure_ascii=False)}"

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and other._definition == self._definition  # type: ignore[attr-defined]
                and getattr(other, "id", None) == self.id)

    def __hash__(self) -> int:
        return hash((type(self).__name__, json.dumps(self._definition, sort_keys=True), self.id))


def _copy(source: Path, target: Path) -> None:
    from .. import _atomic

    _atomic.copy_file(source, target)


def _source_text(source: dict[str, Any]) -> str:
    if "local" in source:
        return str(source["local"]) + (f"/{source['path']}" if source.get("path") else "")
    return f"('{source['datastore']}', '{source.get('path', '')}')"


def _count(value: Any, call: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserErrorException(f"{call}({value!r}): 0 以上の整数を指定してください。")
    return value


def _fraction(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise UserErrorException(f"{what} {value!r} は 0 から 1 の数にしてください (例: 0.8)。")
    return float(value)


def _seed(seed: Any) -> int:
    if seed is None:
        return random.SystemRandom().randrange(2 ** 31)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UserErrorException(f"seed {seed!r} は整数にしてください。")
    return seed


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths are one file (a copy onto itself would destroy it)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
