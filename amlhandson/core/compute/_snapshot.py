"""The snapshot of a submitted run's ``source_directory``: a zip, with v1's ignore rules and limits.

* ``.amlignore`` (if present, else ``.gitignore``) of the source directory is
  honoured, with git's pattern syntax (read by ``pathspec``); ``.amlignore``
  wins over ``.gitignore``, as in v1.
* Always left out, as in v1: ``.ipynb_checkpoints``, ``azureml-logs``,
  ``.azureml``, ``.git``, ``outputs``, ``azureml-setup``, ``docs``, plus
  ``__pycache__`` and ``.venv``.
* Limits (v1's): 300 MB and 2,000 files; past them a clear error says what is
  big and how to leave it out.

The zip's SHA-256 is the snapshot id (equal sources give the same id, so a
workspace keeps each distinct snapshot once).

Example:
    >>> snap = make_snapshot("scripts")  # doctest: +SKIP
    >>> snap.files, len(snap.data) > 0  # doctest: +SKIP
    (['train.py'], True)
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ...exceptions import SnapshotException

__all__ = ["Snapshot", "make_snapshot", "MAX_BYTES", "MAX_FILES", "ALWAYS_IGNORED"]

MAX_BYTES = 300 * 1024 * 1024
MAX_FILES = 2000
ALWAYS_IGNORED = (".ipynb_checkpoints", "azureml-logs", ".azureml", ".git", "outputs",
                  "azureml-setup", "docs", "__pycache__", ".venv")


@dataclass
class Snapshot:
    """A zipped copy of a folder: its bytes, id (SHA-256) and file names."""

    data: bytes
    id: str
    files: list[str]
    size: int


def _spec(folder: Path) -> object | None:
    for name in (".amlignore", ".gitignore"):
        path = folder / name
        if path.is_file():
            import pathspec

            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            return pathspec.GitIgnoreSpec.from_lines(lines)
    return None


def _walk(folder: Path, spec: object | None) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        rel_root = Path(root).relative_to(folder)
        keep = []
        for d in sorted(dirs):
            rel = (rel_root / d).as_posix()
            if d in ALWAYS_IGNORED or (spec is not None and spec.match_file(rel + "/")):
                continue
            keep.append(d)
        dirs[:] = keep
        for n in sorted(names):
            rel = (rel_root / n).as_posix()
            path = Path(root) / n
            if spec is not None and spec.match_file(rel):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(folder.resolve()):
                continue  # never copy what a link outside the folder points to
            files.append(path)
    return files


def make_snapshot(source_directory: str | os.PathLike[str], max_bytes: int = MAX_BYTES,
                  max_files: int = MAX_FILES) -> Snapshot:
    """Zip ``source_directory`` (ignore rules and limits above); raise ``SnapshotException`` if too big.

    Example:
        >>> make_snapshot("no-such-folder")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        amlhandson.exceptions.SnapshotException: ...
    """
    folder = Path(source_directory).expanduser()
    if not folder.is_dir():
        raise SnapshotException(f"source_directory {str(source_directory)!r} はフォルダーではありません。")
    files = _walk(folder, _spec(folder))
    if len(files) > max_files:
        raise SnapshotException(
            f"Snapshot is too large: source_directory {str(folder)!r} には {len(files):,} 個のファイル"
            f"があります (上限 {max_files:,} 個)。スクリプトだけを入れたフォルダーを source_directory "
            "にするか、要らないファイルを .amlignore に書いてください (書き方は .gitignore と同じ)。")
    sizes = [(p.stat().st_size, p) for p in files]
    total = sum(s for s, _ in sizes)
    if total > max_bytes:
        biggest = ", ".join(f"{p.relative_to(folder).as_posix()} ({s / 1e6:.1f} MB)"
                            for s, p in sorted(sizes, reverse=True)[:3])
        raise SnapshotException(
            f"Snapshot is too large: source_directory {str(folder)!r} は {total / 1e6:.1f} MB です "
            f"(上限 {max_bytes / 1e6:.0f} MB)。大きいファイル: {biggest}。データはスナップショットに"
            "入れず、.amlignore に書いて除外し、スクリプトの引数でデータの場所を渡してください。")
    buf = io.BytesIO()
    names = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in files:
            rel = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))  # same content, same id
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (path.stat().st_mode & 0o777) << 16
            zf.writestr(info, path.read_bytes())
            names.append(rel)
    data = buf.getvalue()
    return Snapshot(data, hashlib.sha256(data).hexdigest(), names, total)
