"""``Datastore``: where a workspace's data files live, as in Azure ML v1.

Every workspace has two datastores from the start, like v1: ``workspaceblobstore``
(the default) and ``workspacefilestore``. Offline, an Azure storage account is a
folder of the workspace, ``<workspace>/storage/<account>/<container>/``, so
registering the same account and container twice gives the same files.

What each v1 register call does here:

==========================================  ==================================================
``register_azure_blob_container``           a local container folder (or ``endpoint=`` a
``register_azure_file_share``               folder or fsspec URL holding the accounts);
``register_azure_data_lake_gen2``           keys and SAS tokens are accepted and not stored
``register_local_folder`` (amlhandson)      a folder on this machine
``register_fsspec`` (amlhandson)            any fsspec URL (``file://``, ``memory://``,
                                            ``s3://`` with s3fs installed ...)
``register_azure_data_lake`` (Gen1),        refused with a message: they are databases or
``register_azure_sql_database``,            services, not folders of files
``register_azure_postgre_sql``,
``register_azure_my_sql``, ``register_dbfs``
==========================================  ==================================================

Example:
    >>> ds = ws.get_default_datastore()  # doctest: +SKIP
    >>> ds.upload(src_dir="data", target_path="mnist", overwrite=True)  # doctest: +SKIP
    Uploaded 4 files
    $AZUREML_DATAREFERENCE_workspaceblobstore
    >>> ds.path("mnist").as_mount()  # doctest: +SKIP
    $AZUREML_DATAREFERENCE_workspaceblobstore
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .._store import Store
from .._store.datastores import DatastoreRecord
from ..data import _transfer
from ..data._backends import Backend, FolderBackend, FsspecBackend, clean_path
from ..data.data_reference import DataReference
from ..exceptions import ArtifactNotFoundError, NotSupportedLocallyError, UserErrorException
from . import _artifacts
from .workspace import Workspace

__all__ = ["Datastore", "DEFAULT_BLOB", "DEFAULT_FILE", "ensure_defaults"]

#: The workspace's default datastore.
DEFAULT_BLOB = "workspaceblobstore"
#: The workspace's file-share datastore.
DEFAULT_FILE = "workspacefilestore"
_WORKSPACE_ACCOUNT = "workspacestorage"
_NAME = re.compile(r"^[A-Za-z0-9_]{1,255}$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")
_REFUSED = {
    "register_azure_data_lake": "Azure Data Lake Storage Gen1 (2024 年に廃止)",
    "register_azure_sql_database": "Azure SQL Database (ファイルではなくデータベース)",
    "register_azure_postgre_sql": "Azure Database for PostgreSQL (データベース)",
    "register_azure_my_sql": "Azure Database for MySQL (データベース)",
    "register_dbfs": "Databricks File System (Databricks が必要)",
}


def ensure_defaults(workspace: Workspace) -> None:
    """Create the workspace's ``workspaceblobstore`` (default) and ``workspacefilestore``.

    Example:
        >>> ensure_defaults(ws)  # doctest: +SKIP
    """
    repo = Store.open(workspace.path).datastores
    if repo.get(DEFAULT_BLOB) is None:
        repo.ensure(DEFAULT_BLOB, kind="AzureBlob", default=True,
                    spec={"account_name": _WORKSPACE_ACCOUNT,
                          "container_name": "azureml-blobstore"})
    if repo.get(DEFAULT_FILE) is None:
        repo.ensure(DEFAULT_FILE, kind="AzureFile",
                    spec={"account_name": _WORKSPACE_ACCOUNT,
                          "container_name": "azureml-filestore"})


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UserErrorException(
            f"Datastore name can only contain alphanumeric characters and underscores. "
            f"(データストアの名前 {name!r} は使えません。英数字と '_' だけにしてください。)"
        )
    return name


def _check_account(account: Any, container: Any, what: str) -> None:
    if not isinstance(account, str) or not _ACCOUNT.match(account):
        raise UserErrorException(
            f"account_name {account!r} は Azure のストレージアカウント名として使えません "
            "(英小文字と数字だけの 3〜24 文字)。"
        )
    if not isinstance(container, str) or not _CONTAINER.match(container):
        raise UserErrorException(
            f"{what} {container!r} は使えません (英小文字・数字・'-' の 3〜63 文字で、英数字で"
            "始まり英数字で終わり、'--' を含まない名前)。"
        )


def _backend(workspace: Workspace, record: DatastoreRecord) -> Backend:
    spec = record.spec
    if spec.get("url"):
        return FsspecBackend(spec["url"], spec.get("storage_options"))
    if spec.get("folder"):
        folder = Path(spec["folder"])
        return FolderBackend(folder if folder.is_absolute() else workspace.path / folder)
    return FolderBackend(workspace.path / "storage" / spec["account_name"]
                         / spec["container_name"])


def _refused(call: str) -> Any:
    what = _REFUSED[call]

    def refuse(*args: Any, **kwargs: Any) -> Datastore:
        raise NotSupportedLocallyError(
            f"Datastore.{call}: {what} はこのマシンでは使えません。amlhandson のデータストアは"
            "ファイルを置く場所 (フォルダーか fsspec の URL) だけです。"
            "register_azure_blob_container / register_local_folder / register_fsspec を"
            "使ってください。"
        )

    refuse.__name__ = call
    refuse.__doc__ = f"Refused offline: {what}.\n\nExample:\n    >>> Datastore.{call}(ws)  # doctest: +SKIP\n"
    return staticmethod(refuse)


class Datastore:
    """A registered datastore of a workspace.

    ``Datastore(ws, "workspaceblobstore")`` gets one by name; ``Datastore(ws)``
    gets the default, like v1.

    Example:
        >>> ds = Datastore(ws, "workspaceblobstore")  # doctest: +SKIP
        >>> ds.name, ds.datastore_type  # doctest: +SKIP
        ('workspaceblobstore', 'AzureBlob')
    """

    def __init__(self, workspace: Workspace, name: str | None = None) -> None:
        if not isinstance(workspace, Workspace):
            raise UserErrorException("Datastore(workspace, name): 1 つ目の引数には Workspace を"
                                     f"渡してください ({type(workspace).__name__} が渡されました)。")
        ensure_defaults(workspace)
        repo = Store.open(workspace.path).datastores
        record = repo.default() if name is None else repo.get(_check_name(name))
        if record is None:
            names = ", ".join(r.name for r in repo.list())
            raise UserErrorException(
                f"Datastore {name!r} はワークスペース {workspace.name!r} に登録されていません "
                f"(あるもの: {names})。Datastore.register_... で登録してください。"
            )
        self._workspace = workspace
        self._record = record
        self._backend = _backend(workspace, record)

    @classmethod
    def _from_record(cls, workspace: Workspace, record: DatastoreRecord) -> Datastore:
        ds = cls.__new__(cls)
        ds._workspace, ds._record = workspace, record
        ds._backend = _backend(workspace, record)
        return ds

    # -- identity -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The datastore's name."""
        return self._record.name

    @property
    def datastore_type(self) -> str:
        """``AzureBlob``, ``AzureFile``, ``AzureDataLakeGen2``, ``LocalFolder`` or ``Fsspec``."""
        return self._record.kind

    @property
    def workspace(self) -> Workspace:
        """The workspace the datastore belongs to."""
        return self._workspace

    @property
    def account_name(self) -> str | None:
        """The (emulated) storage account, for Azure kinds."""
        return self._record.spec.get("account_name")

    @property
    def container_name(self) -> str | None:
        """The container (file share, file system) name, for Azure kinds."""
        return self._record.spec.get("container_name")

    @property
    def is_default(self) -> bool:
        """Whether this is the workspace's default datastore."""
        return self._record.is_default

    @property
    def backend(self) -> Backend:
        """Where the files are (a folder on this machine or an fsspec URL)."""
        return self._backend

    @property
    def local_folder(self) -> Path | None:
        """The folder on this machine holding the files (``None`` for a remote URL)."""
        return self._backend.local_root()

    def __repr__(self) -> str:
        info = {"name": self.name, "datastore_type": self.datastore_type}
        info.update({k: v for k, v in self._record.spec.items()
                     if k in ("account_name", "container_name", "url", "protocol", "endpoint")})
        return json.dumps(info, indent=2, ensure_ascii=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Datastore) and other.name == self.name and \
            other._workspace == self._workspace

    def __hash__(self) -> int:
        return hash((self._workspace, self.name))

    # -- lookup -------------------------------------------------------------------------
    @staticmethod
    def get(workspace: Workspace, datastore_name: str) -> Datastore:
        """The datastore ``datastore_name`` of ``workspace``.

        Example:
            >>> Datastore.get(ws, "workspaceblobstore").name  # doctest: +SKIP
            'workspaceblobstore'
        """
        return Datastore(workspace, datastore_name)

    @staticmethod
    def get_default(workspace: Workspace) -> Datastore:
        """The workspace's default datastore.

        Example:
            >>> Datastore.get_default(ws).name  # doctest: +SKIP
            'workspaceblobstore'
        """
        return Datastore(workspace)

    @staticmethod
    def list(workspace: Workspace) -> list[Datastore]:
        """Every datastore of ``workspace``, by name (``ws.datastores`` as a list).

        Example:
            >>> [d.name for d in Datastore.list(ws)]  # doctest: +SKIP
            ['workspaceblobstore', 'workspacefilestore']
        """
        ensure_defaults(workspace)
        return [Datastore._from_record(workspace, r)
                for r in Store.open(workspace.path).datastores.list()]

    def set_as_default(self) -> None:
        """Make this the workspace's default datastore.

        Example:
            >>> Datastore(ws, "mnist_store").set_as_default()  # doctest: +SKIP
        """
        Store.open(self._workspace.path).datastores.set_default(self.name)
        self._record = Store.open(self._workspace.path).datastores.get(self.name) or self._record

    def unregister(self) -> None:
        """Remove the registration (the files stay where they are).

        Example:
            >>> Datastore(ws, "mnist_store").unregister()  # doctest: +SKIP
        """
        if self.name in (DEFAULT_BLOB, DEFAULT_FILE):
            raise UserErrorException(f"{self.name} はワークスペースの既定のデータストアなので"
                                     "登録を解除できません。")
        Store.open(self._workspace.path).datastores.delete(self.name)

    # -- registering ----------------------------------------------------------------------
    @staticmethod
    def _register(workspace: Workspace, name: str, kind: str, spec: dict[str, Any],
                  overwrite: bool) -> Datastore:
        ensure_defaults(workspace)
        record = Store.open(workspace.path).datastores.register(
            _check_name(name), kind=kind, spec=spec, overwrite=overwrite)
        return Datastore._from_record(workspace, record)

    @staticmethod
    def _azure(workspace: Workspace, name: str, kind: str, container: str, account: str,
               what: str, endpoint: str | None, protocol: str | None, credentials: list[str],
               overwrite: bool) -> Datastore:
        _check_account(account, container, what)
        spec: dict[str, Any] = {"account_name": account, "container_name": container}
        if credentials:
            spec["credential_type"] = credentials[0]  # the secret itself is not kept
        if endpoint and endpoint not in ("core.windows.net",):
            local = _local_folder(endpoint)
            if local is not None:
                spec["folder"] = str(local / account / container)
            elif "://" in endpoint:
                spec["url"] = f"{endpoint.rstrip('/')}/{account}/{container}"
            else:
                raise UserErrorException(
                    f"endpoint {endpoint!r} はこのマシンでは使えません。省略する (ワークスペースの"
                    "中にコンテナーのフォルダーを作ります) か、フォルダーのパスや 'file:///...' "
                    "'memory://...' のような fsspec の URL を指定してください。"
                )
        if protocol:
            spec["protocol"] = protocol
        ds = Datastore._register(workspace, name, kind, spec, overwrite)
        if ds.local_folder is not None:
            ds.local_folder.mkdir(parents=True, exist_ok=True)
        return ds

    @staticmethod
    def register_azure_blob_container(workspace: Workspace, datastore_name: str,
                                      container_name: str, account_name: str,
                                      sas_token: str | None = None,
                                      account_key: str | None = None,
                                      protocol: str | None = None, endpoint: str | None = None,
                                      overwrite: bool = False,
                                      create_if_not_exists: bool = False,
                                      skip_validation: bool = False, **_: Any) -> Datastore:
        """Register a blob container: a folder ``storage/<account>/<container>`` of the workspace.

        ``endpoint`` may name a folder (or ``file://`` / fsspec URL) that holds the
        accounts instead. Keys and SAS tokens are accepted and not stored.

        Example:
            >>> ds = Datastore.register_azure_blob_container(
            ...     ws, "mnist_store", container_name="mnist", account_name="mystorage")  # doctest: +SKIP
        """
        creds = [k for k, v in (("sas_token", sas_token), ("account_key", account_key)) if v]
        return Datastore._azure(workspace, datastore_name, "AzureBlob", container_name,
                                account_name, "container_name", endpoint, protocol, creds,
                                overwrite)

    @staticmethod
    def register_azure_file_share(workspace: Workspace, datastore_name: str,
                                  file_share_name: str, account_name: str,
                                  sas_token: str | None = None, account_key: str | None = None,
                                  protocol: str | None = None, endpoint: str | None = None,
                                  overwrite: bool = False, create_if_not_exists: bool = False,
                                  skip_validation: bool = False, **_: Any) -> Datastore:
        """Register an Azure file share (a local folder, as for blob containers).

        Example:
            >>> Datastore.register_azure_file_share(ws, "share", "myshare", "mystorage")  # doctest: +SKIP
        """
        creds = [k for k, v in (("sas_token", sas_token), ("account_key", account_key)) if v]
        return Datastore._azure(workspace, datastore_name, "AzureFile", file_share_name,
                                account_name, "file_share_name", endpoint, protocol, creds,
                                overwrite)

    @staticmethod
    def register_azure_data_lake_gen2(workspace: Workspace, datastore_name: str,
                                      filesystem: str, account_name: str,
                                      tenant_id: str | None = None, client_id: str | None = None,
                                      client_secret: str | None = None,
                                      protocol: str | None = None, endpoint: str | None = None,
                                      overwrite: bool = False, **_: Any) -> Datastore:
        """Register an ADLS Gen2 file system (a local folder, as for blob containers).

        Example:
            >>> Datastore.register_azure_data_lake_gen2(ws, "lake", "raw", "mylake")  # doctest: +SKIP
        """
        creds = ["service_principal"] if client_secret else []
        return Datastore._azure(workspace, datastore_name, "AzureDataLakeGen2", filesystem,
                                account_name, "filesystem", endpoint, protocol, creds, overwrite)

    @staticmethod
    def register_local_folder(workspace: Workspace, datastore_name: str,
                              path: str | os.PathLike[str], overwrite: bool = False) -> Datastore:
        """Register a folder of this machine as a datastore (amlhandson; v1 had no such call).

        Example:
            >>> Datastore.register_local_folder(ws, "course_data", "data")  # doctest: +SKIP
        """
        folder = Path(path).expanduser().resolve()
        if folder.exists() and not folder.is_dir():
            raise UserErrorException(f"register_local_folder: {path!r} はファイルです。"
                                     "フォルダーを指定してください。")
        folder.mkdir(parents=True, exist_ok=True)
        return Datastore._register(workspace, datastore_name, "LocalFolder",
                                   {"folder": str(folder)}, overwrite)

    @staticmethod
    def register_fsspec(workspace: Workspace, datastore_name: str, url: str,
                        storage_options: dict[str, Any] | None = None,
                        overwrite: bool = False) -> Datastore:
        """Register an fsspec URL (``file://``, ``memory://``, ``s3://`` ...) as a datastore.

        Example:
            >>> Datastore.register_fsspec(ws, "scratch", "memory://scratch")  # doctest: +SKIP
        """
        if not isinstance(url, str) or "://" not in url:
            raise UserErrorException(f"register_fsspec: {url!r} は URL ではありません "
                                     "(例: 'file:///srv/data', 'memory://scratch')。")
        spec: dict[str, Any] = {"url": url}
        if storage_options:
            spec["storage_options"] = storage_options
        ds = Datastore._register(workspace, datastore_name, "Fsspec", spec, overwrite)
        ds._backend.list("")  # fails now, with the reason, if the URL cannot be opened
        return ds

    register_azure_data_lake = _refused("register_azure_data_lake")
    register_azure_sql_database = _refused("register_azure_sql_database")
    register_azure_postgre_sql = _refused("register_azure_postgre_sql")
    register_azure_my_sql = _refused("register_azure_my_sql")
    register_dbfs = _refused("register_dbfs")

    # -- files --------------------------------------------------------------------------
    def upload(self, src_dir: str | os.PathLike[str], target_path: str | None = None,
               overwrite: bool = False, show_progress: bool = True) -> DataReference:
        """Upload every file below ``src_dir`` to ``target_path``; return a reference to it.

        Files that exist already are skipped unless ``overwrite=True`` (v1).
        Links that lead out of ``src_dir`` are skipped with a warning.

        Example:
            >>> ds.upload("data", target_path="mnist", overwrite=True)  # doctest: +SKIP
            Uploaded 4 files
            $AZUREML_DATAREFERENCE_workspaceblobstore
        """
        folder = Path(src_dir)
        if not folder.is_dir():
            raise ArtifactNotFoundError(f"upload: フォルダー {str(src_dir)!r} がありません。"
                                        "アップロードするファイルのあるフォルダーを指定してください。")
        target = clean_path(target_path)
        pairs = [(path, f"{target}/{rel}" if target else rel)
                 for rel, path in _artifacts.walk(folder)]
        _transfer.upload(self._backend, pairs, overwrite=overwrite, show_progress=show_progress)
        return self.path(target)

    def upload_files(self, files: list[str | os.PathLike[str]],
                     relative_root: str | os.PathLike[str] | None = None,
                     target_path: str | None = None, overwrite: bool = False,
                     show_progress: bool = True) -> DataReference:
        """Upload the given files to ``target_path`` (keeping their path below ``relative_root``).

        Example:
            >>> ds.upload_files(["data/train-images.gz"], target_path="mnist")  # doctest: +SKIP
            $AZUREML_DATAREFERENCE_workspaceblobstore
        """
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        target = clean_path(target_path)
        root = Path(relative_root).resolve() if relative_root is not None else None
        pairs = []
        for item in files:
            path = Path(item)
            if not path.is_file():
                raise ArtifactNotFoundError(f"upload_files: ファイル {str(item)!r} がありません。")
            if root is not None:
                try:
                    rel = path.resolve().relative_to(root).as_posix()
                except ValueError:
                    raise UserErrorException(
                        f"upload_files: {str(item)!r} は relative_root {str(relative_root)!r} "
                        "の下にありません。"
                    ) from None
            else:
                rel = path.name
            pairs.append((path, f"{target}/{rel}" if target else rel))
        _transfer.upload(self._backend, pairs, overwrite=overwrite, show_progress=show_progress)
        return self.path(target)

    def download(self, target_path: str | os.PathLike[str], prefix: str | None = None,
                 overwrite: bool = False, show_progress: bool = True) -> int:
        """Download the files whose path starts with ``prefix`` below ``target_path``; return count.

        Files keep their datastore path (``prefix`` included), like v1.

        Example:
            >>> ds.download("local_copy", prefix="mnist")  # doctest: +SKIP
            Downloaded 4 files
            4
        """
        prefix = clean_path(prefix)
        files = [f.path for f in self._backend.list(_folder_of(prefix, self._backend))
                 if f.path.startswith(prefix)]
        written, _skipped = _transfer.download(self._backend, files, Path(target_path),
                                               overwrite=overwrite, show_progress=show_progress)
        return len(written)

    def files(self, prefix: str | None = None) -> list[str]:
        """Paths of the files at or below ``prefix`` (amlhandson; v1 needed the storage SDK).

        Example:
            >>> ds.files("mnist")  # doctest: +SKIP
            ['mnist/t10k-images-idx3-ubyte.gz', ...]
        """
        return [f.path for f in self._backend.list(clean_path(prefix))]

    # -- references ---------------------------------------------------------------------
    def path(self, path: str | None = None, data_reference_name: str | None = None) -> DataReference:
        """A reference (mounted by default) to ``path`` in this datastore.

        Example:
            >>> ds.path("mnist").as_mount()  # doctest: +SKIP
            $AZUREML_DATAREFERENCE_workspaceblobstore
        """
        return DataReference(self, data_reference_name=data_reference_name,
                             path_on_datastore=path)

    def as_mount(self) -> DataReference:
        """A reference to the whole datastore, mounted.

        Example:
            >>> ds.as_mount()  # doctest: +SKIP
            $AZUREML_DATAREFERENCE_workspaceblobstore
        """
        return self.path().as_mount()

    def as_download(self, path_on_compute: str | None = None) -> DataReference:
        """A reference to the whole datastore, downloaded before the script starts.

        Example:
            >>> ds.as_download().mode  # doctest: +SKIP
            'download'
        """
        return self.path().as_download(path_on_compute=path_on_compute)

    def as_upload(self, path_on_compute: str | None = None) -> DataReference:
        """A reference to the whole datastore as an upload target.

        Example:
            >>> ds.as_upload().mode  # doctest: +SKIP
            'upload'
        """
        return self.path().as_upload(path_on_compute=path_on_compute)


def _folder_of(prefix: str, backend: Backend) -> str:
    """The folder to list for a v1 prefix (which may end in part of a name)."""
    if not prefix or backend.is_dir(prefix):
        return prefix
    return prefix.rpartition("/")[0]


def _local_folder(endpoint: str) -> Path | None:
    if endpoint.startswith("file://"):
        return Path(endpoint[len("file://"):]).expanduser()
    if "://" not in endpoint and (endpoint.startswith(("/", ".", "~")) or
                                  (len(endpoint) > 1 and endpoint[1] == ":")):
        return Path(endpoint).expanduser().resolve()
    return None
