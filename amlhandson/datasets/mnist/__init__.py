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
- ``_integrity``: the checksum tables :data:`EXPECTED` / :data:`SAMPLE_EXPECTED`
  (:class:`Expected`), content digests, the ``.amlhandson-verified.json`` stamps.
- ``_lock``: the lock file that keeps processes from downloading into one folder at once.
- ``_mirrors``: mirror lists (``mirrors=``, environment, public), fetching one file
  from a URL or folder, the progress bar.
- ``_sample``: the bundled sample in ``amlhandson/datasets/_mnist_sample/``.
- ``_download``: :func:`download` (the orchestration) and :func:`is_sample`.
- ``_cache``: the decoded-array ``.npy`` cache and :func:`clear_cache`.
- ``_load``: :func:`load`.
- ``cli``: :func:`cli_main`; ``__main__`` runs it for ``python -m``.

The settings :data:`EXPECTED`, :data:`SAMPLE_EXPECTED`, :data:`PUBLIC_MIRRORS`,
:data:`DEFAULT_TIMEOUT`, ``USER_AGENT`` and ``LOCK_TIMEOUT`` have one home each
(``_integrity``, ``_mirrors``, ``_lock``) and are read from there at call time.
Reading or assigning them on this package goes to that home, so
``mnist.DEFAULT_TIMEOUT = 60`` (or ``monkeypatch.setattr(mnist, "EXPECTED", ...)``)
works as it did when this was a single module.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from . import _integrity, _lock, _mirrors
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

if TYPE_CHECKING:  # served by the properties of _Package below, from their home module
    from ._integrity import EXPECTED, SAMPLE_EXPECTED
    from ._lock import LOCK_TIMEOUT  # noqa: F401
    from ._mirrors import DEFAULT_TIMEOUT, PUBLIC_MIRRORS, USER_AGENT  # noqa: F401

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
    "MnistWarning",
    "MnistSampleWarning",
    "MnistFilesMissingError",
    "Expected",
    "EXPECTED",
    "SAMPLE_EXPECTED",
    "PUBLIC_MIRRORS",
    "ENV_MIRROR",
    "ENV_NO_PUBLIC",
    "DEFAULT_TIMEOUT",
]

# Also public (as in the single module), not in __all__: the file tables and names.
_ALSO_PUBLIC = (
    NAMES, REMOTE_NAMES, LOCAL_NAMES, SPLITS, PathLike, IMAGE_MAGIC, LABEL_MAGIC, ROWS, COLS,
    STAMP_FILE, LOCK_FILE, CACHE_DIR, _wait_for_cache_writes,
)

#: Settings that live in one submodule and are read there at call time.
_SETTINGS: dict[str, types.ModuleType] = {
    "EXPECTED": _integrity,
    "SAMPLE_EXPECTED": _integrity,
    "PUBLIC_MIRRORS": _mirrors,
    "DEFAULT_TIMEOUT": _mirrors,
    "USER_AGENT": _mirrors,
    "LOCK_TIMEOUT": _lock,
}


def _setting(name: str, home: types.ModuleType) -> property:
    """A property reading and assigning ``name`` in its ``home`` module."""

    def get(_pkg: types.ModuleType) -> Any:
        return getattr(home, name)

    def set_(_pkg: types.ModuleType, value: Any) -> None:
        setattr(home, name, value)

    return property(get, set_, doc=f"``{home.__name__}.{name}``")


class _Package(types.ModuleType):
    """This package's module type: each setting is a property over its home module.

    Example:
        >>> from amlhandson.datasets import mnist
        >>> old = mnist.DEFAULT_TIMEOUT
        >>> mnist.DEFAULT_TIMEOUT = 60.0
        >>> mnist._mirrors.DEFAULT_TIMEOUT
        60.0
        >>> mnist.DEFAULT_TIMEOUT = old
    """


for _name, _home in _SETTINGS.items():
    setattr(_Package, _name, _setting(_name, _home))
del _name, _home


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SETTINGS))


sys.modules[__name__].__class__ = _Package
