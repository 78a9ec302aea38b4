"""MNIST for the hands-on: download from mirrors, verify, fall back to a sample, load fast.

The 2019 hands-on downloads MNIST from ``yann.lecun.com`` (often answering 403
today) into ``./data/train-images.gz`` etc. and reads it with its own
``load_data``. This module gives the same files and arrays without depending on
that one site:

- :func:`download` fetches the four files from a list of mirrors (yours, the
  ``AMLHANDSON_MNIST_MIRROR`` environment variable, then public mirrors), checks
  each one against the SHA-256 of the original distribution and stores it under
  the hands-on's names. If no mirror works it installs a bundled stratified
  sample (6,000 + 1,000 real MNIST images) and warns with
  :class:`MnistSampleWarning`.
- :func:`load_data` is the hands-on's function (same signature, same shapes),
  with clear :class:`~amlhandson.exceptions.DataError` messages on bad files.
- :func:`load` returns ``X_train, y_train, X_test, y_test`` exactly as the
  hands-on builds them, and caches the decoded arrays so that a second call is
  near-instant.
- :func:`cli_main` is ``amlhandson data mnist`` (also ``python -m
  amlhandson.datasets.mnist``).

Environment variables:

``AMLHANDSON_MNIST_MIRROR``
    One or more extra mirrors tried after ``mirrors=`` and before the public ones.
    Separate several with ``;``, ``,`` or a newline (spaces also separate URLs).
    A mirror is an ``http://``, ``https://`` or ``file://`` URL, or a folder path,
    holding the original file names (``train-images-idx3-ubyte.gz`` ...).
``AMLHANDSON_MNIST_NO_PUBLIC``
    ``1`` (or ``true``/``yes``/``on``) skips the public mirrors, so nothing
    leaves the machine or the room's network.

Example:
    >>> from amlhandson.datasets import mnist
    >>> mnist.download("data")  # doctest: +SKIP
    {'train-images': PosixPath('data/train-images.gz'), ...}
    >>> X_train, y_train, X_test, y_test = mnist.load("data")  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype, y_train.shape  # doctest: +SKIP
    ((60000, 784), dtype('float64'), (60000,))
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import importlib.resources
import json
import os
import queue
import re
import secrets
import shutil
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Union

import numpy as np

from amlhandson.exceptions import DataError, DownloadError, UserErrorException

__all__ = [
    "download",
    "load",
    "load_data",
    "is_sample",
    "clear_cache",
    "cli_main",
    "MnistWarning",
    "MnistSampleWarning",
    "MnistFilesMissingError",
    "Expected",
    "EXPECTED",
    "SAMPLE_EXPECTED",
    "PUBLIC_MIRRORS",
    "ENV_MIRROR",
    "ENV_NO_PUBLIC",
    "DEFAULT_TIMEOUT",
]

PathLike = Union[str, "os.PathLike[str]"]

# --------------------------------------------------------------------------------------
# Constants and tables
# --------------------------------------------------------------------------------------

#: Environment variable with extra mirrors (see the module docstring for the syntax).
ENV_MIRROR = "AMLHANDSON_MNIST_MIRROR"
#: Environment variable that, when ``1``/``true``/``yes``/``on``, skips the public mirrors.
ENV_NO_PUBLIC = "AMLHANDSON_MNIST_NO_PUBLIC"

#: Public mirrors, tried last, in this order.
PUBLIC_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: Seconds to wait for a connection or for the next bytes of a download.
DEFAULT_TIMEOUT = 15.0
#: Seconds to wait for another process that downloads into the same folder.
LOCK_TIMEOUT = 600.0
#: Sent to mirrors (some refuse urllib's default).
USER_AGENT = "amlhandson-mnist/1 (Python urllib)"

#: The four files, in the hands-on's order.
NAMES: tuple[str, ...] = ("train-images", "train-labels", "test-images", "test-labels")
#: File names on mirrors (the original distribution).
REMOTE_NAMES: dict[str, str] = {
    "train-images": "train-images-idx3-ubyte.gz",
    "train-labels": "train-labels-idx1-ubyte.gz",
    "test-images": "t10k-images-idx3-ubyte.gz",
    "test-labels": "t10k-labels-idx1-ubyte.gz",
}
#: File names in ``data_dir`` (the hands-on's).
LOCAL_NAMES: dict[str, str] = {name: f"{name}.gz" for name in NAMES}
#: Splits: images and labels of one split must come from the same set.
SPLITS: dict[str, tuple[str, str]] = {
    "train": ("train-images", "train-labels"),
    "test": ("test-images", "test-labels"),
}

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
ROWS = COLS = 28


class Expected(NamedTuple):
    """What one verified file holds, measured on its *uncompressed* bytes.

    Example:
        >>> EXPECTED["test-labels"].count
        10000
    """

    size: int
    """Length of the uncompressed IDX file in bytes."""
    sha256: str
    """SHA-256 of the uncompressed IDX file (hex)."""
    count: int
    """Number of images or labels in the file."""


#: The original distribution. Gzip bytes differ between mirrors, the content does not.
EXPECTED: dict[str, Expected] = {
    "train-images": Expected(
        47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 60000
    ),
    "train-labels": Expected(
        60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60000
    ),
    "test-images": Expected(
        7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 10000
    ),
    "test-labels": Expected(
        10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10000
    ),
}

#: The bundled sample (built by ``tools/make_mnist_sample.py``).
SAMPLE_EXPECTED: dict[str, Expected] = {
    "train-images": Expected(
        4704016, "4c76d26cc64ded12a35b578a9791607c6f138a325cdf4387b5a8e37e4a94b3a0", 6000
    ),
    "train-labels": Expected(
        6008, "97e877bff2b8e1124b5b4aacc26bb9442f668c55d913b237c1c38c057a3782db", 6000
    ),
    "test-images": Expected(
        784016, "7715cc3d25845908bdba3b481c1c2ded31a581bd53646a8ffbe230f180c946f1", 1000
    ),
    "test-labels": Expected(
        1008, "d890d03deadd437cda29e1ea520d79b844e167fd4a9393ca03c55c8c99a23f9d", 1000
    ),
}

_SAMPLE_PACKAGE = "amlhandson.datasets"
_SAMPLE_DIR = "_mnist_sample"

#: Sidecar in ``data_dir`` remembering which files were verified (size, mtime, inode).
STAMP_FILE = ".amlhandson-verified.json"
#: Lock file in ``data_dir`` serialising downloads of several processes.
LOCK_FILE = ".amlhandson-mnist.lock"
#: Folder in ``data_dir`` holding decoded ``.npy`` arrays.
CACHE_DIR = ".cache"
_CACHE_VERSION = 1
_CACHE_HEADROOM = 256 * 1024 * 1024  # leave this much disk free, or skip the cache
_STALE_TEMP_AGE = 24 * 3600.0

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_IN = 1 << 16  # compressed bytes fed to zlib at a time
_CHUNK_OUT = 1 << 18  # at most this many uncompressed bytes per piece
_PREFETCH_MIN = 1 << 20  # decompress in a helper thread for files larger than this
_MAX_IDX = 1 << 32  # refuse headers claiming more payload than this

_FETCH_HINT = (
    "download(force=True) (コマンドなら amlhandson data mnist --force) で取り直してください。"
)


class MnistWarning(UserWarning):
    """Something about the MNIST files needs the user's attention (e.g. a damaged file)."""


