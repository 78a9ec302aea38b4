"""``Schedule`` and ``ScheduleRecurrence``: run a published pipeline on a timetable or on new data.

As in v1 (``azureml.pipeline.core.schedule``)::

    recurrence = ScheduleRecurrence(frequency="Day", interval=1, hours=[9], minutes=[0],
                                    time_zone=TimeZone.TokyoStandardTime)
    schedule = Schedule.create(ws, name="nightly", pipeline_id=published.id,
                               experiment_name="pipelines", recurrence=recurrence)
    # or, when files under a datastore path are added or changed:
    schedule = Schedule.create(ws, name="on-new-data", pipeline_id=published.id,
                               experiment_name="pipelines", datastore=ds,
                               path_on_datastore="incoming", polling_interval=5)

Schedules fire while a scheduler runs (``amlhandson schedules run``; v1 ran it
in the service). Each firing is claimed in the store before it starts a
pipeline run, so two schedulers never fire the same occurrence twice; an
occurrence missed while no scheduler ran fires once when one starts.

Example:
    >>> r = ScheduleRecurrence(frequency="Hour", interval=2)
    >>> r.frequency, r.interval
    ('Hour', 2)
    >>> ScheduleRecurrence(frequency="Hour", interval=1, hours=[9])
    Traceback (most recent call last):
    ...
    amlhandson.exceptions.UserErrorException: hours と minutes (time_of_day) は frequency が 'Day' か 'Week' のときだけ指定できます。
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..._store import Store
from ..._store.schedules import ScheduleRecord
from ...exceptions import UserErrorException
from . import _recurrence

__all__ = ["Schedule", "ScheduleRecurrence", "TimeZone", "Firing"]


class TimeZone:
    """v1's time zone names (``TimeZone.TokyoStandardTime`` ...); IANA names work too.

    Example:
        >>> TimeZone.TokyoStandardTime
        'TokyoStandardTime'
    """

    UTC = "UTC"
    TokyoStandardTime = "TokyoStandardTime"
    PacificStandardTime = "PacificStandardTime"
    EasternStandardTime = "EasternStandardTime"
    GMTStandardTime = "GMTStandardTime"
    WEuropeStandardTime = "WEuropeStandardTime"
    ChinaStandardTime = "ChinaStandardTime"
    KoreaStandardTime = "KoreaStandardTime"
    IndiaStandardTime = "IndiaStandardTime"


class ScheduleRecurrence:
    """How often a schedule fires (checked when created, with v1's rules).

    Example:
        >>> ScheduleRecurrence("Week", 1, week_days=["Monday"], time_of_day="09:30").hours
        [9]
    """

    def __init__(self, frequency: str, interval: int, start_time: Any = None,
                 time_zone: str | None = None, hours: list[int] | None = None,
                 minutes: list[int] | None = None, week_days: list[str] | None = None,
                 time_of_day: str | None = None) -> None:
        self._spec = _recurrence.check_spec(
            {"frequency": frequency, "interval": interval, "start_time": start_time,
             "time_zone": time_zone, "hours": hours, "minutes": minutes,
             "week_days": week_days, "time_of_day": time_of_day})

    frequency = property(lambda self: self._spec["frequency"], doc="Minute, Hour, Day, Week, Month")
    interval = property(lambda self: self._spec["interval"], doc="Every how many periods.")
    hours = property(lambda self: list(self._spec["hours"]), doc="Hours of the day (Day/Week).")
    minutes = property(lambda self: list(self._spec["minutes"]), doc="Minutes (Day/Week).")
    week_days = property(lambda self: list(self._spec["week_days"]), doc="Days (Week).")
    start_time = property(lambda self: self._spec["start_time"], doc="First possible time.")
    time_zone = property(lambda self: self._spec["time_zone"], doc="Zone of the times.")

    def validate(self) -> None:
        """Check the fields again (they are checked when created).

        Example:
            >>> ScheduleRecurrence("Day", 1).validate()
        """
        _recurrence.check_spec(self._spec)

    def next_run_time(self, after: datetime | None = None) -> datetime | None:
        """The next time (UTC) this recurrence fires after ``after`` (default: now).

        Example:
            >>> ScheduleRecurrence("Minute", 5).next_run_time() is not None
            True
        """
        after = after or datetime.now(timezone.utc)
        return _recurrence.next_due(self._spec, after, time.time())

    def to_spec(self) -> dict[str, Any]:
        """The recurrence as a JSON object.

        Example:
            >>> ScheduleRecurrence("Day", 1).to_spec()["frequency"]
            'Day'
        """
        return dict(self._spec)

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> ScheduleRecurrence:
        """The recurrence stored as ``spec``.

        Example:
            >>> ScheduleRecurrence.from_spec({"frequency": "Day", "interval": 1}).interval
            1
        """
        obj = cls.__new__(cls)
        obj._spec = _recurrence.check_spec(spec)
        return obj

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self._spec.items()
                        if v and k not in ("frequency", "interval"))
        return f"ScheduleRecurrence(frequency={self.frequency!r}, interval={self.interval}{extra})"


@dataclass(frozen=True)
class Firing:
    """A schedule occurrence that is due: when it was meant for, and why.

    Example:
        >>> Firing("s", 0.0, "recurrence").reason
        'recurrence'
    """

    schedule_id: str
    due: float
    reason: str


class Schedule:
    """A schedule of a published pipeline.

    Example:
        >>> Schedule.list(ws)  # doctest: +SKIP
        [Schedule(Name: nightly, Status: Active, ...)]
    """

    def __init__(self, workspace: Any, record: ScheduleRecord) -> None:
        self._workspace = workspace
        self._record = record

    # -- create / find ----------------------------------------------------------------------
    @staticmethod
    def create(workspace: Any, name: str, pipeline_id: str, experiment_name: str,
               recurrence: ScheduleRecurrence | None = None, description: str | None = None,
               pipeline_parameters: dict[str, Any] | None = None,
               wait_for_provisioning: bool = False, wait_timeout: int = 3600,
               datastore: Any = None, polling_interval: float = 5,
               data_path_parameter_name: str | None = None,
               continue_on_step_failure: bool | None = None,
               path_on_datastore: str | None = None, **_: Any) -> Schedule:
        """Create an active schedule: a ``recurrence``, or a ``datastore`` to watch.

        ``polling_interval`` is in minutes (v1), fractions allowed.

        Example:
            >>> Schedule.create(ws, "nightly", published.id, "pipelines",
            ...                 recurrence=ScheduleRecurrence("Day", 1))  # doctest: +SKIP
        """
        from ..._paths import check_name
        from ...data._backends import clean_path

        if not isinstance(name, str) or not name.strip():
            raise UserErrorException("Schedule.create: name を指定してください。")
        check_name(experiment_name, "experiment")
        store = Store.open(workspace.path)
        pipeline = store.pipelines.get(pipeline_id) if isinstance(pipeline_id, str) else None
        if pipeline is None or not pipeline.published:
            raise UserErrorException(
                f"Schedule.create: pipeline_id {pipeline_id!r} の公開パイプラインがありません。"
                "pipeline.publish(...) の戻り値の .id を渡してください。"
            )
        if (recurrence is None) == (datastore is None):
            raise UserErrorException("Schedule.create: recurrence= か datastore= のどちらか一方を"
                                     "指定してください。")
        spec: dict[str, Any] = {"pipeline_parameters": dict(pipeline_parameters or {}),
                                "continue_on_step_failure": continue_on_step_failure}
        state: dict[str, Any] = {}
        if recurrence is not None:
            if not isinstance(recurrence, ScheduleRecurrence):
                raise UserErrorException("recurrence には ScheduleRecurrence(...) を渡してください。")
            spec["recurrence"] = recurrence.to_spec()
        else:
            if not hasattr(datastore, "backend"):
                raise UserErrorException("datastore には Datastore を渡してください。")
            if isinstance(polling_interval, bool) or not isinstance(polling_interval, (int, float)) \
                    or polling_interval <= 0:
                raise UserErrorException("polling_interval は 0 より大きい数 (分) にしてください。")
            spec.update({"datastore": datastore.name, "polling_interval": float(polling_interval),
                         "path_on_datastore": clean_path(path_on_datastore),
                         "data_path_parameter_name": data_path_parameter_name})
            listing = {f.path: [f.size, f.mtime_ns]
                       for f in datastore.backend.list(spec["path_on_datastore"])}
            state = {"listing": listing, "last_poll": time.time()}
        record = store.schedules.create(name=name, pipeline_id=pipeline_id,
                                        experiment_name=experiment_name, spec=spec,
                                        description=description, state=state)
        return Schedule(workspace, record)


    @staticmethod
    def get(workspace: Any, id: str) -> Schedule:
        """The schedule with id ``id``.

        Example:
            >>> Schedule.get(ws, schedule.id).name  # doctest: +SKIP
            'nightly'
        """
        record = Store.open(workspace.path).schedules.get(id)
        if record is None:
            raise UserErrorException(f"スケジュール {id!r} はワークスペース {workspace.name!r} に"
                                     "ありません。Schedule.list(ws) で確認してください。")
        return Schedule(workspace, record)

    @staticmethod
    def list(workspace: Any, active_only: bool = True,
             pipeline_id: str | None = None) -> list[Schedule]:
        """The workspace's schedules (only active ones by default), oldest first.

        Example:
            >>> [s.name for s in Schedule.list(ws)]  # doctest: +SKIP
            ['nightly']
        """
        records = Store.open(workspace.path).schedules.list(
            status="Active" if active_only else None, pipeline_id=pipeline_id)
        return [Schedule(workspace, r) for r in records]

    @staticmethod
    def get_schedules_for_pipeline_id(workspace: Any, pipeline_id: str) -> list[Schedule]:
        """Every schedule of one published pipeline.

        Example:
            >>> Schedule.get_schedules_for_pipeline_id(ws, published.id)  # doctest: +SKIP
        """
        return Schedule.list(workspace, active_only=False, pipeline_id=pipeline_id)

    # -- identity --------------------------------------------------------------------------
    id = property(lambda self: self._record.id, doc="The schedule's id.")
    name = property(lambda self: self._record.name, doc="The schedule's name.")
    pipeline_id = property(lambda self: self._record.pipeline_id, doc="The published pipeline.")
    experiment_name = property(lambda self: self._record.experiment_name,
                               doc="The experiment its runs go to.")
    description = property(lambda self: self._record.description, doc="The description.")
    status = property(lambda self: self._record.status, doc="``Active`` or ``Disabled``.")
    workspace = property(lambda self: self._workspace, doc="The workspace it belongs to.")

    @property
    def recurrence(self) -> ScheduleRecurrence | None:
        """The recurrence (``None`` for a datastore trigger)."""
        spec = self._record.spec.get("recurrence")
        return ScheduleRecurrence.from_spec(spec) if spec else None

    @property
    def datastore_name(self) -> str | None:
        """The watched datastore (``None`` for a recurrence)."""
        return self._record.spec.get("datastore")

    @property
    def path_on_datastore(self) -> str | None:
        """The watched path in the datastore."""
        return self._record.spec.get("path_on_datastore")

    @property
    def polling_interval(self) -> float | None:
        """Minutes between two looks at the datastore."""
        return self._record.spec.get("polling_interval")

    @property
    def pipeline_parameters(self) -> dict[str, Any]:
        """Parameters of every run this schedule starts."""
        return dict(self._record.spec.get("pipeline_parameters") or {})

    def __repr__(self) -> str:
        return (f"Schedule(Name: {self.name},\nId: {self.id},\nStatus: {self.status},\n"
                f"Pipeline Id: {self.pipeline_id},\nRecurrence Details: "
                f"{self.when()})")

    def when(self) -> str:
        """When it fires, in words (e.g. ``Runs every 1 Day(s) at [9]:[0]``)."""
        rec = self.recurrence
        if rec is not None:
            return f"Runs every {rec.interval} {rec.frequency}(s)" + \
                (f" at {rec.hours}:{rec.minutes}" if rec.hours or rec.minutes else "")
        return (f"Watches {self.datastore_name}/{self.path_on_datastore or ''} every "
                f"{self.polling_interval} minute(s)")

    # -- state -----------------------------------------------------------------------------
    def _refresh(self) -> None:
        record = Store.open(self._workspace.path).schedules.get(self.id)
        if record is not None:
            self._record = record

    def enable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Start firing again. Occurrences while disabled are not made up for.

        Example:
            >>> schedule.enable()  # doctest: +SKIP
        """
        repo = Store.open(self._workspace.path).schedules
        repo.update(self.id, state={"since": time.time()})
        self._record = repo.set_status(self.id, "Active") or self._record

    def disable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Stop firing (the schedule is kept; :meth:`enable` resumes it).

        Example:
            >>> schedule.disable()  # doctest: +SKIP
        """
        self._record = Store.open(self._workspace.path).schedules.set_status(
            self.id, "Disabled") or self._record

    def firings(self) -> list[Any]:
        """Every firing: when it was due, why, and the run it started (amlhandson).

        Example:
            >>> [f.run_id for f in schedule.firings()]  # doctest: +SKIP
        """
        return Store.open(self._workspace.path).schedules.firings(self.id)

    # -- what is due -----------------------------------------------------------------------
    def due(self, now: float | None = None) -> Firing | None:
        """The occurrence due at ``now`` that has not fired yet, or ``None``.

        For a datastore trigger this looks at the datastore when the polling
        interval has passed, and remembers what it saw.

        Example:
            >>> schedule.due()  # doctest: +SKIP
        """
        self._refresh()
        if self.status != "Active":
            return None
        now = time.time() if now is None else now
        state = self._record.state
        since = float(state.get("since", self._record.created))
        spec = self._record.spec
        if spec.get("recurrence"):
            last = _recurrence.last_due(spec["recurrence"], _utc(since), _utc(now),
                                        self._record.created)
            if last is None:
                return None
            return Firing(self.id, last.timestamp(), "recurrence")
        interval = float(spec.get("polling_interval", 5)) * 60
        last_poll = float(state.get("last_poll", self._record.created))
        if now - last_poll < interval:
            return None
        listing = self._listing()
        previous = state.get("listing", {})
        Store.open(self._workspace.path).schedules.update(
            self.id, state={"last_poll": now, "listing": listing})
        changed = sorted(p for p in listing if previous.get(p) != listing[p])
        if not changed:
            return None
        more = f" ほか {len(changed) - 3} 個" if len(changed) > 3 else ""
        return Firing(self.id, now, "datastore: " + ", ".join(changed[:3]) + more)

    def _listing(self) -> dict[str, list[int]]:
        from ...core.datastore import Datastore

        ds = Datastore(self._workspace, self.datastore_name)
        return {f.path: [f.size, f.mtime_ns] for f in ds.backend.list(self.path_on_datastore or "")}

    def fire(self, firing: Firing, submit: Callable[[Schedule], Any]) -> Any:
        """Claim ``firing`` and start its run with ``submit(schedule)``; ``None`` if already claimed.

        The run's id is recorded with the firing; an error is recorded and raised.

        Example:
            >>> schedule.fire(schedule.due(), submit)  # doctest: +SKIP
        """
        repo = Store.open(self._workspace.path).schedules
        claimed = repo.claim_firing(self.id, firing.due, firing.reason)
        if claimed is None:
            return None
        if self._record.spec.get("recurrence"):
            repo.update(self.id, state={"since": firing.due})
        try:
            run = submit(self)
        except Exception as exc:
            repo.finish_firing(claimed.pk, error=f"{type(exc).__name__}: {exc}")
            raise
        repo.finish_firing(claimed.pk, run_id=getattr(run, "id", None))
        return run


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)
