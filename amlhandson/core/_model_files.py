"""A registered model's content on disk: hashing it, and copying it while hashing.

Folders are walked with the same rule as run files
(:func:`amlhandson.core._artifacts.entries`): links are never followed out of the
folder, and pipes or devices are skipped with a warning. A folder's hash covers
its relative paths and each file's SHA-256.

Example:
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "m.txt"
    >>> _ = f.write_text("abc")
    >>> content_hash(f)
    ('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 3)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

from . import _artifacts

__all__ = ["content_hash", "copy_hashed", "remove"]

_CHUNK = 1 << 20


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _combine(entries: list[tuple[str, str | None]]) -> str:
    """One hash for a folder: sorted relative paths with each file's hash (``None``: a folder)."""
    digest = hashlib.sha256(b"amlhandson-folder-v1\n")
    for rel, file_hash in sorted(entries):
        kind = b"D" if file_hash is None else b"F"
        digest.update(kind + b"\0" + rel.encode("utf-8") + b"\0" + (file_hash or "").encode() + b"\n")
    return digest.hexdigest()


def content_hash(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 (hex) and byte size of a file, or of a folder's files and relative paths.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.txt").write_text("abc")
        >>> content_hash(folder)[1]
        3
    """
    path = Path(path)
    if path.is_file():
        return _file_digest(path)
    entries: list[tuple[str, str | None]] = []
    total = 0
    for rel, item, is_dir in _artifacts.entries(path):
        if is_dir:
            entries.append((rel, None))
        else:
            file_hash, size = _file_digest(item)
            entries.append((rel, file_hash))
            total += size
    return _combine(entries), total


def _copy_file_hashed(src: Path, dst: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    shutil.copystat(src, dst)
    return digest.hexdigest(), size


def copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy a file or folder and return the hash of what was copied (one read of the data).

    Example:
        >>> import tempfile, pathlib
        >>> src = pathlib.Path(tempfile.mkdtemp()) / "m.txt"
        >>> _ = src.write_text("abc")
        >>> copy_hashed(src, src.with_name("copy.txt"))[1]
        3
    """
    if src.is_file():
        return _copy_file_hashed(src, dst)
    dst.mkdir(parents=True, exist_ok=True)
    entries: list[tuple[str, str | None]] = []
    total = 0
    for rel, item, is_dir in _artifacts.entries(src):
        if is_dir:
            (dst / rel).mkdir(parents=True, exist_ok=True)
            entries.append((rel, None))
        else:
            file_hash, size = _copy_file_hashed(item, dst / rel)
            entries.append((rel, file_hash))
            total += size
    return _combine(entries), total


def remove(path: Path) -> None:
    """Delete a file or folder if it exists (never follows a link to a folder)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


