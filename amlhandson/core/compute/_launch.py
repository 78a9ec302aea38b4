"""Starting one trial on a target and keeping a handle to it (wait, kill, worker lost).

``launch(target, spec, sink)`` runs :func:`._trial.run_trial` either in a thread
of this process (``'local'``) or as a Dask task on the target's cluster, and
registers ``sink`` with the process's :class:`._receiver.Receiver`. The
returned :class:`TrialHandle` knows where the script runs (from its first
message), stops it for real (``kill``: the process on the worker is
terminated, not just the future cancelled), and notices a worker that died or
left the cluster.

Example:
    >>> handle = launch("local", spec, sink)  # doctest: +SKIP
    >>> handle.wait()["status"]  # doctest: +SKIP
    'Completed'
"""

from __future__ import annotations

import threading
import time
from typing import Any

from . import _trial
from ._receiver import receiver

__all__ = ["TrialHandle", "launch"]


def _worker_addresses(dask_scheduler: Any = None) -> list[str]:
    """The addresses of the scheduler's workers (runs on the scheduler)."""
    return list(dask_scheduler.workers) if dask_scheduler is not None else []


class TrialHandle:
    """One trial in flight; :meth:`wait` returns the runner's result dict."""

    def __init__(self, run_id: str, sink: Any, client: Any = None) -> None:
        self.run_id = run_id
        self.client = client
        self.sink = sink
        self.worker: str | None = None
        self.attempt: str | None = None
        self.started = threading.Event()
        self._future: Any = None
        self._thread: threading.Thread | None = None
        self._result: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.kill_reason: str | None = None

    # called by the sink wrapper when the runner's first message arrives
    def _on_start(self, message: dict[str, Any]) -> None:
        self.worker = message.get("worker")
        self.attempt = message.get("attempt")
        self.started.set()

    def done(self) -> bool:
        """Whether the runner has returned (or the task failed)."""
        if self._future is not None:
            return self._future.done()
        return self._thread is not None and not self._thread.is_alive()

    def kill(self, reason: str) -> bool:
        """Stop the script now (SIGTERM, then SIGKILL); ``True`` if a process was stopped."""
        self.kill_reason = reason
        if self.client is None:
            return _trial.kill_trial(self.run_id, reason)
        if not self.started.is_set() and self._future is not None:
            self._future.cancel()
            return False
        workers = [self.worker] if self.worker and self.worker != "local" else None
        try:
            done = self.client.run(_trial.kill_trial, self.run_id, reason, workers=workers,
                                   on_error="return")
        except Exception:  # noqa: BLE001 - a worker that is gone has nothing left to kill
            return False
        return any(v is True for v in done.values())

    def worker_alive(self) -> bool:
        """``False`` once the worker running the script has left the cluster (asked to the scheduler)."""
        if self.client is None or not self.worker or self.done():
            return True
        try:  # the client's cached scheduler_info() lags behind; ask the scheduler itself
            workers = self.client.run_on_scheduler(_worker_addresses)
        except Exception:  # noqa: BLE001 - cannot tell: assume alive
            return True
        return self.worker in workers

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """The runner's result; a task that died becomes a Failed result with the reason."""
        if self._result is not None:
            return self._result
        if self._future is not None:
            try:
                result = self._future.result(timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - KilledWorker, CancelledError, comm errors
                result = self._failure(exc)
        else:
            assert self._thread is not None
            self._thread.join(timeout)
            result = self._local_result or self._failure(RuntimeError("runner thread ended"))
        self._result = result
        return result

    def _failure(self, exc: BaseException) -> dict[str, Any]:
        name = type(exc).__name__
        if self.kill_reason is not None:
            return {"status": "Canceled", "rc": None, "last_seq": 0, "spool": b"",
                    "outputs": b"", "attempt": self.attempt,
                    "error": {"code": "Canceled", "message": self.kill_reason}}
        if name == "KilledWorker":
            message = (f"この Run を実行していたワーカー ({self.worker or '不明'}) が止まりました "
                       "(プロセスの強制終了やメモリ不足など)。v1 と同じく Run は Failed にし、最初から"
                       "やり直すことはしません。それまでに届いたメトリックは残っています。")
        else:
            message = f"試行を実行できませんでした: {name}: {exc}"
        return {"status": "Failed", "rc": None, "last_seq": 0, "spool": b"", "outputs": b"",
                "attempt": self.attempt, "error": {"code": name, "message": message}}

    _local_result: dict[str, Any] | None = None


class _Watch:
    """Wraps a sink: notes the runner's ``start`` message on the handle, then passes everything on."""

    def __init__(self, sink: Any, handle: TrialHandle) -> None:
        self.sink, self.handle = sink, handle

    def apply(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            if message.get("k") == "start" and not self.handle.started.is_set():
                self.handle._on_start(message)
        self.sink.apply(messages)

    def on_other_attempt(self, attempt: str, first: dict[str, Any] | None) -> None:
        self.sink.on_other_attempt(attempt, first)


def launch(runtime: Any, spec: dict[str, Any], sink: Any, echo: bool = False) -> TrialHandle:
    """Start ``spec`` on ``runtime`` (``None`` = this process, else a cluster from ``_cluster``)."""
    rx = receiver()
    if runtime is None:
        handle = TrialHandle(spec["run_id"], sink)
        rx.watch(spec["run_id"], _Watch(sink, handle))

        def target() -> None:
            handle._local_result = _trial.run_trial(spec, emit=rx.put, echo=echo)

        handle._thread = threading.Thread(target=target, daemon=True,
                                          name=f"amlhandson-trial-{spec['run_id'][:20]}")
        handle._thread.start()
        return handle
    client = runtime.client()
    rx.attach(client, _trial.TOPIC)
    handle = TrialHandle(spec["run_id"], sink, client)
    rx.watch(spec["run_id"], _Watch(sink, handle))
    handle._future = client.submit(_trial.run_trial, spec, key=f"amlhandson-{spec['run_id']}",
                                   pure=False)
    return handle


def finish(handle: TrialHandle, result: dict[str, Any], timeout: float = 60.0) -> None:
    """Apply what the trial sent but did not arrive live (from its spool), then stop tracking it."""
    rx = receiver()
    attempt = result.get("attempt") or handle.attempt or ""
    rx.finish(handle.run_id, attempt, int(result.get("last_seq") or 0),
              _trial.decode_spool(result.get("spool") or b""), timeout)
    rx.forget(handle.run_id)


def wait_started(handle: TrialHandle, timeout: float) -> bool:
    """Wait until the script's runner reported in (``False`` on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handle.started.wait(0.05) or handle.done():
            return handle.started.is_set()
    return False
