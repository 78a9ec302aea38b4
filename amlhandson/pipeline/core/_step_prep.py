"""Preparing one step of a stored pipeline graph: its inputs, arguments, reuse key and outputs.

The graph is JSON (see :meth:`Pipeline.to_graph`), so a pipeline runs the same
whether it was submitted from a notebook, from the REST endpoint or by the
scheduler. This module turns a step's JSON back into what the script gets:

* arguments as strings (``PipelineData`` -> the local folder of the producing
  run's output, parameters -> their values, references and datasets -> local
  paths, see :mod:`amlhandson.data._inputs`);
* the parts of its reuse key (:mod:`._reuse`), including the content
  fingerprint of every input;
* where each of its outputs goes: ``azureml/<step run id>/<name>`` in the data's
  datastore, as v1 laid them out.

Example:
    >>> render_for_key([{"value": "--k"}, {"param": "k"}, {"data": "prepared"}], {"k": 5})
    ['--k', '5', 'data:prepared']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...data._fingerprint import files_fingerprint
from ...exceptions import UserErrorException

__all__ = ["OutputLocation", "render_for_key", "rebuild_input", "output_location",
           "location_fingerprint", "input_name"]


@dataclass(frozen=True)
class OutputLocation:
    """Where one step output lives: a datastore and a path in it.

    Example:
        >>> OutputLocation("workspaceblobstore", "azureml/r1/prepared").path
        'azureml/r1/prepared'
    """

    datastore: str
    path: str

    def to_json(self) -> dict[str, str]:
        """The location as a JSON object."""
        return {"datastore": self.datastore, "path": self.path}


def output_location(data: dict[str, Any], run_id: str, default_datastore: str) -> OutputLocation:
    """Where output ``data`` (its JSON) of step run ``run_id`` is written (v1's layout).

    Example:
        >>> output_location({"name": "d", "datastore": None}, "r1", "workspaceblobstore").path
        'azureml/r1/d'
    """
    return OutputLocation(data.get("datastore") or default_datastore,
                          f"azureml/{run_id}/{data['name']}")


def location_fingerprint(datastore: Any, location: OutputLocation) -> str | None:
    """The content fingerprint of an output, or ``None`` when nothing is there any more.

    Example:
        >>> location_fingerprint(ds, OutputLocation("workspaceblobstore", "azureml/r1/d"))  # doctest: +SKIP
        '3b1f...'
    """
    root = datastore.backend.local_root()
    if root is None:
        raise UserErrorException(
            f"PipelineData のデータストア {datastore.name!r} はこのマシンのフォルダーではありません。"
            "ステップの間のデータは、フォルダーのデータストア (既定の workspaceblobstore など) に"
            "置いてください。"
        )
    path = datastore.backend.locate(location.path)
    if not path.exists():
        return None
    files = datastore.backend.list(location.path)
    return files_fingerprint((f.path[len(location.path):].lstrip("/") or f.name, root / f.path)
                             for f in files)


def render_for_key(tokens: list[dict[str, Any]], parameters: dict[str, Any]) -> list[str]:
    """Arguments as they enter the reuse key: data by name, parameters by value.

    Example:
        >>> render_for_key([{"ref": {"dataStoreName": "s", "pathOnDatastore": "m", "mode": "mount"}}], {})
        ['ref:s/m:mount']
    """
    out = []
    for token in tokens:
        if "value" in token:
            out.append(str(token["value"]))
        elif "param" in token:
            out.append(str(parameters[token["param"]]))
        elif "data" in token:
            out.append(f"data:{token['data']}")
        elif "ref" in token:
            ref = token["ref"]
            out.append(f"ref:{ref['dataStoreName']}/{ref['pathOnDatastore']}:{ref['mode']}")
        elif "dataset" in token:
            ds = token["dataset"]
            out.append(f"dataset:{ds['name']}:{ds['mode']}")
        else:
            raise UserErrorException(f"パイプラインのグラフに分からない引数があります: {token!r}")
    return out


def input_name(token: dict[str, Any]) -> str:
    """The name an input is known by in the reuse key and in ``input_datasets``.

    Example:
        >>> input_name({"data": "prepared"}), input_name({"dataset": {"name": "mnist"}})
        ('prepared', 'mnist')
    """
    if "data" in token:
        return token["data"]
    if "ref" in token:
        return token["ref"]["dataReferenceName"]
    if "dataset" in token:
        return token["dataset"]["name"]
    raise UserErrorException(f"{token!r} は入力ではありません。")


def rebuild_input(token: dict[str, Any], workspace: Any) -> Any:
    """A ``DataReference`` / ``DatasetConsumptionConfig`` from its JSON (to materialize it).

    Example:
        >>> rebuild_input({"ref": ds.path("mnist").to_config()}, ws)  # doctest: +SKIP
        $AZUREML_DATAREFERENCE_workspaceblobstore
    """
    from ...core.dataset import Dataset
    from ...core.datastore import Datastore
    from ...data.data_reference import DataReference
    from ...data.dataset_consumption_config import DatasetConsumptionConfig
    from ...data.file_dataset import FileDataset
    from ...data.tabular_dataset import TabularDataset

    if "ref" in token:
        ref = token["ref"]
        return DataReference(Datastore(workspace, ref["dataStoreName"]),
                             data_reference_name=ref["dataReferenceName"],
                             path_on_datastore=ref["pathOnDatastore"], mode=ref["mode"],
                             path_on_compute=ref.get("pathOnCompute"),
                             overwrite=bool(ref.get("overwrite")))
    cfg = token["dataset"]
    if cfg.get("datasetId"):
        dataset = Dataset.get_by_id(workspace, cfg["datasetId"])
    else:
        cls = TabularDataset if cfg.get("kind") == "tabular" else FileDataset
        dataset = cls(cfg["dataset"], workspace)
    return DatasetConsumptionConfig(cfg["name"], dataset, cfg["mode"], cfg.get("pathOnCompute"))


def local_path(datastore: Any, location: OutputLocation) -> Path:
    """The local path of an output location (its parent folder is created).

    Example:
        >>> local_path(ds, OutputLocation("workspaceblobstore", "azureml/r1/d"))  # doctest: +SKIP
        PosixPath('/.../azureml/r1/d')
    """
    path = datastore.backend.locate(location.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
