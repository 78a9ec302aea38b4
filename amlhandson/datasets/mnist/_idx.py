"""IDX files: header parsing, streaming gzip decompression (with prefetch), ``load_data``.

Everything here works on one file and knows nothing about mirrors, checksums
or the cache. Decoding errors are raised as :class:`_BadIdx` (a short Japanese
reason plus a hint) and turned into :class:`~amlhandson.exceptions.DataError`
at the public edge (:func:`load_data`, ``load``).

Example:
    >>> from amlhandson.datasets.mnist._idx import _parse_header
    >>> _parse_header(bytes.fromhex("00000801 00000003"), True).dims
    (3,)
"""

from __future__ import annotations

import os
import queue
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from amlhandson.exceptions import DataError

from ._common import _FETCH_HINT, PathLike

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
ROWS = COLS = 28

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_IN = 1 << 16  # compressed bytes fed to zlib at a time
_CHUNK_OUT = 1 << 18  # at most this many uncompressed bytes per piece
_PREFETCH_MIN = 1 << 20  # decompress in a helper thread for files larger than this
_MAX_IDX = 1 << 32  # refuse headers claiming more payload than this


class _BadIdx(Exception):
    """Internal: a file is not the expected IDX content. ``reason`` is short Japanese."""

    def __init__(self, reason: str, hint: str = _FETCH_HINT) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


