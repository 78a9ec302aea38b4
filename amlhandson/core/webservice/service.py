"""``Webservice``: a deployed web service on this machine (v1: ``azureml.core.webservice.webservice``).

``Model.deploy`` (:mod:`._deploy`) prepares ``<ws.path>/services/<name>/`` and
starts one detached scoring-server process for it (:mod:`._supervise`), which
runs score.py in supervised worker processes (:mod:`._pool`). The workspace
store records the service (:mod:`._records`), so ``Webservice(ws, name)`` finds
it again from any process, and ``amlhandson services`` lists and stops it.
This module is the v1 object on top: attributes, waiting, calling, logs,
changes, keys. State names are in :mod:`._records`; the two kinds are
:class:`~.local.LocalWebservice` and :class:`~.aci.AciWebservice`.

Example:
    >>> from amlhandson.core.webservice import LocalWebservice, Webservice
    >>> config = LocalWebservice.deploy_configuration(port=None)
    >>> service = Model.deploy(ws, "sklearn-mnist-svc", [model], inference_config,
    ...                        config)  # doctest: +SKIP
    >>> service.wait_for_deployment(show_output=True)  # doctest: +SKIP
    Local webservice is running at http://127.0.0.1:41235
    >>> Webservice(ws, "sklearn-mnist-svc").state  # doctest: +SKIP
    'running'
"""

from __future__ import annotations

import collections
import contextlib
import shutil
from pathlib import Path
from typing import Any

from ... import _process
from ...exceptions import UserErrorException, WebserviceException
from ..inference_config import InferenceConfig
from ..model import Model
from ..workspace import Workspace
from . import _client, _records, _supervise
from ._config import DeploymentConfiguration, check_models
from ._keys import new_key, read_keys, write_keys
from ._layout import copy_source, prepare, write_server_json
from ._records import DELETED, FAILED, TRANSITIONING, UNHEALTHY
from ._waiting import DEFAULT_TIMEOUT, DeploymentWait

__all__ = ["Webservice", "KeysNotSupportedError", "DEFAULT_TIMEOUT", "RUN_WAIT"]

#: Seconds ``run()`` waits for a service that is still starting.
RUN_WAIT = 60.0


class KeysNotSupportedError(WebserviceException, NotImplementedError):
    """Keys were asked of a service kind that has none (v1: ``NotImplementedError``)."""


