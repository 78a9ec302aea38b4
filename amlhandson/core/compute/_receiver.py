"""The notebook side of the trial protocol: batches in, ordered messages out, exactly once.

Trials send batches ``{"run", "attempt", "seq", "lines"}`` (line ``i`` of a batch
has sequence number ``seq + i``). :class:`Receiver` puts every batch on one
queue (the Dask ``subscribe_topic`` handler and the ``'local'`` runner only
enqueue), and one daemon thread hands the decoded messages of each run to its
sink in sequence order:

* a line whose number was already applied is skipped (duplicates are harmless);
* a batch that starts past the next expected number is held back: a gap is
  filled when the trial ends, from the spool returned with its result
  (:meth:`Receiver.finish`);
* the first attempt seen for a run is the run's; batches of another attempt
  (Dask re-ran the task after its worker died) are never applied, and the sink
  is told once (``sink.on_other_attempt(attempt, message)``).

Example:
    >>> got = []
    >>> class Sink:
    ...     def apply(self, messages): got.extend(m["v"] for m in messages)
    ...     def on_other_attempt(self, attempt, first): pass
    >>> rx = Receiver()
    >>> rx.watch("r", Sink())
    >>> rx.put({"run": "r", "attempt": "a", "seq": 1, "lines": ['{"v": 1}', '{"v": 2}']})
    >>> rx.put({"run": "r", "attempt": "a", "seq": 2, "lines": ['{"v": 2}', '{"v": 3}']})
    >>> rx.finish("r", "a", 3, ['{"v": 1}', '{"v": 2}', '{"v": 3}']); got
    [1, 2, 3]
"""

from __future__ import annotations

import json
import queue
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Receiver", "Sink", "receiver"]


class Sink(Protocol):
    """Where a run's messages go (the workspace writer, or a list in tests)."""

    def apply(self, messages: list[dict[str, Any]]) -> None: ...

    def on_other_attempt(self, attempt: str, first: dict[str, Any] | None) -> None: ...


@dataclass
class _State:
    sink: Any
    attempt: str | None = None
    next_seq: int = 1
    held: dict[int, list[str]] = field(default_factory=dict)
    others: set[str] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)


class Receiver:
    """Apply trial batches to per-run sinks in order, once (see the module docstring)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self._runs: dict[str, _State] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # the clients subscribed, held weakly: an ``id()`` could be reused by a later client
        # (e.g. one reconnected after the first was closed), which would then never subscribe
        self._clients: weakref.WeakSet[Any] = weakref.WeakSet()
        #: Errors a sink raised (kept, never printed from the thread).
        self.errors: list[BaseException] = []

    # -- wiring ------------------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="amlhandson-receiver")
                self._thread.start()

    def attach(self, client: Any, topic: str) -> None:
        """Receive the batches a Dask ``client`` gets on ``topic`` (once per client)."""
        with self._lock:
            if client in self._clients:
                return
            self._clients.add(client)
        client.subscribe_topic(topic, lambda event: self._queue.put(("batch", event[1])))

    def watch(self, run_id: str, sink: Any) -> None:
        """Send the messages of ``run_id`` to ``sink`` from now on."""
        with self._lock:
            self._runs[run_id] = _State(sink)
        self._ensure_thread()

    def forget(self, run_id: str) -> None:
        """Stop tracking ``run_id`` (after :meth:`finish`)."""
        with self._lock:
            self._runs.pop(run_id, None)

    def put(self, batch: dict[str, Any]) -> None:
        """Enqueue one batch (thread-safe; never blocks)."""
        self._ensure_thread()
        self._queue.put(("batch", batch))

    def finish(self, run_id: str, attempt: str, last_seq: int, spool: list[str],
               timeout: float = 60.0) -> None:
        """Fill the gaps of ``run_id`` from the trial's ``spool`` and wait until all is applied."""
        done = threading.Event()
        self._ensure_thread()
        self._queue.put(("finish", (run_id, attempt, last_seq, spool, done)))
        done.wait(timeout)

    def sync(self, timeout: float = 30.0) -> None:
        """Wait until every batch enqueued so far has been applied."""
        done = threading.Event()
        self._ensure_thread()
        self._queue.put(("sync", done))
        done.wait(timeout)

    # -- the thread ---------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            kind, item = self._queue.get()
            try:
                if kind == "batch":
                    self._batch(item)
                elif kind == "finish":
                    self._finish(*item)
                else:
                    item.set()
            except Exception as exc:  # noqa: BLE001 - keep receiving; the error is kept
                self.errors.append(exc)
                if kind == "finish":
                    item[-1].set()

    def _deliver(self, state: _State, lines: list[str]) -> None:
        messages = []
        for line in lines:
            try:
                messages.append(json.loads(line))
            except ValueError:
                messages.append({"k": "log", "x": f"(読めない行を飛ばしました: {line[:200]!r})\n"})
        if messages:
            state.sink.apply(messages)

    def _batch(self, batch: dict[str, Any]) -> None:
        state = self._runs.get(batch.get("run"))
        if state is None or state.done.is_set():
            return
        attempt = batch["attempt"]
        if state.attempt is None:
            state.attempt = attempt
        if attempt != state.attempt:
            if attempt not in state.others:
                state.others.add(attempt)
                first = json.loads(batch["lines"][0]) if batch["lines"] else None
                state.sink.on_other_attempt(attempt, first)
            return
        self._apply(state, batch["seq"], batch["lines"])

    def _apply(self, state: _State, seq: int, lines: list[str]) -> None:
        if seq > state.next_seq:
            state.held[seq] = lines
            return
        fresh = lines[state.next_seq - seq:]
        if fresh:
            self._deliver(state, fresh)
            state.next_seq += len(fresh)
        while state.held:  # a held batch may now follow on
            start = min(state.held)
            if start > state.next_seq:
                break
            self._apply(state, start, state.held.pop(start))

    def _finish(self, run_id: str, attempt: str, last_seq: int, spool: list[str],
                done: threading.Event) -> None:
        try:
            state = self._runs.get(run_id)
            if state is None:
                return
            if state.attempt is None:
                state.attempt = attempt
            if attempt == state.attempt and last_seq >= state.next_seq:
                state.held.clear()
                self._apply(state, 1, spool[:last_seq])
            state.done.set()
        finally:
            done.set()


_receiver: Receiver | None = None
_receiver_lock = threading.Lock()


def receiver() -> Receiver:
    """The process's receiver (created on first use)."""
    global _receiver
    with _receiver_lock:
        if _receiver is None:
            _receiver = Receiver()
        return _receiver
