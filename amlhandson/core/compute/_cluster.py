"""Dask clusters behind compute targets: started on first use, reused, scaled down when idle.

* :class:`LocalDaskCluster` (an ``AmlCompute``): a ``distributed.LocalCluster`` of
  ``max_nodes`` worker processes with one thread each, started the first time a
  run needs it (not when the target is created), reused by every later run of
  this kernel, scaled down to ``min_nodes`` after ``idle_seconds`` without a
  running trial, and closed when the interpreter exits. Its scheduler does not
  re-run a task whose worker died (``allowed-failures: 0``): the run fails
  instead of starting again from step 0.
* :class:`AttachedDaskCluster` (a ``DaskCompute``): a ``Client`` connected to a
  scheduler someone else started; only the client is closed at exit.

Nothing happens at import: the exit hook is installed by the first cluster that
starts, and ``distributed`` is imported then.

Example:
    >>> cluster = local_cluster("/tmp/ws", "cpu", max_nodes=2)  # doctest: +SKIP
    >>> with cluster.in_use() as client:  # doctest: +SKIP
    ...     client.submit(sum, [1, 2]).result()
    3
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from ...exceptions import ComputeTargetException

__all__ = ["LocalDaskCluster", "AttachedDaskCluster", "local_cluster", "attached_cluster",
           "close_all", "cpu_count"]

_registry: dict[tuple[str, str], Any] = {}
_registry_lock = threading.Lock()
_hook_installed = False


def cpu_count() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _prewarm(client: Any) -> None:
    """Start the warm launcher of every worker now, in the background (see ``._warm``)."""
    from ._warm import prewarm

    with contextlib.suppress(Exception):  # a worker that cannot warm up starts trials the plain way
        client.run(prewarm, on_error="return")


def _install_exit_hook() -> None:
    global _hook_installed
    if not _hook_installed:
        _hook_installed = True
        atexit.register(close_all)


def close_all() -> None:
    """Close every cluster and client this process started (the exit hook)."""
    with _registry_lock:
        items = list(_registry.values())
        _registry.clear()
    for item in items:
        with contextlib.suppress(Exception):
            item.close()


class _Base:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._client: Any = None
        self._busy = 0
        self._last_active = time.monotonic()

    @contextlib.contextmanager
    def in_use(self) -> Iterator[Any]:
        """The client, marked busy for the block (an idle cluster is not scaled down meanwhile)."""
        client = self.client()
        with self._lock:
            self._busy += 1
        try:
            yield client
        finally:
            with self._lock:
                self._busy -= 1
                self._last_active = time.monotonic()

    def client(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def started(self) -> bool:
        """Whether a client exists now."""
        return self._client is not None

    def workers(self) -> dict[str, Any]:
        """``{address: info}`` of the scheduler's workers (empty when not started)."""
        if self._client is None:
            return {}
        try:
            return dict(self._client.scheduler_info(n_workers=-1).get("workers", {}))
        except TypeError:  # older distributed
            return dict(self._client.scheduler_info().get("workers", {}))
        except Exception:  # noqa: BLE001 - a scheduler that went away has no workers
            return {}


