"""The stored side of web services: records in the workspace store, and their state checked now.

This is the only module of the web-service package that talks to the store
(``store.services``: ``get``, ``list``, ``create``, ``update`` in one
transaction, ``delete``). :func:`reconcile` compares a record with the server's
process and its ``runtime.json`` and stores what changed, conditionally on the
state it read (so two processes reconciling at once cannot undo each other).

States, as v1 named them per class:

==================  ==================  ==============================================
stored              ``LocalWebservice``  ``AciWebservice``
==================  ==================  ==============================================
Transitioning       ``deploying``       ``Transitioning``: starting, init() running
Healthy             ``running``         ``Healthy``: answering requests
Failed              ``failed``          ``Failed``: start-up failed (see ``error``)
Unhealthy           ``failed``          ``Unhealthy``: no score.py process can answer
                                        (restarting after a crash), or the server died
==================  ==================  ==============================================

Example:
    >>> restart_message({"description": "exit code 1", "worker": 2, "during": "while idle",
    ...                  "restart": 3})[:46]
    'score.py のプロセス (worker 2) が終了しました (exit code 1'
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import _process
from ..._store import Store
from ..._store.records import ServiceRecord
from ._supervise import alive, exit_code, exit_text, read_json

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["TRANSITIONING", "HEALTHY", "FAILED", "UNHEALTHY", "DELETED", "get", "names",
           "create", "update", "delete", "reconcile", "restart_message", "ServiceRecord"]

TRANSITIONING = "Transitioning"
HEALTHY = "Healthy"
FAILED = "Failed"
UNHEALTHY = "Unhealthy"
DELETED = "Deleted"


def _repo(workspace: Workspace) -> Any:
    return Store.open(workspace.path).services


def get(workspace: Workspace, name: str) -> ServiceRecord | None:
    """The stored service ``name`` (not reconciled), or ``None``."""
    return _repo(workspace).get(name)


def names(workspace: Workspace) -> list[str]:
    """Every service name of the workspace."""
    return _repo(workspace).names()


def create(workspace: Workspace, name: str, spec: dict[str, Any], state: str) -> ServiceRecord:
    """Insert a service; raises ``WebserviceException`` if the name is taken (atomically)."""
    return _repo(workspace).create(name, spec=spec, state=state)


def update(workspace: Workspace, name: str, *, spec: dict[str, Any] | None = None,
           nested: dict[str, dict[str, Any]] | None = None, drop: tuple[str, ...] = (),
           expect_state: str | None = None, **fields: Any) -> ServiceRecord | None:
    """Merge ``spec`` (and ``nested`` one level deeper) into the stored spec, set ``fields``.

    One transaction; ``None`` if the service is gone.
    """
    return _repo(workspace).update(name, spec=spec, nested=nested, drop=drop,
                                   expect_state=expect_state, **fields)


def delete(workspace: Workspace, name: str) -> bool:
    """Remove the record; False if there was none."""
    return _repo(workspace).delete(name)


def using_model(workspace: Workspace, model_id: str) -> list[str]:
    """Names of the services that serve ``model_id``."""
    return _repo(workspace).using_model(model_id)


def restart_message(last: dict[str, Any]) -> str:
    """A sentence about a worker's last exit (from ``runtime.json``'s ``last_exit``)."""
    reason = f": {last['reason']}" if last.get("reason") else ""
    return (f"score.py のプロセス (worker {last.get('worker')}) が終了しました "
            f"({last.get('description', '?')}, {last.get('during', '')}{reason})。自動で起動し"
            f"直しています ({last.get('restart', '?')} 回目)。service.get_logs() で理由を確認"
            "できます。")


def _dead(workspace: Workspace, record: ServiceRecord, folder: Path) -> ServiceRecord:
    failure = read_json(folder / "failure.json")
    if failure is None:
        code = exit_code(record.pid, wait=2.0)
        how = "強制終了されたか、PC が再起動した可能性があります" if code is None or code < 0 \
            else "サーバーが自分で終了しました"
        failure = {"kind": "exited", "exit_code": code, "traceback": "", "message": (
            f"サービスのプロセス (pid {record.pid}) が終了しています ({exit_text(code)}; {how})。"
            "service.get_logs() でログを確認し、service.reload() で起動し直せます。")}
    state = FAILED if record.state == TRANSITIONING else UNHEALTHY
    return update(workspace, record.name, spec={"error": failure}, expect_state=record.state,
                  state=state) or record


def reconcile(workspace: Workspace, record: ServiceRecord, folder: Path) -> ServiceRecord:
    """``record`` brought up to date with its process and ``runtime.json`` (changes stored)."""
    if record.state not in (TRANSITIONING, HEALTHY, UNHEALTHY) or record.pid is None \
            or record.host != _process.HOST:
        return record  # not started yet, failed for good, or on another machine
    if not alive(record.pid, record.spec.get("proc_started")):
        if record.state == UNHEALTHY and (record.spec.get("error") or {}).get("kind") == "exited":
            return record
        return _dead(workspace, record, folder)
    runtime = read_json(folder / "runtime.json")
    if runtime is None or runtime.get("pid") != record.pid:
        return record
    fields: dict[str, Any] = {}
    spec: dict[str, Any] = {}
    if record.port is None and runtime.get("port"):
        fields["port"] = int(runtime["port"])
    pool = runtime.get("pool") or {}
    last = pool.get("last_exit")
    if last and record.spec.get("last_exit") != last:
        spec["last_exit"] = last
        spec["restarts"] = pool.get("restarts", 0)
    if runtime.get("ready"):
        if pool.get("ready", 1) > 0 and record.state != HEALTHY:
            fields["state"], spec["error"] = HEALTHY, None
        elif pool.get("ready", 1) == 0 and (record.state == HEALTHY or "last_exit" in spec):
            fields["state"] = UNHEALTHY
            spec["error"] = {"kind": "restarting", "traceback": "", "message":
                             restart_message(last) if last else "score.py のプロセスを起動し直して"
                                                                "います。"}
    if not fields and not spec:
        return record
    return update(workspace, record.name, spec=spec or None, expect_state=record.state,
                  **fields) or record
