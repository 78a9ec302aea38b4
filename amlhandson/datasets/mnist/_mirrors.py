"""Mirrors: parsing ``mirrors=`` and the environment, fetching one file from a URL or folder.

A mirror is an ``http``/``https``/``file`` URL or a folder holding the
original file names. :func:`_fetch` puts one file into a temp file in
``data_dir`` and verifies it (full MNIST only) before handing it back; any
problem is a :class:`_MirrorFailure` whose ``dead`` flag says the whole mirror
is unreachable. Also the progress bar shown while copying.

Example:
    >>> _parse_mirror("http://192.168.0.10:8000").url
    'http://192.168.0.10:8000/'
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlhandson._atomic import is_disk_full, space_for
from amlhandson.exceptions import UserErrorException

from . import settings
from ._common import LOCAL_NAMES, REMOTE_NAMES, PathLike
from ._files import _new_temp
from ._idx import _BadIdx, _is_gzip, _parse_header
from ._integrity import _classify

#: Environment variable with extra mirrors (see the module docstring for the syntax).
ENV_MIRROR = "AMLHANDSON_MNIST_MIRROR"
#: Environment variable that, when ``1``/``true``/``yes``/``on``, skips the public mirrors.
ENV_NO_PUBLIC = "AMLHANDSON_MNIST_NO_PUBLIC"

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
        items.extend(settings.PUBLIC_MIRRORS)
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


def _check_speed(got: int, elapsed: float) -> None:
    """Give up on a transfer that takes too long or has become too slow to finish."""
    if elapsed > settings.FILE_DEADLINE:
        raise _MirrorFailure(f"{settings.FILE_DEADLINE:g} 秒たっても終わりません "
                             f"({got:,} バイト受信)", dead=True)
    if elapsed > settings.MIN_RATE_AFTER and got / elapsed < settings.MIN_RATE:
        raise _MirrorFailure(f"転送が遅すぎます (平均 {got / elapsed:,.0f} バイト/秒)", dead=True)


def _fetch_url(
    url: str, dest: Path, *, timeout: float, progress: bool, desc: str, limit: int
) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": settings.USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as out:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            got = 0
            started = time.monotonic()
            bar = _bar(total, desc, progress)
            try:
                while True:
                    # read1 returns what has arrived, so a mirror that drips one byte at a
                    # time cannot keep us inside one read past the checks below.
                    chunk = resp.read1(1 << 16)
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > limit:
                        raise _MirrorFailure(f"{limit:,} バイトを超えても終わりません")
                    out.write(chunk)
                    bar.update(len(chunk))
                    _check_speed(got, time.monotonic() - started)
            finally:
                bar.close()
            if total is not None and got != total:
                raise _MirrorFailure(f"転送が途中で切れました ({got:,} / {total:,} バイト)")
    except _MirrorFailure:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if is_disk_full(exc):
            raise  # our disk, not the mirror: _fetch says so
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
        if is_disk_full(exc):
            raise  # our disk, not the mirror: _fetch says so
        raise _MirrorFailure(f"{src} を読めません ({exc})") from None


def _gzip_file(src: Path, dst: Path) -> None:
    """Compress ``src`` into ``dst`` (gzip, no name, mtime 0)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(1 << 20):
            fout.write(comp.compress(chunk))
        fout.write(comp.flush())


def _fetch(mirror: _Mirror, name: str, folder: Path, *, timeout: float, progress: bool) -> Path:
    """Fetch ``name`` from ``mirror`` into a verified temp file in ``folder``.

    A full disk raises :class:`~amlhandson.exceptions.DiskFullError` at once (no
    other mirror can help with that), and the temp files are removed.
    """
    with space_for(folder / LOCAL_NAMES[name]):
        return _fetch_into(mirror, name, folder, timeout=timeout, progress=progress)


def _fetch_into(
    mirror: _Mirror, name: str, folder: Path, *, timeout: float, progress: bool
) -> Path:
    local = LOCAL_NAMES[name]
    full, sample = settings.EXPECTED[name], settings.SAMPLE_EXPECTED[name]
    limit = 2 * max(full.size, sample.size) + (1 << 20)
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
                f"見本 (sample, {sample.count:,} 件) で、完全なデータではありません"
            )
        ok = True
        return tmp
    finally:
        for p in (extra, None if ok else tmp):
            if p is not None:
                with contextlib.suppress(OSError):
                    p.unlink()