class MnistSampleWarning(MnistWarning):
    """The full MNIST could not be fetched: the bundled sample is in use instead."""


class MnistFilesMissingError(DataError, FileNotFoundError):
    """:func:`load` found no MNIST files in ``data_dir``: call :func:`download` first."""


class _BadIdx(Exception):
    """Internal: a file is not the expected IDX content. ``reason`` is short Japanese."""

    def __init__(self, reason: str, hint: str = _FETCH_HINT) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


# --------------------------------------------------------------------------------------
# IDX decoding (streaming, gzip or raw)
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Integrity
# --------------------------------------------------------------------------------------


class _Digest(NamedTuple):
    head: bytes
    size: int
    sha256: str


def _digest(path: Path, limit: int) -> _Digest:
    """Hash the uncompressed content of ``path``; stop with _BadIdx past ``limit`` bytes."""
    h = hashlib.sha256()
    size = 0
    head = b""
    src = _pieces(path)
    try:
        for piece in src:
            if len(head) < 16:
                head += piece[: 16 - len(head)]
            size += len(piece)
            if size > limit:
                raise _BadIdx(f"展開すると {limit} バイトを超え、MNIST より大きすぎます")
            h.update(piece)
    finally:
        close = getattr(src, "close", None)
        if close is not None:
            close()
    return _Digest(head, size, h.hexdigest())


def _mismatch(name: str, dig: _Digest, exp: Expected) -> str | None:
    """Return why ``dig`` is not ``exp`` (short Japanese), or None when it matches."""
    is_images = name.endswith("images")
    try:
        header = _parse_header(dig.head, not is_images)
    except _BadIdx as bad:
        return bad.reason
    what = "画像" if is_images else "ラベル"
    if header.dims[0] != exp.count:
        return f"{what}の数が {header.dims[0]:,} で、期待した {exp.count:,} と違います"
    if is_images and header.dims[1:] != (ROWS, COLS):
        return f"画像の大きさが {header.dims[1]}x{header.dims[2]} で、28x28 ではありません"
    if dig.size != exp.size:
        return (
            f"展開後の大きさが {dig.size:,} バイトで、期待した {exp.size:,} バイトと違います"
            " (途中で切れているか、余分なデータがあります)"
        )
    if dig.sha256 != exp.sha256:
        return (
            f"SHA-256 が一致しません (期待 {exp.sha256[:12]}…, 実際 {dig.sha256[:12]}…)。"
            "中身が壊れているか、別のデータです"
        )
    return None


