"""Where a datastore's files are: a folder on this machine, or an fsspec URL.

Both backends take *store paths*: relative POSIX paths checked by
:func:`clean_path`, so that no path can leave the datastore (no ``..``, no
absolute paths, no NUL; in a folder, no link that leads outside it).

Example:
    >>> import tempfile, pathlib
    >>> store = FolderBackend(pathlib.Path(tempfile.mkdtemp()))
    >>> src = pathlib.Path(tempfile.mkdtemp()) / "a.txt"; _ = src.write_text("x")
    >>> store.put(src, "mnist/a.txt", overwrite=False)
    True
    >>> [f.path for f in store.list("mnist")]
    ['mnist/a.txt']
    >>> clean_path("../etc/passwd")
    Traceback (most recent call last):
    ...
    amlhandson.exceptions.ArtifactPathError: データストアのパス '../etc/passwd' はデータストアの外を指しています ('..' は使えません)。'mnist/train' のような相対パスにしてください。
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _atomic
from ..core import _artifacts
from ..exceptions import ArtifactNotFoundError, ArtifactPathError, UserErrorException

__all__ = ["StoredFile", "Backend", "FolderBackend", "FsspecBackend", "clean_path"]


def clean_path(path: Any, what: str = "データストアのパス") -> str:
    """``path`` as a normalised relative POSIX path inside a datastore ('' is its root).

    Example:
        >>> clean_path("./mnist//train/"), clean_path(None), clean_path("/")
        ('mnist/train', '', '')
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise UserErrorException(f"{what} には文字列を指定してください ({type(path).__name__} "
                                 "が渡されました)。")
    _artifacts.check_text(path, what)
    text = path.replace("\\", "/")
    if len(text) > 1 and text[1] == ":":
        raise ArtifactPathError(f"{what} {path!r} はドライブ付きの絶対パスです。データストアの中の"
                                "相対パス ('mnist/train' など) にしてください。")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArtifactPathError(f"{what} {path!r} はデータストアの外を指しています ('..' は"
                                "使えません)。'mnist/train' のような相対パスにしてください。")
    if any(p.startswith(_atomic.TEMP_PREFIX) for p in parts):
        raise ArtifactPathError(f"{what} {path!r} は使えません ({_atomic.TEMP_PREFIX!r} で始まる"
                                "名前は書き込み途中の一時ファイル用です)。")
    return "/".join(parts)


@dataclass(frozen=True)
class StoredFile:
    """One file in a datastore: store path, size in bytes, modification time (ns).

    Example:
        >>> StoredFile("mnist/a.gz", 10, 0).name
        'a.gz'
    """

    path: str
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        """The file's name without its folders."""
        return self.path.rpartition("/")[2]


class Backend:
    """What a datastore needs from the place its files live.

    Example:
        >>> Backend().local_root() is None
        True
    """

    def local_root(self) -> Path | None:
        """The folder on this machine holding the files, or ``None`` (remote)."""
        return None

    def describe(self) -> str:
        """Where the files are, for messages."""
        raise NotImplementedError

    def locate(self, path: str) -> Path:
        """The local path of store path ``path`` (links may not lead outside the root).

        Only for backends with a :meth:`local_root`.
        """
        root = self.local_root()
        if root is None:
            raise UserErrorException(f"{self.describe()} はこのマシンのフォルダーではありません。")
        path = clean_path(path)
        if not path:
            return root
        root.mkdir(parents=True, exist_ok=True)
        return _artifacts.resolve(root, path)[1]

    def list(self, prefix: str = "") -> list[StoredFile]:
        """Every file at or below ``prefix``, sorted by path."""
        raise NotImplementedError

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a folder."""
        raise NotImplementedError

    def put(self, source: Path, path: str, overwrite: bool) -> bool:
        """Copy the local file ``source`` to ``path``; False if it exists and not ``overwrite``."""
        raise NotImplementedError

    def get(self, path: str, target: Path) -> None:
        """Copy the file at ``path`` to the local file ``target`` (atomically)."""
        raise NotImplementedError

    def open(self, path: str) -> Any:
        """A binary file object for reading ``path``."""
        raise NotImplementedError


class FolderBackend(Backend):
    """Files in a folder on this machine (the default datastore, registered folders).

    Example:
        >>> FolderBackend(Path("/data")).describe()
        '/data'
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def local_root(self) -> Path:
        return self.root

    def describe(self) -> str:
        return str(self.root)

    def list(self, prefix: str = "") -> list[StoredFile]:
        prefix = clean_path(prefix)
        start = self.locate(prefix)
        if not start.exists():
            return []
        if start.is_file():
            st = start.stat()
            return [StoredFile(prefix, st.st_size, st.st_mtime_ns)]
        found = []
        for rel, path in _artifacts.walk(start):
            st = path.stat()
            found.append(StoredFile(f"{prefix}/{rel}" if prefix else rel, st.st_size,
                                    st.st_mtime_ns))
        return sorted(found, key=lambda f: f.path)

    def is_dir(self, path: str) -> bool:
        return self.locate(path).is_dir()

    def put(self, source: Path, path: str, overwrite: bool) -> bool:
        if not clean_path(path):
            raise ArtifactPathError("アップロード先のファイル名が空です。")
        target = self.locate(path)
        if target.exists() and not overwrite:
            return False
        if target.is_dir():
            raise ArtifactPathError(f"データストアの {path!r} はフォルダーなので、ファイルで"
                                    "置き換えられません。")
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic.copy_file(source, target)
        return True

    def get(self, path: str, target: Path) -> None:
        source = self.locate(path)
        try:
            mode = source.stat().st_mode
        except FileNotFoundError:
            raise ArtifactNotFoundError(f"データストア {self.root} に {path!r} がありません。") \
                from None
        if not stat.S_ISREG(mode):
            raise ArtifactPathError(f"データストアの {path!r} は普通のファイルではありません。")
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic.copy_file(source, target)

    def open(self, path: str) -> Any:
        return open(self.locate(path), "rb")


