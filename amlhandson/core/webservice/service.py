"""Web services on this machine: ``Webservice``, ``LocalWebservice``, ``AciWebservice``.

``Model.deploy`` prepares ``<ws.path>/services/<name>/`` (see :mod:`._layout`)
and starts one detached scoring-server process (:mod:`._server`) for it; the
``services`` table records the process id, port, state and settings, so
``Webservice(ws, name)`` finds a running service again from any process, and
``amlhandson services`` lists and stops them.

States, as v1 named them per class:

==================  ==================  ==========================================
stored              ``LocalWebservice``  ``AciWebservice``
==================  ==================  ==========================================
Transitioning       ``deploying``       ``Transitioning``: starting, init() running
Healthy             ``running``         ``Healthy``: answering requests
Failed              ``failed``          ``Failed``: start-up failed (see ``error``)
Unhealthy           ``failed``          ``Unhealthy``: the process died later
==================  ==================  ==========================================

A deleted service object reports ``deleted`` (Local) / ``Deleted`` (ACI).

Both kinds run here, on 127.0.0.1 unless the deployment configuration names
another ``host``; ``AciWebservice`` settings such as ``cpu_cores`` and
``memory_gb`` are recorded, not enforced.

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
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ... import _process
from ..._store import Store
from ..._store.records import ServiceRecord
from ...exceptions import UserErrorException, WebserviceException
from ..inference_config import InferenceConfig
from ..model import Model
from ..workspace import Workspace
from ._layout import build_app, copy_source

__all__ = ["Webservice", "LocalWebservice", "AciWebservice",
           "LocalWebserviceDeploymentConfiguration", "AciServiceDeploymentConfiguration",
           "KeysNotSupportedError"]

TRANSITIONING = "Transitioning"
HEALTHY = "Healthy"
FAILED = "Failed"
UNHEALTHY = "Unhealthy"
DELETED = "Deleted"

_NAME_RULE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
_SERVER_MODULE = "amlhandson.core.webservice._server"
#: Seconds ``wait_for_deployment`` waits by default.
DEFAULT_TIMEOUT = 300.0
#: Seconds a scoring call may take.
SCORING_TIMEOUT = 120.0
_POLL = 0.05

# Server processes started by this process (to reap them when they end).
_CHILDREN: dict[int, subprocess.Popen] = {}


class KeysNotSupportedError(WebserviceException, NotImplementedError):
    """Keys were asked of a service kind that has none (v1: ``NotImplementedError``)."""


# -- deployment configurations ---------------------------------------------------------------------
class _DeploymentConfiguration:
    compute_type = ""

    def __init__(self, *, port: int | None = None, host: str = "127.0.0.1",
                 auth_enabled: bool = False, max_request_body_mb: float = 10.0,
                 threads: int = 4, cpu_cores: float | None = None, memory_gb: float | None = None,
                 tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
                 description: str | None = None, primary_key: str | None = None,
                 secondary_key: str | None = None, recorded: dict[str, Any] | None = None) -> None:
        self.port = port
        self.host = host
        self.auth_enabled = bool(auth_enabled)
        self.max_request_body_mb = max_request_body_mb
        self.threads = threads
        self.cpu_cores = cpu_cores
        self.memory_gb = memory_gb
        self.tags = tags
        self.properties = properties
        self.description = description
        self.primary_key = primary_key
        self.secondary_key = secondary_key
        self.recorded = dict(recorded or {})
        self.validate_configuration()

    def validate_configuration(self) -> None:
        """Check the settings; raise ``UserErrorException`` with what to fix."""
        if self.port is not None and (not isinstance(self.port, int) or isinstance(self.port, bool)
                                      or not 1 <= self.port <= 65535):
            raise UserErrorException(f"port は 1〜65535 の整数か None (自動で選ぶ) にしてください "
                                     f"({self.port!r} が渡されました)。")
        if not isinstance(self.host, str) or not self.host:
            raise UserErrorException("host は '127.0.0.1' のような文字列にしてください。")
        if not isinstance(self.max_request_body_mb, (int, float)) or self.max_request_body_mb <= 0:
            raise UserErrorException("max_request_body_mb は正の数 (MB) にしてください。")
        if not isinstance(self.threads, int) or not 1 <= self.threads <= 64:
            raise UserErrorException("threads は 1〜64 の整数にしてください。")
        for what, value in (("cpu_cores", self.cpu_cores), ("memory_gb", self.memory_gb)):
            if value is not None and (not isinstance(value, (int, float)) or value <= 0):
                raise UserErrorException(f"{what} は正の数にしてください ({value!r})。")

    def _to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in ("primary_key", "secondary_key")}

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> _DeploymentConfiguration:
        obj = cls.__new__(cls)
        obj.__dict__.update({"primary_key": None, "secondary_key": None, **data})
        return obj

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._to_dict().items()
                           if v not in (None, {}, False))
        return f"{type(self).__name__}({fields})"


class LocalWebserviceDeploymentConfiguration(_DeploymentConfiguration):
    """Settings of a ``LocalWebservice`` (from ``LocalWebservice.deploy_configuration``)."""

    compute_type = "Local"


class AciServiceDeploymentConfiguration(_DeploymentConfiguration):
    """Settings of an ``AciWebservice`` (from ``AciWebservice.deploy_configuration``)."""

    compute_type = "ACI"


# -- helpers ------------------------------------------------------------------------------------------
def _check_service_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RULE.match(name):
        raise UserErrorException(
            "Error, provided service name is invalid. It must only consist of lowercase letters, "
            "numbers, or dashes, start with a letter, end with a letter or number, and be between "
            f"3 and 32 characters long. サービス名 {name!r} は使えません: 小文字の英字・数字・'-' "
            "だけで、英字で始まり、英字か数字で終わる 3〜32 文字にしてください "
            "(例: 'sklearn-mnist-svc')。"
        )
    return name


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _new_key() -> str:
    return secrets.token_urlsafe(24)


def _reap(pid: int | None) -> None:
    proc = _CHILDREN.get(pid or -1)
    if proc is not None and proc.poll() is not None:
        del _CHILDREN[proc.pid]


def _alive(pid: int | None, started: float | None) -> bool:
    if not pid:
        return False
    _reap(pid)
    return _process.is_alive(pid, started)


def _is_server(pid: int) -> bool:
    import psutil

    try:
        return any(_SERVER_MODULE in part for part in psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def _terminate(pid: int | None, started: float | None, timeout: float = 5.0) -> None:
    """Stop one server process (and its process group on POSIX), by pid."""
    import psutil

    if not pid or not _alive(pid, started) or not _is_server(pid):
        _reap(pid)
        return
    group = os.name != "nt" and _getpgid(pid) == pid
    with contextlib.suppress(ProcessLookupError, psutil.Error):
        if group:
            os.killpg(pid, signal.SIGTERM)
        else:
            psutil.Process(pid).terminate()
    if not _wait_exit(pid, timeout):
        with contextlib.suppress(ProcessLookupError, psutil.Error):
            if group:
                os.killpg(pid, signal.SIGKILL)
            else:
                psutil.Process(pid).kill()
        _wait_exit(pid, timeout)


def _getpgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _wait_exit(pid: int, timeout: float) -> bool:
    import psutil

    proc = _CHILDREN.get(pid)
    if proc is not None:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        _CHILDREN.pop(pid, None)
        return True
    try:
        psutil.Process(pid).wait(timeout)
    except psutil.TimeoutExpired:
        return False
    except psutil.Error:
        pass
    return True


def _child_env() -> dict[str, str]:
    import site

    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    for key in ("AMLHANDSON_RUN_ID", "AMLHANDSON_WORKSPACE_DIR"):
        env.pop(key, None)
    package_parent = str(Path(__file__).resolve().parents[3])
    known = set(site.getsitepackages()) | {site.getusersitepackages()}
    if package_parent not in known:  # a source checkout: make sure the child finds it
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


def _host_for_client(host: str) -> str:
    if host in ("0.0.0.0", "", "*"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


# -- Webservice -------------------------------------------------------------------------------------------
class Webservice:
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

    def __new__(cls, workspace: Workspace | None = None, name: str | None = None,
                *args: Any, **kwargs: Any) -> Webservice:
        if workspace is None or name is None:
            return super().__new__(cls)
        row = _query(workspace, name)
        if row is None:
            raise WebserviceException(_not_found(workspace, name))
        kind = json.loads(row["spec"]).get("compute_type", "Local")
        sub = _CLASSES.get(kind, LocalWebservice)
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
        self._load()

    # -- record ----------------------------------------------------------------------------------------
    @property
    def _dir(self) -> Path:
        return self._workspace.path / "services" / self._name

    def _load(self) -> None:
        row = _query(self._workspace, self._name)
        if row is None:
            self._deleted = True
            return
        self._row = row
        self._spec: dict[str, Any] = json.loads(row["spec"])
        self._reconcile()

    def _save(self, **columns: Any) -> None:
        spec = columns.pop("spec", self._spec)
        record = Store.open(self._workspace.path).services.update(self._name, spec=spec,
                                                                  **columns)
        if record is not None:
            self._row = _as_row(record)

    def _reconcile(self) -> None:
        """A service whose process has died is marked Failed (while starting) or Unhealthy."""
        row = self._row
        if row["state"] not in (TRANSITIONING, HEALTHY) or row["pid"] is None \
                or row["host"] != _process.HOST:
            return  # not started yet, or started on another machine (cannot check)
        if _alive(row["pid"], self._spec.get("proc_started")):
            return
        failure = _read_json(self._dir / "failure.json")
        if failure is None:
            failure = {"kind": "exited", "message": (
                f"サービスのプロセス (pid {row['pid']}) が終了しています (強制終了されたか、PC や"
                "コンテナーが再起動しました)。service.reload() で起動し直せます。"), "traceback": ""}
        self._spec["error"] = failure
        self._save(state=FAILED if row["state"] == TRANSITIONING else UNHEALTHY)

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
        """The current state, checked now (see the module docs for the names)."""
        if not self._deleted:
            self._load()
        stored = DELETED if self._deleted else self._row["state"]
        return self._STATE_NAMES.get(stored, stored)

    def _stored_state(self) -> str:
        if not self._deleted:
            self._load()
        return DELETED if self._deleted else self._row["state"]

    @property
    def _deployment(self) -> dict[str, Any]:
        return self._spec["deployment"]

    @property
    def port(self) -> int | None:
        """The TCP port the service listens on (``None`` until known)."""
        if self._deleted:
            return None
        if self._row["port"] is None:
            runtime = _read_json(self._dir / "runtime.json")
            if runtime and runtime.get("pid") == self._row["pid"] and runtime.get("port"):
                self._save(port=int(runtime["port"]))
        return self._row["port"]

    @property
    def _client_host(self) -> str:
        return _host_for_client(self._deployment.get("host", "127.0.0.1"))

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
        return self._row["created"]

    @property
    def updated_time(self) -> float:
        """When the service record last changed."""
        return self._row["updated"]

    @property
    def error(self) -> dict[str, Any] | None:
        """Why the service failed (``kind``, ``message``, ``traceback``), or ``None``."""
        return self._spec.get("error")

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
        """The service's details as a dict."""
        return {
            "name": self._name, "computeType": self._compute_type, "state": self.state,
            "scoringUri": self.scoring_uri, "swaggerUri": self.swagger_uri, "port": self.port,
            "authEnabled": self.auth_enabled, "models": list(self._spec.get("models", [])),
            "tags": self.tags, "properties": self.properties, "description": self.description,
            "error": self.error, "pid": self._row["pid"] if not self._deleted else None,
        }

    # -- process ------------------------------------------------------------------------------------------
    def _spawn(self) -> None:
        """Start the server process (the folder must be ready)."""
        for name in ("runtime.json", "failure.json"):
            with contextlib.suppress(FileNotFoundError):
                (self._dir / name).unlink()
        log_path = self._dir / "service.log"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(log_path, "ab") as log:
            log.write(f"----- {stamp} starting service {self._name} -----\n".encode())
            log.flush()
            kwargs: dict[str, Any] = {}
            if os.name == "nt":
                kwargs["creationflags"] = (subprocess.CREATE_NEW_PROCESS_GROUP
                                           | subprocess.CREATE_NO_WINDOW)
            else:
                kwargs["start_new_session"] = True
            proc = subprocess.Popen(
                [sys.executable, "-m", _SERVER_MODULE, str(self._dir / "server.json")],
                cwd=str(self._dir), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=_child_env(), close_fds=True, **kwargs)
        _CHILDREN[proc.pid] = proc

        self._spec["proc_started"] = _process.started_at(proc.pid)
        self._spec["error"] = None
        self._save(state=TRANSITIONING, pid=proc.pid, host=_process.HOST)

    def _stop(self) -> None:
        if not self._deleted:
            _terminate(self._row["pid"], self._spec.get("proc_started"))

    def _restart(self, wait: bool) -> None:
        config = _read_json(self._dir / "server.json") or {}
        if self.port is not None:
            config["port"] = self.port  # keep the scoring URI
        _write_json(self._dir / "server.json", config)
        self._stop()
        self._spawn()
        if wait:
            self._wait(show_output=False, timeout_sec=None, announce=False)

    # -- waiting ------------------------------------------------------------------------------------------
    def _health(self, port: int) -> bool:
        try:
            conn = http.client.HTTPConnection(self._client_host, port, timeout=5)
            conn.request("GET", "/")
            resp = conn.getresponse()
            ok = resp.status == 200 and resp.read() == b"Healthy"
            conn.close()
            return ok
        except OSError:
            return False

    def _poll(self) -> str:
        self._load()
        if self._deleted:
            return DELETED
        state = self._row["state"]
        if state != TRANSITIONING:
            return state
        runtime = _read_json(self._dir / "runtime.json")
        if runtime and runtime.get("pid") == self._row["pid"]:
            port = int(runtime["port"])
            if self._row["port"] != port:
                self._save(port=port)
            if runtime.get("ready") and self._health(port):
                self._save(state=HEALTHY)
                return HEALTHY
        return TRANSITIONING

    def wait_for_deployment(self, show_output: bool = False,
                            timeout_sec: float | None = None) -> None:
        """Wait until the service answers (seconds); raise ``WebserviceException`` if it fails.

        On failure the message says why in plain words and quotes the
        traceback of score.py (``init()`` ...); ``get_logs()`` has the whole log.

        Example:
            >>> service.wait_for_deployment(show_output=True)  # doctest: +SKIP
            Local webservice is running at http://127.0.0.1:41235
        """
        self._wait(show_output, timeout_sec, announce=True)

    def _wait(self, show_output: bool, timeout_sec: float | None, announce: bool) -> None:
        self._ensure_exists("wait_for_deployment")
        deadline = time.monotonic() + (timeout_sec or DEFAULT_TIMEOUT)
        dots = show_output and self._compute_type == "ACI"
        if dots:
            print("Running", end="", flush=True)
        last_dot = time.monotonic()
        while True:
            state = self._poll()
            if state == HEALTHY:
                break
            if state == DELETED:
                self._ensure_exists("wait_for_deployment")
            if state in (FAILED, UNHEALTHY):
                if dots:
                    print("\nFailed")
                self._raise_failure(show_output)
            now = time.monotonic()
            if now > deadline:
                if dots:
                    print()
                raise WebserviceException(
                    f"サービス {self._name!r} が {timeout_sec or DEFAULT_TIMEOUT:.0f} 秒たっても応答"
                    "しません (状態: Transitioning)。score.py の init() が終わらない可能性があります。"
                    "service.get_logs() でログを確認してください。")
            if dots and now - last_dot >= 0.5:
                print(".", end="", flush=True)
                last_dot = now
            time.sleep(_POLL)
        if dots:
            print("\nSucceeded")
        if announce:
            self._announce(show_output)

    def _announce(self, show_output: bool) -> None:
        raise NotImplementedError

    def _failure_literal(self, state: str) -> str:
        raise NotImplementedError

    def _raise_failure(self, show_output: bool) -> None:
        error = self.error or {}
        state = self._row["state"]
        kind = error.get("kind")
        why = {
            "init": "score.py の init() が例外を出したため、サービスを起動できませんでした。",
            "script": "score.py を読み込めなかったため、サービスを起動できませんでした。",
            "model": "モデルのファイルを確認できなかったため、サービスを起動できませんでした。",
            "port": "ポートを使えなかったため、サービスを起動できませんでした。",
        }.get(kind or "", "サービスのプロセスが終了しました。")
        parts = [self._failure_literal(state), error.get("message") or why]
        if error.get("traceback"):
            parts.append("\n" + error["traceback"].rstrip())
        if kind in ("init", "script"):
            script = Path(self._spec["inference"]["entry_script"]).name
            parts.append(f"\n{script} を直したら service.reload() で起動し直せます "
                         "(または Model.deploy(..., overwrite=True))。")
        parts.append("ログ全体は service.get_logs() で見られます。")
        if show_output:
            print(self.get_logs(num_lines=60))
        raise WebserviceException("\n".join(p for p in parts if p))

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
            self._wait(show_output=False, timeout_sec=None, announce=False)
        elif state in (FAILED, UNHEALTHY):
            error = self.error or {}
            raise WebserviceException(
                f"サービス {self._name!r} は {self.state} 状態なので {what}() できません: "
                f"{error.get('message', '')} service.get_logs() でログを確認し、"
                "service.reload() で起動し直してください。")

    def _request(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None,
                 timeout: float = SCORING_TIMEOUT) -> tuple[int, dict[str, str], bytes]:
        headers = dict(headers or {})
        if self.auth_enabled:
            headers.setdefault("Authorization", f"Bearer {self._spec['keys'][0]}")
        port = self.port
        try:
            conn = http.client.HTTPConnection(self._client_host, port, timeout=timeout)
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                return resp.status, dict(resp.getheaders()), resp.read()
            finally:
                conn.close()
        except OSError as exc:
            state = self.state
            raise WebserviceException(
                f"Error attempting to call webservice: サービス {self._name!r} "
                f"(http://{self._client_host}:{port}) に接続できませんでした ({exc})。"
                f"いまの状態: {state}。service.get_logs() でログを確認してください。") from exc

    def run(self, input_data: Any) -> Any:
        """Send ``input_data`` (a JSON string, bytes, or a JSON-able object) to ``POST /score``.

        Returns the decoded JSON answer. A service still starting is waited for.

        Example:
            >>> service.run(json.dumps({"data": X_test[:3].tolist()}))  # doctest: +SKIP
            [7, 2, 1]
        """
        self._ensure_running("run")
        body = _encode(input_data)
        status, headers, content = self._request(
            "POST", "/score", body, {"Content-Type": "application/json"})
        return self._handle_response(status, headers, content)

    def _handle_response(self, status: int, headers: dict[str, str], content: bytes) -> Any:
        raise NotImplementedError

    @staticmethod
    def _decode(content: bytes) -> Any:
        text = content.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            return text

    @staticmethod
    def _status_hint(status: int) -> str:
        return {
            400: "送ったデータがサービスの期待する形ではありません (本文の message を読んでください)。",
            401: "キーがないか違います。service.get_keys() のキーを 'Authorization: Bearer <key>' で"
                 "送ってください。",
            413: "データが大きすぎます。何回かに分けて送ってください。",
            415: "Content-Type を application/json にしてください。",
            500: "score.py の run() で例外が起きました。service.get_logs() で traceback を確認して"
                 "ください。",
        }.get(status, "service.get_logs() でログを確認してください。")

    # -- logs ---------------------------------------------------------------------------------------------
    def get_logs(self, num_lines: int = 5000) -> str:
        """The last ``num_lines`` lines of the service's log (server, score.py prints, errors)."""
        self._ensure_exists("get_logs")
        path = self._dir / "service.log"
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
        config = _read_json(self._dir / "server.json") or {}
        config["entry_script"] = entry
        _write_json(self._dir / "server.json", config)
        self._restart(wait)

    def update(self, models: list[Model] | None = None,
               inference_config: InferenceConfig | None = None,
               deployment_config: _DeploymentConfiguration | None = None, *,
               tags: dict[str, Any] | None = None, properties: dict[str, Any] | None = None,
               description: str | None = None, auth_enabled: bool | None = None,
               wait: bool = True, **kwargs: Any) -> None:
        """Change the models, score.py/environment or settings, and restart the service.

        Only ``tags`` / ``properties`` / ``description``: no restart.

        Example:
            >>> service.update(models=[new_model])  # doctest: +SKIP
        """
        self._ensure_exists("update")
        if kwargs:
            raise UserErrorException(f"update: 引数 {sorted(kwargs)} は使えません。")
        deployment = dict(self._deployment)
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
        restart = (models is not None or inference_config is not None
                   or deployment_config is not None
                   or bool(deployment.get("auth_enabled")) != self.auth_enabled)
        self._spec["deployment"] = deployment
        if models is not None:
            models = _check_models(models)
            self._spec["models"] = [m.id for m in models]
        if inference_config is not None:
            self._spec["inference"] = inference_config._to_spec()
        if not restart:
            self._save()
            return
        port = deployment.get("port") or self.port
        if deployment_config is not None and deployment_config.port is None:
            port = None
        # Build first: if a model fails its hash check, the running service is left as it was.
        _prepare(self._workspace, self._dir, self._spec, deployment_config, port=port)
        self._stop()
        self._save(port=None)
        self._spawn()
        if wait:
            self._wait(show_output=False, timeout_sec=None, announce=False)

    def delete(self, delete_cache: bool = True, delete_image: bool = False,
               delete_volume: bool = True) -> None:
        """Stop the service's process and remove it (its folder and record).

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
        Store.open(self._workspace.path).services.delete(self._name)
        self._deleted = True

    # -- keys ---------------------------------------------------------------------------------------------
    def get_keys(self) -> tuple[str, str]:
        """``(primary, secondary)`` keys of a service with ``auth_enabled=True``."""
        self._ensure_exists("get_keys")
        if not self.auth_enabled:
            raise WebserviceException(
                f"サービス {self._name!r} はキー認証が無効 (auth_enabled=False) なのでキーはありません。"
                "AciWebservice.deploy_configuration(auth_enabled=True) でデプロイしてください。")
        primary, secondary = self._spec["keys"]
        return primary, secondary

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """Replace the ``"Primary"`` or ``"Secondary"`` key; the running service uses it at once."""
        self.get_keys()
        if key not in ("Primary", "Secondary"):
            raise UserErrorException(f"regen_key: key は 'Primary' か 'Secondary' です "
                                     f"({key!r} が渡されました)。")
        if set_key is not None and (not isinstance(set_key, str) or len(set_key) < 8):
            raise UserErrorException("regen_key: set_key は 8 文字以上の文字列にしてください。")
        keys = list(self._spec["keys"])
        keys[0 if key == "Primary" else 1] = set_key or _new_key()
        self._spec["keys"] = keys
        _write_keys(self._dir, keys)
        self._save()

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
        names = Store.open(workspace.path).services.names()
        result = []
        for name in names:
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


class LocalWebservice(Webservice):
    """A service for trying a model on this machine (v1 ran it in local Docker).

    Example:
        >>> config = LocalWebservice.deploy_configuration(port=6789)
        >>> config.port
        6789
    """

    _compute_type = "Local"
    _STATE_NAMES = {TRANSITIONING: "deploying", HEALTHY: "running", FAILED: "failed",
                    UNHEALTHY: "failed", DELETED: "deleted"}

    @staticmethod
    def deploy_configuration(port: int | None = None, *, host: str = "127.0.0.1",
                             max_request_body_mb: float = 10.0,
                             threads: int = 4) -> LocalWebserviceDeploymentConfiguration:
        """Settings for ``Model.deploy``: ``port=None`` picks a free port.

        ``host``, ``max_request_body_mb`` and ``threads`` are amlhandson's additions.
        """
        return LocalWebserviceDeploymentConfiguration(
            port=port, host=host, max_request_body_mb=max_request_body_mb, threads=threads)

    def _announce(self, show_output: bool) -> None:
        print(f"Local webservice is running at http://{self._client_host}:{self.port}")

    def _failure_literal(self, state: str) -> str:
        return "Error: Connection to container has failed. Did your init method fail?"

    def _handle_response(self, status: int, headers: dict[str, str], content: bytes) -> Any:
        print("Making a scoring call...")
        if status == 200:
            result = self._decode(content)
            preview = repr(result)
            print("Scoring result:", preview if len(preview) <= 200 else preview[:200] + " ...")
            return result
        text = content.decode("utf-8", "replace")
        print(text)
        raise WebserviceException(
            f"Error: Scoring was unsuccessful. (HTTP {status}) {self._status_hint(status)}\n{text}")

    def get_keys(self) -> tuple[str, str]:
        """LocalWebservice has no keys (v1: ``NotImplementedError``)."""
        raise KeysNotSupportedError(
            "LocalWebservice にはキーがありません。キー認証を試すには "
            "AciWebservice.deploy_configuration(auth_enabled=True) でデプロイしてください。")

    def regen_key(self, key: str, set_key: str | None = None) -> None:
        """LocalWebservice has no keys (v1: ``NotImplementedError``)."""
        self.get_keys()


class AciWebservice(Webservice):
    """v1's Azure Container Instances service, run on this machine.

    There is no Azure here: the service runs locally exactly like a
    ``LocalWebservice``, with ACI's states, outputs and key authentication.

    Example:
        >>> config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1,
        ...                                             auth_enabled=True)
        >>> config.auth_enabled, config.cpu_cores
        (True, 1)
    """

    _compute_type = "ACI"
    _STATE_NAMES = {DELETED: "Deleted"}

    @staticmethod
    def deploy_configuration(cpu_cores: float | None = None, memory_gb: float | None = None,
                             tags: dict[str, Any] | None = None,
                             properties: dict[str, Any] | None = None,
                             description: str | None = None, location: str | None = None,
                             auth_enabled: bool | None = None, ssl_enabled: bool | None = None,
                             enable_app_insights: bool | None = None,
                             ssl_cert_pem_file: str | None = None,
                             ssl_key_pem_file: str | None = None, ssl_cname: str | None = None,
                             dns_name_label: str | None = None, primary_key: str | None = None,
                             secondary_key: str | None = None,
                             collect_model_data: bool | None = None, *, host: str = "127.0.0.1",
                             port: int | None = None, max_request_body_mb: float = 10.0,
                             threads: int = 4) -> AciServiceDeploymentConfiguration:
        """Settings for ``Model.deploy`` (v1 defaults: 0.1 cores, 0.5 GB; recorded only).

        ``auth_enabled=True`` gives the service two keys (``get_keys()``);
        ``host``, ``port``, ``max_request_body_mb`` and ``threads`` are
        amlhandson's additions. HTTPS (``ssl_enabled``) is not available locally.
        """
        if ssl_enabled:
            raise UserErrorException(
                "ssl_enabled=True (HTTPS) はローカルのサービスでは使えません。ssl_enabled を"
                "付けずにデプロイしてください (通信はこのマシンの中だけです)。")
        for key in (primary_key, secondary_key):
            if key is not None and (not isinstance(key, str) or len(key) < 8):
                raise UserErrorException("primary_key / secondary_key は 8 文字以上の文字列に"
                                         "してください。")
        recorded = {k: v for k, v in (("location", location),
                                      ("enable_app_insights", enable_app_insights),
                                      ("dns_name_label", dns_name_label),
                                      ("collect_model_data", collect_model_data)) if v is not None}
        return AciServiceDeploymentConfiguration(
            port=port, host=host, auth_enabled=bool(auth_enabled),
            max_request_body_mb=max_request_body_mb, threads=threads,
            cpu_cores=0.1 if cpu_cores is None else cpu_cores,
            memory_gb=0.5 if memory_gb is None else memory_gb, tags=tags,
            properties=properties, description=description, primary_key=primary_key,
            secondary_key=secondary_key, recorded=recorded)

    def _announce(self, show_output: bool) -> None:
        if show_output:
            print('ACI service creation operation finished, operation "Succeeded"')

    def _failure_literal(self, state: str) -> str:
        return ("Service deployment polling reached non-successful terminal state, current "
                f"service state: {state}\nMore information can be found using '.get_logs()'")

    def _handle_response(self, status: int, headers: dict[str, str], content: bytes) -> Any:
        if status == 200:
            return self._decode(content)
        raise WebserviceException(
            "Received bad response from service. More information can be found by calling "
            f"`.get_logs()` on the webservice object.\nResponse Code: {status}\n"
            f"Headers: {headers}\nContent: {content!r}\n{self._status_hint(status)}")


_CLASSES: dict[str, type[Webservice]] = {"Local": LocalWebservice, "ACI": AciWebservice}


# -- records -------------------------------------------------------------------------------------------
_SERVICE_COLUMNS = ("name", "spec", "state", "pid", "host", "port", "created", "updated")


def _as_row(record: ServiceRecord) -> dict[str, Any]:
    row = {k: getattr(record, k) for k in _SERVICE_COLUMNS}
    row["spec"] = json.dumps(record.spec, ensure_ascii=False)
    return row


def _query(workspace: Workspace, name: str) -> dict[str, Any] | None:
    record = Store.open(workspace.path).services.get(name)
    return _as_row(record) if record is not None else None


def _not_found(workspace: Workspace, name: str) -> str:
    names = Store.open(workspace.path).services.names()
    return (f"WebserviceNotFound: Webservice with name {name} not found in provided workspace. "
            f"このワークスペースのサービス: {names or 'なし'}。Model.deploy(...) でデプロイして"
            "ください。")


def _encode(input_data: Any) -> bytes:
    if isinstance(input_data, bytes):
        return input_data
    if isinstance(input_data, str):
        return input_data.encode("utf-8")
    from ._app import _dumps

    try:
        return _dumps(input_data)
    except (TypeError, ValueError) as exc:
        raise UserErrorException(
            f"run(input_data): {type(input_data).__name__} を JSON にできません ({exc})。"
            'json.dumps({"data": ...}) の文字列を渡してください。') from exc


def _check_models(models: Any) -> list[Model]:
    if isinstance(models, Model):
        models = [models]
    if not isinstance(models, (list, tuple)) or not all(isinstance(m, Model) for m in models):
        raise UserErrorException("models には Model のリストを渡してください。例: models=[model]")
    ids = [m.id for m in models]
    if len(set(ids)) != len(ids):
        raise UserErrorException(f"models に同じモデルが 2 回入っています: {ids}")
    return list(models)


def _write_keys(folder: Path, keys: list[str]) -> None:
    _write_json(folder / "keys.json", {"primaryKey": keys[0], "secondaryKey": keys[1]})


def _prepare(workspace: Workspace, folder: Path, spec: dict[str, Any],
             config: _DeploymentConfiguration | None, port: int | None) -> None:
    """(Re)build a service folder: app/, server.json and keys.json from ``spec``."""
    deployment = spec["deployment"]
    models = [Model(workspace, id=model_id) for model_id in spec["models"]]
    folder.mkdir(parents=True, exist_ok=True)
    parts = build_app(folder / "app", models, spec["inference"])
    if deployment.get("auth_enabled"):
        keys = spec.get("keys") or [None, None]
        if config is not None:
            keys = [config.primary_key or keys[0], config.secondary_key or keys[1]]
        spec["keys"] = [k or _new_key() for k in keys]
        _write_keys(folder, spec["keys"])
    else:
        spec["keys"] = None
        with contextlib.suppress(FileNotFoundError):
            (folder / "keys.json").unlink()
    config_data = {
        "name": folder.name, "app_dir": "app", **parts,
        "host": deployment.get("host", "127.0.0.1"), "port": port or 0,
        "threads": deployment.get("threads", 4),
        "max_request_body_bytes": int(deployment.get("max_request_body_mb", 10) * 1024 * 1024),
        "keys_file": "keys.json" if spec["keys"] else None,
        "runtime_file": "runtime.json", "failure_file": "failure.json", "watch": True,
    }
    _write_json(folder / "server.json", config_data)


def deploy(workspace: Workspace, name: str, models: Any, inference_config: Any,
           deployment_config: Any, deployment_target: Any, overwrite: bool) -> Webservice:
    """``Model.deploy``: prepare the folder, record the service, start its process.

    Example:
        >>> deploy(ws, "svc", [model], inference_config, None, None, False)  # doctest: +SKIP
    """

    if not isinstance(workspace, Workspace):
        raise UserErrorException("Model.deploy の 1 つ目の引数 workspace には Workspace を"
                                 f"渡してください ({type(workspace).__name__})。")
    _check_service_name(name)
    models = _check_models(models)
    if not isinstance(inference_config, InferenceConfig):
        raise UserErrorException(
            "Model.deploy には inference_config=InferenceConfig(entry_script='score.py', "
            "environment=env) を渡してください。")
    if deployment_target is not None:
        raise UserErrorException("deployment_target (AKS などのクラスター) はローカルでは使えません。"
                                 "deployment_config だけを渡してください。")
    if deployment_config is None:
        deployment_config = AciWebservice.deploy_configuration()
    if not isinstance(deployment_config, _DeploymentConfiguration):
        raise UserErrorException(
            "deployment_config には LocalWebservice.deploy_configuration(...) か "
            "AciWebservice.deploy_configuration(...) の結果を渡してください。")
    inference_config.validate_configuration()
    deployment_config.validate_configuration()
    store = Store.open(workspace.path)
    if _query(workspace, name) is not None:
        if not overwrite:
            raise WebserviceException(
                f"Error, there is already a service with name {name} found in workspace "
                f"{workspace.name}. 同じ名前のサービスがすでにあります。置き換えるには "
                "overwrite=True を付けるか、別の名前にするか、Webservice(ws, name).delete() して"
                "ください。")
        Webservice(workspace, name).delete()
    folder = workspace.path / "services" / name
    if folder.exists():  # left over without a record
        shutil.rmtree(folder)
    spec: dict[str, Any] = {
        "compute_type": deployment_config.compute_type,
        "deployment": deployment_config._to_dict(),
        "models": [m.id for m in models],
        "inference": inference_config._to_spec(),
        "keys": None, "error": None, "proc_started": None,
    }
    try:
        _prepare(workspace, folder, spec, deployment_config, port=deployment_config.port)
        store.services.create(name, spec=spec, state=TRANSITIONING)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    service = Webservice(workspace, name)
    if deployment_config.compute_type == "ACI":
        print("AciWebservice: Azure Container Instances の代わりに、このマシンの "
              f"{_host_for_client(deployment_config.host)} でサービスを動かします "
              "(cpu_cores / memory_gb は記録だけです)。")
    try:
        service._spawn()
    except BaseException:
        service.delete()
        raise
    return service