class _Header(NamedTuple):
    magic: int
    dims: tuple[int, ...]
    header_len: int

    @property
    def payload_len(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def _iter_raw(path: Path) -> Iterator[bytes]:
    """Yield the uncompressed bytes of ``path`` (gzip, possibly multi-member, or raw)."""
    data = Path(path).read_bytes()
    size = len(data)
    if data[:2] != _GZIP_MAGIC:
        view = memoryview(data)
        for start in range(0, size, _CHUNK_OUT):
            yield bytes(view[start : start + _CHUNK_OUT])
        return
    view = memoryview(data)
    pos = 0
    while True:
        dec = zlib.decompressobj(31)
        try:
            while not dec.eof:
                if pos >= size:
                    raise _BadIdx(
                        "gzip が途中で切れています (ファイルが最後まで保存・転送されていません)"
                    )
                piece = view[pos : pos + _CHUNK_IN]
                pos += len(piece)
                out = dec.decompress(piece, _CHUNK_OUT)
                while True:
                    if out:
                        yield out
                    tail = dec.unconsumed_tail
                    if not tail or dec.eof:  # at the end the leftover is in unused_data
                        break
                    out = dec.decompress(tail, _CHUNK_OUT)
        except zlib.error as exc:
            if "incorrect data check" in str(exc):
                raise _BadIdx("gzip の CRC が一致しません (中身が壊れています)") from None
            raise _BadIdx(f"gzip として壊れています ({exc})") from None
        pos -= len(dec.unused_data)
        while pos < size and data[pos] == 0:  # zero padding, as the gzip module allows
            pos += 1
        if pos >= size:
            return
        if data[pos : pos + 2] != _GZIP_MAGIC:
            raise _BadIdx("gzip の後ろに余分なデータがあります")


_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _prefetch(source: Iterator[bytes], depth: int = 8) -> Iterator[bytes]:
    """Run ``source`` in a helper thread, ``depth`` pieces ahead of the consumer.

    zlib, hashlib and NumPy release the GIL on large buffers, so decompressing
    in one thread while the caller hashes, divides or writes in another uses
    both cores.
    """
    q: queue.Queue[Any] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed over to the consumer
            put(_Failure(exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=run, name="amlhandson-mnist-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join()


def _pieces(path: Path) -> Iterator[bytes]:
    src = _iter_raw(path)
    if path.stat().st_size > _PREFETCH_MIN:
        return _prefetch(src)
    return src


def _parse_header(head: bytes, label: bool | None) -> _Header:
    """Parse an MNIST IDX header; ``label`` None accepts either kind."""
    if len(head) < 4:
        raise _BadIdx(f"短すぎます ({len(head)} バイト)。IDX 形式の MNIST ファイルではありません")
    magic = struct.unpack(">I", head[:4])[0]
    if head[0] != 0 or head[1] != 0 or head[2] != 0x08 or not 1 <= head[3] <= 4:
        raise _BadIdx(
            f"先頭 4 バイトが {head[:4].hex(' ')} で、IDX 形式 (MNIST) のファイルではありません"
            " (画像なら 00 00 08 03、ラベルなら 00 00 08 01 のはず)"
        )
    if label is False and magic == LABEL_MAGIC:
        raise _BadIdx(
            "これはラベルのファイルです (magic 2049)", hint="label=True を指定して読んでください。"
        )
    if label is True and magic == IMAGE_MAGIC:
        raise _BadIdx(
            "これは画像のファイルです (magic 2051)", hint="label=False を指定して読んでください。"
        )
    if magic not in (IMAGE_MAGIC, LABEL_MAGIC):
        want = "ラベル 2049" if label else "画像 2051" if label is False else "2051 か 2049"
        raise _BadIdx(f"magic が {magic} で、期待した {want} ではありません")
    ndim = head[3]
    header_len = 4 + 4 * ndim
    if len(head) < header_len:
        raise _BadIdx(f"ヘッダーの途中で切れています ({len(head)} / {header_len} バイト)")
    dims = struct.unpack(f">{ndim}I", head[4:header_len])
    if magic == IMAGE_MAGIC and (dims[1] == 0 or dims[2] == 0):
        raise _BadIdx(f"画像の大きさが {dims[1]}x{dims[2]} です")
    header = _Header(magic, tuple(dims), header_len)
    if header.payload_len > _MAX_IDX:
        raise _BadIdx(f"ヘッダーの件数 {dims} が大きすぎます")
    return header


def _payload(path: Path, label: bool | None) -> tuple[_Header, Iterator[bytes]]:
    """Return the IDX header of ``path`` and an iterator over its payload bytes.

    The iterator raises :class:`_BadIdx` when the payload is shorter or longer
    than the header says.
    """
    src = _pieces(path)
    head = bytearray()
    try:
        for piece in src:
            head += piece
            if len(head) >= 4 and len(head) >= 4 + 4 * head[3]:
                break
        header = _parse_header(bytes(head[:16]), label)
    except BaseException:
        close = getattr(src, "close", None)
        if close is not None:
            close()
        raise
    first = bytes(head[header.header_len :])
    expected = header.payload_len

    def body() -> Iterator[bytes]:
        total = 0
        try:
            for piece in _chain(first, src):
                total += len(piece)
                if total > expected:
                    raise _BadIdx(
                        f"ヘッダーの件数 ({header.dims[0]}) より後ろに余分なデータがあります"
                    )
                yield piece
            if total < expected:
                raise _BadIdx(
                    f"データが足りません ({expected} バイトのはずが {total} バイト)。"
                    "ファイルが途中で切れています"
                )
        finally:
            close = getattr(src, "close", None)
            if close is not None:
                close()

    return header, body()


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _shape(header: _Header) -> tuple[int, int]:
    if header.magic == IMAGE_MAGIC:
        n, rows, cols = header.dims[0], header.dims[1], header.dims[2]
        return n, rows * cols
    return header.dims[0], 1


def _decode(path: Path, label: bool | None, normalize: bool) -> np.ndarray:
    """Decode ``path`` into a fresh array: uint8, or float64 divided by 255.0."""
    header, body = _payload(path, label)
    shape = _shape(header)
    out = np.empty(shape, dtype=np.float64 if normalize else np.uint8)
    flat = out.reshape(-1)
    pos = 0
    for piece in body:
        u8 = np.frombuffer(piece, dtype=np.uint8)
        end = pos + len(u8)
        if normalize:
            np.divide(u8, 255.0, out=flat[pos:end])
        else:
            flat[pos:end] = u8
        pos = end
    return out


def _data_error(path: PathLike, bad: _BadIdx) -> DataError:
    return DataError(f"{os.fspath(path)} を MNIST として読めません: {bad.reason}。{bad.hint}")


def load_data(filename: PathLike, label: bool = False) -> np.ndarray:
    """Read one MNIST IDX file, exactly like the hands-on's ``utils.load_data``.

    Accepts the gzip files (``train-images.gz`` ...) and uncompressed IDX files.

    Args:
        filename: Path of the file.
        label: ``False`` for an image file, ``True`` for a label file.

    Returns:
        Images as an ``(n, rows * cols)`` uint8 array (``(n, 784)`` for MNIST), or
        labels as an ``(n, 1)`` uint8 array. Unlike the hands-on's version the
        array is writable.

    Raises:
        FileNotFoundError: The file does not exist.
        DataError: The file is not gzip/IDX, is truncated or damaged, has trailing
            data, or is a label file read with ``label=False`` (or the reverse).

    Example:
        >>> X = load_data("data/train-images.gz", False) / 255.0  # doctest: +SKIP
        >>> y = load_data("data/train-labels.gz", True).reshape(-1)  # doctest: +SKIP
        >>> X.shape, y.shape  # doctest: +SKIP
        ((60000, 784), (60000,))
    """
    path = Path(filename)
    try:
        return _decode(path, bool(label), normalize=False)
    except _BadIdx as bad:
        raise _data_error(path, bad) from None
