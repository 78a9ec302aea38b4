"""``Dataset``: v1's entry point to datasets (``Dataset.File``, ``Dataset.Tabular``, registry).

Example:
    >>> from amlhandson.core import Dataset
    >>> mnist = Dataset.File.from_files((ws.get_default_datastore(), "mnist/*.gz"))  # doctest: +SKIP
    >>> mnist = mnist.register(ws, "mnist", create_new_version=True)  # doctest: +SKIP
    >>> Dataset.get_by_name(ws, "mnist").version  # doctest: +SKIP
    1
"""

from __future__ import annotations

from typing import Any

from .._store import Store
from .._store.datasets import DatasetRecord
from ..data.abstract_dataset import AbstractDataset
from ..data.dataset_factory import FileDatasetFactory, TabularDatasetFactory
from ..data.file_dataset import FileDataset
from ..data.tabular_dataset import TabularDataset
from ..exceptions import UserErrorException
from .workspace import Workspace

__all__ = ["Dataset", "input_datasets_of", "script_input_datasets"]

_CLASSES: dict[str, type[AbstractDataset]] = {"file": FileDataset, "tabular": TabularDataset}


def _from_record(workspace: Workspace, record: DatasetRecord) -> AbstractDataset:
    return _CLASSES[record.kind](record.definition, workspace, record)


class Dataset:
    """Factories and the registry of datasets.

    Example:
        >>> sorted(Dataset.get_all(ws))  # doctest: +SKIP
        ['mnist']
    """

    File = FileDatasetFactory
    Tabular = TabularDatasetFactory

    @staticmethod
    def get_by_name(workspace: Workspace, name: str,
                    version: int | str = "latest") -> AbstractDataset:
        """Version ``version`` (``"latest"`` by default) of the dataset registered as ``name``.

        Example:
            >>> Dataset.get_by_name(ws, "mnist", version=1)  # doctest: +SKIP
        """
        repo = Store.open(workspace.path).datasets
        if version != "latest" and (isinstance(version, bool) or not isinstance(version, int)):
            try:
                version = int(version)
            except (TypeError, ValueError):
                raise UserErrorException(f"version {version!r} は整数か 'latest' にしてください。") \
                    from None
        record = repo.get(name, None if version == "latest" else int(version))
        if record is None:
            names = ", ".join(repo.names()) or "なし"
            versions = [r.version for r in repo.list(name)]
            where = (f"ある版: {versions}" if versions else f"登録済みの名前: {names}")
            raise UserErrorException(
                f"Cannot find dataset registered with name \"{name}\" (version: {version}) "
                f"in the workspace. ({where})"
            )
        return _from_record(workspace, record)

    @staticmethod
    def get_by_id(workspace: Workspace, id: str) -> AbstractDataset:
        """The registered dataset version with id ``id``.

        Example:
            >>> Dataset.get_by_id(ws, mnist.id).name  # doctest: +SKIP
            'mnist'
        """
        record = Store.open(workspace.path).datasets.by_id(id)
        if record is None:
            raise UserErrorException(f"Cannot find dataset with id {id!r} in the workspace.")
        return _from_record(workspace, record)

    @staticmethod
    def get_all(workspace: Workspace) -> dict[str, AbstractDataset]:
        """The latest version of every registered dataset, as ``{name: dataset}``.

        Example:
            >>> list(Dataset.get_all(ws))  # doctest: +SKIP
            ['mnist']
        """
        repo = Store.open(workspace.path).datasets
        found = {}
        for name in repo.names():
            record = repo.get(name)
            if record is not None:
                found[name] = _from_record(workspace, record)
        return found

    @staticmethod
    def list_versions(workspace: Workspace, name: str) -> list[AbstractDataset]:
        """Every version of ``name``, newest first (amlhandson).

        Example:
            >>> [d.version for d in Dataset.list_versions(ws, "mnist")]  # doctest: +SKIP
            [2, 1]
        """
        return [_from_record(workspace, r) for r in Store.open(workspace.path).datasets.list(name)]


def input_datasets_of(run: Any) -> dict[str, Any]:
    """``run.input_datasets``: each named input as the script got it (a path, or a dataset).

    Example:
        >>> input_datasets_of(Run.get_context())["mnist"]  # doctest: +SKIP
        '/.../datasets/mnist'
    """
    workspace = run.experiment.workspace
    found: dict[str, Any] = {}
    for item in Store.open(workspace.path).datasets.inputs_of(run.id):
        definition = item.definition
        if item.mode == "direct" and "dataset" in definition:
            record = (Store.open(workspace.path).datasets.by_id(item.dataset_id)
                      if item.dataset_id else None)
            cls = _CLASSES.get(definition.get("kind", "file"), FileDataset)
            found[item.input_name] = cls(definition["dataset"], workspace, record)
        else:
            found[item.input_name] = definition.get("path")
    return found


def script_input_datasets() -> dict[str, Any]:
    """``Run.get_context().input_datasets`` in a submitted script (from its environment).

    Mount and download inputs are local paths; a direct input is the dataset
    itself, read from the workspace on this machine.

    Example:
        >>> script_input_datasets()  # outside a submitted script
        {}
    """
    import json
    import os

    from ..data._inputs import INPUT_DATASETS_ENV

    try:
        named = json.loads(os.environ.get(INPUT_DATASETS_ENV) or "{}")
    except ValueError:
        return {}
    found: dict[str, Any] = {}
    for name, spec in named.items():
        if "path" in spec:
            found[name] = spec["path"]
            continue
        rg, ws_name = spec.get("workspace") or (None, None)
        workspace = Workspace.get(ws_name, resource_group=rg)
        if spec.get("datasetId"):
            found[name] = Dataset.get_by_id(workspace, spec["datasetId"])
        else:
            cls = _CLASSES.get(spec.get("kind") or "file", FileDataset)
            found[name] = cls(spec.get("dataset") or {}, workspace, None)
    return found