def _classify(path: Path, name: str) -> str:
    """Return ``"full"`` or ``"sample"`` for a gzip file in ``data_dir``; else raise _BadIdx."""
    if not _is_gzip(path):
        raise _BadIdx("gzip 圧縮されていません (ハンズオンの load_data は gzip を読みます)")
    full, sample = EXPECTED[name], SAMPLE_EXPECTED[name]
    dig = _digest(path, max(full.size, sample.size))
    why = _mismatch(name, dig, full)
    if why is None:
        return "full"
    if _mismatch(name, dig, sample) is None:
        return "sample"
    raise _BadIdx(why)


class _Stamps:
    """The sidecar ``.amlhandson-verified.json``: files verified, with size/mtime/inode."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / STAMP_FILE
        self.files: dict[str, dict[str, Any]] = {}
        with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") == 1 and isinstance(data.get("files"), dict):
                self.files = data["files"]

    @staticmethod
    def _stat(path: Path) -> dict[str, int]:
        st = path.stat()
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}

    def trusted(self, path: Path, name: str) -> str | None:
        """The kind recorded for ``path`` if its stat and checksum still match, else None."""
        entry = self.files.get(path.name)
        if not isinstance(entry, dict):
            return None
        try:
            stat = self._stat(path)
        except OSError:
            return None
        if any(entry.get(k) != v for k, v in stat.items()):
            return None
        kind = entry.get("kind")
        if kind == "full":
            table = EXPECTED
        elif kind == "sample":
            table = SAMPLE_EXPECTED
        else:
            return None
        if entry.get("sha256") != table[name].sha256:
            return None
        return str(kind)

    def record(self, path: Path, name: str, kind: str) -> None:
        table = EXPECTED if kind == "full" else SAMPLE_EXPECTED
        try:
            entry: dict[str, Any] = self._stat(path)
        except OSError:
            return
        entry.update(kind=kind, sha256=table[name].sha256, checked=int(time.time()))
        self.files[path.name] = entry

    def forget(self, path: Path) -> None:
        self.files.pop(path.name, None)

    def save(self) -> None:
        data = json.dumps({"format": 1, "files": self.files}, indent=1, sort_keys=True)
        with contextlib.suppress(OSError):
            tmp = _new_temp(self.path.parent, self.path.name)
            try:
                tmp.write_text(data, encoding="utf-8")
                os.replace(tmp, self.path)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()


def _state(path: Path, name: str, stamps: _Stamps) -> tuple[str, str]:
    """Return (``full``/``sample``/``missing``/``corrupt``, reason) for a file in data_dir."""
    if not path.exists():
        return "missing", ""
    kind = stamps.trusted(path, name)
    if kind is not None:
        return kind, ""
    try:
        kind = _classify(path, name)
    except _BadIdx as bad:
        stamps.forget(path)
        return "corrupt", bad.reason
    except OSError as exc:
        stamps.forget(path)
        return "corrupt", str(exc)
    stamps.record(path, name, kind)
    return kind, ""


# --------------------------------------------------------------------------------------
# Files: temp names, locking
# --------------------------------------------------------------------------------------


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
    """``os.replace`` with a few retries (Windows refuses while a reader has ``dst`` open)."""
    for attempt in range(10):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if attempt == 9:
                raise
            time.sleep(0.2)


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


# --------------------------------------------------------------------------------------
# Mirrors
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mirror:
    label: str
    url: str | None = None
    folder: Path | None = None


class _MirrorFailure(Exception):
    def __init__(self, reason: str, dead: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.dead = dead  # the whole mirror is unreachable: skip it for the other files


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on", "y"}


def _split_env(value: str) -> list[str]:
    """Split ``AMLHANDSON_MNIST_MIRROR``: ``;``, ``,``, newlines; spaces between URLs."""
    out: list[str] = []
    for item in re.split(r"[;,\n\r]+", value):
        item = item.strip()
        if not item:
            continue
        words = item.split()
        if len(words) > 1 and all("://" in w for w in words):
            out.extend(words)
        else:
            out.append(item)
    return out


def _parse_mirror(item: Any) -> _Mirror:
    if isinstance(item, os.PathLike):
        folder = Path(item).expanduser()
        return _Mirror(label=str(folder), folder=folder)
    if not isinstance(item, str):
        raise UserErrorException(
            f"mirrors に使えない値です: {item!r}。URL (http://...) かフォルダのパスを"
            " 文字列で、複数ならリストで渡してください。"
        )
    text = item.strip()
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.netloc:
            raise UserErrorException(f"ミラーの URL {text!r} にホスト名がありません。")
        url = text if text.endswith("/") else text + "/"
        return _Mirror(label=url, url=url)
    if scheme == "file":
        raw = parts.path
        if parts.netloc and parts.netloc.lower() != "localhost":
            raw = "//" + parts.netloc + raw
        folder = Path(urllib.request.url2pathname(raw))
        return _Mirror(label=text, folder=folder)
    if len(scheme) > 1:  # one letter is a Windows drive ("C:\\...")
        raise UserErrorException(
            f"ミラー {text!r} の形式 ({scheme}://) には対応していません。"
            " http://、https://、file:// の URL かフォルダのパスを指定してください。"
        )
    folder = Path(text).expanduser()
    return _Mirror(label=str(folder), folder=folder)


def _resolve_mirrors(mirrors: PathLike | Sequence[PathLike] | None) -> list[_Mirror]:
    """Caller's mirrors, then ``AMLHANDSON_MNIST_MIRROR``, then the public ones."""
    items: list[Any] = []
    if mirrors is None:
        pass
    elif isinstance(mirrors, (str, os.PathLike)):
        items.append(mirrors)
    elif isinstance(mirrors, Sequence):
        items.extend(mirrors)
    else:
        raise UserErrorException(
            f"mirrors には文字列・パス・そのリストを渡してください (渡された型: "
            f"{type(mirrors).__name__})。"
        )
    items = [m for m in items if not (isinstance(m, str) and not m.strip())]
    items.extend(_split_env(os.environ.get(ENV_MIRROR, "")))
    if not _truthy(os.environ.get(ENV_NO_PUBLIC)):
        items.extend(PUBLIC_MIRRORS)
    out: list[_Mirror] = []
    for item in items:
        mirror = _parse_mirror(item)
        if mirror not in out:
            out.append(mirror)
    return out


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int | None, desc: str, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return _NoBar()
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)


