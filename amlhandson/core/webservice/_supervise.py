"""The scoring-server process of a service, seen from the SDK: start, check, stop, read.

``Model.deploy`` starts ``python -m amlhandson.core.webservice._server
server.json`` detached (its own session / process group, stdin closed, stdout
and stderr appended to ``service.log``). That process starts the score
workers; :func:`stop` ends it *and* every process under it, so ``delete()``
never leaves one behind, whatever state they are in.

The server reports through two files in the service folder: ``runtime.json``
(pid, port, ready, its workers, restarts and the last exit) and
``failure.json`` (why start-up failed).

Example:
    >>> exit_text(None), exit_text(3)
    ('終了コード不明', '終了コード 3')
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ... import _process

__all__ = ["SERVER_MODULE", "spawn", "stop", "alive", "exit_code", "read_json", "exit_text"]

SERVER_MODULE = "amlhandson.core.webservice._server"
LOG_FILE = "service.log"

# Server processes started by this process (to reap them and learn their exit codes).
_CHILDREN: dict[int, subprocess.Popen] = {}


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or ``None`` if missing, damaged or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def exit_text(code: int | None) -> str:
    """``終了コード 3`` / ``シグナル 9 (SIGKILL)`` for a return code."""
    if code is None:
        return "終了コード不明"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"シグナル {-code} ({signal.Signals(-code).name})"
        return f"シグナル {-code}"
    return f"終了コード {code}"


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


def spawn(folder: Path, name: str) -> tuple[int, float | None]:
    """Start the server of the service in ``folder``; return ``(pid, start time)``."""
    for stale in ("runtime.json", "failure.json"):
        with contextlib.suppress(FileNotFoundError):
            (folder / stale).unlink()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with open(folder / LOG_FILE, "ab") as log:
        log.write(f"----- {stamp} starting service {name} -----\n".encode())
        log.flush()
        kwargs: dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = (subprocess.CREATE_NEW_PROCESS_GROUP
                                       | subprocess.CREATE_NO_WINDOW)
        else:
            kwargs["start_new_session"] = True
        proc = subprocess.Popen(
            [sys.executable, "-m", SERVER_MODULE, str(folder / "server.json")],
            cwd=str(folder), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=_child_env(), close_fds=True, **kwargs)
    _CHILDREN[proc.pid] = proc
    return proc.pid, _process.started_at(proc.pid)


def exit_code(pid: int | None, wait: float = 0.0) -> int | None:
    """The exit code of a server this process started and that has ended (else ``None``).

    ``wait``: seconds to wait for the code of a server known to be dead (``poll`` gives
    ``None`` while another thread of this process is reaping the same child).
    """
    proc = _CHILDREN.get(pid or -1)
    if proc is None:
        return None
    code = proc.poll()
    if code is None and wait > 0:
        try:
            code = proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None
    return code


def alive(pid: int | None, started: float | None) -> bool:
    """Whether the server ``pid`` (started at ``started``) still runs."""
    if not pid:
        return False
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:
        return False
    return _process.is_alive(pid, started)


def _is_server(pid: int) -> bool:
    import psutil

    try:
        return any(SERVER_MODULE in part for part in psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def stop(pid: int | None, started: float | None, timeout: float = 5.0) -> None:
    """End the server ``pid`` and every process under it (workers, anything score.py started).

    SIGTERM to the process group first (the server stops its workers), SIGKILL
    after ``timeout``; then any descendant still alive is killed by pid.
    """
    import psutil

    if not pid or not alive(pid, started) or not _is_server(pid):
        exit_code(pid)
        return
    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    _process.terminate(pid, started, timeout, group=True, child=_CHILDREN.get(pid))
    for proc in descendants:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(descendants, timeout=timeout)
    exit_code(pid)
