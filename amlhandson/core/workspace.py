"""``Workspace``: the top-level object, as in Azure ML v1, kept in a local folder.

Example:
    >>> from amlhandson.core import Workspace
    >>> ws = Workspace.create("docs-ws", resource_group="docs-aml", exist_ok=True)  # doctest: +SKIP
    >>> ws.write_config()  # doctest: +SKIP
    >>> Workspace.from_config().name  # doctest: +SKIP
    'docs-ws'
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _atomic, _paths
from .._store import Store
from ..exceptions import (
    ConfigError,
    ConfigNotFoundError,
    UserErrorException,
    WorkspaceNotFoundError,
)
from ..studio import links
from . import _catalog

if TYPE_CHECKING:
    from .experiment import Experiment

#: Seconds to wait for another process that is creating the same workspace.
CREATE_LOCK_TIMEOUT = 60.0

__all__ = ["Workspace", "DEFAULT_SUBSCRIPTION_ID", "DEFAULT_LOCATION", "find_config", "read_config"]

#: Subscription id used when none is given: there is no Azure subscription offline.
DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
#: Location recorded when none is given.
DEFAULT_LOCATION = "local"
_CONFIG_KEYS = ("subscription_id", "resource_group", "workspace_name")
_CREATED_BY = "01-workspace ノートブック (Workspace.create(...) のあと ws.write_config())"


def _display_path(path: Path) -> str:
    """``path`` relative to the current folder when it is below it or in one of its parents.

    Keeps notebook outputs free of machine-specific absolute paths.
    """
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    parts = Path(rel).parts
    ups = len(parts) - len([p for p in parts if p != ".."])
    below = parts[ups:]
    in_parent_or_below = ups == 0 or len(below) <= 2  # e.g. ../../.azureml/config.json
    return rel if in_parent_or_below else str(path)


class Workspace:
    """A workspace: the hub that holds experiments, runs, models and services.

    ``Workspace(subscription_id, resource_group, workspace_name)`` opens an
    existing workspace, like v1. Most code uses :meth:`from_config`.

    Example:
        >>> ws = Workspace.create("docs-ws", resource_group="docs-aml", exist_ok=True)  # doctest: +SKIP
        >>> ws.get_details()["name"]  # doctest: +SKIP
        'docs-ws'
    """

    DEFAULT_CONFIG = "config.json"

    def __init__(
        self,
        subscription_id: str | None,
        resource_group: str,
        workspace_name: str,
        auth: Any = None,
        _location: str | None = None,
        **_: Any,
    ) -> None:
        _paths.check_name(resource_group, "resource group")
        _paths.check_name(workspace_name, "workspace")
        root = _paths.workspace_dir(resource_group, workspace_name)
        details_file = root / "workspace.json"
        if not details_file.is_file():
            raise WorkspaceNotFoundError(
                f"ワークスペース {workspace_name!r} (resource group {resource_group!r}) は"
                f"このマシンにまだありません。Workspace.create({workspace_name!r}, "
                f"resource_group={resource_group!r}) で作成してください。"
            )
        try:
            details = json.loads(details_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{details_file} を読めませんでした ({exc})。ワークスペースのフォルダーが壊れています。"
                f"Workspace.create({workspace_name!r}, resource_group={resource_group!r}, "
                "exist_ok=True) で作り直せます。"
            ) from exc
        if subscription_id and subscription_id != details.get("subscriptionId"):
            details["subscriptionId"] = subscription_id
        self._details: dict[str, Any] = details
        self._root = root
        self._store = Store.open(root)
        self._store.versions()  # a damaged or newer database is reported here, by name
        self._auth = auth

    # -- identity ----------------------------------------------------------------
    @property
    def name(self) -> str:
        """The workspace name."""
        return self._details["name"]

    @property
    def subscription_id(self) -> str:
        """The subscription id recorded for the workspace (a placeholder offline)."""
        return self._details["subscriptionId"]

    @property
    def resource_group(self) -> str:
        """The resource group the workspace belongs to."""
        return self._details["resourceGroup"]

    @property
    def location(self) -> str:
        """The location recorded when the workspace was created."""
        return self._details["location"]

    @property
    def path(self) -> Path:
        """The folder on this machine that holds all of the workspace's data."""
        return self._root

    def __repr__(self) -> str:
        return (
            f"Workspace.create(name={self.name!r}, subscription_id={self.subscription_id!r}, "
            f"resource_group={self.resource_group!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other._root == self._root

    def __hash__(self) -> int:
        return hash(self._root)

    # -- create / get / delete ---------------------------------------------------------
    @staticmethod
    def create(
        name: str,
        auth: Any = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        location: str | None = None,
        create_resource_group: bool = True,
        sku: str = "basic",
        friendly_name: str | None = None,
        exist_ok: bool = False,
        show_output: bool = True,
        **kwargs: Any,
    ) -> Workspace:
        """Create a workspace on this machine (v1 created it in Azure).

        ``exist_ok=True`` returns the existing workspace instead of failing.

        Example:
            >>> ws = Workspace.create("docs-ws", subscription_id="0000",
            ...                       resource_group="docs-aml", exist_ok=True)  # doctest: +SKIP
        """
        resource_group = resource_group or f"{name}-rg"
        _paths.check_name(name, "workspace")
        _paths.check_name(resource_group, "resource group")
        root = _paths.workspace_dir(resource_group, name)
        if not create_resource_group and not root.parent.is_dir():
            raise UserErrorException(
                f"Resource group '{resource_group}' がありません。create_resource_group=True に"
                "するか、既存の resource group 名を指定してください。"
            )
        with _creation_lock(root):  # two processes creating one workspace: one wins
            if (root / "workspace.json").is_file():
                if not exist_ok:
                    raise UserErrorException(
                        f"Workspace with name '{name}' already exists under resource group "
                        f"'{resource_group}'. 既存のものを使うには exist_ok=True を付けるか "
                        "Workspace.get(...) を使ってください。"
                    )
                return Workspace(subscription_id, resource_group, name)
            details = {
                "id": (
                    f"/subscriptions/{subscription_id or DEFAULT_SUBSCRIPTION_ID}/resourceGroups/"
                    f"{resource_group}/providers/Microsoft.MachineLearningServices/workspaces/"
                    f"{name}"
                ),
                "name": name,
                "friendlyName": friendly_name or name,
                "location": location or DEFAULT_LOCATION,
                "resourceGroup": resource_group,
                "subscriptionId": subscription_id or DEFAULT_SUBSCRIPTION_ID,
                "sku": sku,
                "workspaceid": str(uuid.uuid4()),
                "creationTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            for folder in (_paths.home(), root.parent.parent, root.parent):
                folder.mkdir(parents=True, exist_ok=True)
                _paths.restrict(folder)
            root.mkdir(exist_ok=True)
            _paths.restrict(root)
            store = Store.open(root)
            store.versions()  # the database exists before the workspace does
            _paths.restrict(store.db_path, 0o600)
            _atomic.write_text(root / "workspace.json",
                               json.dumps(details, indent=2, ensure_ascii=False))
        ws = Workspace(subscription_id, resource_group, name)
        if show_output:
            print(f"Deployed workspace {name!r} (resource group {resource_group!r}) locally.")
        return ws

    @staticmethod
    def get(
        name: str,
        auth: Any = None,
        subscription_id: str | None = None,
        resource_group: str | None = None,
    ) -> Workspace:
        """Open an existing workspace by name (and resource group when names repeat).

        Example:
            >>> Workspace.get("docs-ws", resource_group="docs-aml")  # doctest: +SKIP
        """
        if resource_group is not None:
            return Workspace(subscription_id, resource_group, name)
        _paths.check_name(name, "workspace")
        found = sorted((_paths.home() / "workspaces").glob(f"*/{name}/workspace.json"))
        if len(found) == 1:
            return Workspace(subscription_id, found[0].parent.parent.name, name)
        if not found:
            raise WorkspaceNotFoundError(
                f"ワークスペース {name!r} はこのマシンにありません。Workspace.create({name!r}, "
                "resource_group=...) で作成してください。"
            )
        groups = ", ".join(p.parent.parent.name for p in found)
        raise UserErrorException(
            f"ワークスペース {name!r} が複数の resource group にあります ({groups})。"
            "resource_group= で指定してください。"
        )

    @staticmethod
    def list(subscription_id: str | None = None, auth: Any = None,
             resource_group: str | None = None) -> dict[str, list[Workspace]]:
        """All workspaces on this machine, as ``{name: [Workspace, ...]}`` like v1."""
        result: dict[str, list[Workspace]] = {}
        pattern = f"{resource_group or '*'}/*/workspace.json"
        for details in sorted((_paths.home() / "workspaces").glob(pattern)):
            ws = Workspace(None, details.parent.parent.name, details.parent.name)
            result.setdefault(ws.name, []).append(ws)
        return result

    def delete(self, delete_dependent_resources: bool = False, no_wait: bool = False) -> None:
        """Delete the workspace and everything in it from this machine."""
        Store.forget(self._root)
        shutil.rmtree(self._root, ignore_errors=False)

    # -- config.json -------------------------------------------------------------------
    @staticmethod
    def from_config(
        path: str | os.PathLike[str] | None = None,
        auth: Any = None,
        _logger: Any = None,
        _file_name: str | None = None,
    ) -> Workspace:
        """Open the workspace named by ``config.json``.

        Looks in ``path`` (default: the current folder) and each parent folder,
        also in their ``.azureml/`` and ``aml_config/`` subfolders, like v1. A
        workspace named there that does not exist on this machine yet is created.

        Example:
            >>> ws = Workspace.from_config()  # doctest: +SKIP
            Found the config file in: config.json
        """
        config_file = find_config(path, _file_name)
        config = read_config(config_file)
        print(f"Found the config file in: {_display_path(config_file)}")
        name, group = config["workspace_name"], config["resource_group"]
        try:
            return Workspace(config["subscription_id"], group, name)
        except WorkspaceNotFoundError:
            ws = Workspace.create(
                name, subscription_id=config["subscription_id"], resource_group=group,
                location=config.get("location"), exist_ok=True, show_output=False,
            )
            print(f"ワークスペース {name!r} はこのマシンになかったので作成しました。")
            return ws

    def write_config(self, path: str | os.PathLike[str] | None = None,
                     file_name: str | None = None) -> Path:
        """Write ``config.json`` (to ``path/.azureml/`` like v1, or ``path`` when given).

        Returns the path of the written file.

        Example:
            >>> ws.write_config(path=".")  # doctest: +SKIP
        """
        folder = Path(path) if path is not None else Path(".azureml")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (file_name or self.DEFAULT_CONFIG)
        data = {
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "workspace_name": self.name,
        }
        _atomic.write_text(target, json.dumps(data, indent=4) + "\n")
        return target

    def get_details(self) -> dict[str, Any]:
        """The workspace's details as a dict (v1 keys, plus ``localPath``)."""
        details = dict(self._details)
        details["localPath"] = str(self._root)
        details["schemaVersion"] = self._store.versions()["core"]
        details["runCount"] = self._store.runs.count()
        details["studioUrl"] = links.workspace_url(self) or links.how_to_start()
        return details

    # -- children ----------------------------------------------------------------------
    @property
    def experiments(self) -> dict[str, Experiment]:
        """Every experiment of the workspace, as ``{name: Experiment}``."""
        experiment = _catalog.resolve("Experiment")
        return {rec.name: experiment(self, rec.name) for rec in self._store.experiments.list()}

    @property
    def models(self) -> dict[str, Any]:
        """The latest version of every registered model, as ``{name: Model}``."""
        return {m.name: m for m in _catalog.resolve("Model").list(self, latest=True)}

    @property
    def datastores(self) -> dict[str, Any]:
        """Every registered datastore, as ``{name: Datastore}``."""
        return {d.name: d for d in _catalog.resolve("Datastore").list(self)}

    def get_default_datastore(self) -> Any:
        """The default datastore (``workspaceblobstore`` unless changed)."""
        return _catalog.resolve("Datastore")(self)

    def set_default_datastore(self, name: str) -> None:
        """Make the datastore ``name`` the default one."""
        _catalog.resolve("Datastore")(self, name).set_as_default()

    @property
    def datasets(self) -> dict[str, Any]:
        """The latest version of every registered dataset, as ``{name: Dataset}``."""
        return _catalog.resolve("Dataset").get_all(self)

    @property
    def webservices(self) -> dict[str, Any]:
        """Every deployed web service of the workspace, as ``{name: Webservice}``."""
        return {s.name: s for s in _catalog.resolve("Webservice").list(self)}

    @property
    def compute_targets(self) -> dict[str, Any]:
        """Every compute target of the workspace, as ``{name: ComputeTarget}`` ('local' is built in)."""
        return {t.name: t for t in _catalog.resolve("ComputeTarget").list(self)}


def _creation_lock(root: Path) -> Any:
    """An inter-process lock for creating the workspace folder ``root``."""
    import filelock

    root.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(str(root.parent / f".{root.name}.lock"),
                             timeout=CREATE_LOCK_TIMEOUT)


def find_config(path: str | os.PathLike[str] | None = None, file_name: str | None = None) -> Path:
    """The ``config.json`` that :meth:`Workspace.from_config` would use (v1's search order).

    Raises :class:`~amlhandson.exceptions.ConfigNotFoundError` when there is none.

    Example:
        >>> find_config("config.json")  # doctest: +SKIP
        PosixPath('config.json')
    """
    names = [file_name] if file_name else ["config.json", "project.json"]
    start = Path(path) if path is not None else Path.cwd()
    if start.is_file():
        return start
    if path is not None and not start.exists():
        raise ConfigNotFoundError(
            f"We could not find config.json in: {start} (そのフォルダーがありません)。"
            f"config.json は {_CREATED_BY} で作成できます。"
        )
    searched = []
    for folder in [start.resolve(), *start.resolve().parents]:
        for sub in ("", ".azureml", "aml_config"):
            for name in names:
                candidate = folder / sub / name if sub else folder / name
                if candidate.is_file():
                    return candidate
        searched.append(str(folder))
    raise ConfigNotFoundError(
        f"We could not find config.json in: {searched[0]} or in its parent directories. "
        f"config.json (ワークスペースの名前などを書いたファイル) が見つかりません。"
        f"{_CREATED_BY} で作成するか、Workspace.from_config(path='config.json のある場所') "
        "で場所を指定してください。"
    )


def read_config(config_file: Path) -> dict[str, Any]:
    """The checked content of a ``config.json`` (the three v1 keys, as strings).

    Example:
        >>> read_config(find_config())["workspace_name"]  # doctest: +SKIP
        'docs-ws'
    """
    try:
        text = config_file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{config_file} を読めませんでした: {exc}") from exc
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{config_file} は正しい JSON ではありません (行 {exc.lineno}, 列 {exc.colno}: {exc.msg})。"
            '{"subscription_id": "...", "resource_group": "docs-aml", "workspace_name": "docs-ws"} '
            f"の形に直すか、削除して {_CREATED_BY} で作り直してください。"
        ) from exc
    if not isinstance(config, dict):
        raise ConfigError(
            f"{config_file} の中身は JSON オブジェクト ({{...}}) でなければなりません。"
            f"{_CREATED_BY} で作り直してください。"
        )
    missing = [k for k in _CONFIG_KEYS if k not in config]
    if missing:
        raise ConfigError(
            f"{config_file} に必要なキーがありません: {', '.join(missing)}。"
            f"subscription_id, resource_group, workspace_name の 3 つが必要です。{_CREATED_BY} "
            "で作り直せます。"
        )
    for key in _CONFIG_KEYS:
        if not isinstance(config[key], str) or not config[key].strip():
            raise ConfigError(
                f"{config_file} の {key} が空か文字列ではありません ({config[key]!r})。"
                f"文字列で指定するか、{_CREATED_BY} で作り直してください。"
            )
    return config