def _net_reason(exc: BaseException, timeout: float) -> tuple[str, bool]:
    """Japanese reason and whether the mirror as a whole is unreachable."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}", False
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, BaseException):
            return _net_reason(inner, timeout)
        return f"接続できません ({inner})", True
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"タイムアウト ({timeout:g} 秒応答がありません)", True
    if isinstance(exc, socket.gaierror):
        return f"ホスト名を解決できません (オフラインかもしれません: {exc})", True
    if isinstance(exc, ConnectionRefusedError):
        return "接続を拒否されました (サーバーが動いていません)", True
    if isinstance(exc, http.client.IncompleteRead):
        return "転送が途中で切れました", False
    if isinstance(exc, (ConnectionError, http.client.HTTPException)):
        return f"通信エラー ({type(exc).__name__}: {exc})", False
    return f"{type(exc).__name__}: {exc}", isinstance(exc, OSError)


def _fetch_url(
    url: str, dest: Path, *, timeout: float, progress: bool, desc: str, limit: int
) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as out:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            got = 0
            bar = _bar(total, desc, progress)
            try:
                while True:
                    chunk = resp.read(1 << 16)
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > limit:
                        raise _MirrorFailure(f"{limit:,} バイトを超えても終わりません")
                    out.write(chunk)
                    bar.update(len(chunk))
            finally:
                bar.close()
            if total is not None and got != total:
                raise _MirrorFailure(f"転送が途中で切れました ({got:,} / {total:,} バイト)")
    except _MirrorFailure:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason, dead = _net_reason(exc, timeout)
        raise _MirrorFailure(reason, dead) from None


def _fetch_folder(
    folder: Path, name: str, dest: Path, *, progress: bool, desc: str, limit: int
) -> None:
    if not folder.is_dir():
        raise _MirrorFailure(f"フォルダ {folder} がありません", dead=True)
    remote = REMOTE_NAMES[name]
    candidates = [remote, remote[: -len(".gz")], LOCAL_NAMES[name]]
    for cand in candidates:
        src = folder / cand
        if src.is_file():
            break
    else:
        raise _MirrorFailure(f"{remote} がありません")
    try:
        size = src.stat().st_size
        if size > limit:
            raise _MirrorFailure(f"{src.name} が大きすぎます ({size:,} バイト)")
        bar = _bar(size, desc, progress)
        try:
            with open(src, "rb") as fin, open(dest, "wb") as fout:
                while chunk := fin.read(1 << 20):
                    fout.write(chunk)
                    bar.update(len(chunk))
        finally:
            bar.close()
    except OSError as exc:
        raise _MirrorFailure(f"{src} を読めません ({exc})") from None


def _gzip_file(src: Path, dst: Path) -> None:
    """Compress ``src`` into ``dst`` (gzip, no name, mtime 0)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(1 << 20):
            fout.write(comp.compress(chunk))
        fout.write(comp.flush())


def _fetch(mirror: _Mirror, name: str, folder: Path, *, timeout: float, progress: bool) -> Path:
    """Fetch ``name`` from ``mirror`` into a verified temp file in ``folder``."""
    local = LOCAL_NAMES[name]
    limit = 2 * max(EXPECTED[name].size, SAMPLE_EXPECTED[name].size) + (1 << 20)
    tmp = _new_temp(folder, local)
    extra: Path | None = None
    ok = False
    try:
        if mirror.url is not None:
            url = urllib.parse.urljoin(mirror.url, REMOTE_NAMES[name])
            _fetch_url(url, tmp, timeout=timeout, progress=progress, desc=local, limit=limit)
        else:
            assert mirror.folder is not None
            _fetch_folder(mirror.folder, name, tmp, progress=progress, desc=local, limit=limit)
        if not _is_gzip(tmp):
            # Uncompressed IDX (e.g. an extracted copy): check the header, then gzip it.
            with open(tmp, "rb") as fh:
                head = fh.read(16)
            try:
                _parse_header(head, name.endswith("labels"))
            except _BadIdx as bad:
                raise _MirrorFailure(f"gzip でも IDX でもありません ({bad.reason})") from None
            extra = _new_temp(folder, local)
            _gzip_file(tmp, extra)
            tmp, extra = extra, tmp
        try:
            kind = _classify(tmp, name)
        except _BadIdx as bad:
            raise _MirrorFailure(f"中身が正しくありません: {bad.reason}") from None
        if kind != "full":
            raise _MirrorFailure(
                f"見本 (sample, {SAMPLE_EXPECTED[name].count:,} 件) で、完全なデータではありません"
            )
        ok = True
        return tmp
    finally:
        for p in (extra, None if ok else tmp):
            if p is not None:
                with contextlib.suppress(OSError):
                    p.unlink()


