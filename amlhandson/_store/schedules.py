"""Schedules of published pipelines, and each time one fired.

A schedule's ``spec`` is a JSON object: its recurrence (frequency, interval,
start time, hours, minutes, week days, time zone) or its datastore trigger
(datastore, path, polling interval), plus the pipeline parameters.
``state`` is what the scheduler remembers between checks (the last firing
time, the datastore listing it last saw). ``firings`` lists each firing and the
pipeline run it started.

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson._store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> s = store.schedules.create(name="nightly", pipeline_id="p1", experiment_name="e",
    ...                            spec={"recurrence": {"frequency": "Day"}})
    >>> store.schedules.set_status(s.id, "Disabled").status
    'Disabled'
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ._db import Component, Database

__all__ = ["COMPONENT", "ScheduleRecord", "FiringRecord", "ScheduleRepo"]

_V1 = """
CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    pipeline_id TEXT NOT NULL,
    experiment_name TEXT NOT NULL,
    description TEXT,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_firings (
    pk INTEGER PRIMARY KEY,
    schedule_id TEXT NOT NULL,
    due REAL NOT NULL,
    fired REAL NOT NULL,
    reason TEXT NOT NULL,
    run_id TEXT,
    error TEXT,
    UNIQUE (schedule_id, due)
)
"""

#: The schedule tables.
COMPONENT = Component("schedules", (_V1,))
_COLUMNS = ("id, name, pipeline_id, experiment_name, description, spec, status, state, "
            "created, updated")
_FIRING_COLUMNS = "pk, schedule_id, due, fired, reason, run_id, error"


@dataclass(frozen=True)
class ScheduleRecord:
    """One schedule.

    Example:
        >>> ScheduleRecord("i", "n", "p", "e", None, {}, "Active", {}, 0.0, 0.0).status
        'Active'
    """

    id: str
    name: str
    pipeline_id: str
    experiment_name: str
    description: str | None
    spec: dict[str, Any]
    status: str
    state: dict[str, Any]
    created: float
    updated: float


@dataclass(frozen=True)
class FiringRecord:
    """One firing of a schedule (``due``: the time it was meant for).

    Example:
        >>> FiringRecord(1, "s", 0.0, 0.1, "recurrence", "r1", None).run_id
        'r1'
    """

    pk: int
    schedule_id: str
    due: float
    fired: float
    reason: str
    run_id: str | None
    error: str | None


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _record(row: tuple) -> ScheduleRecord:
    values = list(row)
    values[5] = _json(values[5])
    values[7] = _json(values[7])
    return ScheduleRecord(*values)


class ScheduleRepo:
    """The schedules of one workspace.

    Example:
        >>> [s.name for s in store.schedules.list()]  # doctest: +SKIP
        ['nightly']
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, *, name: str, pipeline_id: str, experiment_name: str,
               spec: dict[str, Any], description: str | None = None,
               state: dict[str, Any] | None = None) -> ScheduleRecord:
        """Add an active schedule and return it."""
        now = time.time()
        sid = str(uuid.uuid4())
        with self._db.write() as conn:
            conn.execute(f"INSERT INTO schedules({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                         (sid, name, pipeline_id, experiment_name, description,
                          json.dumps(spec, ensure_ascii=False, sort_keys=True), "Active",
                          json.dumps(state or {}, ensure_ascii=False), now, now))
            row = conn.execute(f"SELECT {_COLUMNS} FROM schedules WHERE id=?", (sid,)).fetchone()  # noqa: S608
        return _record(row)

    def get(self, schedule_id: str) -> ScheduleRecord | None:
        """The schedule with id ``schedule_id``, or ``None``."""
        rows = self._db.read(f"SELECT {_COLUMNS} FROM schedules WHERE id=?", (schedule_id,))  # noqa: S608
        return _record(rows[0]) if rows else None

    def list(self, *, status: str | None = None,
             pipeline_id: str | None = None) -> list[ScheduleRecord]:
        """Schedules, oldest first (one status / one pipeline when asked)."""
        where, params = [], []
        for column, value in (("status", status), ("pipeline_id", pipeline_id)):
            if value is not None:
                where.append(f"{column}=?")
                params.append(value)
        sql = f"SELECT {_COLUMNS} FROM schedules"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_record(r) for r in self._db.read(sql + " ORDER BY created", params)]

    def set_status(self, schedule_id: str, status: str) -> ScheduleRecord | None:
        """Set ``Active`` / ``Disabled``; ``None`` when there is no such schedule."""
        with self._db.write() as conn:
            conn.execute("UPDATE schedules SET status=?, updated=? WHERE id=?",
                         (status, time.time(), schedule_id))
            row = conn.execute(f"SELECT {_COLUMNS} FROM schedules WHERE id=?",  # noqa: S608
                               (schedule_id,)).fetchone()
        return _record(row) if row else None

    def update(self, schedule_id: str, *, spec: dict[str, Any] | None = None,
               state: dict[str, Any] | None = None) -> ScheduleRecord | None:
        """Merge keys into a schedule's spec and/or state, in one transaction."""
        with self._db.write() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM schedules WHERE id=?",  # noqa: S608
                               (schedule_id,)).fetchone()
            if row is None:
                return None
            current = _record(row)
            conn.execute("UPDATE schedules SET spec=?, state=?, updated=? WHERE id=?",
                         (json.dumps({**current.spec, **(spec or {})}, ensure_ascii=False,
                                     sort_keys=True),
                          json.dumps({**current.state, **(state or {})}, ensure_ascii=False),
                          time.time(), schedule_id))
            row = conn.execute(f"SELECT {_COLUMNS} FROM schedules WHERE id=?",  # noqa: S608
                               (schedule_id,)).fetchone()
        return _record(row)

    # -- firings ----------------------------------------------------------------------------
    def claim_firing(self, schedule_id: str, due: float, reason: str) -> FiringRecord | None:
        """Claim the firing of ``schedule_id`` meant for ``due``; ``None`` if already claimed.

        Two scheduler processes never fire the same occurrence twice: the first
        to insert the row wins.
        """
        with self._db.write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO schedule_firings(schedule_id, due, fired, reason) "
                "VALUES (?,?,?,?)", (schedule_id, due, time.time(), reason))
            if cur.rowcount == 0:
                return None
            row = conn.execute(f"SELECT {_FIRING_COLUMNS} FROM schedule_firings WHERE pk=?",  # noqa: S608
                               (cur.lastrowid,)).fetchone()
        return FiringRecord(*row)

    def finish_firing(self, pk: int, *, run_id: str | None = None,
                      error: str | None = None) -> None:
        """Note the run a firing started (or why it could not start one)."""
        with self._db.write() as conn:
            conn.execute("UPDATE schedule_firings SET run_id=?, error=? WHERE pk=?",
                         (run_id, error, pk))

    def firings(self, schedule_id: str) -> list[FiringRecord]:
        """Every firing of a schedule, oldest first."""
        return [FiringRecord(*r) for r in self._db.read(
            f"SELECT {_FIRING_COLUMNS} FROM schedule_firings WHERE schedule_id=? "  # noqa: S608
            "ORDER BY due, pk", (schedule_id,))]
