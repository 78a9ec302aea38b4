"""The decoded-array cache: ``.npy`` files in ``data_dir/.cache``, written in the background.

A cache file's name holds a key of the ``.gz`` file's name, size, mtime and
inode, so a changed file gets a new entry (the old one is removed). Cache
files are memory-mapped copy-on-write; any problem means "no cache", never
an error.

Example:
    >>> import tempfile
    >>> clear_cache(tempfile.mkdtemp())
    0
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import threading
from pathlib import Path

import numpy as np

from . import _idx
from ._common import PathLike
from ._files import _new_temp, _remove_stale_temps, _replace

#: Folder in ``data_dir`` holding decoded ``.npy`` arrays.
CACHE_DIR = ".cache"
_CACHE_VERSION = 1
_CACHE_HEADROOM = 256 * 1024 * 1024  # leave this much disk free, or skip the cache


def _cache_file(path: Path, variant: str) -> Path:
    st = path.stat()
    key = f"v{_CACHE_VERSION}|{path.name}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}|{variant}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    stem = path.name[: -len(".gz")] if path.name.endswith(".gz") else path.name
    return path.parent / CACHE_DIR / f"{stem}.{digest}.{variant}.npy"


def _open_cache(cfile: Path, dtype: np.dtype) -> np.ndarray | None:
    """Map a cache file copy-on-write; None if it is missing or not usable."""
    try:
        mm = np.load(cfile, mmap_mode="c", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    try:
        if (
            not isinstance(mm, np.memmap)
            or mm.dtype != dtype
            or mm.ndim != 2
            or mm.offset + mm.nbytes != cfile.stat().st_size
        ):
            return None
    except OSError:
        return None
    return mm.view(np.ndarray)


def _cache_room(cfile: Path, nbytes: int) -> bool:
    """Create the cache folder; False if it cannot be written or the disk is nearly full."""
    try:
        cfile.parent.mkdir(exist_ok=True)
        return shutil.disk_usage(cfile.parent).free >= nbytes + _CACHE_HEADROOM
    except OSError:
        return False


def _write_cache(cfile: Path, raw: np.ndarray, normalize: bool) -> None:
    """Write ``raw`` (uint8, or divided by 255.0) to ``cfile`` atomically; give up on OSError."""
    dtype = np.dtype(np.float64 if normalize else np.uint8)
    cdir = cfile.parent
    _remove_stale_temps(cdir)
    tmp: Path | None = None
    try:
        tmp = _new_temp(cdir, cfile.name)
        with open(tmp, "wb") as fh:
            meta = {
                "descr": np.lib.format.dtype_to_descr(dtype),
                "fortran_order": False,
                "shape": raw.shape,
            }
            np.lib.format.write_array_header_1_0(fh, meta)
            flat = raw.reshape(-1)
            if normalize:
                buf = np.empty(_idx._CHUNK_OUT, dtype=np.float64)
                for start in range(0, flat.size, _idx._CHUNK_OUT):
                    part = flat[start : start + _idx._CHUNK_OUT]
                    out = buf[: part.size]
                    np.divide(part, 255.0, out=out)
                    fh.write(out.data)
            else:
                fh.write(flat.data)
        _replace(tmp, cfile)
        tmp = None
    except OSError:
        return
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
    stem, _key, variant = cfile.name.rsplit(".", 3)[:3]
    for old in cdir.glob(f"{stem}.*.{variant}.npy"):
        if old != cfile:
            with contextlib.suppress(OSError):
                old.unlink()


_cache_writers: dict[Path, threading.Thread] = {}
_cache_writers_lock = threading.Lock()


def _start_cache_write(cfile: Path, raw: np.ndarray, normalize: bool) -> None:
    """Write the cache in a background thread, so that :func:`load` returns at once.

    The thread owns ``raw`` (a private copy of the uint8 pixels), never the array
    handed to the user, so user edits cannot leak into the cache. It is not a
    daemon thread: a script that exits right after ``load()`` waits for it
    (well under a second for the full set) instead of leaving half a file.
    """

    def run() -> None:
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):  # be nice to the user's work
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            _write_cache(cfile, raw, normalize)
        finally:
            with _cache_writers_lock:
                if _cache_writers.get(cfile) is threading.current_thread():
                    del _cache_writers[cfile]

    worker = threading.Thread(target=run, name="amlhandson-mnist-cache")
    with _cache_writers_lock:
        _cache_writers[cfile] = worker
    worker.start()


def _wait_for_cache_writes(cfile: Path | None = None) -> None:
    """Block until background cache writes (all, or the one for ``cfile``) are done."""
    with _cache_writers_lock:
        if cfile is None:
            workers = list(_cache_writers.values())
        else:
            workers = [w for c, w in _cache_writers.items() if c == cfile]
    for worker in workers:
        worker.join()


def clear_cache(data_dir: PathLike | None = None) -> int:
    """Delete the decoded-array cache in ``data_dir/.cache``; return the bytes freed.

    ``data_dir`` defaults to the course's MNIST folder (:func:`data_dir`).

    Example:
        >>> from amlhandson.datasets import mnist
        >>> mnist.clear_cache()  # doctest: +SKIP
        462720256
    """
    from . import _location

    _wait_for_cache_writes()
    cdir = (_location.data_dir() if data_dir is None else Path(data_dir)) / CACHE_DIR
    freed = 0
    if not cdir.is_dir():
        return 0
    for p in list(cdir.glob("*.npy")) + list(cdir.glob(".*.part")):
        with contextlib.suppress(OSError):
            size = p.stat().st_size
            p.unlink()
            freed += size
    with contextlib.suppress(OSError):
        cdir.rmdir()
    return freed
