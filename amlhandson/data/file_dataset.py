"""``FileDataset``: a set of files in datastores (or on this machine), as in v1.

Example:
    >>> from amlhandson.core import Dataset
    >>> ds = Dataset.File.from_files((ws.get_default_datastore(), "mnist/*.gz"))  # doctest: +SKIP
    >>> ds.to_path()  # doctest: +SKIP
    ['/t10k-images-idx3-ubyte.gz', ...]
    >>> ds.download(target_path="mnist_copy", overwrite=True)  # doctest: +SKIP
    >>> with ds.mount() as mount:  # doctest: +SKIP
    ...     print(os.listdir(mount.mount_point))
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .abstract_dataset import AbstractDataset

__all__ = ["FileDataset", "MountContext"]


class FileDataset(AbstractDataset):
    """Files selected by paths and globs; downloaded or mounted when used.

    Example:
        >>> train, test = ds.random_split(0.8, seed=1)  # doctest: +SKIP
    """

    _KIND = "file"

    def to_path(self) -> list[str]:
        """The selected files' relative names, as v1 showed them (``/name``).

        Example:
            >>> ds.to_path()  # doctest: +SKIP
            ['/train-images.gz', ...]
        """
        return ["/" + item.rel for item in self._selected()]

    def download(self, target_path: str | os.PathLike[str] | None = None,
                 overwrite: bool = False, show_progress: bool = True) -> list[str]:
        """Copy the files below ``target_path`` (a new temporary folder by default).

        Returns the local paths. Existing files are kept unless ``overwrite=True``.

        Example:
            >>> ds.download("mnist_copy", overwrite=True)  # doctest: +SKIP
            ['mnist_copy/train-images.gz', ...]
        """
        target = Path(target_path) if target_path is not None else Path(tempfile.mkdtemp())
        written = self._download_to(target, overwrite, show_progress)
        return [str(p) for p in written]

    def mount(self, mount_point: str | os.PathLike[str] | None = None,
              **_: Any) -> MountContext:
        """A folder showing the files without copying them (links to them, or copies where
        links are not possible); use it with ``with``.

        Example:
            >>> with ds.mount() as mount:  # doctest: +SKIP
            ...     files = os.listdir(mount.mount_point)
        """
        return MountContext(self, Path(mount_point) if mount_point else None)

    def _view(self, target: Path) -> list[Path]:
        """Put links to (or copies of) the files below ``target``."""
        return self._download_to(target, overwrite=True, show_progress=False, link=True)


class MountContext:
    """What ``FileDataset.mount()`` returns: ``start()``, ``stop()``, ``mount_point``.

    Example:
        >>> ctx = ds.mount(); ctx.start(); ctx.stop()  # doctest: +SKIP
    """

    def __init__(self, dataset: FileDataset, mount_point: Path | None) -> None:
        self._dataset = dataset
        self._given = mount_point
        self._point: Path | None = None
        self._made = False

    @property
    def mount_point(self) -> str:
        """The folder holding the files (after :meth:`start`)."""
        if self._point is None:
            self.start()
        return str(self._point)

    def start(self) -> None:
        """Make the files visible at :attr:`mount_point`."""
        if self._point is not None:
            return
        if self._given is None:
            self._point = Path(tempfile.mkdtemp(prefix="amlhandson-mount-"))
            self._made = True
        else:
            self._point = self._given
            self._point.mkdir(parents=True, exist_ok=True)
        self._dataset._view(self._point)

    def stop(self) -> None:
        """Remove the folder made by :meth:`start` (the files themselves stay)."""
        if self._point is not None and self._made:
            shutil.rmtree(self._point, ignore_errors=True)
        self._point = None

    def __enter__(self) -> MountContext:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