class Webservice(DeploymentWait):
    """A deployed web service (the base class of ``LocalWebservice`` and ``AciWebservice``).

    ``Webservice(ws, name)`` finds a service of the workspace, from any process,
    and returns the object of its kind.

    Example:
        >>> service = Webservice(ws, "sklearn-mnist-svc")  # doctest: +SKIP
        >>> service.state, service.scoring_uri  # doctest: +SKIP
        ('running', 'http://127.0.0.1:41235/score')
    """

    _compute_type = ""
    _STATE_NAMES: dict[str, str] = {}
    #: compute type -> class (LocalWebservice and AciWebservice register themselves).
    _KINDS: dict[str, type[Webservice]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._compute_type:
            Webservice._KINDS[cls._compute_type] = cls

    def __new__(cls, workspace: Workspace | None = None, name: str | None = None,
                *args: Any, **kwargs: Any) -> Webservice:
        if workspace is None or name is None:
            return super().__new__(cls)
        record = _records.get(workspace, name)
        if record is None:
            raise WebserviceException(_not_found(workspace, name))
        kinds = Webservice._KINDS
        sub = kinds.get(record.spec.get("compute_type", "Local"), kinds.get("Local", cls))
        if cls not in (Webservice, sub):
            raise WebserviceException(
                f"サービス {name!r} は {sub.__name__} です ({cls.__name__} ではありません)。"
                f"Webservice(ws, {name!r}) か {sub.__name__}(ws, {name!r}) で取得してください。"
            )
        return super().__new__(sub)

    def __init__(self, workspace: Workspace, name: str) -> None:
        self._workspace = workspace
        self._name = name
        self._deleted = False
        self._record: _records.ServiceRecord
        self._load()

    # -- record ----------------------------------------------------------------------------------------
    @property
    def _dir(self) -> Path:
        return self._workspace.path / "services" / self._name

    @property
    def _spec(self) -> dict[str, Any]:
        return self._record.spec

    def _load(self) -> None:
        record = _records.get(self._workspace, self._name)
        if record is None:
            self._deleted = True
            return
        if record.spec.get("keys"):  # written by an older release: keys leave the database
            if read_keys(self._dir / "keys.json") is None and self._dir.is_dir():
                write_keys(self._dir / "keys.json", record.spec["keys"])
            record = _records.update(self._workspace, self._name, drop=("keys",)) or record
        self._record = _records.reconcile(self._workspace, record, self._dir)

    def _save(self, spec: dict[str, Any] | None = None,
              nested: dict[str, dict[str, Any]] | None = None, **fields: Any) -> None:
        """Store a change in one transaction (``spec`` keys merged, ``nested`` one level deeper)."""
        record = _records.update(self._workspace, self._name, spec=spec, nested=nested, **fields)
        if record is None:
            self._deleted = True
        else:
            self._record = record

    def _stored_state(self) -> str:
        if not self._deleted:
            self._load()
        return DELETED if self._deleted else self._record.state

    # -- attributes --------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The service's name."""
        return self._name

    @property
    def workspace(self) -> Workspace:
        """The workspace the service belongs to."""
        return self._workspace

    @property
    def compute_type(self) -> str:
        """``"Local"`` or ``"ACI"``."""
        return self._compute_type

    @property
    def state(self) -> str:
        """The current state, checked now (see :mod:`._records` for the names)."""
        stored = self._stored_state()
        return self._STATE_NAMES.get(stored, stored)

    @property
    def _deployment(self) -> dict[str, Any]:
        return self._spec["deployment"]

    @property
    def port(self) -> int | None:
        """The TCP port the service listens on (``None`` until known)."""
        return None if self._deleted else self._record.port

    @property
    def _client_host(self) -> str:
        return _client.client_host(self._deployment.get("host", "127.0.0.1"))

    def _uri(self, path: str) -> str | None:
        port = self.port
        if port is None:
            return None
        host = self._client_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{path}"

    @property
    def scoring_uri(self) -> str | None:
        """``http://127.0.0.1:<port>/score``."""
        return self._uri("/score")

    @property
    def swagger_uri(self) -> str | None:
        """``http://127.0.0.1:<port>/swagger.json``."""
        return self._uri("/swagger.json")

    @property
    def auth_enabled(self) -> bool:
        """Whether requests need ``Authorization: Bearer <key>``."""
        return bool(self._deployment.get("auth_enabled"))

    @property
    def tags(self) -> dict[str, Any]:
        """Tags given in the deployment configuration or ``update``."""
        return dict(self._deployment.get("tags") or {})

    @property
    def properties(self) -> dict[str, Any]:
        """Properties given in the deployment configuration or ``update``."""
        return dict(self._deployment.get("properties") or {})

    @property
    def description(self) -> str | None:
        """The description given in the deployment configuration."""
        return self._deployment.get("description")

    @property
    def created_time(self) -> float:
        """When the service was first deployed (seconds since the epoch)."""
        return self._record.created

    @property
    def updated_time(self) -> float:
        """When the service record last changed."""
        return self._record.updated

    @property
    def error(self) -> dict[str, Any] | None:
        """Why the service failed or is restarting (``kind``, ``message``, ``traceback``)."""
        return self._spec.get("error")

    @property
    def restarts(self) -> int:
        """How often a score.py process was restarted after it ended (0 if never)."""
        if not self._deleted:
            self._load()
        return 0 if self._deleted else int(self._spec.get("restarts") or 0)

    @property
    def last_exit(self) -> dict[str, Any] | None:
        """The last score.py process that ended on its own: exit code, when, what it was doing."""
        return None if self._deleted else self._spec.get("last_exit")

    @property
    def models(self) -> list[Model]:
        """The models the service serves."""
        return [Model(self._workspace, id=model_id) for model_id in self._spec["models"]]

    @property
    def image_id(self) -> None:
        """No image is built locally (v1: the Docker image's id)."""
        return None

    def __repr__(self) -> str:
        if self._deleted:
            return f"{type(self).__name__}(name={self._name}, state={self.state})"
        return (f"{type(self).__name__}(workspace={self._workspace!r}, name={self._name}, "
                f"image_id=None, compute_type={self._compute_type}, state={self.state}, "
                f"scoring_uri={self.scoring_uri}, tags={self.tags}, "
                f"properties={self.properties})")

    def serialize(self) -> dict[str, Any]:
        """The service's details as a dict (never the keys)."""
        state = self.state
        return {
            "name": self._name, "computeType": self._compute_type, "state": state,
            "scoringUri": self.scoring_uri, "swaggerUri": self.swagger_uri, "port": self.port,
            "authEnabled": self.auth_enabled, "models": list(self._spec.get("models", [])),
            "tags": self.tags, "properties": self.properties, "description": self.description,
            "error": self.error, "pid": None if self._deleted else self._record.pid,
            "restarts": 0 if self._deleted else int(self._spec.get("restarts") or 0),
            "lastExit": self.last_exit,
        }

    # -- process ------------------------------------------------------------------------------------------
    def _spawn(self) -> None:
        """Start the server process (the folder must be ready)."""
        pid, started = _supervise.spawn(self._dir, self._name)
        self._save(spec={"proc_started": started, "error": None}, state=TRANSITIONING, pid=pid,
                   host=_process.HOST)

    def _stop(self) -> None:
        if not self._deleted:
            _supervise.stop(self._record.pid, self._spec.get("proc_started"))

    def _restart(self, port: int | None, wait: bool) -> None:
        config = _supervise.read_json(self._dir / "server.json") or {}
        config["port"] = port or 0  # keep the scoring URI
        write_server_json(self._dir, config)
        self._stop()
        self._save(port=port)
        self._spawn()
        if wait:
            self._wait(show_output=False, timeout_sec=None, announce=False)

    # -- calling ------------------------------------------------------------------------------------------
    def _ensure_exists(self, what: str) -> None:
        if self._deleted:
            raise WebserviceException(
                f"Cannot call {what}() when service is deleted. サービス {self._name!r} は削除されて"
                "います。もう一度 Model.deploy(...) してください。")

    def _ensure_running(self, what: str) -> None:
        self._ensure_exists(what)
        state = self._stored_state()
        if state == DELETED:
            self._ensure_exists(what)
        if state == TRANSITIONING:
            self._wait(show_output=False, timeout_sec=RUN_WAIT, announce=False, give_up=False)
        elif state == FAILED or (state == UNHEALTHY and (self.error or {}).get("kind")
                                 != "restarting"):
            error = self.error or {}
            raise WebserviceException(
                f"サービス {self._name!r} は {self.state} 状態なので {what}() できません: "
                f"{error.get('message', '')} service.get_logs() でログを確認し、"
                "service.reload() で起動し直してください。")

    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        headers = dict(headers or {})
        if self.auth_enabled:
            keys = read_keys(self._dir / "keys.json")
            if keys is not None:
                headers.setdefault("Authorization", f"Bearer {keys[0]}")
        port = self.port
        timeout = _client.SCORING_TIMEOUT + self._deployment.get("scoring_timeout_ms", 60_000) \
            / 1000
        try:
            return _client.request(self._client_host, port or 0, method, path, body, headers,
                                   timeout)
        except OSError as exc:
            state = self.state
            raise WebserviceException(
                f"Error attempting to call webservice: サービス {self._name!r} "
                f"(http://{self._client_host}:{port}) に接続できませんでした ({exc})。"
                f"いまの状態: {state}。service.get_logs() でログを確認してください。") from exc

    def run(self, input_data: Any) -> Any:
        """Send ``input_data`` (a JSON string, bytes, or a JSON-able object) to ``POST /score``.

        Returns the decoded JSON answer. A service still starting is waited for
        (up to a minute).

        Example:
            >>> service.run(json.dumps({"data": X_test[:3].tolist()}))  # doctest: +SKIP
            [7, 2, 1]
        """
        self._ensure_running("run")
        body = _client.encode(input_data)
        limit = int(self._deployment.get("max_request_body_mb", 10) * 1024 * 1024)
        if len(body) > limit:
            raise WebserviceException(
                f"Error: Scoring was unsuccessful. (HTTP 413) 送るデータ ({len(body) / 2**20:.1f} MB)"
                f" がサービスの上限 max_request_body_mb={self._deployment.get('max_request_body_mb', 10)}"
                " を超えています。何回かに分けて送るか、deploy_configuration("
                "max_request_body_mb=...) を大きくしてデプロイし直してください。")
        status, headers, content = self._request(
            "POST", "/score", body, {"Content-Type": "application/json"})
        return self._handle_response(status, headers, content)

    def _handle_response(self, status: int, headers: dict[str, str], content: bytes) -> Any:
        raise NotImplementedError

    # -- logs ---------------------------------------------------------------------------------------------
    def get_logs(self, num_lines: int = 5000) -> str:
        """The last ``num_lines`` lines of the service's log (server, score.py prints, restarts)."""
        self._ensure_exists("get_logs")
        path = self._dir / _supervise.LOG_FILE
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                tail = collections.deque(fh, maxlen=max(int(num_lines), 0))
        except FileNotFoundError:
            return ""
        return "".join(tail)

    # -- changing -----------------------------------------------------------------------------------------
    def reload(self, wait: bool = True) -> None:
        """Copy score.py (and source_directory) again and restart the service, same port.

        Waits until it answers (``wait=False`` returns at once); a failing
        ``init()`` raises here with its traceback.

        Example:
            >>> service.reload()  # doctest: +SKIP
        """
        self._ensure_exists("reload")
        entry = copy_source(self._dir / "app", self._spec["inference"])
        config = _supervise.read_json(self._dir / "server.json") or {}
        config["entry_script"] = entry
        write_server_json(self._dir, config)
        self._restart(self.port, wait)

    def update(self, models: list[Model] | None = None,
               inference_config: InferenceConfig | None = None,
               deployment_config: DeploymentConfiguration | None = None, *,
               tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
               description: str | None = None, auth_enabled: bool | None = None,
               wait: bool = True, **kwargs: Any) -> None:
        """Change the models, score.py/environment or settings, and restart the service.

        Only ``tags`` / ``properties`` / ``description``: no restart. Each change
        is stored in one transaction, merged with what others changed meanwhile.

        Example:
            >>> service.update(models=[new_model])  # doctest: +SKIP
        """
        self._ensure_exists("update")
        if kwargs:
            raise UserErrorException(f"update: 引数 {sorted(kwargs)} は使えません。")
        deployment: dict[str, Any] = {}
        if deployment_config is not None:
            if deployment_config.compute_type != self._compute_type:
                raise UserErrorException(
                    f"{self._compute_type} のサービスを {deployment_config.compute_type} の設定で "
                    "update することはできません。Model.deploy(..., overwrite=True) してください。")
            deployment.update(deployment_config._to_dict())
        for key, value in (("tags", tags), ("properties", properties),
                           ("description", description), ("auth_enabled", auth_enabled)):
            if value is not None:
                deployment[key] = value
        patch: dict[str, Any] = {}
        if models is not None:
            patch["models"] = [m.id for m in check_models(models)]
        if inference_config is not None:
            patch["inference"] = inference_config._to_spec()
        restart = bool(patch) or deployment_config is not None or (
            auth_enabled is not None and bool(auth_enabled) != self.auth_enabled)
        if not restart:  # only the keys given change, merged with others' changes
            self._save(nested={"deployment": deployment})
            return
        self._load()
        merged = {**self._spec, **patch, "deployment": {**self._deployment, **deployment}}
        port = merged["deployment"].get("port") or self.port
        if deployment_config is not None and deployment_config.port is None:
            port = None
        # Build first: if a model fails its hash check, the running service is left as it was.
        prepare(self._workspace, self._dir, merged, deployment_config, port=port)
        self._save(spec=patch or None, nested={"deployment": deployment})
        self._restart(port, wait)

    def delete(self, delete_cache: bool = True, delete_image: bool = False,
               delete_volume: bool = True) -> None:
        """Stop the service's processes (all of them) and remove it (its folder and record).

        Example:
            >>> service.delete()  # doctest: +SKIP
        """
        if self._deleted:
            return
        self._load()
        if self._deleted:
            return
        with contextlib.suppress(FileNotFoundError):
            (self._dir / "server.json").unlink()
        self._stop()
        shutil.rmtree(self._dir, ignore_errors=True)
        _records.delete(self._workspace, self._name)
        self._deleted = True

    # -- keys ---------------------------------------------------------------------------------------------
    def get_keys(self) -> tuple[str, str]:
        """``(primary, secondary)`` keys of a service with ``auth_enabled=True``."""
        self._ensure_exists("get_keys")
        if not self.auth_enabled:
            raise WebserviceException(
                f"サービス {self._name!r} はキー認証が無効 (auth_enabled=False) なのでキーはありません。"
                "AciWebservice.deploy_configuration(auth_enabled=True) でデプロイしてください。")
        keys = read_keys(self._dir / "keys.json")
        if keys is None:
            keys = (new_key(), new_key())
            write_keys(self._dir / "keys.json", keys)
        return keys

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """Replace the ``"Primary"`` or ``"Secondary"`` key; the running service uses it at once."""
        keys = list(self.get_keys())
        if key not in ("Primary", "Secondary"):
            raise UserErrorException(f"regen_key: key は 'Primary' か 'Secondary' です "
                                     f"({key!r} が渡されました)。")
        if set_key is not None and (not isinstance(set_key, str) or len(set_key) < 8):
            raise UserErrorException("regen_key: set_key は 8 文字以上の文字列にしてください。")
        keys[0 if key == "Primary" else 1] = set_key or new_key()
        write_keys(self._dir / "keys.json", keys)

    # -- listing ------------------------------------------------------------------------------------------
    @staticmethod
    def list(workspace: Workspace, compute_type: str | None = None, image_name: str | None = None,
             image_id: str | None = None, model_name: str | None = None,
             model_id: str | None = None, tags: Any = None, properties: Any = None,
             **_: Any) -> list[Webservice]:
        """The workspace's services (filtered like v1), by name.

        Example:
            >>> [s.name for s in Webservice.list(ws, compute_type="Local")]  # doctest: +SKIP
            ['sklearn-mnist-svc']
        """
        result = []
        for name in _records.names(workspace):
            try:
                service = Webservice(workspace, name)
            except WebserviceException:
                continue  # deleted meanwhile
            if compute_type is not None and service.compute_type.lower() != compute_type.lower():
                continue
            ids = service._spec.get("models", [])
            if model_id is not None and model_id not in ids:
                continue
            if model_name is not None and not any(i.rpartition(":")[0] == model_name for i in ids):
                continue
            if not _matches(service.tags, tags) or not _matches(service.properties, properties):
                continue
            result.append(service)
        return result


def _matches(actual: dict[str, Any], wanted: Any) -> bool:
    if wanted is None:
        return True
    items = wanted.items() if isinstance(wanted, dict) else ([wanted] if isinstance(wanted, str)
                                                             else wanted)
    for item in items:
        if isinstance(item, str):
            if item not in actual:
                return False
        elif actual.get(item[0]) != item[1]:
            return False
    return True


def _not_found(workspace: Workspace, name: str) -> str:
    names = _records.names(workspace)
    return (f"WebserviceNotFound: Webservice with name {name} not found in provided workspace. "
            f"このワークスペースのサービス: {names or 'なし'}。Model.deploy(...) でデプロイして"
            "ください。")
