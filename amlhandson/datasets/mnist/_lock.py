"""A best-effort exclusive lock on ``data_dir`` so that processes do not download twice.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with _dir_lock(Path(tempfile.mkdtemp()), LOCK_TIMEOUT):
    ...     pass
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import MnistWarning

#: Seconds to wait for another process that downloads into the same folder.
LOCK_TIMEOUT = 600.0
#: Lock file in ``data_dir`` serialising downloads of several processes.
LOCK_FILE = ".amlhandson-mnist.lock"


def _try_lock(fh: Any) -> None:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fh: Any) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _dir_lock(folder: Path, timeout: float) -> Iterator[None]:
    """Hold ``folder/.amlhandson-mnist.lock`` exclusively (best effort).

    If the file system cannot lock, or another process holds the lock longer
    than ``timeout``, go on without it: files are only ever replaced atomically
    by verified copies, so the result is still correct, only maybe fetched twice.
    """
    try:
        fh = open(folder / LOCK_FILE, "a+b")  # noqa: SIM115 - closed in finally
    except OSError:
        yield
        return
    locked = False
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                _try_lock(fh)
                locked = True
                break
            except OSError as exc:
                busy = isinstance(exc, BlockingIOError) or os.name == "nt"
                if not busy:
                    break  # no locking on this file system
                if time.monotonic() > deadline:
                    warnings.warn(
                        MnistWarning(
                            f"{folder} に別のプロセスが {timeout:g} 秒以上ダウンロード中のため、"
                            "待たずに進めます。"
                        ),
                        stacklevel=4,
                    )
                    break
                time.sleep(0.05)
        yield
    finally:
        if locked:
            _unlock(fh)
        fh.close()