class LocalDaskCluster(_Base):
    """A LocalCluster for one ``AmlCompute`` target (see the module docstring)."""

    def __init__(self, max_nodes: int, min_nodes: int = 0, idle_seconds: float = 120.0) -> None:
        super().__init__()
        self.max_nodes = max_nodes
        self.min_nodes = min_nodes
        self.idle_seconds = idle_seconds
        self._cluster: Any = None
        self._watcher: threading.Thread | None = None
        self._closed = threading.Event()
        #: How many times the cluster was started and scaled down (for the status and tests).
        self.starts = 0
        self.scale_downs = 0

    def client(self) -> Any:
        """The cluster's client, starting the cluster or scaling it up when needed."""
        with self._lock:
            if self._cluster is None:
                self._start()
            elif (len(self._cluster.worker_spec) < self.max_nodes
                  or len(self._cluster.workers) < self.max_nodes):
                # worker_spec is what was asked for: after an idle scale-down it is empty
                # at once, while a retiring worker may still be listed in ``workers``
                self._cluster.scale(self.max_nodes)
                self._client.wait_for_workers(self.max_nodes, timeout=120)
                _prewarm(self._client)
            self._last_active = time.monotonic()
            return self._client

    def _start(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        _install_exit_hook()
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            # dashboard on a free port: the default 8787 is often taken, and distributed then
            # warns on stderr (in a notebook's output)
            self._cluster = LocalCluster(n_workers=self.max_nodes, threads_per_worker=1,
                                         processes=True, dashboard_address=":0",
                                         host="127.0.0.1")
        self._client = Client(self._cluster, set_as_default=False)
        _prewarm(self._client)
        self.starts += 1
        self._closed.clear()
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._watch_idle, daemon=True,
                                             name="amlhandson-cluster-idle")
            self._watcher.start()

    def _watch_idle(self) -> None:
        interval = max(0.2, min(5.0, self.idle_seconds / 4))
        while not self._closed.wait(interval):
            with self._lock:
                cluster = self._cluster
                if cluster is None or self._busy:
                    continue
                idle = time.monotonic() - self._last_active
                if idle >= self.idle_seconds and len(cluster.workers) > self.min_nodes:
                    with contextlib.suppress(Exception):
                        cluster.scale(self.min_nodes)
                        self.scale_downs += 1

    def status(self) -> dict[str, Any]:
        """Node counts in v1's ``AmlComputeStatus`` shape."""
        current = len(self.workers())
        return {"currentNodeCount": current,
                "targetNodeCount": self.max_nodes if self._busy else current,
                "nodeStateCounts": {"idleNodeCount": max(0, current - self._busy),
                                    "runningNodeCount": min(current, self._busy),
                                    "preparingNodeCount": 0, "unusableNodeCount": 0,
                                    "leavingNodeCount": 0, "preemptedNodeCount": 0},
                "allocationState": "Steady", "provisioningState": "Succeeded",
                "schedulerAddress": self._cluster.scheduler_address if self._cluster else None}

    def close(self) -> None:
        """Close the client and the cluster (workers and scheduler)."""
        with self._lock:
            self._closed.set()
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=10)


class AttachedDaskCluster(_Base):
    """A client of a scheduler started elsewhere (``dask scheduler`` / ``dask worker`` ...)."""

    def __init__(self, scheduler_address: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.scheduler_address = scheduler_address
        self.timeout = timeout

    def client(self) -> Any:
        """A client of the scheduler (connected on first use, reconnected if it was closed)."""
        with self._lock:
            if self._client is None or self._client.status in ("closed", "closing"):
                from distributed import Client

                _install_exit_hook()
                try:
                    self._client = Client(self.scheduler_address, timeout=self.timeout,
                                          set_as_default=False)
                    _prewarm(self._client)
                except OSError as exc:
                    raise ComputeTargetException(
                        f"Dask スケジューラー {self.scheduler_address} に接続できませんでした ({exc})。"
                        "スケジューラーが起動しているか、アドレスとポート (既定 8786) を確認して"
                        "ください。docs/compute.md に手順があります。") from exc
            self._last_active = time.monotonic()
            return self._client

    def status(self) -> dict[str, Any]:
        """Worker counts of the attached scheduler."""
        current = len(self.workers())
        return {"currentNodeCount": current, "targetNodeCount": current,
                "nodeStateCounts": {"idleNodeCount": max(0, current - self._busy),
                                    "runningNodeCount": min(current, self._busy)},
                "allocationState": "Steady",
                "provisioningState": "Succeeded" if self._client is not None else "Unknown",
                "schedulerAddress": self.scheduler_address}

    def close(self) -> None:
        """Close the client only (the cluster belongs to whoever started it)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)


def local_cluster(workspace_key: str, name: str, max_nodes: int, min_nodes: int = 0,
                  idle_seconds: float = 120.0) -> LocalDaskCluster:
    """The process's local cluster for target ``name`` (created, not started, on first call)."""
    key = (workspace_key, name)
    with _registry_lock:
        item = _registry.get(key)
        if not isinstance(item, LocalDaskCluster) or item.max_nodes != max_nodes:
            if item is not None:
                item.close()
            item = _registry[key] = LocalDaskCluster(max_nodes, min_nodes, idle_seconds)
        item.min_nodes, item.idle_seconds = min_nodes, idle_seconds
        return item


def attached_cluster(workspace_key: str, name: str, address: str) -> AttachedDaskCluster:
    """The process's client holder for an attached scheduler."""
    key = (workspace_key, name)
    with _registry_lock:
        item = _registry.get(key)
        if not isinstance(item, AttachedDaskCluster) or item.scheduler_address != address:
            if item is not None:
                item.close()
            item = _registry[key] = AttachedDaskCluster(address)
        return item


def forget(workspace_key: str, name: str) -> None:
    """Close and drop the cluster of a deleted target."""
    with _registry_lock:
        item = _registry.pop((workspace_key, name), None)
    if item is not None:
        item.close()
