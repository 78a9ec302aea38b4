"""``load()``: the hands-on's four arrays, from the cache when valid, else decoded.

Example:
    >>> from amlhandson.datasets import mnist
    >>> X_train, y_train, X_test, y_test = mnist.load()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from amlhandson.exceptions import DataError

from . import _idx, _location
from ._cache import (
    _cache_file,
    _cache_room,
    _open_cache,
    _start_cache_write,
    _wait_for_cache_writes,
)
from ._common import _FETCH_HINT, LOCAL_NAMES, NAMES, SPLITS, MnistFilesMissingError, PathLike
from ._idx import _BadIdx, _data_error, _decode, _shape


def _load_images(
    path: Path, normalize: bool, cache: bool, pending: list[tuple[Path, np.ndarray, bool]]
) -> np.ndarray:
    """Images of ``path``: from the cache if valid, else decoded.

    A cache to write is appended to ``pending`` as ``(cache file, uint8 pixels,
    normalize)``; the caller starts the writes once all arrays are decoded, so
    the background thread does not compete with the decoding.
    """
    dtype = np.dtype(np.float64 if normalize else np.uint8)
    cfile: Path | None = None
    if cache:
        with contextlib.suppress(OSError):
            cfile = _cache_file(path, "f8" if normalize else "u8")
    if cfile is not None:
        _wait_for_cache_writes(cfile)
        arr = _open_cache(cfile, dtype)
        if arr is not None:
            return arr
    header, body = _idx._payload(path, label=False)
    shape = _shape(header)
    keep = cfile is not None and _cache_room(cfile, shape[0] * shape[1] * dtype.itemsize)
    raw = np.empty(shape, dtype=np.uint8) if keep or not normalize else None
    out = np.empty(shape, dtype=np.float64) if normalize else raw
    raw_flat = None if raw is None else raw.reshape(-1)
    out_flat = None if out is None else out.reshape(-1)
    pos = 0
    for piece in body:
        u8 = np.frombuffer(piece, dtype=np.uint8)
        end = pos + len(u8)
        if raw_flat is not None:
            raw_flat[pos:end] = u8
        if normalize:
            np.divide(u8, 255.0, out=out_flat[pos:end])
        pos = end
    assert out is not None
    if keep:
        assert cfile is not None and raw is not None
        if not normalize:
            out = raw.copy()
        pending.append((cfile, raw, normalize))
    return out


def load(
    data_dir: PathLike | None = None, *, normalize: bool = True, cache: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``X_train, y_train, X_test, y_test`` exactly as the hands-on builds them.

    Same values, shapes and dtypes as::

        X_train = load_data('./data/train-images.gz', False) / 255.0
        y_train = load_data('./data/train-labels.gz', True).reshape(-1)
        X_test = load_data('./data/test-images.gz', False) / 255.0
        y_test = load_data('./data/test-labels.gz', True).reshape(-1)

    This does not download: call :func:`download` first (it says so if the files
    are missing).

    The image arrays are cached as ``.npy`` files in ``data_dir/.cache`` (about
    440 MB for the full set as float64), written by a background thread after the
    first call returns, and memory-mapped copy-on-write on later calls, so they
    load in milliseconds; changing a ``.gz`` file (size, mtime or inode) makes a
    new cache entry and removes the old one. The returned arrays are plain
    writable ``numpy.ndarray``; writing to them never changes the cache. A damaged
    cache file is ignored and rebuilt. Use ``cache=False`` or :func:`clear_cache`
    to avoid or reclaim the disk space.

    Args:
        data_dir: The folder :func:`download` wrote to (default: the course's
            MNIST folder, :func:`data_dir`).
        normalize: ``True`` (the hands-on): images as float64 in [0, 1].
            ``False``: images as uint8 0-255.
        cache: Use and write the ``.npy`` cache.

    Returns:
        ``X_train (n, 784)``, ``y_train (n,) uint8``, ``X_test (m, 784)``, ``y_test (m,) uint8``.

    Raises:
        MnistFilesMissingError: Files are missing (also a ``FileNotFoundError``).
        DataError: A file is damaged or images and labels do not match.

    Example:
        >>> from amlhandson.datasets import mnist
        >>> X_train, y_train, X_test, y_test = mnist.load("data")  # doctest: +SKIP
        >>> X_train.shape, X_train.dtype, y_test[:5]  # doctest: +SKIP
        ((60000, 784), dtype('float64'), array([7, 2, 1, 0, 4], dtype=uint8))
    """
    folder = _location.data_dir() if data_dir is None else Path(data_dir)
    paths = {name: folder / LOCAL_NAMES[name] for name in NAMES}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        call, command = "download()", "amlhandson data mnist"
        if data_dir is not None:
            call = f"download({os.fspath(data_dir)!r})"
            command += f" --dir {os.fspath(data_dir)}"
        raise MnistFilesMissingError(
            f"{folder} に MNIST のファイル ({', '.join(missing)}) がありません。"
            f" 先に {call} (コマンドなら {command}) を実行してください。"
        )
    out: list[np.ndarray] = []
    pending: list[tuple[Path, np.ndarray, bool]] = []
    for split, (img_name, lab_name) in SPLITS.items():
        try:
            X = _load_images(paths[img_name], normalize, cache, pending)
        except _BadIdx as bad:
            raise _data_error(paths[img_name], bad) from None
        try:
            y = _decode(paths[lab_name], True, normalize=False).reshape(-1)
        except _BadIdx as bad:
            raise _data_error(paths[lab_name], bad) from None
        if len(X) != len(y):
            raise DataError(
                f"{paths[img_name].name} の画像 {len(X):,} 枚と {paths[lab_name].name} の"
                f"ラベル {len(y):,} 件の数が合いません ({split})。{_FETCH_HINT}"
            )
        out.extend((X, y))
    for cfile, raw, norm in pending:
        _start_cache_write(cfile, raw, norm)
    return out[0], out[1], out[2], out[3]
