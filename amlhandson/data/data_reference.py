"""``DataReference``: a folder or file of a datastore, handed to a script as a local path.

As in v1 (``azureml.data.data_reference``)::

    ds = ws.get_default_datastore()
    ds.upload(src_dir="data", target_path="mnist")
    ref = ds.path("mnist").as_mount()          # or .as_download()
    ScriptRunConfig(..., arguments=["--data-folder", ref])
    # train.py receives a local folder path in --data-folder

Modes: ``mount`` gives the datastore's own folder (read and write, no copy)
when the datastore is a folder on this machine; ``download`` copies the files
into the run's working folder first (a copy the script cannot damage);
``upload`` gives an empty folder whose files are uploaded to the path when the
script ends. A datastore behind a remote fsspec URL cannot be mounted: mount
falls back to download (said in the run's log).

Example:
    >>> ref = DataReference(_FakeStore(), path_on_datastore="mnist")
    >>> str(ref), ref.mode, ref.as_download().mode
    ('$AZUREML_DATAREFERENCE_workspaceblobstore', 'mount', 'download')
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..exceptions import UserErrorException
from . import _transfer
from ._backends import clean_path
from ._fingerprint import files_fingerprint
from ._inputs import Materialized

__all__ = ["DataReference", "DataPath", "MODES"]

#: Modes of a data reference.
MODES = ("mount", "download", "upload")


class DataReference:
    """A path in a datastore and how a script gets it (mount, download, upload).

    Example:
        >>> ds.path("mnist").as_download().path_on_datastore  # doctest: +SKIP
        'mnist'
    """

    def __init__(self, datastore: Any, data_reference_name: str | None = None,
                 path_on_datastore: str | None = None, mode: str = "mount",
                 path_on_compute: str | None = None, overwrite: bool = False) -> None:
        if not hasattr(datastore, "backend") or not hasattr(datastore, "name"):
            raise UserErrorException(
                "DataReference: datastore には Datastore を渡してください (例: "
                f"ws.get_default_datastore())。{type(datastore).__name__} が渡されました。"
            )
        if mode not in MODES:
            raise UserErrorException(f"DataReference: mode {mode!r} は使えません "
                                     f"({', '.join(MODES)} のどれか)。")
        name = data_reference_name or datastore.name
        if not isinstance(name, str) or not name.replace("_", "a").replace("-", "a").isalnum():
            raise UserErrorException(
                f"data_reference_name {name!r} は使えません。英数字と '_' '-' だけの名前に"
                "してください。"
            )
        self.datastore = datastore
        self.data_reference_name = name
        self.path_on_datastore = clean_path(path_on_datastore)
        self.mode = mode
        self.path_on_compute = clean_path(path_on_compute, "path_on_compute") or None
        self.overwrite = bool(overwrite)

    @property
    def datastore_name(self) -> str:
        """The name of the referenced datastore."""
        return str(self.datastore.name)

    def _copy(self, **changes: Any) -> DataReference:
        values = dict(datastore=self.datastore, data_reference_name=self.data_reference_name,
                      path_on_datastore=self.path_on_datastore, mode=self.mode,
                      path_on_compute=self.path_on_compute, overwrite=self.overwrite)
        values.update(changes)
        return DataReference(**values)

    def as_mount(self) -> DataReference:
        """This reference, mounted (the script reads and writes the datastore's folder).

        Example:
            >>> ds.path("mnist").as_mount().mode  # doctest: +SKIP
            'mount'
        """
        return self._copy(mode="mount")

    def as_download(self, path_on_compute: str | None = None,
                    overwrite: bool = False) -> DataReference:
        """This reference, downloaded into the run's folder before the script starts.

        Example:
            >>> ds.path("mnist").as_download().mode  # doctest: +SKIP
            'download'
        """
        return self._copy(mode="download", path_on_compute=path_on_compute, overwrite=overwrite)

    def as_upload(self, path_on_compute: str | None = None,
                  overwrite: bool = False) -> DataReference:
        """This reference as an output: what the script writes there is uploaded at the end.

        Example:
            >>> ds.path("results").as_upload().mode  # doctest: +SKIP
            'upload'
        """
        return self._copy(mode="upload", path_on_compute=path_on_compute, overwrite=overwrite)

    def path(self, path: str | None = None, data_reference_name: str | None = None) -> DataReference:
        """A reference to ``path`` below this one.

        Example:
            >>> ds.as_mount().path("mnist").path_on_datastore  # doctest: +SKIP
            'mnist'
        """
        joined = "/".join(p for p in (self.path_on_datastore, clean_path(path)) if p)
        return self._copy(path_on_datastore=joined,
                          data_reference_name=data_reference_name or self.data_reference_name)

    def to_config(self) -> dict[str, Any]:
        """The reference as a JSON object (stored with runs and pipelines).

        Example:
            >>> ds.path("mnist").to_config()["pathOnDatastore"]  # doctest: +SKIP
            'mnist'
        """
        return {"dataStoreName": self.datastore_name, "pathOnDatastore": self.path_on_datastore,
                "mode": self.mode, "dataReferenceName": self.data_reference_name,
                "pathOnCompute": self.path_on_compute, "overwrite": self.overwrite}

    def fingerprint(self) -> str:
        """The content fingerprint of the referenced files (names, sizes, contents).

        Example:
            >>> len(ds.path("mnist").fingerprint())  # doctest: +SKIP
            64
        """
        root = self.datastore.backend.local_root()
        files = self.datastore.backend.list(self.path_on_datastore)
        if root is not None:
            return files_fingerprint((f.path, root / f.path) for f in files)
        import hashlib
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            local, _ = _transfer.download(self.datastore.backend, [f.path for f in files],
                                          Path(tmp), overwrite=True, show_progress=False)
            return files_fingerprint(zip([f.path for f in files], local)) if files else \
                hashlib.sha256(b"").hexdigest()

    def _materialize(self, workdir: Path) -> Materialized:
        backend = self.datastore.backend
        root = backend.local_root()
        target_rel = self.path_on_compute or f"datarefs/{self.data_reference_name}"
        definition = self.to_config()
        if self.mode == "upload":
            local = Path(workdir) / target_rel
            local.mkdir(parents=True, exist_ok=True)

            def finalize() -> None:
                from ..core import _artifacts

                pairs = [(path, "/".join(p for p in (self.path_on_datastore, rel) if p))
                         for rel, path in _artifacts.walk(local)]
                _transfer.upload(backend, pairs, overwrite=True, show_progress=False)

            return Materialized(self.data_reference_name, str(local), "", "upload", definition,
                                finalize=finalize)
        files = backend.list(self.path_on_datastore)
        if self.mode == "mount" and root is not None:
            local = backend.locate(self.path_on_datastore)
            if not files and not local.exists():
                local.mkdir(parents=True, exist_ok=True)
            fingerprint = files_fingerprint((f.path, root / f.path) for f in files)
            return Materialized(self.data_reference_name, str(local), fingerprint, "mount",
                                definition)
        local = Path(workdir) / target_rel
        if local.exists() and self.overwrite:
            shutil.rmtree(local)
        single = len(files) == 1 and files[0].path == self.path_on_datastore
        strip = self.path_on_datastore.rpartition("/")[0] if single else self.path_on_datastore
        written, _ = _transfer.download(backend, [f.path for f in files], local, strip=strip,
                                        overwrite=True, show_progress=False)
        fingerprint = files_fingerprint(zip([f.path for f in files], written))
        path = written[0] if single else local
        return Materialized(self.data_reference_name, str(path), fingerprint, "download",
                            definition)

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self.data_reference_name}"

    def __repr__(self) -> str:
        return str(self)


class DataPath:
    """A path in a datastore, as a value (v1 ``azureml.data.datapath.DataPath``).

    Example:
        >>> DataPath(_FakeStore(), "mnist").path_on_datastore
        'mnist'
    """

    def __init__(self, datastore: Any = None, path_on_datastore: str | None = None,
                 name: str | None = None) -> None:
        self.datastore = datastore
        self.path_on_datastore = clean_path(path_on_datastore)
        self.name = name

    def create_data_reference(self, data_reference_name: str | None = None,
                              datapath_compute_binding: Any = None) -> DataReference:
        """A :class:`DataReference` (mounted) to this path.

        Example:
            >>> DataPath(ds, "mnist").create_data_reference().mode  # doctest: +SKIP
            'mount'
        """
        return DataReference(self.datastore, data_reference_name=data_reference_name,
                             path_on_datastore=self.path_on_datastore)

    def __repr__(self) -> str:
        return f"DataPath({getattr(self.datastore, 'name', None)!r}, {self.path_on_datastore!r})"


class _FakeStore:
    """A datastore stand-in for the examples above (no workspace needed)."""

    name = "workspaceblobstore"
    backend = None
