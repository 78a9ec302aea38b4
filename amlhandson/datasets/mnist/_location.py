"""Where the course keeps MNIST: one folder for notebooks, the CLI and ``amlhandson course``.

The 2019 hands-on saved the files in ``./data`` next to the notebook, so a
second copy appeared wherever a notebook or command ran. Here every caller
uses :func:`data_dir`, ``$AMLHANDSON_HOME/datasets/mnist`` (by default
``~/.amlhandson/datasets/mnist``), whatever folder it runs in: data fetched by
``amlhandson data mnist`` in a terminal is the data the notebooks read.
:func:`status` says whether that folder holds the full set, the bundled
sample, or nothing yet.

Example:
    >>> data_dir().relative_to(_paths.home()).as_posix()
    'datasets/mnist'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ... import _paths
from ..._display import display_path
from ._common import LOCAL_NAMES, NAMES, PathLike
from ._integrity import _Stamps, _state

__all__ = ["data_dir", "status", "MnistStatus"]


def data_dir() -> Path:
    """The course's MNIST folder: ``$AMLHANDSON_HOME/datasets/mnist`` (``~/.amlhandson/...``).

    Example:
        >>> data_dir().name
        'mnist'
    """
    return _paths.home() / "datasets" / "mnist"


@dataclass(frozen=True)
class MnistStatus:
    """What a MNIST folder holds: ``kind`` is ``full``, ``sample``, ``missing`` or ``damaged``.

    Example:
        >>> print(MnistStatus(Path.home() / "m", "sample", {}))
        見本 (sample: 訓練 6,000 枚 / テスト 1,000 枚) ~/m
    """

    folder: Path
    kind: str
    files: dict[str, str]

    @property
    def label(self) -> str:
        """The kind in words, e.g. ``フルセット (訓練 60,000 枚 / テスト 10,000 枚)``."""
        from . import settings

        if self.kind in ("full", "sample"):
            table = settings.EXPECTED if self.kind == "full" else settings.SAMPLE_EXPECTED
            counts = (f"訓練 {table['train-images'].count:,} 枚 / "
                      f"テスト {table['test-images'].count:,} 枚")
            return f"フルセット ({counts})" if self.kind == "full" else f"見本 (sample: {counts})"
        return {"missing": "まだありません", "damaged": "壊れたファイルがあります"}[self.kind]

    def __str__(self) -> str:
        return f"{self.label} {display_path(self.folder)}"


def _kinds(folder: Path) -> dict[str, str]:
    """``full``, ``sample``, ``missing`` or ``corrupt`` for each of the four files in ``folder``."""
    stamps = _Stamps(folder)
    return {name: _state(folder / LOCAL_NAMES[name], name, stamps)[0] for name in NAMES}


def status(folder: PathLike | None = None) -> MnistStatus:
    """Look at ``folder`` (default :func:`data_dir`) without downloading anything.

    ``sample`` when any file is the bundled sample, ``damaged`` when a file does
    not verify, ``missing`` when a file is absent, else ``full``.

    Example:
        >>> import tempfile
        >>> status(tempfile.mkdtemp()).kind
        'missing'
    """
    where = Path(folder) if folder is not None else data_dir()
    kinds = _kinds(where) if where.is_dir() else {name: "missing" for name in NAMES}
    values = set(kinds.values())
    if "corrupt" in values:
        kind = "damaged"
    elif "sample" in values:
        kind = "sample"
    elif "missing" in values:
        kind = "missing"
    else:
        kind = "full"
    return MnistStatus(where, kind, dict(kinds))
