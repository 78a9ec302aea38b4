"""Content fingerprints: one SHA-256 for a set of files (names, sizes and contents).

Fingerprints decide whether a pipeline step may be reused and whether a
registered dataset still points at the content it had. They depend on the
bytes, never on timestamps. Within one process a file's digest is remembered
by (path, size, modification time, inode), so hashing the same unchanged file
twice costs a ``stat``; any change of those re-reads the file.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()); _ = (folder / "a.txt").write_text("x")
    >>> fp = files_fingerprint([("a.txt", folder / "a.txt")])
    >>> fp == files_fingerprint([("a.txt", folder / "a.txt")]), len(fp)
    (True, 64)
    >>> _ = (folder / "a.txt").write_text("y")
    >>> fp == files_fingerprint([("a.txt", folder / "a.txt")])
    False
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["file_digest", "files_fingerprint", "text_digest"]

_CHUNK = 1 << 20
_cache: dict[tuple[str, int, int, int], str] = {}
_lock = threading.Lock()


def file_digest(path: Path) -> str:
    """The SHA-256 of one file's bytes (hex).

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "b.txt"; _ = path.write_bytes(b"y")
        >>> file_digest(path) == hashlib.sha256(b"y").hexdigest()
        True
    """
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _lock:
        if len(_cache) > 100_000:
            _cache.clear()
        _cache[key] = value
    return value


def files_fingerprint(files: Iterable[tuple[str, Path]]) -> str:
    """One digest of ``(name, local path)`` pairs: names, sizes and contents, in name order.

    Example:
        >>> files_fingerprint([]) == files_fingerprint([])
        True
    """
    digest = hashlib.sha256()
    for name, path in sorted(files, key=lambda pair: pair[0]):
        digest.update(json.dumps([name, path.stat().st_size, file_digest(path)]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def text_digest(value: Any) -> str:
    """The SHA-256 of a JSON-able value in canonical form (sorted keys).

    Example:
        >>> text_digest({"a": 1, "b": 2}) == text_digest({"b": 2, "a": 1})
        True
    """
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