class FsspecBackend(Backend):
    """Files behind an fsspec URL (``file://``, ``memory://``, or any protocol installed).

    Example:
        >>> FsspecBackend("memory://bucket/data").describe()
        'memory://bucket/data'
    """

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        self.url = url.rstrip("/")
        self.storage_options = dict(storage_options or {})
        self._fs: Any = None
        self._base = ""

    def _filesystem(self) -> tuple[Any, str]:
        if self._fs is None:
            try:
                import fsspec
            except ImportError:
                raise UserErrorException(
                    f"データストア {self.url} を使うには fsspec が必要です: "
                    "pip install 'amlhandson[data]'"
                ) from None
            try:
                self._fs, self._base = fsspec.core.url_to_fs(self.url, **self.storage_options)
            except (ImportError, ValueError) as exc:
                raise UserErrorException(
                    f"URL {self.url} のファイルシステムを開けませんでした ({exc})。プロトコルに"
                    "必要なパッケージ (s3fs、adlfs など) が入っているか確認してください。"
                ) from exc
            self._base = self._base.rstrip("/")
        return self._fs, self._base

    def local_root(self) -> Path | None:
        fs, base = self._filesystem()
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        return Path(base) if protocol in ("file", "local") else None

    def describe(self) -> str:
        return self.url

    def _full(self, path: str) -> str:
        _fs, base = self._filesystem()
        path = clean_path(path)
        return f"{base}/{path}" if path else base

    def list(self, prefix: str = "") -> list[StoredFile]:
        fs, base = self._filesystem()
        start = self._full(prefix)
        if not fs.exists(start):
            return []
        if fs.isfile(start):
            infos = {start: fs.info(start)}
        else:
            infos = fs.find(start, detail=True)
        found = []
        for full, info in infos.items():
            rel = full.replace("\\", "/")
            rel = rel[len(base):].lstrip("/") if rel.startswith(base) else rel
            mtime = info.get("mtime") or info.get("created") or 0
            if hasattr(mtime, "timestamp"):
                mtime = mtime.timestamp()
            found.append(StoredFile(rel, int(info.get("size") or 0), int(float(mtime) * 1e9)))
        return sorted(found, key=lambda f: f.path)

    def is_dir(self, path: str) -> bool:
        fs, _base = self._filesystem()
        return bool(fs.isdir(self._full(path)))

    def put(self, source: Path, path: str, overwrite: bool) -> bool:
        fs, _base = self._filesystem()
        if not clean_path(path):
            raise ArtifactPathError("アップロード先のファイル名が空です。")
        full = self._full(path)
        if fs.exists(full) and not overwrite:
            return False
        parent = full.rpartition("/")[0]
        if parent:
            fs.makedirs(parent, exist_ok=True)
        fs.put_file(os.fspath(source), full)
        return True

    def get(self, path: str, target: Path) -> None:
        fs, _base = self._filesystem()
        full = self._full(path)
        if not fs.exists(full):
            raise ArtifactNotFoundError(f"データストア {self.url} に {path!r} がありません。")
        target.parent.mkdir(parents=True, exist_ok=True)
        with fs.open(full, "rb") as src:
            _atomic.copy_stream(src, target)

    def open(self, path: str) -> Any:
        fs, _base = self._filesystem()
        return fs.open(self._full(path), "rb")
