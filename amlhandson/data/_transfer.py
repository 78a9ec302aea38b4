"""Copying many files into or out of a datastore, with a progress bar and a summary.

A progress bar (``tqdm.auto``: a widget in JupyterLab, text in a terminal)
appears when ``show_progress`` is on and there is more than one file. Files
that exist at the target are skipped unless ``overwrite`` (v1's rule) and
counted in the summary line.

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson.data._backends import FolderBackend
    >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "a.txt").write_text("x")
    >>> store = FolderBackend(pathlib.Path(tempfile.mkdtemp()))
    >>> upload(store, [(src / "a.txt", "d/a.txt")], overwrite=False, show_progress=False)
    (1, 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._backends import Backend, clean_path

__all__ = ["upload", "download", "PROGRESS_MIN_FILES"]

#: Fewest files for which a progress bar is shown.
PROGRESS_MIN_FILES = 2


def _bar(total: int, show: bool, desc: str) -> Any:
    if not show or total < PROGRESS_MIN_FILES:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="file", leave=True)


def upload(backend: Backend, pairs: Sequence[tuple[Path, str]], *, overwrite: bool,
           show_progress: bool) -> tuple[int, int]:
    """Copy ``(local file, store path)`` pairs into ``backend``; return (copied, skipped).

    Example:
        >>> upload(store, [], overwrite=False, show_progress=True)  # doctest: +SKIP
        (0, 0)
    """
    bar = _bar(len(pairs), show_progress, "Uploading")
    copied = skipped = 0
    try:
        for source, path in pairs:
            if backend.put(source, clean_path(path), overwrite):
                copied += 1
            else:
                skipped += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if show_progress:
        note = (f" (既にあった {skipped} 個はそのまま。置き換えるには overwrite=True)"
                if skipped else "")
        print(f"Uploaded {copied} files{note}")
    return copied, skipped


def download(backend: Backend, paths: Sequence[str], target: Path, *, strip: str = "",
             overwrite: bool, show_progress: bool) -> tuple[list[Path], int]:
    """Copy store ``paths`` below the local folder ``target``; return (local paths, skipped).

    ``strip`` is a folder prefix removed from each store path first.

    Example:
        >>> download(store, ["d/a.txt"], Path("copy"), overwrite=False,
        ...          show_progress=False)  # doctest: +SKIP
        ([PosixPath('copy/d/a.txt')], 0)
    """
    from ..core import _artifacts

    bar = _bar(len(paths), show_progress, "Downloading")
    written: list[Path] = []
    skipped = 0
    target.mkdir(parents=True, exist_ok=True)
    try:
        for path in paths:
            rel = path[len(strip):].lstrip("/") if strip and path.startswith(strip) else path
            local = _artifacts.resolve(target, rel or Path(path).name)[1]
            if local.exists() and not overwrite:
                skipped += 1
            else:
                backend.get(path, local)
            written.append(local)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if show_progress:
        note = (f" (既にあった {skipped} 個はそのまま。置き換えるには overwrite=True)"
                if skipped else "")
        print(f"Downloaded {len(paths) - skipped} files{note}")
    return written, skipped
