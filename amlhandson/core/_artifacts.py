"""Files kept in a folder of the workspace (a run's files, a model's content).

One rule decides which names are allowed and where they land
(:func:`resolve`); one walker decides which entries of a local folder are
copied (:func:`walk`): regular files, and links that stay inside the folder.
Links that lead outside it, pipes, sockets and devices are skipped with a
:class:`~amlhandson.exceptions.SkippedFilesWarning` that lists them. Files are
copied in chunks (a 2 GB file is never read into memory) to a temporary name,
then renamed, so nobody sees half a file.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> resolve(root, "./outputs//model.pkl")[0]
    'outputs/model.pkl'
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .. import _atomic
from ..exceptions import ArtifactNotFoundError, ArtifactPathError, SkippedFilesWarning

__all__ = ["resolve", "store_file", "store_stream", "entries", "walk", "list_files",
           "check_text"]


def check_text(value: str, what: str) -> str:
    """Refuse text that cannot be stored (a NUL or a lone surrogate) with a clear message.

    Example:
        >>> check_text("accuracy", "名前")
        'accuracy'
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ArtifactPathError(
            f"{what} {value!r} に保存できない文字 (対になっていないサロゲート "
            f"{value[exc.start]!r}) があります。文字列を確認してください。"
        ) from None
    if "\0" in value:
        raise ArtifactPathError(f"{what} {value!r} に NUL 文字があります。")
    return value


def resolve(root: Path, name: Any) -> tuple[str, Path]:
    """``(normalised name, path)`` of file ``name`` inside ``root``; refuses names that leave it.

    Example:
        >>> resolve(root, "../etc/passwd")  # doctest: +SKIP
        Traceback (most recent call last):
        ArtifactPathError: ...
    """
    if not isinstance(name, str) or not name.strip():
        raise ArtifactPathError(f"ファイル名 {name!r} は使えません。'outputs/model.pkl' のような"
                                "相対パスを指定してください。")
    check_text(name, "ファイル名")
    clean = name.replace("\\", "/")
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        raise ArtifactPathError(
            f"ファイル名 {name!r} は絶対パスです。Run の中での名前は 'outputs/model.pkl' のような"
            "相対パスにしてください。"
        )
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ArtifactPathError(
            f"ファイル名 {name!r} はフォルダーの外を指しています ('..' は使えません)。"
        )
    if any(p.startswith(_atomic.TEMP_PREFIX) for p in parts):
        raise ArtifactPathError(
            f"ファイル名 {name!r} は使えません ({_atomic.TEMP_PREFIX!r} で始まる名前は"
            "書き込み途中の一時ファイル用です)。別の名前にしてください。"
        )
    norm = "/".join(parts)
    base = root.resolve()
    target = base.joinpath(*parts)
    resolved = target.resolve()
    if resolved != base and base not in resolved.parents:
        raise ArtifactPathError(f"ファイル名 {norm!r} はフォルダーの外を指しています"
                                "(リンクをたどると外に出ます)。")
    return norm, target


def store_stream(root: Path, name: str, stream: IO[Any]) -> str:
    """Store the content of a binary (or text) stream as ``name``; return the normalised name."""
    norm, target = resolve(root, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic.copy_stream(stream, target)
    return norm


def store_file(root: Path, name: str, source: str | os.PathLike[str], what: str) -> str:
    """Copy the regular file ``source`` in as ``name``; return the normalised name.

    ``what`` names the call in error messages (e.g. ``"upload_file('x', 'y')"``).
    """
    src = Path(source)
    try:
        mode = src.stat().st_mode
    except FileNotFoundError:
        raise ArtifactNotFoundError(
            f"{what}: ファイル {str(source)!r} がありません。パスを確認してください。"
        ) from None
    if stat.S_ISDIR(mode):
        raise ArtifactPathError(f"{what}: {str(source)!r} はフォルダーです。フォルダーごと"
                                "アップロードするには upload_folder を使ってください。")
    if not stat.S_ISREG(mode):
        raise ArtifactPathError(f"{what}: {str(source)!r} は普通のファイルではありません "
                                "(パイプやデバイス)。内容をファイルに保存してから渡してください。")
    norm, target = resolve(root, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic.copy_file(src, target)
    return norm


def entries(folder: Path) -> list[tuple[str, Path, bool]]:
    """``(relative name, path, is_folder)`` below ``folder``, sorted, by the copy rule.

    Regular files and folders are included; links are not followed out of
    ``folder``, links to files inside it are included, links to folders are not
    followed (their content is reached directly). Everything skipped is listed in
    one :class:`~amlhandson.exceptions.SkippedFilesWarning`.

    Example:
        >>> entries(root)  # doctest: +SKIP
        [('model.pkl', PosixPath('.../model.pkl'), False)]
    """
    base = folder.resolve()
    skipped: list[str] = []
    found: list[tuple[str, Path, bool]] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                target = (here / d).resolve()
                if target != base and base not in target.parents:
                    skipped.append(f"{(here / d).relative_to(folder).as_posix()}/ (外へのリンク)")
        dirnames.sort()
        found += [((here / d).relative_to(folder).as_posix(), here / d, True) for d in dirnames]
        for fname in sorted(filenames):
            path = here / fname
            rel = path.relative_to(folder).as_posix()
            if fname.startswith(_atomic.TEMP_PREFIX):
                continue
            if path.is_symlink():
                target = path.resolve()
                if target != base and base not in target.parents:
                    skipped.append(f"{rel} (外へのリンク)")
                    continue
            try:
                mode = path.stat().st_mode
            except FileNotFoundError:  # a dangling link, or removed meanwhile
                skipped.append(f"{rel} (リンク先がない)")
                continue
            if not stat.S_ISREG(mode):
                skipped.append(f"{rel} (パイプ・デバイスなど)")
                continue
            found.append((rel, path, False))
    if skipped:
        listing = ", ".join(skipped[:10]) + (f" ほか {len(skipped) - 10} 件" if len(skipped) > 10
                                             else "")
        warnings.warn(SkippedFilesWarning(
            f"{folder} の次の項目はコピーしませんでした: {listing}。フォルダーの外を指すリンクや"
            "普通のファイルでないものは含めません。必要なら実体をフォルダーにコピーしてください。"
        ), stacklevel=3)
    return sorted(found)


def walk(folder: Path) -> Iterator[tuple[str, Path]]:
    """``(relative name, path)`` of every regular file below ``folder`` (see :func:`entries`).

    Example:
        >>> list(walk(root))  # doctest: +SKIP
        [('model.pkl', PosixPath('.../model.pkl'))]
    """
    return iter([(rel, path) for rel, path, is_dir in entries(folder) if not is_dir])


def list_files(root: Path) -> list[str]:
    """Every stored file below ``root`` as sorted relative names (temporary files excluded).

    Example:
        >>> list_files(root)  # doctest: +SKIP
        ['outputs/model.pkl']
    """
    if not root.is_dir():
        return []
    names = []
    for dirpath, _dirs, filenames in os.walk(root):
        here = Path(dirpath)
        names += [(here / f).relative_to(root).as_posix() for f in filenames
                  if not f.startswith(_atomic.TEMP_PREFIX)]
    return sorted(names)
