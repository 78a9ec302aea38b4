"""Every process the pipelines start outside the caller: the endpoint server and detached runs.

* **The endpoint server** (one per workspace, ``python -m
  amlhandson.pipeline.core._endpoint_server``): :func:`ensure_endpoint` starts it
  detached the first time a published pipeline's ``endpoint`` is read (under a
  file lock, so two kernels never start two), finds it again later through
  ``<workspace>/endpoint/runtime.json`` (pid and start time, so a reused pid is
  not mistaken for it) and a health check, and restarts it if it died, on the
  same port when that port is free. It listens on 127.0.0.1 unless told
  otherwise. :func:`stop_endpoint` ends it. It also ends by itself when its
  workspace folder is deleted.
* **Detached runs** (``python -m amlhandson.pipeline.core._runner``, for the
  endpoint and the scheduler): :func:`start_run` starts one process per pipeline
  run in its own session, so stopping the server or the scheduler (Ctrl-C)
  does not stop the runs it started; it returns the run id as soon as the run
  exists. Finished runners are reaped by :func:`reap`.

Example:
    >>> url = ensure_endpoint(ws)  # doctest: +SKIP
    >>> url  # doctest: +SKIP
    'http://127.0.0.1:53127'
    >>> stop_endpoint(ws)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ... import _atomic, _process
from ..._paths import home
from ...exceptions import UserErrorException

__all__ = ["ensure_endpoint", "stop_endpoint", "endpoint_state", "start_run", "reap",
           "ENDPOINT_FOLDER", "SERVER_MODULE", "RUNNER_MODULE", "read_json"]

ENDPOINT_FOLDER = "endpoint"
SERVER_MODULE = "amlhandson.pipeline.core._endpoint_server"
RUNNER_MODULE = "amlhandson.pipeline.core._runner"
_START_TIMEOUT = 60.0
_children: list[subprocess.Popen] = []
_children_lock = threading.Lock()


class EndpointError(UserErrorException, RuntimeError):
    """The endpoint server could not be started, or a detached run could not start."""


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``; ``None`` if missing, damaged or not an object.

    Example:
        >>> read_json(Path("/no/such/file.json")) is None
        True
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _child_env() -> dict[str, str]:
    import site

    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["AMLHANDSON_HOME"] = str(home())
    for key in ("AMLHANDSON_RUN_ID", "AMLHANDSON_RUN_PIPE", "AZUREML_RUN_ID",
                "AMLHANDSON_WORKSPACE"):
        env.pop(key, None)
    package_parent = str(Path(__file__).resolve().parents[3])
    known = set(site.getsitepackages()) | {site.getusersitepackages()}
    if package_parent not in known:  # a source checkout: make sure the child finds it
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


def _detach_kwargs() -> dict[str, Any]:
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW}
    return {"start_new_session": True}


def reap() -> int:
    """Collect detached processes of this process that have ended; how many still run.

    Example:
        >>> reap() >= 0
        True
    """
    with _children_lock:
        _children[:] = [p for p in _children if p.poll() is None]
        return len(_children)


# -- the endpoint server ---------------------------------------------------------------------------
def _folder(workspace: Any) -> Path:
    folder = Path(workspace.path) / ENDPOINT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=timeout) as reply:  # noqa: S310 - our URL
            return reply.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _url(runtime: dict[str, Any]) -> str:
    host = runtime.get("host") or "127.0.0.1"
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{runtime['port']}"


def endpoint_state(workspace: Any) -> dict[str, Any] | None:
    """The running endpoint server of ``workspace``: ``{"pid", "port", "host", "url"}``, or ``None``.

    Example:
        >>> endpoint_state(ws)  # doctest: +SKIP
        {'pid': 4242, 'port': 53127, 'host': '127.0.0.1', 'url': 'http://127.0.0.1:53127', ...}
    """
    runtime = read_json(Path(workspace.path) / ENDPOINT_FOLDER / "runtime.json")
    if not runtime or not runtime.get("port"):
        return None
    if not _process.is_alive(runtime.get("pid"), runtime.get("started")):
        return None
    return {**runtime, "url": _url(runtime)}


def ensure_endpoint(workspace: Any, host: str | None = None, port: int | None = None) -> str:
    """The base URL of the workspace's endpoint server, started first if it is not running.

    ``host``/``port`` apply when it starts (default: 127.0.0.1 and the port it
    had last time, if free). A non-loopback ``host`` serves other machines: every
    request still needs the local key.

    Example:
        >>> ensure_endpoint(ws)  # doctest: +SKIP
        'http://127.0.0.1:53127'
    """
    from filelock import FileLock

    folder = _folder(workspace)
    with FileLock(str(folder / "start.lock"), timeout=_START_TIMEOUT + 10):
        state = endpoint_state(workspace)
        if state is not None and _healthy(state["url"]):
            return state["url"]
        if state is not None:  # alive but not answering: replace it
            _process.terminate(state["pid"], state.get("started"), group=True)
        return _spawn_server(workspace, folder, host, port)


def _spawn_server(workspace: Any, folder: Path, host: str | None, port: int | None) -> str:
    previous = read_json(folder / "server.json") or {}
    config = {"home": str(home()), "subscription_id": workspace.subscription_id,
              "resource_group": workspace.resource_group, "workspace": workspace.name,
              "host": host or previous.get("host") or "127.0.0.1",
              "port": int(port if port is not None else previous.get("port") or 0)}
    _atomic.write_text(folder / "server.json", json.dumps(config, indent=1))
    with contextlib.suppress(FileNotFoundError):
        (folder / "runtime.json").unlink()
    with open(folder / "endpoint.log", "ab") as log:
        log.write(f"----- {time.strftime('%Y-%m-%d %H:%M:%S')} starting the endpoint server "
                  "-----\n".encode())
        log.flush()
        proc = subprocess.Popen([sys.executable, "-m", SERVER_MODULE, str(folder / "server.json")],
                                cwd=str(folder), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=_child_env(), close_fds=True,
                                **_detach_kwargs())
    with _children_lock:
        _children.append(proc)
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        runtime = read_json(folder / "runtime.json")
        if runtime and runtime.get("pid") == proc.pid and runtime.get("ready"):
            url = _url(runtime)
            if _healthy(url):
                return url
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = _tail(folder / "endpoint.log")
    _process.terminate(proc.pid, _process.started_at(proc.pid), group=True, child=proc)
    raise EndpointError(f"パイプラインの REST エンドポイントのサーバーを起動できませんでした。ログ "
                        f"({folder / 'endpoint.log'}) の最後:\n{tail}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(ログがありません)"


def stop_endpoint(workspace: Any, timeout: float = 5.0) -> bool:
    """Stop the workspace's endpoint server; ``True`` if one was running. Runs it started go on.

    Example:
        >>> stop_endpoint(ws)  # doctest: +SKIP
        True
    """
    folder = Path(workspace.path) / ENDPOINT_FOLDER
    runtime = read_json(folder / "runtime.json")
    stopped = False
    if runtime and _process.is_alive(runtime.get("pid"), runtime.get("started")):
        child = next((p for p in _children if p.pid == runtime.get("pid")), None)
        stopped = _process.terminate(runtime["pid"], runtime.get("started"), timeout,
                                     group=True, child=child)
    with contextlib.suppress(FileNotFoundError):
        (folder / "runtime.json").unlink()
    reap()
    return stopped


# -- detached runs -------------------------------------------------------------------------------------
def start_run(workspace: Any, pipeline_id: str, experiment_name: str,
              parameters: dict[str, Any], tags: dict[str, Any] | None = None,
              timeout: float = _START_TIMEOUT) -> str:
    """Start a run of published pipeline ``pipeline_id`` in a detached process; return its run id.

    The process runs the pipeline to its end whatever happens to the caller.

    Example:
        >>> start_run(ws, published.id, "pipelines", {"k": 5})  # doctest: +SKIP
        'a2b7...'
    """
    reap()
    folder = _folder(workspace)
    spec = {"home": str(home()), "subscription_id": workspace.subscription_id,
            "resource_group": workspace.resource_group, "workspace": workspace.name,
            "pipeline_id": pipeline_id, "experiment": experiment_name,
            "parameters": parameters, "tags": tags or {}}
    log = open(folder / "runs.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen([sys.executable, "-m", RUNNER_MODULE], cwd=str(folder),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                env=_child_env(), close_fds=True, **_detach_kwargs())
    finally:
        log.close()
    with _children_lock:
        _children.append(proc)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps(spec).encode("utf-8"))
        proc.stdin.close()
    except OSError:
        pass  # it died at once: reported below
    answer: list[bytes] = []
    reader = threading.Thread(target=lambda: answer.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = answer[0] if answer else b""
    try:
        result = json.loads(line.decode("utf-8")) if line else {}
    except ValueError:
        result = {}
    if "Id" in result:
        return str(result["Id"])
    if not answer:
        _process.terminate(proc.pid, _process.started_at(proc.pid), group=True, child=proc)
    message = result.get("error") or f"実行用のプロセスが応答しませんでした ({folder / 'runs.log'} を見てください)。"
    raise EndpointError(f"パイプラインの実行を開始できませんでした: {message}")
