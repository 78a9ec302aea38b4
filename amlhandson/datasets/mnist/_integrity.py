"""Integrity: the expected checksums, content digests, and the verification stamps.

A file is identified by its *uncompressed* content (IDX header, length and
SHA-256), because gzip bytes differ between mirrors. The expected values are
:data:`settings.EXPECTED <amlhandson.datasets.mnist.settings.EXPECTED>` (the
original distribution) and ``settings.SAMPLE_EXPECTED`` (the bundled sample),
read at call time, so replacing a table affects every check. The sidecar
``.amlhandson-verified.json`` (:class:`_Stamps`) remembers verified files so
that they are not hashed again.

Example:
    >>> settings.EXPECTED["train-images"].count, settings.SAMPLE_EXPECTED["train-images"].count
    (60000, 6000)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path
from typing import Any, NamedTuple

from . import settings
from ._common import Expected
from ._files import _new_temp, _replace
from ._idx import COLS, ROWS, _BadIdx, _is_gzip, _parse_header, _pieces

#: Sidecar in ``data_dir`` remembering which files were verified (size, mtime, inode).
STAMP_FILE = ".amlhandson-verified.json"


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
    full, sample = settings.EXPECTED[name], settings.SAMPLE_EXPECTED[name]
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
            table = settings.EXPECTED
        elif kind == "sample":
            table = settings.SAMPLE_EXPECTED
        else:
            return None
        if entry.get("sha256") != table[name].sha256:
            return None
        return str(kind)

    def record(self, path: Path, name: str, kind: str) -> None:
        table = settings.EXPECTED if kind == "full" else settings.SAMPLE_EXPECTED
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
                _replace(tmp, self.path)
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
