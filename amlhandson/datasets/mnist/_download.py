"""Download orchestration: reuse verified files, try each mirror, fall back to the sample.

Public: :func:`download` and :func:`is_sample`. The steps of one call are:
lock ``data_dir`` (:mod:`._lock`), classify the files already there
(:mod:`._integrity`), fetch what is missing or damaged from the mirrors in
order (:mod:`._mirrors`), install the bundled sample for splits no mirror
could deliver (:mod:`._sample`), and explain any fallback in a warning or error.

Example:
    >>> import tempfile
    >>> is_sample(tempfile.mkdtemp())
    False
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from amlhandson.exceptions import DownloadError, UserErrorException

from . import _location, _lock, settings
from ._common import (
    LOCAL_NAMES,
    NAMES,
    REMOTE_NAMES,
    SPLITS,
    MnistSampleWarning,
    MnistWarning,
    PathLike,
)
from ._files import _remove_stale_temps, _replace
from ._integrity import _Stamps, _state
from ._mirrors import (
    ENV_MIRROR,
    ENV_NO_PUBLIC,
    _fetch,
    _Mirror,
    _MirrorFailure,
    _resolve_mirrors,
    _truthy,
)
from ._sample import _install_sample


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
    with _lock._dir_lock(folder, settings.LOCK_TIMEOUT):
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
            f"{split} {settings.SAMPLE_EXPECTED[SPLITS[split][0]].count:,} 枚 "
            f"(本来は {settings.EXPECTED[SPLITS[split][0]].count:,} 枚)"
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
    data_dir: PathLike | None = None,
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
        data_dir: Folder to write to (created if needed). Default: the course's one
            MNIST folder, :func:`data_dir` (``~/.amlhandson/datasets/mnist``).
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
        >>> paths = mnist.download()  # doctest: +SKIP
        >>> paths = mnist.download(mirrors="/media/usb/mnist")  # doctest: +SKIP
        >>> paths = mnist.download("data", mirrors="http://192.168.0.10:8000/")  # doctest: +SKIP
        >>> mnist.is_sample()  # doctest: +SKIP
        False
    """
    paths, _kinds = _download(
        _location.data_dir() if data_dir is None else data_dir,
        mirrors=mirrors,
        force=force,
        progress=progress,
        allow_sample=allow_sample,
        timeout=settings.DEFAULT_TIMEOUT,
    )
    return paths


def is_sample(data_dir: PathLike | None = None) -> bool:
    """Tell whether ``data_dir`` holds the bundled sample instead of the full MNIST.

    True when any of the four files is the sample. Missing or damaged files do
    not count as the sample (this returns False for an empty folder).

    Example:
        >>> from amlhandson.datasets import mnist
        >>> mnist.is_sample("data")  # doctest: +SKIP
        False
    """
    folder = _location.data_dir() if data_dir is None else Path(data_dir)
    return any(kind == "sample" for kind in _location._kinds(folder).values())
