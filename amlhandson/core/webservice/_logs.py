"""The service log: one writer (the scoring server), lines cut to a length, the file rotated.

The server's stderr *is* ``service.log`` (the SDK opens it for the process, so
even a crash of the interpreter lands there). Everything the server logs and
every line its score workers print goes through :class:`LogWriter`, which cuts
lines longer than ``max_log_line`` and, when the file passes ``log_max_bytes``,
copies it to ``service.log.1`` (older copies shift to ``.2`` ...) and empties
it in place. Copy-and-truncate works on Windows too, where a file that another
process holds open cannot be renamed.

Example:
    >>> import io
    >>> w = LogWriter(io.BytesIO(), max_line=20)
    >>> w.write_line("x" * 50)
    >>> w.stream.getvalue()
    b'xxxxxxxxxxxxxxxxxxxx... [30 bytes cut]\\n'
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import BinaryIO

__all__ = ["LogWriter", "LogHandler", "LineRelay"]


class LogWriter:
    """Writes whole, bounded lines to ``stream`` and rotates ``path`` when it grows too big."""

    def __init__(self, stream: BinaryIO, *, path: Path | None = None, max_bytes: int = 10 << 20,
                 backups: int = 3, max_line: int = 4096) -> None:
        self.stream = stream
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.max_line = max_line
        self._lock = threading.Lock()
        self._size = self._current_size()

    def _current_size(self) -> int:
        if self.path is None:
            return 0
        try:
            return os.fstat(self.stream.fileno()).st_size
        except (OSError, ValueError, AttributeError):
            return 0

    def cut(self, line: bytes) -> bytes:
        """``line`` without its end of line, cut to ``max_line`` bytes with a note."""
        line = line.rstrip(b"\r\n")
        if len(line) > self.max_line:
            extra = len(line) - self.max_line
            line = line[: self.max_line] + f"... [{extra} bytes cut]".encode()
        return line

    def write_line(self, line: str | bytes) -> None:
        """Write one line (cut if too long), rotating the file first if it is full."""
        data = line.encode("utf-8", "replace") if isinstance(line, str) else line
        out = b"".join(self.cut(part) + b"\n" for part in data.split(b"\n")) if b"\n" in \
            data.rstrip(b"\n") else self.cut(data) + b"\n"
        with self._lock:
            if self.path is not None and self._size + len(out) > self.max_bytes:
                self._rotate()
            try:
                self.stream.write(out)
                self.stream.flush()
            except (OSError, ValueError):
                return  # the log is gone (folder deleted): nothing sensible to do
            self._size += len(out)

    def _rotate(self) -> None:
        assert self.path is not None
        try:
            self.stream.flush()
            for n in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{n}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
            shutil.copyfile(self.path, self.path.with_name(f"{self.path.name}.1"))
            fd = self.stream.fileno()
            os.ftruncate(fd, 0)
            with contextlib.suppress(OSError):
                os.lseek(fd, 0, os.SEEK_SET)
        except (OSError, ValueError):
            pass  # keep serving; the next write tries again
        self._size = self._current_size()


class LogHandler(logging.Handler):
    """A logging handler that writes formatted records through a :class:`LogWriter`."""

    def __init__(self, writer: LogWriter) -> None:
        super().__init__()
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        """Write one record (each of its lines cut to the writer's limit)."""
        try:
            self.writer.write_line(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


class LineRelay:
    """Copies a worker's output into the log line by line, as it arrives in pieces.

    A line longer than the writer's limit is written cut, and the rest of it is
    skipped (counted in a note) however long it goes on.

    Example:
        >>> import io
        >>> relay = LineRelay(LogWriter(io.BytesIO(), max_line=8))
        >>> relay.feed(b"hello\\nwor"); relay.feed(b"ld " * 10 + b"\\n"); relay.close()
        >>> relay.writer.stream.getvalue().decode().splitlines()
        ['hello', 'world ld... [25 bytes cut]']
    """

    def __init__(self, writer: LogWriter) -> None:
        self.writer = writer
        self._partial = b""
        self._skipped = -1  # >= 0 while skipping the rest of an over-long line

    def feed(self, data: bytes) -> None:
        """Write every complete line in ``data`` (with what came before it)."""
        partial = self._partial + data
        writer = self.writer
        while partial:
            end = partial.find(b"\n")
            if self._skipped >= 0:
                if end < 0:
                    self._skipped += len(partial)
                    partial = b""
                    break
                writer.write_line(f"... [{self._skipped + end} more bytes of that line cut]")
                partial, self._skipped = partial[end + 1:], -1
                continue
            if end < 0:
                if len(partial) > writer.max_line:
                    writer.write_line(partial[: writer.max_line])
                    self._skipped = len(partial) - writer.max_line
                    partial = b""
                break
            writer.write_line(partial[:end])
            partial = partial[end + 1:]
        self._partial = partial

    def close(self) -> None:
        """Write what is left of an unfinished line."""
        if self._partial:
            self.writer.write_line(self._partial)
        elif self._skipped > 0:
            self.writer.write_line(f"... [{self._skipped} more bytes of that line cut]")
        self._partial, self._skipped = b"", -1
