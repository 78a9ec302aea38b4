"""Shared helpers for the web-service tests: raw HTTP, raw servers, process checks.

Import the helpers you need; the fixtures ``svc_env`` and ``svc_deploy`` are
module-scoped / function-scoped and must be imported into the test module.
"""

from __future__ import annotations

import contextlib
import http.client as httpclient
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from amlhandson.core import Workspace
from amlhandson.core.model import InferenceConfig, Model
from amlhandson.core.webservice import LocalWebservice, Webservice

REPO = Path(__file__).resolve().parents[1]
SERVER_MODULE = "amlhandson.core.webservice._server"
WORKER_MODULE = "amlhandson.core.webservice._worker"


def http(port: int, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection."""
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def post(port: int, body: bytes | str, ctype: str = "application/json", timeout: float = 30,
         **headers: str) -> tuple[int, dict[str, str], bytes]:
    """``POST /score``."""
    data = body.encode() if isinstance(body, str) else body
    return http(port, "POST", "/score", data, {"Content-Type": ctype, **headers}, timeout)


def processes_of(folder: Path) -> list[psutil.Process]:
    """Server and worker processes whose command line names a file in ``folder``."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if (SERVER_MODULE in cmd or WORKER_MODULE in cmd) and str(folder) in cmd:
            found.append(proc)
    return found


def wait_until(check, timeout: float = 15.0, every: float = 0.05) -> bool:
    """Poll ``check()`` until it is true or ``timeout`` seconds pass; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)


def gone(pids: list[int]) -> bool:
    """Whether none of ``pids`` is a live (non-zombie) process."""
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


class RawServer:
    """A scoring server started straight from a folder (no workspace), for server-side tests."""

    def __init__(self, folder: Path, score: str, **settings: object) -> None:
        self.folder = folder
        (folder / "app").mkdir(parents=True, exist_ok=True)
        (folder / "app" / "score.py").write_text(textwrap.dedent(score))
        config = {"name": "raw", "entry_script": "score.py", "port": 0,
                  "runtime_file": "runtime.json", "failure_file": "failure.json",
                  "log_file": "service.log", **settings}
        (folder / "server.json").write_text(json.dumps(config))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
        self.log = open(folder / "service.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", SERVER_MODULE, "server.json"],
                                     cwd=folder, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.port = 0

    def wait_ready(self, timeout: float = 30.0) -> RawServer:
        """Wait for ``runtime.json`` to say ready; fail with the log otherwise."""
        runtime = wait_until(lambda: (self.runtime() or {}).get("ready") or
                             self.proc.poll() is not None, timeout)
        assert runtime is True and self.proc.poll() is None, self.logs()
        self.port = int(self.runtime()["port"])
        return self

    def runtime(self) -> dict | None:
        """``runtime.json``, or ``None``."""
        try:
            return json.loads((self.folder / "runtime.json").read_text())
        except (OSError, ValueError):
            return None

    def logs(self) -> str:
        """The service log so far."""
        return (self.folder / "service.log").read_text(errors="replace")

    def stop(self) -> None:
        """End the server and every process under it."""
        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(self.proc.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.kill()
        self.log.close()


@pytest.fixture
def raw_server(tmp_path: Path) -> Iterator:
    """Start raw servers for one test: ``raw_server(score_source, **settings)``."""
    started: list[RawServer] = []

    def start(score: str, wait: bool = True, **settings: object) -> RawServer:
        server = RawServer(tmp_path / f"svc{len(started)}", score, **settings)
        started.append(server)
        return server.wait_ready() if wait else server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def svc_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One home, workspace, model and scratch folder for a module."""
    base = tmp_path_factory.mktemp("deploy")
    home = base / "home"
    work = base / "work"
    work.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AMLHANDSON_HOME", str(home))
        mp.chdir(work)
        ws = Workspace.create("svc-ws", resource_group="svc-rg", exist_ok=True, show_output=False)
        (work / "factor.txt").write_text("2.5")
        model = Model.register(ws, "factor.txt", "factor")
        yield {"home": home, "work": work, "ws": ws, "model": model}
        for service in Webservice.list(ws):
            service.delete()
        assert wait_until(lambda: not processes_of(home), 10), "a service process was left"


@pytest.fixture
def svc_deploy(svc_env: dict) -> Iterator:
    """``svc_deploy(name, score_source, config=None, wait=True)``; deleted afterwards."""
    started: list[Webservice] = []

    def deploy(name: str, score: str, config=None, wait: bool = True) -> Webservice:
        path = svc_env["work"] / f"{name}.py"
        path.write_text(textwrap.dedent(score))
        service = Model.deploy(svc_env["ws"], name, [svc_env["model"]],
                               InferenceConfig(entry_script=path.name),
                               config or LocalWebservice.deploy_configuration(), overwrite=True)
        started.append(service)
        if wait:
            service.wait_for_deployment()
        return service

    yield deploy
    for service in started:
        service.delete()


def free_port() -> int:
    """A port nobody listens on (closed again at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
