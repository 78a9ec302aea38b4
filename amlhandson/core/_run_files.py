"""The files half of ``Run``: uploading, listing and downloading the run's files.

A mixin of :class:`amlhandson.core.run.Run`; the rules for names, links and
special files are in :mod:`amlhandson.core._artifacts`.

Example:
    >>> run.upload_file("outputs/model.pkl", "model.pkl")  # doctest: +SKIP
    'outputs/model.pkl'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import _atomic
from ..exceptions import ArtifactNotFoundError, UserErrorException
from . import _artifacts

__all__ = ["RunFiles"]


class RunFiles:
    """File handling for a run.

    Needs ``id`` and ``local_path`` (the run's folder) from the class it is mixed into.

    Example:
        >>> run.get_file_names()  # doctest: +SKIP
        ['outputs/model.pkl']
    """

    id: str
    local_path: Path

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: Any = None) -> str:
        """Store a file (or a binary stream) as run file ``name``; return the stored name.

        Example:
            >>> run.upload_file("outputs/model.pkl", "model.pkl")  # doctest: +SKIP
            'outputs/model.pkl'
        """
        if hasattr(path_or_stream, "read"):
            return _artifacts.store_stream(self.local_path, name, path_or_stream)
        return _artifacts.store_file(self.local_path, name, path_or_stream,
                                     f"upload_file({name!r}, {str(path_or_stream)!r})")

    def upload_files(self, names: list[str], paths: list[str], return_artifacts: bool = False,
                     timeout_seconds: int | None = None, datastore_name: Any = None) -> list[str]:
        """Upload several files: ``names[i]`` gets the content of ``paths[i]``.

        Example:
            >>> run.upload_files(["a.txt"], ["local/a.txt"])  # doctest: +SKIP
            ['a.txt']
        """
        if len(names) != len(paths):
            raise UserErrorException(f"upload_files: names ({len(names)} 個) と paths "
                                     f"({len(paths)} 個) の数が違います。")
        return [self.upload_file(n, p) for n, p in zip(names, paths)]

    def upload_folder(self, name: str, path: str | os.PathLike[str],
                      datastore_name: Any = None) -> list[str]:
        """Upload every regular file below ``path`` as ``name/<relative path>``.

        Links that lead out of the folder, pipes and devices are skipped with a
        warning that lists them.

        Example:
            >>> run.upload_folder("outputs", "outputs")  # doctest: +SKIP
            ['outputs/model.pkl']
        """
        folder = Path(path)
        if not folder.is_dir():
            raise ArtifactNotFoundError(f"upload_folder({name!r}, {str(path)!r}): フォルダーが"
                                        "ありません。")
        prefix = name.replace("\\", "/").strip("/")
        return [self.upload_file(f"{prefix}/{rel}" if prefix else rel, file)
                for rel, file in _artifacts.walk(folder)]

    def get_file_names(self) -> list[str]:
        """Every run file, as sorted relative names (``outputs/model.pkl`` ...).

        Example:
            >>> run.get_file_names()  # doctest: +SKIP
            ['outputs/model.pkl']
        """
        return _artifacts.list_files(self.local_path)

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None,
                      _validate_checksum: bool = False) -> Path:
        """Copy run file ``name`` to ``output_file_path`` (a file or folder; default: here).

        Example:
            >>> run.download_file("outputs/model.pkl", "model.pkl")  # doctest: +SKIP
            PosixPath('model.pkl')
        """
        _norm, source = _artifacts.resolve(self.local_path, name)
        if not source.is_file():
            names = self.get_file_names()
            listing = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "") or "(なし)"
            raise ArtifactNotFoundError(f"Run {self.id} にファイル {name!r} はありません。"
                                        f"ある物: {listing}")
        target = Path(output_file_path) if output_file_path is not None else Path(source.name)
        if target.is_dir():
            target = target / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic.copy_file(source, target)
        return target

    def download_files(self, prefix: str | None = None,
                       output_directory: str | os.PathLike[str] | None = None,
                       output_paths: list[str] | None = None, batch_size: int = 100,
                       append_prefix: bool = True) -> list[Path]:
        """Copy every run file whose name starts with ``prefix`` into ``output_directory``.

        Example:
            >>> run.download_files(prefix="outputs", output_directory="here")  # doctest: +SKIP
        """
        names = [n for n in self.get_file_names() if prefix is None or n.startswith(prefix)]
        out = Path(output_directory) if output_directory is not None else Path(".")
        if output_paths is not None and len(output_paths) != len(names):
            raise UserErrorException("download_files: output_paths の数がファイルの数と違います。")
        result = []
        for i, name in enumerate(names):
            if output_paths is not None:
                dest = Path(output_paths[i])
            else:
                rel = name if append_prefix or not prefix else name[len(prefix):].lstrip("/")
                dest = out / rel
            result.append(self.download_file(name, dest))
        return result
