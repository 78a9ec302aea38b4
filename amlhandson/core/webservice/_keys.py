"""Service keys: made, stored (``keys.json``, owner-only), checked in constant time.

Keys live only in the service's ``keys.json`` (mode 0600 on POSIX, in a folder of
mode 0700), never in the workspace database and never in a log line. The
server re-reads the file when it changes, so ``regen_key`` applies to the next
request without a restart.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_keys(folder / "keys.json", ("primary-key-1", "secondary-key-2"))
    >>> read_keys(folder / "keys.json")
    ('primary-key-1', 'secondary-key-2')
    >>> KeyFile(folder / "keys.json").check("Bearer secondary-key-2")
    True
    >>> oct((folder / "keys.json").stat().st_mode & 0o777) if os.name != "nt" else "0o600"
    '0o600'
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path

__all__ = ["KeyFile", "new_key", "write_keys", "read_keys", "private_dir"]

_FILE_MODE = 0o600
_DIR_MODE = 0o700


def new_key() -> str:
    """A fresh random key (32 URL-safe characters).

    Example:
        >>> len(new_key())
        32
    """
    return secrets.token_urlsafe(24)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it owner-only (0700) on POSIX.

    Example:
        >>> import tempfile, pathlib
        >>> private_dir(pathlib.Path(tempfile.mkdtemp()) / "a").is_dir()
        True
    """
    path.mkdir(parents=True, exist_ok=True)
    if os.name != "nt":
        os.chmod(path, _DIR_MODE)
    return path


def write_keys(path: Path, keys: tuple[str, str] | list[str]) -> None:
    """Write ``keys.json`` atomically, readable by the owner only (created 0600, never wider)."""
    data = json.dumps({"primaryKey": keys[0], "secondaryKey": keys[1]}).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, _FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if os.name != "nt":
            os.chmod(tmp, _FILE_MODE)  # whatever the umask
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_keys(path: Path) -> tuple[str, str] | None:
    """``(primary, secondary)`` from ``keys.json``, or ``None`` if missing or damaged."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return str(data["primaryKey"]), str(data["secondaryKey"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class KeyFile:
    """The keys of a running server, re-read whenever ``keys.json`` changes.

    Example:
        >>> KeyFile(Path("no-such-file.json")).check("Bearer x")
        False
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int, int] | None = None
        self._keys: tuple[bytes, ...] = ()
        self._lock = threading.Lock()

    def _current(self) -> tuple[bytes, ...]:
        try:
            st = os.stat(self.path)
        except OSError:
            return ()  # no file: nobody gets in
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        if stamp != self._stamp:
            with self._lock:
                keys = read_keys(self.path)
                if keys is None:
                    return self._keys
                self._keys = tuple(k.encode() for k in keys if k)
                self._stamp = stamp
        return self._keys

    def check(self, header: str | bytes | None) -> bool:
        """Whether an ``Authorization`` header carries one of the keys (constant time)."""
        if not header:
            return False
        if isinstance(header, bytes):
            header = header.decode("latin-1")
        scheme, _sep, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        given = token.strip().encode("utf-8", "replace")
        ok = False
        for key in self._current():
            ok |= hmac.compare_digest(given, key)
        return ok
