"""``azureml.opendatasets`` for the hands-on: MNIST as a file dataset.

The end-2019 v1 tutorial took MNIST from Azure Open Datasets::

    from azureml.opendatasets import MNIST
    mnist_file_dataset = MNIST.get_file_dataset()
    mnist_file_dataset.download(data_folder, overwrite=True)
    mnist_file_dataset = mnist_file_dataset.register(workspace=ws, name="mnist_opendataset",
                                                     description="training and test dataset",
                                                     create_new_version=True)

Here the files come from :mod:`amlhandson.datasets.mnist` (mirrors, checksums,
offline sample) and the dataset points at them where they were downloaded.

Example:
    >>> from amlhandson.opendatasets import MNIST
    >>> ds = MNIST.get_file_dataset()  # doctest: +SKIP
    >>> ds.to_path()  # doctest: +SKIP
    ['/test-images.gz', '/test-labels.gz', '/train-images.gz', '/train-labels.gz']
"""

from __future__ import annotations

import os

from .data.dataset_factory import FileDatasetFactory
from .data.file_dataset import FileDataset

__all__ = ["MNIST"]


class MNIST:
    """MNIST (70,000 handwritten digits) as an open dataset.

    Example:
        >>> MNIST.get_file_dataset("data").to_path()  # doctest: +SKIP
    """

    @staticmethod
    def get_file_dataset(data_dir: str | os.PathLike[str] = "data", progress: bool = True,
                         **_: object) -> FileDataset:
        """A file dataset of the four MNIST files in ``data_dir`` (downloaded if missing).

        Example:
            >>> MNIST.get_file_dataset().take(1).to_path()  # doctest: +SKIP
            ['/test-images.gz']
        """
        from .datasets import mnist

        paths = mnist.download(data_dir, progress=progress)
        return FileDatasetFactory.from_files([os.fspath(p) for p in sorted(paths.values())])
