"""v1's ``azureml.opendatasets.MNIST``, until :mod:`amlhandson.opendatasets` exists.

The end-2019 MNIST tutorial took the data from Azure Open Datasets::

    from azureml.opendatasets import MNIST
    mnist_file_dataset = MNIST.get_file_dataset()
    mnist_file_dataset.download(data_folder, overwrite=True)
    X_train = load_data(glob.glob(os.path.join(data_folder, "**/train-images-idx3-ubyte.gz"),
                                  recursive=True)[0], False) / 255.0

Here the four files come from :mod:`amlhandson.datasets.mnist` (mirrors,
checksums, the offline sample) under v1's IDX names. Registering the file
dataset or mounting it needs :mod:`amlhandson.core.dataset`; without it those
calls say so.

Example:
    >>> MNIST.get_file_dataset().to_path()
    ['/t10k-images-idx3-ubyte.gz', '/t10k-labels-idx1-ubyte.gz', '/train-images-idx3-ubyte.gz', '/train-labels-idx1-ubyte.gz']
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ...exceptions import NotAvailableInAmlHandsOnError, UserErrorException
from .._errors import absent_message

__all__ = ["MNIST", "MnistFileDataset"]


def _names() -> dict[str, str]:
    from ...datasets.mnist import REMOTE_NAMES

    return dict(REMOTE_NAMES)


class MnistFileDataset:
    """The four MNIST files as v1's ``FileDataset`` showed them (download, to_path).

    Example:
        >>> paths = MnistFileDataset().download("data", overwrite=True)  # doctest: +SKIP
    """

    def to_path(self) -> list[str]:
        """The files' paths relative to the dataset (v1's IDX names)."""
        return sorted("/" + name for name in _names().values())

    def download(self, target_path: str | os.PathLike[str] | None = None,
                 overwrite: bool = False) -> list[str]:
        """Copy the four verified files into ``target_path`` (a temporary folder if None).

        Raises UserErrorException when a file exists and ``overwrite`` is False (as v1).
        """
        from ... import _atomic
        from .._shims import _mnist_files

        folder = Path(tempfile.mkdtemp(prefix="mnist-") if target_path is None else target_path)
        names = _names()
        targets = {key: folder / name for key, name in names.items()}
        existing = [str(p) for p in targets.values() if p.exists()]
        if existing and not overwrite:
            raise UserErrorException(
                f"File(s) already exist: {', '.join(existing)}. 上書きするには "
                "download(target_path, overwrite=True) にしてください。")
        folder.mkdir(parents=True, exist_ok=True)
        sources = _mnist_files()
        for key, target in targets.items():
            _atomic.copy_file(sources[key], target)
        return sorted(str(p) for p in targets.values())

    def _needs_dataset(self, call: str) -> NotAvailableInAmlHandsOnError:
        return NotAvailableInAmlHandsOnError(absent_message(
            f"azureml.opendatasets.MNIST.get_file_dataset().{call}",
            "download(data_folder) でファイルを取り出して使う (Dataset の登録・マウントは "
            "amlhandson.core.dataset が必要です: amlhandson を更新してください)"))

    def register(self, *args: Any, **kwargs: Any) -> Any:
        """Needs :mod:`amlhandson.core.dataset` (raises without it)."""
        raise self._needs_dataset("register(...)")

    def as_named_input(self, name: str) -> Any:
        """Needs :mod:`amlhandson.core.dataset` (raises without it)."""
        raise self._needs_dataset("as_named_input(...)")

    def mount(self, mount_point: Any = None, **kwargs: Any) -> Any:
        """Needs :mod:`amlhandson.core.dataset` (raises without it)."""
        raise self._needs_dataset("mount(...)")

    def __repr__(self) -> str:
        return f"FileDataset (MNIST, amlhandson.datasets.mnist): {self.to_path()}"


class MNIST:
    """MNIST as an open dataset (v1: ``azureml.opendatasets.MNIST``).

    Example:
        >>> isinstance(MNIST.get_file_dataset(), MnistFileDataset)
        True
    """

    @classmethod
    def get_file_dataset(cls, enable_telemetry: bool = True) -> MnistFileDataset:
        """The four MNIST files as a file dataset (nothing is downloaded yet)."""
        return MnistFileDataset()

    @classmethod
    def get_tabular_dataset(cls, *args: Any, **kwargs: Any) -> Any:
        """Not available: use the file dataset and ``load_data``."""
        raise NotAvailableInAmlHandsOnError(absent_message(
            "azureml.opendatasets.MNIST.get_tabular_dataset",
            "MNIST.get_file_dataset().download(data_folder) と load_data (または "
            "amlhandson.datasets.mnist.load)"))
