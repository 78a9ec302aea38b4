"""Runs this process is running: heartbeats, and closing them when the process ends.

Nothing here happens at import. The first run this process starts installs,
once, an ``atexit`` handler and a ``sys.excepthook`` wrapper (which only notes
the uncaught exception and calls the previous hook). At exit:

* the process's ``Run.get_context()`` run completes (or fails with the uncaught
  exception), like a submitted script's run;
* any other run still open is marked Canceled with the reason, metrics kept;
* every metric still queued is written.

Example:
    >>> all(run.is_running_here for run in active_runs())
    True
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
import weakref
from typing import Any

from .._store import Store

__all__ = ["track", "untrack", "active_runs", "install_hooks"]

# keyed by the store object, not its id(): a store dropped by Store.forget() may be collected
# and its id() reused by the next one, which would then share its runs and miss its heartbeat
_active: dict[tuple[Store, int], Any] = {}  # (store, run pk) -> Run
_lock = threading.Lock()
_installed = False
_uncaught: list[BaseException] = []
_beating: weakref.WeakSet[Store] = weakref.WeakSet()  # stores whose queue runs our heartbeat


def track(run: Any, store: Store, pk: int) -> None:
    """Note that this process runs ``run``: heartbeats start; it is closed at exit."""
    install_hooks()
    with _lock:
        _active[(store, pk)] = run
        if store not in _beating:
            _beating.add(store)
            store.queue.tick_hooks.append(lambda: _heartbeat(store))
    store.queue.start()


def untrack(store: Store, pk: int) -> None:
    """The run finished (or another process finished it): stop tracking it."""
    with _lock:
        _active.pop((store, pk), None)


def is_tracked(store: Store, pk: int) -> bool:
    """Whether this process runs the run ``pk`` of ``store``."""
    return (store, pk) in _active


def active_runs() -> list[Any]:
    """The runs this process started and has not finished yet."""
    with _lock:
        return list(_active.values())


def _heartbeat(store: Store) -> None:
    with _lock:
        pks = [pk for (owner, pk) in _active if owner is store]
    store.runs.heartbeat(pks, time.time())


def _excepthook(exc_type: Any, exc: BaseException, tb: Any) -> None:
    _uncaught.append(exc)
    _previous_hook(exc_type, exc, tb)


_previous_hook = sys.excepthook


def install_hooks() -> None:
    """Install the exit handler and the excepthook wrapper (once per process)."""
    global _installed, _previous_hook
    if _installed:
        return
    _installed = True
    _previous_hook = sys.excepthook
    sys.excepthook = _excepthook
    atexit.register(close_all_at_exit)


def close_all_at_exit() -> None:
    """Close every open run of this process and write every queued value.

    Errors of amlhandson (a full disk ...) are printed and the others still
    closed; anything unexpected is raised after the rest is done.
    """
    from ..exceptions import AmlHandsOnError

    unexpected: BaseException | None = None
    for run in active_runs():
        try:
            run._close_at_exit(_uncaught[-1] if _uncaught else None)
        except AmlHandsOnError as exc:
            print(f"amlhandson: Run {run.id} を閉じられませんでした: {exc}", file=sys.stderr)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others
            unexpected = unexpected or exc
    for store in Store.all_open():
        try:
            store.queue.stop()
        except AmlHandsOnError as exc:
            print(f"amlhandson: メトリックを書き込めませんでした ({store.root}): {exc}",
                  file=sys.stderr)
    if unexpected is not None:
        raise unexpected
