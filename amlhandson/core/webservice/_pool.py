"""The score workers of one server: started, given requests, timed out, restarted, recycled.

The scoring server (:mod:`._front`) asks :meth:`WorkerPool.submit` for an
answer; the pool gives the request to a worker with a free slot (each worker
takes ``replica_max_concurrent_requests`` at once), waits at most
``max_request_wait_time_ms`` for one (503 after that) and at most
``scoring_timeout_ms`` for the answer (504 after that, and the stuck worker is
killed and replaced).

Supervision, as v1's restarting container did, per worker:

* a worker that exits on its own (``os._exit`` in ``run()``, a segfault, the
  OOM killer) is logged with its exit code and what it was doing, and its
  requests are answered 502. One that dies in or before ``init()``, or while
  idle, is restarted after a back-off (0.1 s, 0.5 s, 1 s, 2 s ... 30 s; back to
  the start after a successful answer), so a broken score.py does not spin;
  one that served and was ended by a request (``run()`` crashed or passed
  ``scoring_timeout_ms``) is restarted after 0.1 s and does not add to the
  back-off: one bad request must not slow the service down for the others;
* ``init()`` has ``init_timeout_s``; a worker still in ``init()`` then is killed;
* a worker using more than ``max_worker_memory_mb`` finishes its requests and
  is replaced (at twice the limit it is killed at once), as is one that served
  ``max_requests_per_worker`` requests;
* while every worker is busy and a request waits, one more is started, up to
  ``max_workers``; extra workers idle for 60 s are stopped.

Example:
    >>> BACKOFF[:3]
    (0.1, 0.5, 1.0)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._child import (
    PoolBusy,
    ScoringTimeout,
    WorkerDied,
    WorkerFailed,
    WorkerPipes,
    WorkerProcess,
    describe_exit,
)
from ._logs import LogWriter
from ._protocol import pack
from ._settings import ServerSettings

__all__ = ["WorkerPool", "WorkerFailed", "PoolBusy", "ScoringTimeout", "WorkerDied",
           "describe_exit", "BACKOFF"]

log = logging.getLogger("amlhandson.scoring")

WORKER_MODULE = "amlhandson.core.webservice._worker"
#: Seconds before the n-th restart in a row of a worker that failed.
BACKOFF = (0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
IDLE_RETIRE_S = 60.0
_WATCH_EVERY = 1.0
Reply = tuple[int, list[tuple[str, str]], bytes]


class WorkerPool:
    """Score worker processes for one service (see the module docs).

    Example:
        >>> pool = WorkerPool(settings, config_path, app_dir, writer)  # doctest: +SKIP
        >>> await pool.start()  # doctest: +SKIP
        >>> await pool.submit({"method": "POST"}, b'{"data": [1]}')  # doctest: +SKIP
        (200, [('Content-Type', 'application/json')], b'[2.5]')
    """

    def __init__(self, settings: ServerSettings, config_path: Path, app_dir: Path,
                 log_writer: LogWriter, on_change: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.config_path = config_path
        self.app_dir = app_dir
        self.writer = log_writer
        self.on_change = on_change or (lambda: None)
        self.workers: list[WorkerProcess] = []
        self.swagger: Any = None
        self.takes_headers = False
        self.restarts = 0
        self.last_exit: dict[str, Any] | None = None
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1)
        self._waiters: deque[asyncio.Future] = deque()
        self._failures_in_a_row = 0
        self._spawn_pending = False
        self._stopping = False
        self._watch_task: asyncio.Task | None = None

    # -- state -------------------------------------------------------------------------------------
    @property
    def ready_count(self) -> int:
        """Workers answering requests now."""
        return sum(1 for w in self.workers if w.state == "ready")

    def status(self) -> dict[str, Any]:
        """The pool for ``runtime.json``: counts, each worker, restarts, the last exit."""
        return {
            "ready": self.ready_count,
            "starting": sum(1 for w in self.workers if w.state == "starting"),
            "total": len(self.workers), "min": self.settings.workers,
            "max": self.settings.max_workers, "restarts": self.restarts,
            "last_exit": self.last_exit,
            "workers": [{"number": w.number, "pid": w.pid, "state": w.state, "served": w.served}
                        for w in self.workers],
        }

    # -- starting ------------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["AZUREML_MODEL_DIR"] = str(self.app_dir / self.settings.model_dir)
        return env

    async def _spawn(self) -> WorkerProcess:
        worker = WorkerProcess(next(self._numbers))
        kwargs: dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = 0x08000000  # CREATE_NO_WINDOW
        loop = asyncio.get_running_loop()
        await loop.subprocess_exec(
            lambda: WorkerPipes(self, worker), sys.executable, "-m", WORKER_MODULE,
            str(self.config_path), str(worker.number), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=str(self.app_dir), env=self._env(), **kwargs)
        self.workers.append(worker)
        log.info("Starting %s", worker.label())
        timer = loop.call_later(self.settings.init_timeout_s, self._init_timeout, worker)
        worker.ready.add_done_callback(lambda _f: timer.cancel())
        self.on_change()
        return worker

    def _init_timeout(self, worker: WorkerProcess) -> None:
        if worker.state != "starting":
            return
        message = (f"init() が {self.settings.init_timeout_s:g} 秒 (init_timeout_s) たっても終わら"
                   "なかったので、プロセスを止めました。init() が無限ループや待ち続けになって"
                   "いないか確認してください。")
        log.error("%s: init() did not finish within %g s: killed", worker.label(),
                  self.settings.init_timeout_s)
        worker.failure = {"kind": "init_timeout", "message": message, "traceback": "",
                          "exit_code": 3}
        self._kill(worker, None)

    async def start(self) -> None:
        """Start the first worker and wait for ``init()``; raise :class:`WorkerFailed` if it fails.

        The other ``workers - 1`` start in the background once the first is ready.
        """
        worker = await self._spawn()
        failure = await worker.ready
        if failure is not None:
            raise WorkerFailed(failure["kind"], failure["message"], failure.get("traceback", ""),
                               int(failure.get("exit_code") or 1))
        self._watch_task = asyncio.get_running_loop().create_task(self._watch())
        self._top_up()

    def _top_up(self, delay: float = 0.0) -> None:
        """Start workers until ``workers`` are alive (after ``delay``), one at a time."""
        if self._stopping or self._spawn_pending:
            return
        alive = sum(1 for w in self.workers if w.state in ("starting", "ready"))
        if alive >= self.settings.workers:
            return
        self._spawn_pending = True

        async def later() -> None:
            try:
                if delay:
                    await asyncio.sleep(delay)
                if not self._stopping:
                    worker = await self._spawn()
                    await worker.ready
            finally:
                self._spawn_pending = False
            if not self._stopping:
                self._top_up(self._backoff())

        asyncio.get_running_loop().create_task(later())

    def _backoff(self) -> float:
        if not self._failures_in_a_row:
            return 0.0
        return BACKOFF[min(self._failures_in_a_row, len(BACKOFF)) - 1]

    def _scale_up(self) -> None:
        """Every worker is busy and a request waits: start one more (up to ``max_workers``)."""
        if self._stopping or self._spawn_pending:
            return
        alive = [w for w in self.workers if w.state in ("starting", "ready")]
        if len(alive) >= self.settings.max_workers or any(w.state == "starting" for w in alive):
            return
        if self._failures_in_a_row:
            return  # failing workers are restarted by _top_up with back-off, not multiplied
        self._spawn_pending = True

        async def more() -> None:
            try:
                log.info("All workers are busy: starting one more (max_workers %d)",
                         self.settings.max_workers)
                await self._spawn()
            finally:
                self._spawn_pending = False

        asyncio.get_running_loop().create_task(more())

    # -- reading a worker ------------------------------------------------------------------------------
    def _on_frame(self, worker: WorkerProcess, meta: dict[str, Any], body: bytes) -> None:
        op = meta.get("op")
        if op == "reply":
            future = worker.inflight.get(meta.get("id", -1))
            if future is not None and not future.done():
                future.set_result((int(meta.get("status", 500)),
                                   [tuple(h) for h in meta.get("headers", [])], body))
        elif op == "ready":
            worker.state = "ready"
            worker.idle_since = time.monotonic()
            if self.swagger is None:
                self.swagger = meta.get("swagger")
                self.takes_headers = bool(meta.get("takes_headers"))
            log.info("%s is ready", worker.label())
            if not worker.ready.done():
                worker.ready.set_result(None)
            self._wake()
            self.on_change()
        elif op == "failed":
            worker.failure = meta
        elif op == "retiring":
            worker.planned = str(meta.get("reason") or "retiring")
            worker.state = "retiring"

    def _on_exit(self, worker: WorkerProcess, code: int) -> None:
        was = worker.state
        worker.state = "dead"
        if not worker.exited.done():
            worker.exited.set_result(code)
        with contextlib.suppress(ValueError):
            self.workers.remove(worker)
        busy = len(worker.inflight)
        for future in worker.inflight.values():
            if not future.done():
                future.set_exception(WorkerDied(describe_exit(code)))
        worker.inflight.clear()
        if not worker.ready.done():
            worker.ready.set_result(worker.failure or {
                "kind": "exited", "message": f"score.py のプロセスが init() の前か途中で終了しました "
                                             f"({describe_exit(code)})。", "exit_code": code})
        if self._stopping:
            return
        if worker.planned and worker.failure is None:
            log.info("%s stopped (%s)", worker.label(), worker.planned)
            self._top_up()
            self.on_change()
            return
        self.restarts += 1
        kind = (worker.failure or {}).get("kind")
        if kind == "timeout" or (busy and was in ("ready", "retiring")):
            delay = BACKOFF[0]  # a request ended a worker that works: no back-off
        else:
            self._failures_in_a_row += 1
            delay = self._backoff()
        if kind == "timeout":
            doing = "after its run() passed scoring_timeout_ms (killed)"
        elif was == "starting" or kind == "init_timeout":
            doing = "in init()"
        else:
            doing = f"while running {busy} request(s)" if busy else "while idle"
        reason = (worker.failure or {}).get("message") or worker.planned or ""
        hint = " (killed from outside, or out of memory?)" if code == -9 and not worker.killed \
            else ""
        log.error("%s exited with %s %s%s%s; restarting in %.1f s (restart %d)", worker.label(),
                  describe_exit(code), doing, hint, f": {reason}" if reason else "", delay,
                  self.restarts)
        self.last_exit = {"worker": worker.number, "pid": worker.pid, "code": code,
                          "description": describe_exit(code), "during": doing,
                          "reason": reason, "time": time.time(), "restart": self.restarts}
        self._top_up(delay)
        self.on_change()

    # -- requests ---------------------------------------------------------------------------------------
    def _pick(self) -> WorkerProcess | None:
        limit = self.settings.replica_max_concurrent_requests
        best = None
        for worker in self.workers:
            if worker.state == "ready" and len(worker.inflight) < limit and (
                    best is None or len(worker.inflight) < len(best.inflight)):
                best = worker
        return best

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _acquire(self) -> WorkerProcess:
        worker = self._pick()
        if worker is not None:
            return worker
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.max_request_wait_time_ms / 1000
        while worker is None:
            self._scale_up()
            waiter = loop.create_future()
            self._waiters.append(waiter)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise PoolBusy()
            try:
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                raise PoolBusy() from None
            worker = self._pick()
        return worker

    async def submit(self, meta: dict[str, Any], body: bytes) -> Reply:
        """Give one request to a worker and return its answer (see the exceptions above)."""
        worker = await self._acquire()
        request_id = next(self._ids)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        worker.inflight[request_id] = future
        timeout = self.settings.scoring_timeout_ms / 1000
        timer = loop.call_later(timeout, self._scoring_timeout, worker, future)
        try:
            meta["op"], meta["id"] = "score", request_id
            worker.send(pack(meta, body))
            status, headers, content = await future
        except (ConnectionError, OSError) as exc:
            raise WorkerDied(f"cannot write to the worker: {exc}") from None
        finally:
            timer.cancel()
            worker.inflight.pop(request_id, None)
            self._release(worker)
        worker.served += 1
        if status < 500:
            self._failures_in_a_row = 0
        return status, headers, content

    def _scoring_timeout(self, worker: WorkerProcess, future: asyncio.Future) -> None:
        if future.done():
            return
        seconds = self.settings.scoring_timeout_ms / 1000
        log.error("%s: run() did not answer within %g s (scoring_timeout_ms): killing the "
                  "worker; a new one starts", worker.label(), seconds)
        future.set_exception(ScoringTimeout(seconds))
        worker.failure = {"kind": "timeout", "message": f"run() did not answer within {seconds:g} s"}
        self._kill(worker, None)

    def _release(self, worker: WorkerProcess) -> None:
        if not worker.inflight:
            worker.idle_since = time.monotonic()
            if worker.state == "retiring" and worker.planned:
                self._stop_worker(worker)
        if worker.state == "ready":
            self._wake()

    # -- ending workers ---------------------------------------------------------------------------------
    def _kill(self, worker: WorkerProcess, planned: str | None) -> None:
        if planned:
            worker.planned = planned
        worker.killed = True
        if worker.state != "dead":
            worker.state = "retiring"
        with contextlib.suppress(ProcessLookupError, OSError, AttributeError):
            assert worker.transport is not None
            worker.transport.kill()

    def _stop_worker(self, worker: WorkerProcess) -> None:
        """Ask an idle worker to exit (planned); it is killed if it does not within 5 s."""
        worker.state = "retiring"
        with contextlib.suppress(OSError, AttributeError, RuntimeError):
            worker.send(pack({"op": "stop"}))
            worker.stdin.close()
        asyncio.get_running_loop().call_later(5.0, self._kill, worker, None)

    async def _watch(self) -> None:
        """Every second: memory per worker, idle extra workers."""
        import psutil

        limit = self.settings.max_worker_memory_mb * 1024 * 1024
        while not self._stopping:
            await asyncio.sleep(_WATCH_EVERY)
            now = time.monotonic()
            for worker in list(self.workers):
                if worker.state != "ready" and worker.state != "retiring":
                    continue
                try:
                    rss = psutil.Process(worker.pid).memory_info().rss
                except psutil.Error:
                    continue
                if rss > limit and not worker.planned:
                    mb = rss / 2**20
                    worker.planned = (f"memory {mb:.0f} MB > max_worker_memory_mb "
                                      f"{self.settings.max_worker_memory_mb}: recycled")
                    log.warning("%s uses %.0f MB (> max_worker_memory_mb %d): replacing it",
                                worker.label(), mb, self.settings.max_worker_memory_mb)
                    self._top_up_extra()
                    if not worker.inflight:
                        self._stop_worker(worker)
                    else:
                        worker.state = "retiring"
                elif rss > 2 * limit:
                    self._kill(worker, f"memory {rss / 2**20:.0f} MB > 2 x max_worker_memory_mb")
                elif worker.state == "ready" and not worker.inflight and \
                        now - worker.idle_since > IDLE_RETIRE_S and \
                        sum(1 for w in self.workers if w.state == "ready") > self.settings.workers:
                    worker.planned = f"idle for {IDLE_RETIRE_S:g} s (more than workers)"
                    self._stop_worker(worker)

    def _top_up_extra(self) -> None:
        """Start a replacement now for a worker about to be recycled."""
        if self._stopping or self._spawn_pending:
            return
        self._spawn_pending = True

        async def replace() -> None:
            try:
                await self._spawn()
            finally:
                self._spawn_pending = False

        asyncio.get_running_loop().create_task(replace())

    async def stop(self, timeout: float = 3.0) -> None:
        """Stop every worker (asked first, killed after ``timeout``)."""
        self._stopping = True
        if self._watch_task is not None:
            self._watch_task.cancel()
        for worker in list(self.workers):
            worker.planned = worker.planned or "server stopping"
            if worker.inflight or worker.state == "starting":
                self._kill(worker, None)
            else:
                self._stop_worker(worker)
        waits = [w.exited for w in list(self.workers)]
        if waits:
            try:
                await asyncio.wait_for(asyncio.gather(*waits), timeout)
            except asyncio.TimeoutError:
                for worker in list(self.workers):
                    self._kill(worker, None)
