"""Run statuses, and telling a live run from one whose process died.

Example:
    >>> RunStatus.COMPLETED in RunStatus.TERMINAL
    True
"""

from __future__ import annotations

import os
import time
from typing import Any

from .. import _process
from .._store.records import RunRecord, replace

__all__ = ["RunStatus", "reconcile", "STALE_AFTER"]

#: Seconds without a heartbeat after which a run on another machine shows NotResponding.
STALE_AFTER = 60.0


class RunStatus:
    """Run status strings, as in v1.

    Example:
        >>> RunStatus.RUNNING
        'Running'
    """

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


def _died(record: RunRecord) -> dict[str, Any]:
    if record.status == RunStatus.FINALIZING:
        message = (f"この Run を完了させていたプロセス (pid {record.pid}) が、完了処理 "
                   "(outputs/ のアップロード) の途中で終了しました。記録済みのメトリックと、"
                   "アップロード済みのファイルは残っています。")
    else:
        message = (f"この Run を実行していたプロセス (pid {record.pid}) が、Run を完了させない"
                   "まま終了しました (強制終了やカーネルの停止など)。それまでに記録された"
                   "メトリックとファイルは残っています。")
    return {"message": message, "code": "ProcessDied"}


def reconcile(store: Any, record: RunRecord) -> RunRecord:
    """The run's real status: a run whose owner process died is marked Failed (once).

    A run owned by another machine cannot have its process checked; it reads
    NotResponding once its heartbeat is older than :data:`STALE_AFTER` seconds.

    Example:
        >>> reconcile(store, store.runs.get(pk)).status  # doctest: +SKIP
        'Failed'
    """
    if record.status in RunStatus.TERMINAL or record.pid is None:
        return record
    if record.host == _process.HOST:
        if record.pid == os.getpid() or _process.is_alive(record.pid, record.proc_started):
            return record
        end = record.heartbeat or time.time()
        error = _died(record)
        if store.runs.update(record.pk, only_if_status=[record.status],
                             status=RunStatus.FAILED, end_time=end, error=error):
            return replace(record, status=RunStatus.FAILED, end_time=end, error=error)
        return store.runs.get(record.pk) or record  # someone else finished it meanwhile
    if record.heartbeat is not None and time.time() - record.heartbeat > STALE_AFTER:
        return replace(record, status=RunStatus.NOT_RESPONDING)
    return record
