"""Names shared by all MNIST modules: the four files, the splits, warnings and errors.

Example:
    >>> from amlhandson.datasets.mnist._common import LOCAL_NAMES
    >>> LOCAL_NAMES["test-labels"]
    'test-labels.gz'
"""

from __future__ import annotations

import os
from typing import NamedTuple, Union

from amlhandson.exceptions import AmlHandsOnWarning, DataError

PathLike = Union[str, "os.PathLike[str]"]

#: The four files, in the hands-on's order.
NAMES: tuple[str, ...] = ("train-images", "train-labels", "test-images", "test-labels")
#: File names on mirrors (the original distribution).
REMOTE_NAMES: dict[str, str] = {
    "train-images": "train-images-idx3-ubyte.gz",
    "train-labels": "train-labels-idx1-ubyte.gz",
    "test-images": "t10k-images-idx3-ubyte.gz",
    "test-labels": "t10k-labels-idx1-ubyte.gz",
}
#: File names in ``data_dir`` (the hands-on's).
LOCAL_NAMES: dict[str, str] = {name: f"{name}.gz" for name in NAMES}
#: Splits: images and labels of one split must come from the same set.
SPLITS: dict[str, tuple[str, str]] = {
    "train": ("train-images", "train-labels"),
    "test": ("test-images", "test-labels"),
}


_FETCH_HINT = (
    "download(force=True) (コマンドなら amlhandson data mnist --force) で取り直してください。"
)


class MnistWarning(AmlHandsOnWarning):
    """Something about the MNIST files needs the user's attention (e.g. a damaged file)."""


class MnistSampleWarning(MnistWarning):
    """The full MNIST could not be fetched: the bundled sample is in use instead."""


class MnistFilesMissingError(DataError, FileNotFoundError):
    """:func:`load` found no MNIST files in ``data_dir``: call :func:`download` first."""


class Expected(NamedTuple):
    """What one verified file holds, measured on its *uncompressed* bytes.

    Example:
        >>> Expected(10008, "0" * 64, 10000).count
        10000
    """

    size: int
    """Length of the uncompressed IDX file in bytes."""
    sha256: str
    """SHA-256 of the uncompressed IDX file (hex)."""
    count: int
    """Number of images or labels in the file."""
