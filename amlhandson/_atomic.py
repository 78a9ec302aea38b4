"""Writing files so that a reader never sees half of one.

Every write goes to a temporary file in the same folder (a name no other thread
or process uses), is flushed to disk, and is then renamed over the target in
one step. A crash leaves either the old file or the new one, plus at most a
temporary file that :data:`TEMP_PREFIX` identifies. A full disk (or quota, or
file-size limit) raises :class:`~amlhandson.exceptions.DiskFullError` saying
which file and what to do; the target keeps what it held before.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "config.json"
    >>> write_text(target, '{"a": 1}')
    >>> target.read_text()
    '{"a": 1}'
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .exceptions import DiskFullError

__all__ = ["TEMP_PREFIX", "temp_path", "replace", "is_disk_full", "space_for", "writing",
           "write_bytes", "write_text", "create_text", "copy_file", "copy_stream"]

#: Start of every temporary file name amlhandson writes.
TEMP_PREFIX = ".amlhandson-tmp-"
_CHUNK = 1 << 20
_NO_SPACE = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def temp_path(target: Path) -> Path:
    """A fresh temporary name beside ``target`` (unique across threads and processes).

    Example:
        >>> temp_path(Path("a/b.txt")).name.startswith(TEMP_PREFIX)
        True
    """
    return target.with_name(f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}")


def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """``os.replace``, retried briefly where Windows refuses while a reader has ``target`` open.

    Example:
        >>> replace(temp_path(target), target)  # doctest: +SKIP
    """
    for attempt in range(10):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if os.name != "nt" or attempt == 9:
                raise
            time.sleep(0.2)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the quota, or the file-size limit) is full.

    Example:
        >>> is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
        True
        >>> is_disk_full(OSError(errno.ECONNRESET, "Connection reset"))
        False
    """
    return isinstance(exc, OSError) and exc.errno in _NO_SPACE


@contextlib.contextmanager
def space_for(target: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an out-of-space ``OSError`` while writing ``target`` into :class:`DiskFullError`.

    Example:
        >>> with space_for("models/m.pkl"):  # doctest: +SKIP
        ...     shutil.copyfile("m.pkl", "models/m.pkl")
    """
    target = Path(target)
    try:
        yield
    except OSError as exc:
        if not is_disk_full(exc) or isinstance(exc, DiskFullError):
            raise
        raise DiskFullError(
            f"ディスクがいっぱいで {target} を書き込めませんでした ({exc.strerror})。"
            f"{target.name} は書き込む前のまま (なかったなら、ないまま) です。不要なファイルを"
            "削除して空きを作ってから、もう一度実行してください。") from exc


@contextlib.contextmanager
def writing(target: str | os.PathLike[str], mode: int | None = None) -> Iterator[IO[bytes]]:
    """Open a binary file that replaces ``target`` when the ``with`` block ends normally.

    On an exception (or Ctrl-C) the temporary file is removed and ``target`` is
    left as it was. ``mode`` sets the permissions (e.g. ``0o600`` for secrets)
    before any content is written.

    Example:
        >>> with writing(target) as fh:  # doctest: +SKIP
        ...     fh.write(b"data")
    """
    target = Path(target)
    tmp = temp_path(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666 if mode is None else mode)
    try:
        with space_for(target), os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes(target: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    """Replace ``target`` with ``data`` atomically.

    Example:
        >>> write_bytes(target, b"x")  # doctest: +SKIP
    """
    with writing(target, mode) as fh:
        fh.write(data)


def write_text(target: str | os.PathLike[str], text: str, mode: int | None = None) -> None:
    """Replace ``target`` with ``text`` (UTF-8) atomically.

    Example:
        >>> write_text(target, "hello")  # doctest: +SKIP
    """
    write_bytes(target, text.encode("utf-8"), mode)


def create_text(target: str | os.PathLike[str], text: str) -> bool:
    """Create ``target`` holding ``text`` (UTF-8) unless it exists; ``False`` if it did.

    Exclusive and complete in one step: the text is written to a temporary file
    that is then hard-linked to ``target``, so a process racing for the same name
    never sees it empty or half written. On a file system without hard links, the
    file is created with ``O_EXCL`` and written in place.

    Example:
        >>> create_text(target, "v1"), create_text(target, "v2")  # doctest: +SKIP
        (True, False)
    """
    target = Path(target)
    data = text.encode("utf-8")
    tmp = temp_path(target)
    try:
        with space_for(target):
            with open(tmp, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, target)
                return True
            except FileExistsError:
                return False
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                    raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    try:  # no hard links here (FAT, some network shares)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0))
    except FileExistsError:
        return False
    try:
        with space_for(target), os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        target.unlink()  # never leave a half-written version behind
        raise
    return True


def copy_stream(source: IO[Any], target: str | os.PathLike[str]) -> int:
    """Copy a binary (or text) stream into ``target`` atomically, in chunks; return bytes.

    Example:
        >>> import io
        >>> copy_stream(io.BytesIO(b"abc"), target)  # doctest: +SKIP
        3
    """
    size = 0
    with writing(target) as out:
        while True:
            chunk = source.read(_CHUNK)
            if not chunk:
                break
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            out.write(chunk)
            size += len(chunk)
    return size


def copy_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> int:
    """Copy a regular file into ``target`` atomically (never reads it whole); return bytes.

    Example:
        >>> copy_file("model.pkl", "outputs/model.pkl")  # doctest: +SKIP
    """
    with open(source, "rb") as src, writing(target) as out:
        shutil.copyfileobj(src, out, _CHUNK)
        return out.tell()