def _read_sample(name: str) -> bytes:
    """The bundled sample file for ``name`` (gzip bytes)."""
    res = importlib.resources.files(_SAMPLE_PACKAGE).joinpath(_SAMPLE_DIR, REMOTE_NAMES[name])
    return res.read_bytes()


def _install_sample(name: str, target: Path, stamps: _Stamps) -> None:
    tmp = _new_temp(target.parent, target.name)
    try:
        try:
            tmp.write_bytes(_read_sample(name))
            dig = _digest(tmp, SAMPLE_EXPECTED[name].size + 1)
            why = _mismatch(name, dig, SAMPLE_EXPECTED[name])
        except (OSError, _BadIdx) as exc:
            why = getattr(exc, "reason", str(exc))
        if why is not None:
            raise DataError(
                f"パッケージに同梱の MNIST 見本 ({REMOTE_NAMES[name]}) が壊れています: {why}。"
                " amlhandson を入れ直してください (pip install --force-reinstall amlhandson)。"
            )
        _replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    stamps.record(target, name, "sample")


# --------------------------------------------------------------------------------------
# download()
# --------------------------------------------------------------------------------------


def _no_mirror_note() -> str:
    if _truthy(os.environ.get(ENV_NO_PUBLIC)):
        return (
            f"ミラーが 1 つもありません ({ENV_NO_PUBLIC} が設定されているので公開ミラーは使わず、"
            f"mirrors= も {ENV_MIRROR} も指定がありません)。"
        )
    return "ミラーが 1 つもありません。"


def _failure_report(
    failures: dict[str, list[tuple[str, str]]],
    mirrors: list[_Mirror],
    skipped: dict[str, int],
    indent: str = "  ",
) -> str:
    if not mirrors:
        return indent + _no_mirror_note()
    lines = []
    for m in mirrors:
        rows = failures.get(m.label)
        if not rows:
            continue
        lines.append(f"{indent}- {m.label}")
        for fname, reason in rows:
            lines.append(f"{indent}    {fname}: {reason}")
        if skipped.get(m.label):
            lines.append(
                f"{indent}    (ほかの {skipped[m.label]} ファイルは、接続できないので省略しました)"
            )
    return "\n".join(lines)


def _how_to_get_full() -> str:
    return (
        "完全なデータを使うには、次のどれかをしてから、もう一度 download() "
        "(コマンドなら amlhandson data mnist) を実行してください:\n"
        f"  1. 講師のミラーを使う: 環境変数 {ENV_MIRROR}=http://<講師のIP>:8000/ を設定する\n"
        '  2. USB などで配られたフォルダを使う: download(mirrors="/media/usb/mnist") '
        "(コマンドなら --mirror /media/usb/mnist)\n"
        "  3. インターネットにつながる場所で実行する"
    )


