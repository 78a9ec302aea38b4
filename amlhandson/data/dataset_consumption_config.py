"""``DatasetConsumptionConfig``: a dataset as a named input of a script run.

``dataset.as_named_input("mnist").as_mount()`` in a script's arguments (or a
step's ``inputs``) arrives in the script as a local folder path; inside, the
script also finds it as ``Run.get_context().input_datasets["mnist"]``. The run
records which dataset version it read and the fingerprint of what it saw.

Modes: ``mount`` (a folder of links to the files: nothing is copied),
``download`` (copies in the run's folder), ``direct`` (tabular datasets: the
script gets the dataset object from ``input_datasets``).

Example:
    >>> cfg = DatasetConsumptionConfig("mnist", None)
    >>> cfg.name, cfg.as_download().mode
    ('mnist', 'download')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..exceptions import UserErrorException
from ._fingerprint import files_fingerprint
from ._inputs import Materialized

__all__ = ["DatasetConsumptionConfig"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


class DatasetConsumptionConfig:
    """How a run gets a dataset: its input name and mode.

    Example:
        >>> ds.as_named_input("mnist").as_mount().mode  # doctest: +SKIP
        'mount'
    """

    def __init__(self, name: str, dataset: Any, mode: str = "direct",
                 path_on_compute: str | None = None) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise UserErrorException(
                f"as_named_input({name!r}): 入力の名前は英字か '_' で始まり、英数字と '_' だけの"
                "名前にしてください (例: 'mnist')。"
            )
        if mode not in ("direct", "mount", "download"):
            raise UserErrorException(f"mode {mode!r} は使えません (direct, mount, download)。")
        self.name = name
        self.dataset = dataset
        self.mode = mode
        self.path_on_compute = path_on_compute

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The dataset as a folder in the script (no copy).

        Example:
            >>> cfg.as_mount().mode  # doctest: +SKIP
            'mount'
        """
        self._files_only("as_mount")
        return DatasetConsumptionConfig(self.name, self.dataset, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The dataset copied into the run's folder before the script starts.

        Example:
            >>> cfg.as_download().mode  # doctest: +SKIP
            'download'
        """
        self._files_only("as_download")
        return DatasetConsumptionConfig(self.name, self.dataset, "download", path_on_compute)

    def _files_only(self, call: str) -> None:
        if getattr(self.dataset, "_KIND", "file") == "tabular":
            raise UserErrorException(
                f"{call}() はファイルデータセットだけに使えます。TabularDataset はそのまま "
                "as_named_input(name) で渡し、スクリプトで run.input_datasets[name]."
                "to_pandas_dataframe() を使ってください。"
            )

    def to_config(self) -> dict[str, Any]:
        """The input as a JSON object (stored with runs and pipelines).

        Example:
            >>> cfg.to_config()["mode"]  # doctest: +SKIP
            'mount'
        """
        return {"name": self.name, "mode": self.mode, "kind": self.dataset._KIND,
                "dataset": self.dataset.definition, "datasetId": self.dataset.id,
                "pathOnCompute": self.path_on_compute}

    def _materialize(self, workdir: Path) -> Materialized:
        dataset = self.dataset
        definition = self.to_config()
        record = getattr(dataset, "_record", None)
        if self.mode == "direct":
            fingerprint = dataset.fingerprint()
            value = dataset.id or self.name
            return Materialized(self.name, value, fingerprint, "direct",
                                {**definition, "path": None}, dataset=record)
        target = Path(workdir) / (self.path_on_compute or f"datasets/{self.name}")
        paths = dataset._download_to(target, overwrite=True, show_progress=False,
                                     link=self.mode == "mount")
        fingerprint = files_fingerprint(
            (p.relative_to(target).as_posix(), p) for p in paths)
        return Materialized(self.name, str(target), fingerprint, self.mode,
                            {**definition, "path": str(target)}, dataset=record)

    def __str__(self) -> str:
        return f"DatasetConsumptionConfig:{self.name}"

    def __repr__(self) -> str:
        return f"DatasetConsumptionConfig(name={self.name!r}, mode={self.mode!r})"

