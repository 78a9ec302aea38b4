"""v1's ``azureml.opendatasets.MNIST``, until :mod:`amlhandson.opendatasets` exists.

The end-2019 MNIST tutorial took the data from Azure Open Datasets::

    from azureml.opendatasets import MNIST
    mnist_file_dataset = MNIST.get_file_dataset()
    mnist_file_dataset.download(data_folder, overwrite=True)
    X_train = load_data(glob.glob(os.path.join(data_folder, "**/train-images-idx3-ubyte.gz"),
                                  recursive=True)[0], False) / 255.0

Here the four files come from :mod:`amlhandson.datasets.mnist` (mirrors,
checksums, the offline sample), kept under v1's IDX names in
``$AMLHANDSON_HOME/compat/mnist/``. When :mod:`amlhandson.data` exists,
``get_file_dataset()`` is a real ``FileDataset`` of those files (``download``,
``register``, ``as_named_input(...).as_mount()`` as in v1); before, a small
stand-in that can ``download`` and says what the rest needs.

Example:
    >>> MNIST.get_file_dataset().to_path()  # doctest: +SKIP
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


def idx_files() -> list[str]:
    """The four verified MNIST files under v1's IDX names, in the layer's cache folder.

    Example:
        >>> [Path(p).name for p in idx_files()][:1]  # doctest: +SKIP
        ['t10k-images-idx3-ubyte.gz']
    """
    from ... import _atomic, _paths
    from .._shims import _mnist_files

    sources = _mnist_files()
    folder = _paths.home() / "compat" / "mnist" / "idx"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, name in sorted(_names().items(), key=lambda kv: kv[1]):
        target = folder / name
        source = Path(sources[key])
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            _atomic.copy_file(source, target)
        paths.append(str(target))
    return paths


class MNIST:
    """MNIST as an open dataset (v1: ``azureml.opendatasets.MNIST``).

    Example:
        >>> MNIST.get_file_dataset()  # doctest: +SKIP
    """

    @classmethod
    def get_file_dataset(cls, enable_telemetry: bool = True) -> Any:
        """The four MNIST files (v1's IDX names) as a file dataset."""
        try:
            from ...data.dataset_factory import FileDatasetFactory
        except ImportError:
            return MnistFileDataset()
        return FileDatasetFactory.from_files(idx_files())

    @classmethod
    def get_tabular_dataset(cls, *args: Any, **kwargs: Any) -> Any:
        """Not available: use the file dataset and ``load_data``."""
        raise NotAvailableInAmlHandsOnError(absent_message(
            "azureml.opendatasets.MNIST.get_tabular_dataset",
            "MNIST.get_file_dataset().download(data_folder) と load_data (または "
            "amlhandson.datasets.mnist.load)"))
