"""``azureml.opendatasets`` for the hands-on: MNIST as a file dataset.

The end-2019 v1 tutorial took MNIST from Azure Open Datasets::

    from azureml.opendatasets import MNIST
    mnist_file_dataset = MNIST.get_file_dataset()
    mnist_file_dataset.download(data_folder, overwrite=True)
    mnist_file_dataset = mnist_file_dataset.register(workspace=ws, name="mnist_opendataset",
                                                     description="training and test dataset",
                                                     create_new_version=True)

Here the files come from :mod:`amlhandson.datasets.mnist` (mirrors, checksums,
offline sample) and keep the original names the tutorial looks for.

Example:
    >>> from amlhandson.opendatasets import MNIST
    >>> ds = MNIST.get_file_dataset()  # doctest: +SKIP
    >>> ds.to_path()  # doctest: +SKIP
    ['/t10k-images-idx3-ubyte.gz', '/t10k-labels-idx1-ubyte.gz', '/train-images-idx3-ubyte.gz', '/train-labels-idx1-ubyte.gz']
"""

from __future__ import annotations

import os
from pathlib import Path

from . import _atomic
from ._paths import home
from .data.dataset_factory import FileDatasetFactory
from .data.file_dataset import FileDataset

__all__ = ["MNIST"]


class MNIST:
    """MNIST (70,000 handwritten digits) as an open dataset.

    Example:
        >>> MNIST.get_file_dataset().to_path()  # doctest: +SKIP
        ['/t10k-images-idx3-ubyte.gz', '/t10k-labels-idx1-ubyte.gz', ...]
    """

    @staticmethod
    def get_file_dataset(data_dir: str | os.PathLike[str] | None = None, progress: bool = True,
                         **_: object) -> FileDataset:
        """A file dataset of the four MNIST files under their original (IDX) names, as v1's.

        The files come from :mod:`amlhandson.datasets.mnist` (``data_dir``, by default
        ``<AMLHANDSON_HOME>/datasets/mnist``) and are offered as
        ``train-images-idx3-ubyte.gz`` ... from ``<AMLHANDSON_HOME>/datasets/opendatasets/
        mnist`` (links, no second copy when the file system allows), so the end-2019
        tutorial's ``dataset.download(data_folder)`` and its
        ``glob("**/train-images-idx3-ubyte.gz")`` work unchanged.

        Example:
            >>> MNIST.get_file_dataset().take(1).to_path()  # doctest: +SKIP
            ['/t10k-images-idx3-ubyte.gz']
        """
        from .datasets import mnist
        from .datasets.mnist import REMOTE_NAMES

        source = Path(data_dir) if data_dir is not None else home() / "datasets" / "mnist"
        paths = mnist.download(source, progress=progress)
        folder = home() / "datasets" / "opendatasets" / "mnist"
        folder.mkdir(parents=True, exist_ok=True)
        offered = []
        for name, path in sorted(paths.items()):
            target = folder / REMOTE_NAMES[name]
            if not (target.exists() and os.path.samefile(target, path)):
                try:
                    tmp = _atomic.temp_path(target)
                    os.link(path, tmp)
                    _atomic.replace(tmp, target)
                except OSError:  # another file system, or no hard links: a copy
                    _atomic.copy_file(path, target)
            offered.append(os.fspath(target))
        return FileDatasetFactory.from_files(offered)
