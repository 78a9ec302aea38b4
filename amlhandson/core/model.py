"""The model registry (``Model``) and the deployment recipe (``InferenceConfig``), as in v1.

``from azureml.core.model import Model, InferenceConfig`` becomes
``from amlhandson.core.model import Model, InferenceConfig``.

A registered model is a copy of a file or folder under the workspace folder::

    <ws.path>/models/<name>/<version>/<file or folder>

plus one row of the ``models`` table (name, version, tags, properties,
description, run, and the SHA-256 of the content taken at registration).
Versions count 1, 2, 3 ... per name; they are handed out inside one database
transaction, so processes registering at the same time never collide. The
content hash is checked again whenever a model is downloaded or served: a file
changed after registration gives a clear error instead of a silently different
model.

Example:
    >>> from amlhandson.core.model import Model, InferenceConfig
    >>> model = Model.register(ws, model_path="outputs/sklearn_mnist_model.pkl",
    ...                        model_name="sklearn_mnist", tags={"data": "mnist"})  # doctest: +SKIP
    Registering model sklearn_mnist
    >>> model.id  # doctest: +SKIP
    'sklearn_mnist:1'
    >>> Model(ws, "sklearn_mnist").download("here", exist_ok=True)  # doctest: +SKIP
    'here/sklearn_mnist_model.pkl'
"""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _atomic, _filters, _paths
from .._store import Store
from .._store.records import ModelRecord
from ..exceptions import DataError, ModelNotFoundError, UserErrorException
from . import _artifacts, _catalog
from ._model_files import content_hash, copy_hashed, remove
from ._tags import clean_tags
from .experiment import Experiment
from .inference_config import InferenceConfig
from .run import Run
from .workspace import Workspace

if TYPE_CHECKING:
    from .webservice.service import Webservice

__all__ = ["Model", "InferenceConfig", "content_hash", "register_from_run"]


