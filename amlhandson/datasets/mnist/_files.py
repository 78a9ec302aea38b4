"""File helpers for ``data_dir``: unique temp files, stale temp clean-up, atomic replace.

Downloads and cache writes go to a temp file next to the target and are
renamed into place only when complete, so readers never see half a file.

Example:
    >>> import tempfile
    >>> from pathlib import Path

from amlhandson import _atomic
    >>> tmp = _new_temp(Path(tempfile.mkdtemp()), "x.gz")
    >>> tmp.name.startswith(".x.gz."), tmp.suffix
    (True, '.part')
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

from amlhandson import _atomic

_STALE_TEMP_AGE = 24 * 3600.0


def _new_temp(folder: Path, base: str) -> Path:
    """Create an empty file with a name unique to this process in ``folder``.

    Created with mode 0o666 so the umask applies, like a normal file.
    """
    while True:
        tmp = folder / f".{base}.{os.getpid()}.{secrets.token_hex(4)}.part"
        try:
            flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def _remove_stale_temps(folder: Path) -> None:
    now = time.time()
    with contextlib.suppress(OSError):
        for p in folder.glob(".*.part"):
            with contextlib.suppress(OSError):
                if now - p.stat().st_mtime > _STALE_TEMP_AGE:
                    p.unlink()


def _replace(src: Path, dst: Path) -> None:
    """Move a finished temp file into place (:func:`amlhandson._atomic.replace`)."""
    _atomic.replace(src, dst)
