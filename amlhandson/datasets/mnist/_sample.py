"""The bundled sample (6,000 + 1,000 real MNIST images) for rooms without any mirror.

The files live in ``amlhandson/datasets/_mnist_sample/`` (package data, built
by ``tools/make_mnist_sample.py``) under the original names.

Example:
    >>> import gzip
    >>> len(gzip.decompress(_read_sample("test-labels")))
    1008
"""

from __future__ import annotations

import contextlib
import importlib.resources
from pathlib import Path

from amlhandson._atomic import space_for
from amlhandson.exceptions import DataError, DiskFullError

from . import _integrity, settings
from ._common import REMOTE_NAMES
from ._files import _new_temp, _replace
from ._idx import _BadIdx

_SAMPLE_PACKAGE = "amlhandson.datasets"
_SAMPLE_DIR = "_mnist_sample"


def _read_sample(name: str) -> bytes:
    """The bundled sample file for ``name`` (gzip bytes)."""
    res = importlib.resources.files(_SAMPLE_PACKAGE).joinpath(_SAMPLE_DIR, REMOTE_NAMES[name])
    return res.read_bytes()


def _install_sample(name: str, target: Path, stamps: _integrity._Stamps) -> None:
    tmp = _new_temp(target.parent, target.name)
    try:
        try:
            content = _read_sample(name)
            with space_for(target):
                tmp.write_bytes(content)
            dig = _integrity._digest(tmp, settings.SAMPLE_EXPECTED[name].size + 1)
            why = _integrity._mismatch(name, dig, settings.SAMPLE_EXPECTED[name])
        except DiskFullError:
            raise  # the disk, not the package: the message says what to do
        except (OSError, _BadIdx) as exc:
            why = getattr(exc, "reason", str(exc))
        if why is not None:
            raise DataError(
                f"パッケージに同梱の MNIST 見本 ({REMOTE_NAMES[name]}) が壊れています: {why}。"
                " amlhandson を入れ直してください (pip install --force-reinstall amlhandson)。"
            )
        _replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    stamps.record(target, name, "sample")
