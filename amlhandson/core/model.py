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

import contextlib
import datetime as _dt
import hashlib
import json
import os
import posixpath
import shutil
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _paths
from ..exceptions import DataError, ModelNotFoundError, UserErrorException

if TYPE_CHECKING:
    from .environment import Environment
    from .run import Run
    from .webservice.service import Webservice
    from .workspace import Workspace

__all__ = ["Model", "InferenceConfig", "content_hash"]

_CHUNK = 1 << 20
_COLUMNS = ("pk, name, version, description, tags, properties, created, file_name, sha256, size, "
            "run_id, experiment")
_FIELDS = [c.strip() for c in _COLUMNS.split(",")]


# -- content hashes -------------------------------------------------------------------------------
def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _combine(entries: list[tuple[str, str | None]]) -> str:
    """One hash for a folder: sorted relative paths with each file's hash (``None``: a folder)."""
    digest = hashlib.sha256(b"amlhandson-folder-v1\n")
    for rel, file_hash in sorted(entries):
        kind = b"D" if file_hash is None else b"F"
        digest.update(kind + b"\0" + rel.encode("utf-8") + b"\0" + (file_hash or "").encode() + b"\n")
    return digest.hexdigest()


def _walk(root: Path) -> Iterable[tuple[Path, str, bool]]:
    """``(path, relative posix path, is_dir)`` for everything below ``root``, sorted."""
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs.sort()
        base = Path(folder)
        for name in dirs:
            yield base / name, (base / name).relative_to(root).as_posix(), True
        for name in sorted(files):
            yield base / name, (base / name).relative_to(root).as_posix(), False


