"""Run statuses, and telling a live run from one whose process died.

Example:
    >>> RunStatus.COMPLETED in RunStatus.TERMINAL
    True
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

__all__ = ["RunStatus", "HOST", "process_started", "pid_alive", "reconcile", "STALE_AFTER"]

#: This machine's name, stored with each run to know whose pid can be checked.
HOST = socket.gethostname()


class RunStatus:
    """Run status strings, as in v1."""

    NOT_STARTED = "NotStarted"
    STARTING = "Starting"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    NOT_RESPONDING = "NotResponding"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    TERMINAL = frozenset({COMPLETED, FAILED, CANCELED})


def process_started(pid: int) -> float | None:
    try:
        import psutil

        return psutil.Process(pid).createtime.time()
    except Exception:  # noqa: BLE001
        return None


def pid_alive(pid: int, started: float | None) -> bool:
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.createtime.time() - started) < 1.0
    except psutil.NoSuchProcess:
        return False
    except Exception:  # noqa: BLE001 - access denied etc.: assume alive
        return True


STALE_AFTER = 60.0


def reconcile(store: Any, row: dict[str, Any]) -> str:
    """The real status of ``row``: a run whose process died is marked Failed."""
    status = row["status"]
    if status in RunStatus.TERMINAL or row["pid"] is None:
        return status
    if row["host"] == HOST:
        if row["pid"] == os.getpid() or pid_alive(row["pid"], row["proc_started"]):
            return status
        end = row["heartbeat"] or time.time()
        error = {"message": f"この Run を実行していたプロセス (pid {row['pid']}) が、Run を"
                            "完了させないまま終了しました (強制終了やカーネルの停止など)。"
                            "それまでに記録されたメトリックとファイルは残っています。",
                 "code": "ProcessDied"}
        store.execute("UPDATE runs SET status=?, end_time=?, error=? WHERE pk=? AND status=?",
                      (RunStatus.FAILED, end, json.dumps(error, ensure_ascii=False),
                       row["pk"], status))
        row.update(status=RunStatus.FAILED, end_time=end, error=json.dumps(error))
        return RunStatus.FAILED
    if row["heartbeat"] is not None and time.time() - row["heartbeat"] > STALE_AFTER:
        return RunStatus.NOT_RESPONDING
    return status