def _download(
    data_dir: PathLike,
    *,
    mirrors: PathLike | Sequence[PathLike] | None,
    force: bool,
    progress: bool,
    allow_sample: bool,
    timeout: float,
) -> tuple[dict[str, Path], dict[str, str]]:
    """Implementation of :func:`download`; also returns the kind of each file."""
    if not isinstance(data_dir, (str, os.PathLike)):
        raise UserErrorException(
            f"data_dir にはフォルダのパスを渡してください (渡された型: {type(data_dir).__name__})。"
        )
    if not timeout or timeout <= 0:
        raise UserErrorException(f"timeout は正の秒数にしてください (渡された値: {timeout!r})。")
    mirror_list = _resolve_mirrors(mirrors)
    folder = Path(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserErrorException(
            f"フォルダ {folder} を作れません ({exc})。"
            "書き込めるフォルダを data_dir に指定してください。"
        ) from None
    paths = {name: folder / LOCAL_NAMES[name] for name in NAMES}
    with _dir_lock(folder, LOCK_TIMEOUT):
        _remove_stale_temps(folder)
        stamps = _Stamps(folder)
        kinds: dict[str, str] = {}
        for name in NAMES:
            kind, why = _state(paths[name], name, stamps)
            kinds[name] = kind
            if kind == "corrupt":
                warnings.warn(
                    MnistWarning(
                        f"{paths[name]} は壊れているか MNIST ではありません ({why})。"
                        "ミラーから取り直します。"
                    ),
                    stacklevel=3,
                )
        todo = [n for n in NAMES if force or kinds[n] != "full"]
        failures: dict[str, list[tuple[str, str]]] = {}
        dead: dict[str, str] = {}
        skipped: dict[str, int] = {}
        try:
            for name in todo:
                remote = REMOTE_NAMES[name]
                for mirror in mirror_list:
                    if mirror.label in dead:
                        skipped[mirror.label] = skipped.get(mirror.label, 0) + 1
                        continue
                    try:
                        tmp = _fetch(mirror, name, folder, timeout=timeout, progress=progress)
                    except _MirrorFailure as fail:
                        failures.setdefault(mirror.label, []).append((remote, fail.reason))
                        if fail.dead:
                            dead[mirror.label] = fail.reason
                        continue
                    try:
                        _replace(tmp, paths[name])
                    finally:
                        with contextlib.suppress(OSError):
                            tmp.unlink()
                    stamps.record(paths[name], name, "full")
                    kinds[name] = "full"
                    break

            sample_splits = [
                split for split, pair in SPLITS.items() if any(kinds[n] != "full" for n in pair)
            ]
            if sample_splits and not allow_sample:
                raise DownloadError(
                    "MNIST の完全なデータを取得できませんでした。試したミラーと失敗の理由:\n"
                    + _failure_report(failures, mirror_list, skipped)
                    + "\n"
                    + _how_to_get_full()
                    + "\n(同梱の見本データで続けるなら allow_sample=True、コマンドなら"
                    " --no-sample を付けずに実行してください。)"
                )
            for split in sample_splits:
                for name in SPLITS[split]:
                    if kinds[name] != "sample":
                        _install_sample(name, paths[name], stamps)
                        kinds[name] = "sample"
        finally:
            stamps.save()
    if sample_splits:
        counts = " / ".join(
            f"{split} {SAMPLE_EXPECTED[SPLITS[split][0]].count:,} 枚 "
            f"(本来は {EXPECTED[SPLITS[split][0]].count:,} 枚)"
            for split in sample_splits
        )
        warnings.warn(
            MnistSampleWarning(
                f"MNIST の完全なデータをどのミラーからも取得できなかったため、パッケージに同梱の"
                f"見本 (sample: {counts}) を {folder} に置きました。本物の MNIST から数字ごとの"
                "割合を保って選んだ一部なので、ハンズオンはそのまま動きますが、精度などの数値は"
                "資料と少し変わります。\n"
                + _how_to_get_full()
                + "\n試したミラー:\n"
                + _failure_report(failures, mirror_list, skipped)
            ),
            stacklevel=3,
        )
    return paths, kinds


def download(
    data_dir: PathLike = "data",
    *,
    mirrors: PathLike | Sequence[PathLike] | None = None,
    force: bool = False,
    progress: bool = True,
    allow_sample: bool = True,
) -> dict[str, Path]:
    """Put the four MNIST files into ``data_dir`` under the hands-on's names, verified.

    Files already in ``data_dir`` are reused when they verify (a sidecar
    ``.amlhandson-verified.json`` remembers size and mtime, so a second call does
    not re-hash). A damaged file is fetched again, with a :class:`MnistWarning`.

    Mirrors are tried in this order, each file falling through to the next mirror
    on any failure (refused connection, timeout, HTTP error, wrong content):
    ``mirrors``, then ``AMLHANDSON_MNIST_MIRROR``, then :data:`PUBLIC_MIRRORS`
    (skipped when ``AMLHANDSON_MNIST_NO_PUBLIC=1``). A mirror is a base URL
    (``http``, ``https``, ``file``) or a folder holding the original names
    (``train-images-idx3-ubyte.gz`` ...; uncompressed copies also work).

    Each file is checked on its uncompressed content: IDX header, length and the
    SHA-256 of the original distribution. Downloads go to a temporary file in
    ``data_dir`` and are renamed into place only once verified; a lock file
    serialises processes that download into the same folder.

    Args:
        data_dir: Folder to write to (created if needed). The hands-on uses ``"data"``.
        mirrors: One mirror (``str`` or path) or a list of them, tried first.
        force: Fetch again even when verified files are present. (If that fails,
            verified full files already there are kept.)
        progress: Show a progress bar (a widget in Jupyter, text in a terminal).
        allow_sample: If no mirror works, install the bundled sample (6,000 train /
            1,000 test images) and warn with :class:`MnistSampleWarning`. A later
            call tries the mirrors again. With ``False``, raise instead.

    Returns:
        ``{"train-images": Path, "train-labels": ..., "test-images": ..., "test-labels": ...}``.

    Raises:
        DownloadError: No mirror delivered a verified copy and ``allow_sample`` is
            ``False``; the message lists every mirror tried and why it failed.
        UserErrorException: ``mirrors`` or ``data_dir`` cannot be used.

    Example:
        >>> from amlhandson.datasets import mnist
        >>> paths = mnist.download("data")  # doctest: +SKIP
        >>> paths = mnist.download("data", mirrors="/media/usb/mnist")  # doctest: +SKIP
        >>> paths = mnist.download("data", mirrors="http://192.168.0.10:8000/")  # doctest: +SKIP
        >>> mnist.is_sample("data")  # doctest: +SKIP
        False
    """
    paths, _kinds = _download(
        data_dir,
        mirrors=mirrors,
        force=force,
        progress=progress,
        allow_sample=allow_sample,
        timeout=DEFAULT_TIMEOUT,
    )
    return paths


def _kinds(folder: Path) -> dict[str, str]:
    stamps = _Stamps(folder)
    out = {}
    for name in NAMES:
        out[name] = _state(folder / LOCAL_NAMES[name], name, stamps)[0]
    return out


def is_sample(data_dir: PathLike = "data") -> bool:
    """Tell whether ``data_dir`` holds the bundled sample instead of the full MNIST.

    True when any of the four files is the sample. Missing or damaged files do
    not count as the sample (this returns False for an empty folder).

    Example:
        >>> from amlhandson.datasets import mnist
        >>> mnist.is_sample("data")  # doctest: +SKIP
        False
    """
    return any(kind == "sample" for kind in _kinds(Path(data_dir)).values())


# --------------------------------------------------------------------------------------
# load() and its cache
# --------------------------------------------------------------------------------------


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
                buf = np.empty(_CHUNK_OUT, dtype=np.float64)
                for start in range(0, flat.size, _CHUNK_OUT):
                    part = flat[start : start + _CHUNK_OUT]
                    out = buf[: part.size]
                    np.divide(part, 255.0, out=out)
                    fh.write(out.data)
            else:
                fh.write(flat.data)
        os.replace(tmp, cfile)
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


def _load_images(
    path: Path, normalize: bool, cache: bool, pending: list[tuple[Path, np.ndarray, bool]]
) -> np.ndarray:
    """Images of ``path``: from the cache if valid, else decoded.

    A cache to write is appended to ``pending`` as ``(cache file, uint8 pixels,
    normalize)``; the caller starts the writes once all arrays are decoded, so
    the background thread does not compete with the decoding.
    """
    dtype = np.dtype(np.float64 if normalize else np.uint8)
    cfile: Path | None = None
    if cache:
        with contextlib.suppress(OSError):
            cfile = _cache_file(path, "f8" if normalize else "u8")
    if cfile is not None:
        _wait_for_cache_writes(cfile)
        arr = _open_cache(cfile, dtype)
        if arr is not None:
            return arr
    header, body = _payload(path, label=False)
    shape = _shape(header)
    keep = cfile is not None and _cache_room(cfile, shape[0] * shape[1] * dtype.itemsize)
    raw = np.empty(shape, dtype=np.uint8) if keep or not normalize else None
    out = np.empty(shape, dtype=np.float64) if normalize else raw
    raw_flat = None if raw is None else raw.reshape(-1)
    out_flat = None if out is None else out.reshape(-1)
    pos = 0
    for piece in body:
        u8 = np.frombuffer(piece, dtype=np.uint8)
        end = pos + len(u8)
        if raw_flat is not None:
            raw_flat[pos:end] = u8
        if normalize:
            np.divide(u8, 255.0, out=out_flat[pos:end])
        pos = end
    assert out is not None
    if keep:
        assert cfile is not None and raw is not None
        if not normalize:
            out = raw.copy()
        pending.append((cfile, raw, normalize))
    return out


def load(
    data_dir: PathLike = "data", *, normalize: bool = True, cache: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``X_train, y_train, X_test, y_test`` exactly as the hands-on builds them.

    Same values, shapes and dtypes as::

        X_train = load_data('./data/train-images.gz', False) / 255.0
        y_train = load_data('./data/train-labels.gz', True).reshape(-1)
        X_test = load_data('./data/test-images.gz', False) / 255.0
        y_test = load_data('./data/test-labels.gz', True).reshape(-1)

    This does not download: call :func:`download` first (it says so if the files
    are missing).

    The image arrays are cached as ``.npy`` files in ``data_dir/.cache`` (about
    440 MB for the full set as float64), written by a background thread after the
    first call returns, and memory-mapped copy-on-write on later calls, so they
    load in milliseconds; changing a ``.gz`` file (size, mtime or inode) makes a
    new cache entry and removes the old one. The returned arrays are plain
    writable ``numpy.ndarray``; writing to them never changes the cache. A damaged
    cache file is ignored and rebuilt. Use ``cache=False`` or :func:`clear_cache`
    to avoid or reclaim the disk space.

    Args:
        data_dir: The folder :func:`download` wrote to.
        normalize: ``True`` (the hands-on): images as float64 in [0, 1].
            ``False``: images as uint8 0-255.
        cache: Use and write the ``.npy`` cache.

    Returns:
        ``X_train (n, 784)``, ``y_train (n,) uint8``, ``X_test (m, 784)``, ``y_test (m,) uint8``.

    Raises:
        MnistFilesMissingError: Files are missing (also a ``FileNotFoundError``).
        DataError: A file is damaged or images and labels do not match.

    Example:
        >>> from amlhandson.datasets import mnist
        >>> X_train, y_train, X_test, y_test = mnist.load("data")  # doctest: +SKIP
        >>> X_train.shape, X_train.dtype, y_test[:5]  # doctest: +SKIP
        ((60000, 784), dtype('float64'), array([7, 2, 1, 0, 4], dtype=uint8))
    """
    folder = Path(data_dir)
    paths = {name: folder / LOCAL_NAMES[name] for name in NAMES}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise MnistFilesMissingError(
            f"{folder} に MNIST のファイル ({', '.join(missing)}) がありません。"
            f" 先に download({os.fspath(data_dir)!r}) (コマンドなら amlhandson data mnist"
            f" --dir {os.fspath(data_dir)}) を実行してください。"
        )
    out: list[np.ndarray] = []
    pending: list[tuple[Path, np.ndarray, bool]] = []
    for split, (img_name, lab_name) in SPLITS.items():
        try:
            X = _load_images(paths[img_name], normalize, cache, pending)
        except _BadIdx as bad:
            raise _data_error(paths[img_name], bad) from None
        try:
            y = _decode(paths[lab_name], True, normalize=False).reshape(-1)
        except _BadIdx as bad:
            raise _data_error(paths[lab_name], bad) from None
        if len(X) != len(y):
            raise DataError(
                f"{paths[img_name].name} の画像 {len(X):,} 枚と {paths[lab_name].name} の"
                f"ラベル {len(y):,} 件の数が合いません ({split})。{_FETCH_HINT}"
            )
        out.extend((X, y))
    for cfile, raw, norm in pending:
        _start_cache_write(cfile, raw, norm)
    return out[0], out[1], out[2], out[3]


def clear_cache(data_dir: PathLike = "data") -> int:
    """Delete the decoded-array cache in ``data_dir/.cache``; return the bytes freed.

    Example:
        >>> from amlhandson.datasets import mnist
        >>> mnist.clear_cache("data")  # doctest: +SKIP
        462720256
    """
    _wait_for_cache_writes()
    cdir = Path(data_dir) / CACHE_DIR
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


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "MNIST をダウンロードし、検証してハンズオンの名前 (train-images.gz など) で保存します。"
            f" ミラーは --mirror、環境変数 {ENV_MIRROR}、公開ミラーの順に試します"
            f" ({ENV_NO_PUBLIC}=1 で公開ミラーを使いません)。"
        ),
    )
    parser.add_argument(
        "--mirror",
        action="append",
        default=[],
        metavar="URL_OR_DIR",
        help=(
            "先に試すミラー (http(s)/file の URL か、元のファイル名で置いたフォルダ)。複数回指定可"
        ),
    )
    parser.add_argument("--dir", default="data", help="保存先フォルダ (既定: data)")
    parser.add_argument("--force", action="store_true", help="検証済みのファイルがあっても取り直す")
    parser.add_argument("--no-progress", action="store_true", help="進捗バーを出さない")
    parser.add_argument(
        "--no-sample",
        action="store_true",
        help="どのミラーも使えないとき、同梱の見本を使わずにエラーにする",
    )
    return parser


def cli_main(argv: list[str] | None = None, *, prog: str = "amlhandson data mnist") -> int:
    """Run ``amlhandson data mnist [--mirror URL_OR_DIR ...] [--dir DIR] [--force] ...``.

    Prints where the files went and whether they are the full set or the sample.
    Returns 0 on success (also when the sample was installed, which is reported),
    1 when no data could be installed (the error is printed without a traceback),
    2 on bad arguments, 130 when interrupted.

    Example:
        >>> from amlhandson.datasets.mnist import cli_main
        >>> cli_main(["--dir", "data", "--mirror", "/media/usb/mnist"])  # doctest: +SKIP
        0
    """
    parser = _build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error
        return exc.code if isinstance(exc.code, int) else 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            paths, kinds = _download(
                args.dir,
                mirrors=args.mirror or None,
                force=args.force,
                progress=not args.no_progress,
                allow_sample=not args.no_sample,
                timeout=DEFAULT_TIMEOUT,
            )
        except (DataError, DownloadError, UserErrorException, OSError) as exc:
            for w in caught:
                print(f"注意: {w.message}", file=sys.stderr)
            print(f"エラー: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("中断しました。", file=sys.stderr)
            return 130
    for w in caught:
        print(f"注意: {w.message}", file=sys.stderr)
    for name in NAMES:
        what = "見本" if kinds[name] == "sample" else "完全"
        print(f"{name:<13} {paths[name].resolve()}  ({what})")
    if any(k == "sample" for k in kinds.values()):
        parts = [
            f"{split} {SAMPLE_EXPECTED[pair[0]].count:,} 枚"
            for split, pair in SPLITS.items()
            if kinds[pair[0]] == "sample"
        ]
        print(f"見本データ (sample: {', '.join(parts)}) です。完全なデータではありません。")
    else:
        print(
            f"完全な MNIST です (train {EXPECTED['train-images'].count:,} 枚 / "
            f"test {EXPECTED['test-images'].count:,} 枚、検証済み)。"
        )
    return 0


if __name__ == "__main__":
    sys.exit(cli_main(prog="python -m amlhandson.datasets.mnist"))