def content_hash(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 (hex) and byte size of a file, or of a folder's files and relative paths.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "m.txt"
        >>> _ = f.write_text("abc")
        >>> content_hash(f)
        ('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 3)
    """
    path = Path(path)
    if path.is_file():
        return _file_digest(path)
    entries: list[tuple[str, str | None]] = []
    total = 0
    for item, rel, is_dir in _walk(path):
        if is_dir:
            entries.append((rel, None))
        else:
            file_hash, size = _file_digest(item)
            entries.append((rel, file_hash))
            total += size
    return _combine(entries), total


def _copy_file_hashed(src: Path, dst: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    shutil.copystat(src, dst)
    return digest.hexdigest(), size


def _copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy a file or folder and return the hash of what was copied (one read of the data)."""
    if src.is_file():
        return _copy_file_hashed(src, dst)
    dst.mkdir(parents=True, exist_ok=True)
    entries: list[tuple[str, str | None]] = []
    total = 0
    for item, rel, is_dir in _walk(src):
        if is_dir:
            (dst / rel).mkdir(parents=True, exist_ok=True)
            entries.append((rel, None))
        else:
            file_hash, size = _copy_file_hashed(item, dst / rel)
            entries.append((rel, file_hash))
            total += size
    return _combine(entries), total


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _clean_mapping(value: Any, what: str) -> dict[str, str]:
    from .run import _tag_key, _tag_value

    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserErrorException(f"{what} は dict で渡してください ({type(value).__name__} が"
                                 "渡されました)。例: {'data': 'mnist'}")
    return {_tag_key(k): _tag_value(k, v) for k, v in value.items()}


# -- Model ------------------------------------------------------------------------------------------
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
        sql = f"SELECT {_COLUMNS} FROM models WHERE name=?"
        params: list[Any] = [name]
        if version is not None:
            sql += " AND version=?"
            params.append(int(version))
        if run_id is not None:
            sql += " AND run_id=?"
            params.append(run_id)
        rows = workspace._store.query(sql + " ORDER BY version DESC", params)
        models = [Model._from_row(workspace, r) for r in rows]
        models = [m for m in models if m._matches(tags, properties)]
        if not models:
            raise ModelNotFoundError(_not_found(workspace, name, version))
        self.__dict__.update(models[0].__dict__)

    @classmethod
    def _from_row(cls, workspace: Workspace, row: tuple) -> Model:
        model = cls.__new__(cls)
        model._workspace = workspace
        model._row = dict(zip(_FIELDS, row))
        return model

    # -- attributes ---------------------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        """The workspace the model is registered in."""
        return self._workspace

    @property
    def name(self) -> str:
        """The model's name."""
        return self._row["name"]

    @property
    def version(self) -> int:
        """1, 2, 3 ... per name, in order of registration."""
        return self._row["version"]

    @property
    def id(self) -> str:
        """``<name>:<version>``."""
        return f"{self.name}:{self.version}"

    @property
    def description(self) -> str | None:
        """The description given at registration."""
        return self._row["description"]

    @property
    def tags(self) -> dict[str, str]:
        """Tags (changeable with :meth:`add_tags` / :meth:`remove_tags`)."""
        return json.loads(self._row["tags"])

    @property
    def properties(self) -> dict[str, str]:
        """Properties (can be added, not changed)."""
        return json.loads(self._row["properties"])

    @property
    def created_time(self) -> _dt.datetime:
        """When the model was registered (UTC)."""
        return _dt.datetime.fromtimestamp(self._row["created"], _dt.timezone.utc)

    @property
    def run_id(self) -> str | None:
        """The run the model was registered from (``run.register_model``), else ``None``."""
        return self._row["run_id"]

    @property
    def experiment_name(self) -> str | None:
        """The experiment of :attr:`run_id`."""
        return self._row["experiment"]

    @property
    def run(self) -> Run | None:
        """The run the model came from, or ``None``."""
        if not self.run_id or not self.experiment_name:
            return None
        from .experiment import Experiment
        from .run import Run

        return Run(Experiment(self._workspace, self.experiment_name), self.run_id)

    @property
    def file_name(self) -> str:
        """The name of the registered file or folder."""
        return self._row["file_name"]

    @property
    def sha256(self) -> str:
        """The content hash taken at registration."""
        return self._row["sha256"]

    @property
    def size(self) -> int:
        """Bytes of content."""
        return self._row["size"]

    @property
    def _path(self) -> Path:
        return self._workspace.path / "models" / self.name / str(self.version) / self.file_name

    @property
    def url(self) -> str:
        """Where the registered copy lives on this machine (v1: an ``aml://`` URL)."""
        return self._path.as_uri()

    def __repr__(self) -> str:
        return (f"Model(workspace={self._workspace!r}, name={self.name}, id={self.id}, "
                f"version={self.version}, tags={self.tags}, properties={self.properties})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.id == self.id and \
            other._workspace == self._workspace

    def __hash__(self) -> int:
        return hash((self._workspace, self.id))

    def serialize(self) -> dict[str, Any]:
        """The model's details as a dict (v1 keys)."""
        return {
            "id": self.id, "name": self.name, "version": self.version,
            "description": self.description, "tags": self.tags, "properties": self.properties,
            "createdTime": self.created_time.isoformat(), "runId": self.run_id,
            "experimentName": self.experiment_name, "fileName": self.file_name,
            "sha256": self.sha256, "size": self.size,
        }

    def _matches(self, tags: Any, properties: Any) -> bool:
        for wanted, actual in ((tags, self.tags), (properties, self.properties)):
            if wanted is None:
                continue
            items = wanted.items() if isinstance(wanted, dict) else wanted
            if isinstance(wanted, str):
                items = [wanted]
            for item in items:
                if isinstance(item, str):
                    if item not in actual:
                        return False
                else:
                    key, value = item
                    if actual.get(key) != (value if value is None else str(value)):
                        return False
        return True

    # -- registration -----------------------------------------------------------------------------
    @staticmethod
    def register(workspace: Workspace, model_path: str | os.PathLike[str], model_name: str,
                 tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
                 description: str | None = None, **kwargs: Any) -> Model:
        """Register a local file or folder as a new version of ``model_name``.

        The content is copied into the workspace and hashed; the first
        registration of a name is version 1, each later one adds 1.

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
        from .workspace import Workspace

        if not isinstance(workspace, Workspace):
            raise UserErrorException("Model.register の 1 つ目の引数 workspace には Workspace を"
                                     f"渡してください ({type(workspace).__name__} が渡されました)。")
        _paths.check_name(model_name, "model")
        tags_clean = _clean_mapping(tags, "tags")
        props_clean = _clean_mapping(properties, "properties")
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
        try:
            sha, size = _copy_hashed(source, staging / file_name)
            store = workspace._store
            with store.transaction() as conn:
                (latest,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM models WHERE "
                                         "name=?", (model_name,)).fetchone()
                version = latest + 1
                final = models_root / model_name / str(version)
                _remove(final)  # leftovers of an interrupted registration have no row
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging, final)
                try:
                    cur = conn.execute(
                        "INSERT INTO models(name, version, description, tags, properties, created, "
                        "file_name, sha256, size, run_id, experiment) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (model_name, version, description,
                         json.dumps(tags_clean, ensure_ascii=False),
                         json.dumps(props_clean, ensure_ascii=False), time.time(), file_name,
                         sha, size, run_id, experiment))
                except BaseException:
                    _remove(final)
                    raise
                row = conn.execute(f"SELECT {_COLUMNS} FROM models WHERE pk=?",
                                   (cur.lastrowid,)).fetchone()
        finally:
            _remove(staging)
        return Model._from_row(workspace, row)

    @staticmethod
    def _register_from_run(run: Run, model_name: str, model_path: str | None, *,
                           tags: Any = None, properties: Any = None,
                           description: str | None = None, **kwargs: Any) -> Model:
        """``run.register_model``: ``model_path`` is relative to the run's files."""
        _unknown(kwargs, "run.register_model")
        if not model_path or not isinstance(model_path, str):
            raise UserErrorException(
                "run.register_model(model_name, model_path=...) の model_path に、Run のファイルの"
                "中の場所を指定してください。例: model_path='outputs/sklearn_mnist_model.pkl'"
            )
        rel = posixpath.normpath(model_path.replace("\\", "/")).lstrip("/")
        if rel.startswith("..") or rel == ".":
            raise UserErrorException(f"model_path {model_path!r} は Run のファイルの外を指しています。"
                                     "'outputs/...' のような相対パスにしてください。")
        run.flush()
        source = run._folder / rel
        if not source.exists():
            names = run.get_file_names()
            hints = []
            if f"outputs/{rel}" in names or any(n.startswith(f"outputs/{rel}/") for n in names):
                hints.append(f"model_path は Run のファイル全体から見たパスです。"
                             f"'outputs/{rel}' を指定してください。")
            local = Path(run._row.get("outputs_dir") or "outputs")
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
        sql = f"SELECT {_COLUMNS} FROM models"
        params: list[Any] = []
        where = []
        if name is not None:
            where.append("name=?")
            params.append(name)
        if run_id is not None:
            where.append("run_id=?")
            params.append(run_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = workspace._store.query(sql + " ORDER BY name, version DESC", params)
        models = [m for m in (Model._from_row(workspace, r) for r in rows)
                  if m._matches(tags, properties)]
        if latest:
            seen: set[str] = set()
            models = [m for m in models if not (m.name in seen or seen.add(m.name))]
        return models

    # -- files --------------------------------------------------------------------------------------
    def _verify(self) -> Path:
        """The registered copy, after checking it still has its registration hash."""
        path = self._path
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
        sha, _size = _copy_hashed(source, target)
        if sha != self.sha256:
            _remove(target)
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
            _remove(target)
            os.replace(staging, target)
        finally:
            _remove(staging)
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
    def _update(self, column: str, value: dict[str, str]) -> None:
        self._workspace._store.execute(f"UPDATE models SET {column}=? WHERE pk=?",
                                       (json.dumps(value, ensure_ascii=False), self._row["pk"]))
        self._row[column] = json.dumps(value, ensure_ascii=False)

    def add_tags(self, tags: dict[str, Any]) -> None:
        """Add or change tags."""
        self._update("tags", {**self.tags, **_clean_mapping(tags, "tags")})

    def remove_tags(self, tags: Iterable[str]) -> None:
        """Remove tags by key."""
        keys = [tags] if isinstance(tags, str) else list(tags)
        self._update("tags", {k: v for k, v in self.tags.items() if k not in keys})

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add properties (an existing property cannot be changed, like v1)."""
        new = _clean_mapping(properties, "properties")
        clash = [k for k, v in new.items() if k in self.properties and self.properties[k] != v]
        if clash:
            raise UserErrorException(f"プロパティ {clash} はすでにあり、変更できません "
                                     "(タグなら add_tags で変更できます)。")
        self._update("properties", {**self.properties, **new})

    def delete(self) -> None:
        """Remove this version from the registry (refused while a service uses it)."""
        users = [name for name, spec in self._workspace._store.query(
            "SELECT name, spec FROM services") if self.id in json.loads(spec).get("models", [])]
        if users:
            raise UserErrorException(
                f"モデル {self.id} は Web サービス {users} が使っているので削除できません。"
                "先に service.delete() でサービスを削除してください。"
            )
        self._workspace._store.execute("DELETE FROM models WHERE pk=?", (self._row["pk"],))
        _remove(self._path.parent)

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
        from .webservice.service import _deploy

        return _deploy(workspace, name, models, inference_config, deployment_config,
                       deployment_target, overwrite)

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
        from .webservice._package import package

        return package(workspace, models, inference_config, image_name=image_name,
                       image_label=image_label, output_dir=output_dir)


def _unknown(kwargs: dict[str, Any], where: str) -> None:
    if kwargs:
        raise UserErrorException(f"{where}: 引数 {sorted(kwargs)} はこのバージョンの amlhandson では"
                                 "使えません。")


def _not_found(workspace: Workspace, name: str, version: int | None) -> str:
    known = sorted({r[0] for r in workspace._store.query("SELECT name FROM models")})
    what = f"id {name}:{version}" if version is not None else f"name {name}"
    versions = [r[0] for r in workspace._store.query(
        "SELECT version FROM models WHERE name=? ORDER BY version", (name,))]
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


# -- InferenceConfig ----------------------------------------------------------------------------------
class InferenceConfig:
    """How to serve a model: the entry script (score.py) and its environment.

    ``entry_script`` is relative to ``source_directory`` when that is given
    (the whole folder is copied into the service), else to the current folder
    (only the script is copied). Give ``environment`` or the separate fields
    (``runtime``, ``conda_file`` ...), not both, as in v1.

    Example:
        >>> inference_config = InferenceConfig(entry_script="score.py",
        ...                                    environment=env)  # doctest: +SKIP
    """

    def __init__(self, entry_script: str | os.PathLike[str], runtime: str | None = None,
                 conda_file: str | os.PathLike[str] | None = None,
                 extra_docker_file_steps: str | os.PathLike[str] | None = None,
                 source_directory: str | os.PathLike[str] | None = None,
                 enable_gpu: bool | None = None, description: str | None = None,
                 base_image: str | None = None, base_image_registry: Any = None,
                 cuda_version: str | None = None, environment: Environment | None = None) -> None:
        self.entry_script = str(entry_script)
        self.runtime = runtime
        self.conda_file = None if conda_file is None else str(conda_file)
        self.extra_docker_file_steps = (None if extra_docker_file_steps is None
                                        else str(extra_docker_file_steps))
        self.source_directory = None if source_directory is None else str(source_directory)
        self.enable_gpu = enable_gpu
        self.description = description
        self.base_image = base_image
        self.base_image_registry = base_image_registry
        self.cuda_version = cuda_version
        self.environment = environment
        self.validate_configuration()

    def validate_configuration(self) -> None:
        """Check the settings; raise ``UserErrorException`` with what to fix."""
        from .environment import Environment

        separate = {k: v for k, v in (("runtime", self.runtime), ("conda_file", self.conda_file),
                                      ("extra_docker_file_steps", self.extra_docker_file_steps),
                                      ("enable_gpu", self.enable_gpu),
                                      ("base_image", self.base_image),
                                      ("cuda_version", self.cuda_version)) if v is not None}
        if self.environment is not None:
            if separate:
                raise UserErrorException(
                    f"InferenceConfig: environment と {sorted(separate)} は同時に指定できません。"
                    "パッケージは environment (Environment) の中で指定してください。"
                )
            if not isinstance(self.environment, Environment):
                raise UserErrorException("InferenceConfig の environment= には Environment を"
                                         f"渡してください ({type(self.environment).__name__})。")
        if self.runtime is not None and self.runtime.lower() != "python":
            raise UserErrorException(f"InferenceConfig: runtime は 'python' だけが使えます "
                                     f"({self.runtime!r} が渡されました)。")
        if self.source_directory is not None and not Path(self.source_directory).is_dir():
            raise UserErrorException(
                f"InferenceConfig: source_directory {self.source_directory!r} というフォルダーが"
                f"ありません (いまのフォルダー: {Path.cwd().name})。"
            )
        script = self._entry_path()
        if not script.is_file():
            base = (f"source_directory {self.source_directory!r} から見て"
                    if self.source_directory else f"いまのフォルダー ({Path.cwd().name}) から見て")
            raise UserErrorException(
                f"Error, provided entry_script file \"{self.entry_script}\" not found. "
                f"{base} {self.entry_script!r} がありません。score.py を書いたか、パスが合っているか"
                "確認してください。"
            )
        if script.suffix != ".py":
            raise UserErrorException(f"InferenceConfig: entry_script は .py ファイルにしてください "
                                     f"({self.entry_script!r})。")
        if self.source_directory is not None:
            root = Path(self.source_directory).resolve()
            if root != script.resolve().parent and root not in script.resolve().parents:
                raise UserErrorException(f"entry_script {self.entry_script!r} は source_directory "
                                         "の中にあるファイルにしてください。")
        for what, value in (("conda_file", self.conda_file),
                            ("extra_docker_file_steps", self.extra_docker_file_steps)):
            if value is not None and not self._relative(value).is_file():
                raise UserErrorException(f"InferenceConfig: {what} {value!r} がありません。")

    def _relative(self, value: str) -> Path:
        base = Path(self.source_directory) if self.source_directory else Path(".")
        return (base / value).resolve()

    def _entry_path(self) -> Path:
        return self._relative(self.entry_script)

    def _environment(self) -> Environment:
        """The environment to build, from ``environment`` or ``conda_file``."""
        from .environment import Environment

        if self.environment is not None:
            return self.environment
        if self.conda_file is not None:
            return Environment.from_conda_specification("inference-env",
                                                        self._relative(self.conda_file))
        return Environment("inference-env")

    def _to_spec(self) -> dict[str, Any]:
        """What a service needs to rebuild itself later (absolute paths)."""
        return {
            "entry_script": str(self._entry_path()),
            "source_directory": (str(Path(self.source_directory).resolve())
                                 if self.source_directory else None),
            "environment": self._environment()._to_dict(),
            "extra_docker_file_steps": (str(self._relative(self.extra_docker_file_steps))
                                        if self.extra_docker_file_steps else None),
            "base_image": self.base_image,
            "description": self.description,
        }

    def __repr__(self) -> str:
        return (f"InferenceConfig(entry_script={self.entry_script!r}, "
                f"source_directory={self.source_directory!r}, "
                f"environment={None if self.environment is None else self.environment.name!r})")
