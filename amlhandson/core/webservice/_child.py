"""One score worker process, seen from the scoring server: its pipes, its frames, its end.

:class:`WorkerProcess` is the server's record of a worker (number, pid, state,
requests in flight); :class:`WorkerPipes` is the asyncio protocol of its three
pipes: frames from stdout are parsed as they arrive and handed to the pool in
the same callback, stderr lines go to the log, and the pool hears of the exit
once the process has ended and its stdout is drained. The exceptions are what
a request can end with besides an answer.

Example:
    >>> describe_exit(3)
    'exit code 3'
    >>> describe_exit(-9)[:8]
    'signal 9'
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Any

from ._logs import LineRelay
from ._protocol import FrameParser, ProtocolError

__all__ = ["WorkerProcess", "WorkerPipes", "WorkerFailed", "PoolBusy", "ScoringTimeout",
           "WorkerDied", "describe_exit"]

log = logging.getLogger("amlhandson.scoring")


class WorkerFailed(Exception):
    """The first worker could not start (the deployment fails with this reason)."""

    def __init__(self, kind: str, message: str, traceback: str = "", exit_code: int = 1) -> None:
        super().__init__(message)
        self.kind, self.message, self.traceback, self.exit_code = kind, message, traceback, \
            exit_code


class PoolBusy(Exception):
    """No worker became free within ``max_request_wait_time_ms`` (503)."""


class ScoringTimeout(Exception):
    """``run()`` did not answer within ``scoring_timeout_ms`` (504)."""


class WorkerDied(Exception):
    """The worker ended while handling the request (502)."""


def describe_exit(code: int | None) -> str:
    """``exit code 3`` / ``signal 9 (SIGKILL)`` for a process's return code."""
    if code is None:
        return "exit code unknown"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {-code} ({signal.Signals(-code).name})"
        return f"signal {-code}"
    return f"exit code {code}"


class WorkerProcess:
    """The server's record of one worker process (see the module docs)."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.pid = 0
        self.transport: Any = None  # the loop's subprocess transport
        self.stdin: Any = None
        self.state = "starting"  # starting | ready | retiring | dead
        self.inflight: dict[int, asyncio.Future] = {}
        self.started = time.monotonic()
        self.idle_since = time.monotonic()
        self.served = 0
        self.planned: str | None = None  # why we ended it (not a failure), if we did
        self.failure: dict[str, Any] | None = None
        self.killed = False  # ended by the pool (timeout, memory, stop), not on its own
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future = loop.create_future()
        self.exited: asyncio.Future = loop.create_future()

    def label(self) -> str:
        return f"worker {self.number} (pid {self.pid})"

    def send(self, data: bytes) -> None:
        if self.stdin is None or self.stdin.is_closing():
            raise ConnectionResetError("the worker's input is closed")
        self.stdin.write(data)


class WorkerPipes(asyncio.SubprocessProtocol):
    """One worker's pipes: frames on stdout, log lines on stderr, then its exit.

    Frames are parsed as they arrive and answered in the same callback (no
    reader task in between), which keeps the per-request cost low.
    """

    def __init__(self, pool: Any, worker: WorkerProcess) -> None:
        self.pool = pool  # the WorkerPool: _on_frame, _on_exit, _kill, writer
        self.worker = worker
        self.frames = FrameParser()
        self.relay = LineRelay(pool.writer)
        self._exited = False
        self._stdout_closed = False
        self._done = False

    def connection_made(self, transport: Any) -> None:  # uvloop's is not an asyncio subclass
        self.worker.transport = transport
        self.worker.pid = transport.get_pid()
        self.worker.stdin = transport.get_pipe_transport(0)

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        assert isinstance(data, bytes)
        if fd != 1:
            self.relay.feed(data)
            return
        try:
            frames = self.frames.feed(data)
        except ProtocolError as exc:
            log.error("%s sent something that is not a frame (%s): stopping it",
                      self.worker.label(), exc)
            self.pool._kill(self.worker, None)
            return
        for meta, body in frames:
            self.pool._on_frame(self.worker, meta, body)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self._stdout_closed = True
            self._finish()
        elif fd == 2:
            self.relay.close()

    def process_exited(self) -> None:
        self._exited = True
        self._finish()
        # a grandchild may hold the worker's pipes open: do not wait for them for long
        asyncio.get_running_loop().call_later(1.0, self._finish, True)

    def _finish(self, force: bool = False) -> None:
        if self._done or not self._exited or not (self._stdout_closed or force):
            return
        self._done = True
        assert self.worker.transport is not None
        code = self.worker.transport.get_returncode()
        self.pool._on_exit(self.worker, -1 if code is None else code)