class Model:
    """One version of a registered model.

    ``Model(ws, name)`` is the latest version, ``Model(ws, name, version=2)`` or
    ``Model(ws, id="name:2")`` a given one.

    Example:
        >>> model = Model(ws, "sklearn_mnist")  # doctest: +SKIP
        >>> model.name, model.version, model.id  # doctest: +SKIP
        ('sklearn_mnist', 1, 'sklearn_mnist:1')
    """

    def __init__(self, workspace: Workspace, name: str | None = None, id: str | None = None,
                 tags: Any = None, properties: Any = None, version: int | None = None,
                 run_id: str | None = None, **_: Any) -> None:
        if id is not None:
            if ":" not in id:
                raise UserErrorException(f"Model の id は '<name>:<version>' の形です ({id!r} が"
                                         "渡されました)。例: 'sklearn_mnist:1'")
            name, _sep, ver = id.rpartition(":")
            version = int(ver) if ver.isdigit() else -1
        if name is None:
            raise UserErrorException("Model(ws, name) の name (または id=) を指定してください。")
        store = Store.open(workspace.path)
        records = store.models.list(name, version=None if version is None else int(version),
                                    run_id=run_id)
        models = [m for m in (Model._attach(workspace, r) for r in records)
                  if m._matches(tags, properties)]
        if not models:
            raise ModelNotFoundError(_not_found(store, name, version))
        self._set(workspace, models[0].record)

    def _set(self, workspace: Workspace, record: ModelRecord) -> None:
        self._workspace, self._rec = workspace, record

    @classmethod
    def _attach(cls, workspace: Workspace, record: ModelRecord) -> Model:
        model = cls.__new__(cls)
        model._set(workspace, record)
        return model

    @property
    def record(self) -> ModelRecord:
        """The model version's stored record, as last read."""
        return self._rec

    # -- attributes ---------------------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        """The workspace the model is registered in."""
        return self._workspace

    @property
    def name(self) -> str:
        """The model's name."""
        return self._rec.name

    @property
    def version(self) -> int:
        """1, 2, 3 ... per name, in order of registration."""
        return self._rec.version

    @property
    def id(self) -> str:
        """``<name>:<version>``."""
        return f"{self.name}:{self.version}"

    @property
    def description(self) -> str | None:
        """The description given at registration."""
        return self._rec.description

    @property
    def tags(self) -> dict[str, str]:
        """Tags (changeable with :meth:`add_tags` / :meth:`remove_tags`)."""
        return dict(self._rec.tags)

    @property
    def properties(self) -> dict[str, str]:
        """Properties (can be added, not changed)."""
        return dict(self._rec.properties)

    @property
    def created_time(self) -> _dt.datetime:
        """When the model was registered (UTC)."""
        return _dt.datetime.fromtimestamp(self._rec.created, _dt.timezone.utc)

    @property
    def run_id(self) -> str | None:
        """The run the model was registered from (``run.register_model``), else ``None``."""
        return self._rec.run_id

    @property
    def experiment_name(self) -> str | None:
        """The experiment of :attr:`run_id`."""
        return self._rec.experiment

    @property
    def run(self) -> Run | None:
        """The run the model came from, or ``None``."""
        if not self.run_id or not self.experiment_name:
            return None
        run = Run(Experiment(self._workspace, self.experiment_name), self.run_id)
        return _catalog.run_class(run.type)._attach(run.experiment, run.record)

    @property
    def file_name(self) -> str:
        """The name of the registered file or folder."""
        return self._rec.file_name

    @property
    def sha256(self) -> str:
        """The content hash taken at registration."""
        return self._rec.sha256

    @property
    def size(self) -> int:
        """Bytes of content."""
        return self._rec.size

    @property
    def local_path(self) -> Path:
        """The registered copy on this machine (file or folder)."""
        return self._workspace.path / "models" / self.name / str(self.version) / self.file_name

    @property
    def url(self) -> str:
        """Where the registered copy lives on this machine (v1: an ``aml://`` URL)."""
        return self.local_path.as_uri()

    def __repr__(self) -> str:
        return (f"Model(workspace={self._workspace!r}, name={self.name}, id={self.id}, "
                f"version={self.version}, tags={self.tags}, properties={self.properties})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id and \
            other._workspace == self._workspace

    def __hash__(self) -> int:
        return hash((self._workspace, self.id))

    def serialize(self) -> dict[str, Any]:
        """The model's details as a dict (v1 keys).

        Example:
            >>> model.serialize()["id"]  # doctest: +SKIP
            'sklearn_mnist:1'
        """
        return {
            "id": self.id, "name": self.name, "version": self.version,
            "description": self.description, "tags": self.tags, "properties": self.properties,
            "createdTime": self.created_time.isoformat(), "runId": self.run_id,
            "experimentName": self.experiment_name, "fileName": self.file_name,
            "sha256": self.sha256, "size": self.size,
        }

    def _matches(self, tags: Any, properties: Any) -> bool:
        return _filters.matches(self._rec.tags, tags) and \
            _filters.matches(self._rec.properties, properties)

    # -- registration -----------------------------------------------------------------------------
    @staticmethod
    def register(workspace: Workspace, model_path: str | os.PathLike[str], model_name: str,
                 tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
                 description: str | None = None, **kwargs: Any) -> Model:
        """Register a local file or folder as a new version of ``model_name``.

        The content is copied into the workspace and hashed; the first
        registration of a name is version 1, each later one adds 1. Links inside
        a folder are not followed out of it.

        Example:
            >>> model = Model.register(ws, "outputs/sklearn_mnist_model.pkl",
            ...                        "sklearn_mnist")  # doctest: +SKIP
            Registering model sklearn_mnist
        """
        _unknown(kwargs, "Model.register")
        return Model._register(workspace, Path(model_path), model_name, tags=tags,
                               properties=properties, description=description)

    @staticmethod
    def _register(workspace: Workspace, source: Path, model_name: str, *,
                  tags: Any, properties: Any, description: str | None,
                  run_id: str | None = None, experiment: str | None = None) -> Model:
        if not isinstance(workspace, Workspace):
            raise UserErrorException("Model.register の 1 つ目の引数 workspace には Workspace を"
                                     f"渡してください ({type(workspace).__name__} が渡されました)。")
        _paths.check_name(model_name, "model")
        tags_clean = clean_tags(tags, "tags")
        props_clean = clean_tags(properties, "properties")
        if description is not None and not isinstance(description, str):
            raise UserErrorException("description は文字列で渡してください。")
        if not source.exists():
            raise UserErrorException(
                f"Error, provided model path \"{source}\" cannot be found. "
                f"登録するファイルまたはフォルダー {source} がありません "
                f"(いまのフォルダー: {Path.cwd().name})。パスを確認してください。"
            )
        print(f"Registering model {model_name}")
        models_root = workspace.path / "models"
        staging = models_root / f".staging-{uuid.uuid4().hex}"
        file_name = source.resolve().name

        def place(version: int) -> Any:
            final = models_root / model_name / str(version)
            remove(final)  # leftovers of an interrupted registration have no record
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging, final)
            return lambda: remove(final)

        try:
            with _atomic.space_for(models_root / model_name):
                sha, size = copy_hashed(source, staging / file_name)
            record = Store.open(workspace.path).models.register(
                model_name, file_name=file_name, sha256=sha, size=size, description=description,
                tags=tags_clean, properties=props_clean, run_id=run_id, experiment=experiment,
                place=place)
        finally:
            remove(staging)
        return Model._attach(workspace, record)

    # -- listing ------------------------------------------------------------------------------------
    @staticmethod
    def list(workspace: Workspace, name: str | None = None, tags: Any = None,
             properties: Any = None, run_id: str | None = None, latest: bool = False,
             **_: Any) -> list[Model]:
        """Registered models, by name then newest version first.

        ``tags`` (and ``properties``) filter like v1: a list of keys and
        ``[key, value]`` pairs (a dict works too). ``latest=True`` keeps only the
        newest version of each name.

        Example:
            >>> [m.id for m in Model.list(ws, tags=[["data", "mnist"]])]  # doctest: +SKIP
            ['sklearn_mnist:2', 'sklearn_mnist:1']
        """
        records = Store.open(workspace.path).models.list(name, run_id=run_id)
        models = [m for m in (Model._attach(workspace, r) for r in records)
                  if m._matches(tags, properties)]
        if latest:
            seen: set[str] = set()
            models = [m for m in models if not (m.name in seen or seen.add(m.name))]
        return models

    # -- files --------------------------------------------------------------------------------------
    def _verify(self) -> Path:
        """The registered copy, after checking it still has its registration hash."""
        path = self.local_path
        if not path.exists():
            raise DataError(
                f"モデル {self.id} のファイル {self.file_name} がワークスペースから消えています "
                f"({path.parent})。Model.register でもう一度登録してください。"
            )
        sha, _size = content_hash(path)
        if sha != self.sha256:
            raise DataError(_tampered(self, path))
        return path

    def _copy_verified(self, target: Path) -> None:
        """Copy the registered content to ``target``, checking the hash of what was copied."""
        source = self._verify()
        sha, _size = copy_hashed(source, target)
        if sha != self.sha256:
            remove(target)
            raise DataError(_tampered(self, source))

    def download(self, target_dir: str | os.PathLike[str] = ".", exist_ok: bool = False,
                 exists_ok: bool | None = None) -> str:
        """Copy the model's file (or folder) into ``target_dir``; return its path.

        The copy is checked against the hash taken at registration.

        Example:
            >>> Model(ws, "sklearn_mnist").download("models", exist_ok=True)  # doctest: +SKIP
            'models/sklearn_mnist_model.pkl'
        """
        if exists_ok is not None:
            exist_ok = exists_ok
        target = Path(target_dir) / self.file_name
        if target.exists() and not exist_ok:
            raise UserErrorException(
                f"File already exists: {target}. Set exist_ok=True to overwrite. "
                f"{target} はすでにあります。上書きするには exist_ok=True を付けてください。"
            )
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        staging = Path(target_dir) / f".{self.file_name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            self._copy_verified(staging)
            remove(target)
            os.replace(staging, target)
        finally:
            remove(staging)
        return str(target)

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None,
                       _workspace: Workspace | None = None) -> str:
        """Where ``model_name`` is on disk, as in v1's score.py.

        Looks in this order: the service's model folder (``AZUREML_MODEL_DIR``
        and ``./azureml-models/<name>/<version>/``), then ``./<model_name>``,
        then (with ``_workspace``) the registered, hash-checked copy. Returns the
        single file in the version folder, or the folder if it holds several.

        Example (in score.py)::

            def init():
                global model
                model = joblib.load(Model.get_model_path("sklearn_mnist"))
        """
        roots: list[Path] = []
        env_dir = os.environ.get("AZUREML_MODEL_DIR")
        if env_dir:
            p = Path(env_dir)
            roots.append(p.parent.parent if p.parent.parent.name == "azureml-models" else p)
        roots.append(Path.cwd() / "azureml-models")
        searched = []
        for root in roots:
            folder = root / model_name
            searched.append(str(folder))
            if not folder.is_dir():
                continue
            versions = sorted(int(v.name) for v in folder.iterdir() if v.name.isdigit())
            pick = int(version) if version is not None else (versions[-1] if versions else None)
            if pick in versions:
                vdir = folder / str(pick)
                entries = sorted(vdir.iterdir())
                return str(entries[0] if len(entries) == 1 else vdir)
        if Path(model_name).exists():
            return model_name
        searched.append(f"./{model_name}")
        if _workspace is not None:
            return str(Model(_workspace, model_name, version=version)._verify())
        raise ModelNotFoundError(
            f"Model not found in cache or in root at ./{model_name}. モデル {model_name!r}"
            f"{'' if version is None else f' (version {version})'} が見つかりません。"
            f"探した場所: {', '.join(searched)}。score.py の中なら Model.deploy(..., models=[model])"
            " にそのモデルを渡したか確認してください。ノートブックからは "
            "Model.get_model_path(name, _workspace=ws) で登録済みのモデルを使えます。"
        )

    # -- changing -------------------------------------------------------------------------------------
    def _reload(self) -> None:
        record = Store.open(self._workspace.path).models.get(self._rec.pk)
        if record is None:
            raise ModelNotFoundError(f"モデル {self.id} は登録から削除されています。")
        self._rec = record

    def add_tags(self, tags: dict[str, Any]) -> None:
        """Add or change tags.

        Example:
            >>> model.add_tags({"stage": "production"})  # doctest: +SKIP
        """
        self._reload()
        Store.open(self._workspace.path).models.set_tags(
            self._rec.pk, {**self._rec.tags, **clean_tags(tags, "tags")})
        self._reload()

    def remove_tags(self, tags: Iterable[str]) -> None:
        """Remove tags by key.

        Example:
            >>> model.remove_tags(["stage"])  # doctest: +SKIP
        """
        keys = [tags] if isinstance(tags, str) else list(tags)
        self._reload()
        Store.open(self._workspace.path).models.set_tags(
            self._rec.pk, {k: v for k, v in self._rec.tags.items() if k not in keys})
        self._reload()

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add properties (an existing property cannot be changed, like v1).

        Example:
            >>> model.add_properties({"accuracy": "0.92"})  # doctest: +SKIP
        """
        new = clean_tags(properties, "properties")
        self._reload()
        have = self._rec.properties
        clash = [k for k, v in new.items() if k in have and have[k] != v]
        if clash:
            raise UserErrorException(f"プロパティ {clash} はすでにあり、変更できません "
                                     "(タグなら add_tags で変更できます)。")
        Store.open(self._workspace.path).models.set_properties(self._rec.pk, {**have, **new})
        self._reload()

    def delete(self) -> None:
        """Remove this version from the registry (refused while a service uses it).

        Example:
            >>> model.delete()  # doctest: +SKIP
        """
        store = Store.open(self._workspace.path)
        users = store.services.using_model(self.id)
        if users:
            raise UserErrorException(
                f"モデル {self.id} は Web サービス {users} が使っているので削除できません。"
                "先に service.delete() でサービスを削除してください。"
            )
        store.models.delete(self._rec.pk)
        remove(self.local_path.parent)

    # -- deployment -----------------------------------------------------------------------------------
    @staticmethod
    def deploy(workspace: Workspace, name: str, models: list[Model],
               inference_config: InferenceConfig | None = None, deployment_config: Any = None,
               deployment_target: Any = None, overwrite: bool = False) -> Webservice:
        """Start a web service that serves ``models`` with ``inference_config``'s score.py.

        The service runs on this machine in its own process (for both
        ``LocalWebservice`` and ``AciWebservice`` configurations). It returns at
        once; ``service.wait_for_deployment()`` waits until it answers (seconds).

        Example:
            >>> service = Model.deploy(ws, "sklearn-mnist-svc", [model], inference_config,
            ...                        LocalWebservice.deploy_configuration())  # doctest: +SKIP
            >>> service.wait_for_deployment(show_output=True)  # doctest: +SKIP
        """
        return _catalog.resolve("deploy")(workspace, name, models, inference_config,
                                          deployment_config, deployment_target, overwrite)

    @staticmethod
    def package(workspace: Workspace, models: list[Model],
                inference_config: InferenceConfig | None = None,
                generate_dockerfile: bool = False, image_name: str | None = None,
                image_label: str | None = None,
                output_dir: str | os.PathLike[str] | None = None) -> Any:
        """Write a Docker build context (Dockerfile, score.py, models, environment).

        There is no registry to push to offline: the context is written to
        ``output_dir`` (default ``<ws.path>/packages/<image_name>/``); build it with
        ``docker build`` where Docker is available. Returns a ``ModelPackage``.

        Example:
            >>> package = Model.package(ws, [model], inference_config,
            ...                         output_dir="imagefiles")  # doctest: +SKIP
            >>> package.wait_for_creation(show_output=True)  # doctest: +SKIP
        """
        return _catalog.resolve("package")(workspace, models, inference_config,
                                           image_name=image_name, image_label=image_label,
                                           output_dir=output_dir)


def register_from_run(run: Run, model_name: str, model_path: str | None, *,
                      tags: Any = None, properties: Any = None,
                      description: str | None = None, **kwargs: Any) -> Model:
    """``run.register_model``: ``model_path`` is relative to the run's files.

    Example:
        >>> register_from_run(run, "sklearn_mnist", "outputs/model.pkl")  # doctest: +SKIP
    """
    _unknown(kwargs, "run.register_model")
    if not model_path or not isinstance(model_path, str):
        raise UserErrorException(
            "run.register_model(model_name, model_path=...) の model_path に、Run のファイルの"
            "中の場所を指定してください。例: model_path='outputs/sklearn_mnist_model.pkl'"
        )
    rel, source = _artifacts.resolve(run.local_path, model_path)  # the one path rule
    run.flush()
    if not source.exists():
        names = run.get_file_names()
        hints = []
        if f"outputs/{rel}" in names or any(n.startswith(f"outputs/{rel}/") for n in names):
            hints.append(f"model_path は Run のファイル全体から見たパスです。"
                         f"'outputs/{rel}' を指定してください。")
        local = Path(run.record.outputs_dir or "outputs")
        tail = rel[len("outputs/"):] if rel.startswith("outputs/") else None
        if tail and (local / tail).exists():
            hints.append("そのファイルは outputs/ フォルダーにはありますが、まだ Run に"
                         "アップロードされていません。run.complete() のあとで登録するか、"
                         "run.upload_file(...) でアップロードしてください。")
        raise UserErrorException(
            f"Could not locate the provided model_path {model_path} in the set of files "
            f"uploaded to the run: {names}\n"
            + ("\n".join(hints) or "run.get_file_names() で Run のファイルを確認してください。")
        )
    return Model._register(run.experiment.workspace, source, model_name, tags=tags,
                           properties=properties, description=description,
                           run_id=run.id, experiment=run.experiment.name)


def _unknown(kwargs: dict[str, Any], where: str) -> None:
    if kwargs:
        raise UserErrorException(f"{where}: 引数 {sorted(kwargs)} はこのバージョンの amlhandson では"
                                 "使えません。")


def _not_found(store: Store, name: str, version: int | None) -> str:
    known = store.models.names()
    what = f"id {name}:{version}" if version is not None else f"name {name}"
    versions = store.models.versions(name)
    detail = (f"{name!r} の登録済み version: {versions}。" if versions
              else f"登録済みのモデル: {known or 'なし'}。")
    return (f"ModelNotFound: Model with {what} not found in provided workspace. {detail}"
            "Model.register(...) か run.register_model(...) で登録してから使ってください。")


def _tampered(model: Model, path: Path) -> str:
    return (
        f"モデル {model.id} のファイルが登録後に変更されています (SHA-256 が登録時と一致しません: "
        f"{path.name})。登録されたモデルは変更しないでください。意図した変更なら "
        "Model.register(...) で新しい version として登録し直してください。"
    )
