"""The scheduler: fires due schedules as pipeline runs (``amlhandson schedules run``).

v1 ran schedules in the service; here a foreground process does it while it
runs (on a workshop machine: a terminal, or a user service, see
``docs/pipelines.md``). Every ``interval`` seconds it asks each active
schedule of its workspaces whether an occurrence is due (:meth:`Schedule.due`:
a recurrence, or new or changed files under a watched datastore path), claims
the occurrence in the store (two schedulers never fire one twice) and starts a
run of the schedule's published pipeline in a detached process, tagged with the
schedule (:data:`TAG_ID`, :data:`TAG_NAME`, :data:`TAG_REASON`). Stopping the
scheduler (Ctrl-C) does not stop runs it started.

Example:
    >>> fired = fire_due(ws)  # doctest: +SKIP
    >>> [(f.schedule, f.run_id) for f in fired]  # doctest: +SKIP
    [('nightly', '5b0e...')]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import _detached
from .schedule import Firing, Schedule

__all__ = ["Fired", "fire_due", "start_schedule_run", "run_scheduler", "TAG_ID", "TAG_NAME",
           "TAG_REASON"]

#: Tags of a run a schedule started.
TAG_ID, TAG_NAME, TAG_REASON = "amlhandson.schedule_id", "amlhandson.schedule", "amlhandson.trigger"


@dataclass(frozen=True)
class Fired:
    """One firing: which schedule, why, and the run it started (or the error).

    Example:
        >>> Fired("ws", "nightly", "s1", "recurrence", "r1", None).run_id
        'r1'
    """

    workspace: str
    schedule: str
    schedule_id: str
    reason: str
    run_id: str | None
    error: str | None


def start_schedule_run(schedule: Schedule, firing: Firing) -> Any:
    """Start a detached run of ``schedule``'s published pipeline; returns an object with ``.id``.

    Example:
        >>> start_schedule_run(schedule, schedule.due())  # doctest: +SKIP
    """
    workspace = schedule.workspace
    tags = {TAG_ID: schedule.id, TAG_NAME: schedule.name, TAG_REASON: firing.reason[:200]}
    run_id = _detached.start_run(workspace, schedule.pipeline_id, schedule.experiment_name,
                                 schedule.pipeline_parameters, tags)
    return _Started(run_id)


@dataclass(frozen=True)
class _Started:
    id: str


def fire_due(workspace: Any, now: float | None = None,
             start: Callable[[Schedule, Firing], Any] = start_schedule_run) -> list[Fired]:
    """Fire every due occurrence of ``workspace``'s active schedules once; what was fired.

    Example:
        >>> fire_due(ws)  # doctest: +SKIP
        []
    """
    fired = []
    for schedule in Schedule.list(workspace, active_only=True):
        try:
            firing = schedule.due(now)
        except Exception as exc:  # noqa: BLE001 - one broken schedule must not stop the others
            fired.append(Fired(workspace.name, schedule.name, schedule.id, "check", None,
                               f"{type(exc).__name__}: {exc}"))
            continue
        if firing is None:
            continue
        try:
            run = schedule.fire(firing, lambda s, f=firing: start(s, f))
        except Exception as exc:  # noqa: BLE001 - recorded with the firing by fire(); reported
            fired.append(Fired(workspace.name, schedule.name, schedule.id, firing.reason, None,
                               f"{type(exc).__name__}: {exc}"))
            continue
        if run is not None:  # None: another scheduler claimed it first
            fired.append(Fired(workspace.name, schedule.name, schedule.id, firing.reason,
                               run.id, None))
    return fired


def run_scheduler(workspaces: Sequence[Any], interval: float = 10.0,
                  stop: threading.Event | None = None, max_firings: int | None = None,
                  timeout: float | None = None, once: bool = False,
                  report: Callable[[str], None] = print) -> list[Fired]:
    """Check the workspaces' schedules every ``interval`` seconds until stopped; all firings.

    Ends when ``stop`` is set, after ``max_firings`` runs were started, after
    ``timeout`` seconds, or after one check (``once``).

    Example:
        >>> run_scheduler([ws], once=True)  # doctest: +SKIP
        []
    """
    stop = stop or threading.Event()
    deadline = None if timeout is None else time.monotonic() + timeout
    everything: list[Fired] = []
    while not stop.is_set():
        for workspace in workspaces:
            for item in fire_due(workspace):
                everything.append(item)
                stamp = time.strftime("%Y-%m-%d %H:%M:%S")
                if item.error is None:
                    report(f"{stamp} {item.workspace}/{item.schedule}: パイプライン Run "
                           f"{item.run_id} を開始しました ({item.reason})")
                else:
                    report(f"{stamp} {item.workspace}/{item.schedule}: 開始できませんでした: "
                           f"{item.error}")
        _detached.reap()
        started = sum(1 for f in everything if f.error is None)
        if once or (max_firings is not None and started >= max_firings):
            return everything
        wait = interval if deadline is None else min(interval, deadline - time.monotonic())
        if wait <= 0 or stop.wait(wait):
            return everything
    return everything
