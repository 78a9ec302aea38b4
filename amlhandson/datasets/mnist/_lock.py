"""An exclusive lock on ``data_dir`` so that processes do not download twice (filelock).

Best effort: if the file system cannot lock, or another process holds the lock
longer than ``timeout``, go on without it: files are only ever replaced
atomically by verified copies, so the result is still correct, only maybe
fetched twice.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with _dir_lock(Path(tempfile.mkdtemp()), 5.0):
    ...     pass
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

from ._common import MnistWarning

#: Lock file in ``data_dir`` serialising downloads of several processes.
LOCK_FILE = ".amlhandson-mnist.lock"


@contextlib.contextmanager
def _dir_lock(folder: Path, timeout: float) -> Iterator[None]:
    """Hold ``folder/.amlhandson-mnist.lock`` exclusively (best effort)."""
    import filelock

    lock = filelock.FileLock(str(folder / LOCK_FILE), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        warnings.warn(MnistWarning(
            f"{folder} に別のプロセスが {timeout:g} 秒以上ダウンロード中のため、待たずに進めます。"
        ), stacklevel=4)
        yield
        return
    except OSError:  # no locking on this file system
        yield
        return
    try:
        yield
    finally:
        lock.release()
