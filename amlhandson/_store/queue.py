"""The in-process queue that makes ``run.log`` cheap, and the thread that writes it out.

``run.log`` appends one tuple to a deque (well under a microsecond). A daemon
thread, started with the first run, hands the queue to a *sink* every
:data:`FLUSH_INTERVAL` seconds (normally :meth:`MetricRepo.write`, a remote
transport on a compute worker) and then calls the tick hooks (heartbeats).
``flush()`` does the same at once, from any thread.

Fork safety: a child process created with ``fork`` (``multiprocessing`` pools)
must not write what its parent queued, and has no flusher thread. After a fork
every queue forgets the parent's items and switches to *write-through*: each
call is written immediately (about a tenth of a millisecond), so nothing is lost
when the pool ends its workers without running exit handlers.

If the sink fails (a full disk), the items go back to the front of the queue in
their order, the error is raised to the caller of ``flush()``, and, when it was
the background thread that failed, to the next foreground ``flush()``.

Example:
    >>> written = []
    >>> q = MetricQueue(written.extend)
    >>> q.append((1, "loss", 0, 0.5, 0.0))
    >>> q.flush()
    1
    >>> written
    [(1, 'loss', 0, 0.5, 0.0)]
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import StoreError

__all__ = ["MetricQueue", "FLUSH_INTERVAL", "HEARTBEAT_INTERVAL", "BATCH"]

#: Seconds between two background flushes.
FLUSH_INTERVAL = 0.2
#: Seconds between two runs of the tick hooks (heartbeats of running runs).
HEARTBEAT_INTERVAL = 5.0
#: Items handed to the sink at once.
BATCH = 50_000

Item = tuple[int, str, int, Any, float]
_queues: weakref.WeakSet[MetricQueue] = weakref.WeakSet()
_fork_hook_installed = False


def _after_fork_in_child() -> None:
    for queue in list(_queues):
        queue._forked()


class MetricQueue:
    """Values waiting to be written, and the background thread that writes them.

    ``append`` is the hot path: it is the deque's own ``append`` (or, in a forked
    child, a write-through function).

    Example:
        >>> MetricQueue(lambda items: None).pending()
        0
    """

    def __init__(self, sink: Callable[[Sequence[Item]], None], name: str = "") -> None:
        global _fork_hook_installed
        self.sink = sink
        self.name = name
        self._items: collections.deque[Item] = collections.deque()
        self.append: Callable[[Item], None] = self._items.append
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._background_error: BaseException | None = None
        #: Called after each background flush at most every HEARTBEAT_INTERVAL seconds.
        self.tick_hooks: list[Callable[[], None]] = []
        self.write_through = False
        _queues.add(self)
        if not _fork_hook_installed and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _fork_hook_installed = True

    def pending(self) -> int:
        """How many values wait to be written."""
        return len(self._items)

    # -- writing ------------------------------------------------------------------------
    def flush(self) -> int:
        """Write every queued value now; return how many were written.

        Raises the sink's error (the values stay queued), or an error the
        background thread met since the last call.
        """
        error, self._background_error = self._background_error, None
        written = self._drain()
        if error is not None:
            raise error
        return written

    def _drain(self) -> int:
        written = 0
        with self._flush_lock:
            items = self._items
            while items:
                n = min(len(items), BATCH)
                pop = items.popleft
                batch = [pop() for _ in range(n)]
                try:
                    self.sink(batch)
                except BaseException:
                    items.extendleft(reversed(batch))  # keep them, in order, for the next flush
                    raise
                written += n
        return written

    def _write_through(self, item: Item) -> None:
        self._items.append(item)
        self._drain()

    # -- the background thread ------------------------------------------------------------
    def start(self) -> None:
        """Start the background thread (no-op when it runs, or in write-through mode)."""
        if self.write_through or (self._thread is not None and self._thread.is_alive()):
            return
        with self._flush_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name=f"amlhandson-flusher{self.name}")
            self._thread.start()

    def _loop(self) -> None:
        import time

        last_tick = 0.0
        delay = FLUSH_INTERVAL
        while not self._stopping:
            self._wake.wait(delay)
            self._wake.clear()
            try:
                self._drain()
                delay = FLUSH_INTERVAL
                now = time.monotonic()
                if self.tick_hooks and now - last_tick >= HEARTBEAT_INTERVAL:
                    last_tick = now
                    for hook in list(self.tick_hooks):
                        hook()
            except StoreError as exc:  # full disk, locked database: retry later, report on flush
                self._background_error = exc
                delay = min(delay * 2, 5.0)
            except BaseException as exc:  # noqa: BLE001 - not swallowed: re-raised by flush()
                self._background_error = exc
                return

    def stop(self) -> None:
        """Write what is queued and stop the background thread."""
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
        self._drain()

    def _forked(self) -> None:
        """In a forked child: drop the parent's items, locks and thread; write through."""
        self._items = collections.deque()
        self._flush_lock = threading.Lock()
        self._thread = None
        self._wake = threading.Event()
        self._background_error = None
        self.tick_hooks = []
        self.write_through = True
        self.append = self._write_through
