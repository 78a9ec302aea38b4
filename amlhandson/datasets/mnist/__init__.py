"""MNIST for the hands-on: download from mirrors, verify, fall back to a sample, load fast.

The 2019 hands-on downloads MNIST from ``yann.lecun.com`` (often answering 403
today) into ``./data/train-images.gz`` etc. and reads it with its own
``load_data``. This module gives the same files and arrays without depending on
that one site, in one folder for the whole course (:func:`data_dir`,
``~/.amlhandson/datasets/mnist``), whatever folder a notebook or command runs in:

- :func:`download` fetches the four files from a list of mirrors (yours, the
  ``AMLHANDSON_MNIST_MIRROR`` environment variable, then public mirrors), checks
  each one against the SHA-256 of the original distribution and stores it under
  the hands-on's names. If no mirror works it installs a bundled stratified
  sample (6,000 + 1,000 real MNIST images) and warns with
  :class:`MnistSampleWarning`.
- :func:`load_data` is the hands-on's function (same signature, same shapes),
  with clear :class:`~amlhandson.exceptions.DataError` messages on bad files.
- :func:`load` returns ``X_train, y_train, X_test, y_test`` exactly as the
  hands-on builds them, and caches the decoded arrays so that a second call is
  near-instant.
- :func:`cli_main` is ``amlhandson data mnist`` (also ``python -m
  amlhandson.datasets.mnist``).

Environment variables:

``AMLHANDSON_MNIST_MIRROR``
    One or more extra mirrors tried after ``mirrors=`` and before the public ones.
    Separate several with ``;``, ``,`` or a newline (spaces also separate URLs).
    A mirror is an ``http://``, ``https://`` or ``file://`` URL, or a folder path,
    holding the original file names (``train-images-idx3-ubyte.gz`` ...).
``AMLHANDSON_MNIST_NO_PUBLIC``
    ``1`` (or ``true``/``yes``/``on``) skips the public mirrors, so nothing
    leaves the machine or the room's network.

Example:
    >>> from amlhandson.datasets import mnist
    >>> mnist.download()  # doctest: +SKIP
    {'train-images': PosixPath('/home/me/.amlhandson/datasets/mnist/train-images.gz'), ...}
    >>> X_train, y_train, X_test, y_test = mnist.load()  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype, y_train.shape  # doctest: +SKIP
    ((60000, 784), dtype('float64'), (60000,))

Layout (one concern per module; everything public is re-exported here):

- ``_common``: the four file names, the splits, the warning and error classes.
- ``_location``: :func:`data_dir` (the course's one MNIST folder) and :func:`status`.
- ``_idx``: IDX headers, streaming gzip decompression (with prefetch), :func:`load_data`.
- ``_files``: temp files in ``data_dir``, stale temp clean-up, atomic replace.
- ``settings``: every setting (checksum tables ``EXPECTED`` / ``SAMPLE_EXPECTED``, public
  mirrors, timeouts, the per-file deadline), read at call time.
- ``_integrity``: content digests against :class:`Expected` values, the
  ``.amlhandson-verified.json`` stamps.
- ``_lock``: the lock file that keeps processes from downloading into one folder at once.
- ``_mirrors``: mirror lists (``mirrors=``, environment, public), fetching one file
  from a URL or folder, the progress bar.
- ``_sample``: the bundled sample in ``amlhandson/datasets/_mnist_sample/``.
- ``_download``: :func:`download` (the orchestration) and :func:`is_sample`.
- ``_cache``: the decoded-array ``.npy`` cache and :func:`clear_cache`.
- ``_load``: :func:`load`.
- ``cli``: :func:`cli_main`; ``__main__`` runs it for ``python -m``.

Settings live in :mod:`amlhandson.datasets.mnist.settings` and are read from there at
call time: ``mnist.settings.DEFAULT_TIMEOUT = 60`` changes the next download.
Reading them on this package (``mnist.EXPECTED``) still works.
"""

from __future__ import annotations

from typing import Any

from . import settings
from ._cache import CACHE_DIR, _wait_for_cache_writes, clear_cache
from ._common import (
    LOCAL_NAMES,
    NAMES,
    REMOTE_NAMES,
    SPLITS,
    MnistFilesMissingError,
    MnistSampleWarning,
    MnistWarning,
    PathLike,
)
from ._download import download, is_sample
from ._idx import COLS, IMAGE_MAGIC, LABEL_MAGIC, ROWS, load_data
from ._integrity import STAMP_FILE, Expected
from ._load import load
from ._location import MnistStatus, data_dir, status
from ._lock import LOCK_FILE
from ._mirrors import ENV_MIRROR, ENV_NO_PUBLIC
from .cli import cli_main

__all__ = [
    "download",
    "load",
    "data_dir",
    "status",
    "MnistStatus",
    "load_data",
    "is_sample",
    "clear_cache",
    "cli_main",
    "settings",
    "MnistWarning",
    "MnistSampleWarning",
    "MnistFilesMissingError",
    "Expected",
    "ENV_MIRROR",
    "ENV_NO_PUBLIC",
]

# Also public (as in the single module), not in __all__: the file tables and names.
_ALSO_PUBLIC = (
    NAMES, REMOTE_NAMES, LOCAL_NAMES, SPLITS, PathLike, IMAGE_MAGIC, LABEL_MAGIC, ROWS, COLS,
    STAMP_FILE, LOCK_FILE, CACHE_DIR, _wait_for_cache_writes,
)


def __getattr__(name: str) -> Any:
    """``mnist.EXPECTED``, ``mnist.DEFAULT_TIMEOUT`` ...: read from :mod:`.settings`.

    To change a setting, assign it there: ``mnist.settings.DEFAULT_TIMEOUT = 60``.
    """
    if name in settings.__all__:
        return getattr(settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(settings.__all__))
