"""Schedules: recurrence rules, time zones, missed occurrences, datastore triggers, claimed firings."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from amlhandson._store import Store
from amlhandson.exceptions import UserErrorException
from amlhandson.pipeline.core import Schedule, ScheduleRecurrence, TimeZone
from amlhandson.pipeline.core._recurrence import last_due, next_due


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def published(ws) -> str:
    return Store.open(ws.path).pipelines.create(graph={"steps": []}, name="p",
                                                published=True).id


@pytest.mark.parametrize("kwargs,message", [
    ({"frequency": "Second", "interval": 1}, "frequency"),
    ({"frequency": "Day", "interval": 0}, "interval"),
    ({"frequency": "Hour", "interval": 1, "minutes": [5]}, "'Day' か 'Week'"),
    ({"frequency": "Day", "interval": 1, "week_days": ["Monday"]}, "week_days"),
    ({"frequency": "Week", "interval": 1, "week_days": ["Funday"]}, "Funday"),
    ({"frequency": "Day", "interval": 1, "hours": [24]}, "0〜23"),
    ({"frequency": "Day", "interval": 1, "time_of_day": "9h"}, "HH:MM"),
    ({"frequency": "Day", "interval": 1, "time_zone": "Mars/Olympus"}, "time_zone"),
    ({"frequency": "Day", "interval": 1, "start_time": "yesterday"}, "start_time"),
])
def test_recurrence_fields_are_checked(kwargs, message) -> None:
    with pytest.raises(UserErrorException, match=message):
        ScheduleRecurrence(**kwargs)


def test_recurrences_follow_the_calendar_in_their_zone() -> None:
    daily = ScheduleRecurrence("Day", 1, hours=[9], minutes=[0], start_time="2026-03-01T00:00",
                               time_zone=TimeZone.TokyoStandardTime).to_spec()
    assert next_due(daily, utc(2026, 3, 1, 1, 0)) == utc(2026, 3, 2, 0, 0)  # 09:00 JST
    weekly = ScheduleRecurrence("Week", 2, week_days=["Monday", "Friday"], time_of_day="18:30",
                                start_time="2026-12-01T00:00").to_spec()  # a Tuesday
    assert next_due(weekly, utc(2026, 12, 1)) == utc(2026, 12, 4, 18, 30)
    monthly = ScheduleRecurrence("Month", 1, start_time="2026-01-31T12:00").to_spec()
    assert next_due(monthly, utc(2026, 1, 31, 13)) == utc(2026, 3, 31, 12)  # no Feb 31
    every5 = ScheduleRecurrence("Minute", 5, start_time="2026-12-01T00:00").to_spec()
    assert last_due(every5, utc(2026, 12, 1, 0, 1), utc(2026, 12, 1, 0, 33)) == \
        utc(2026, 12, 1, 0, 30)  # many missed: fires once, for the latest
    assert last_due(every5, utc(2026, 12, 1, 0, 30), utc(2026, 12, 1, 0, 33)) is None


def test_create_needs_a_published_pipeline_and_one_trigger(ws, published) -> None:
    rec = ScheduleRecurrence("Hour", 1)
    with pytest.raises(UserErrorException, match="公開パイプライン"):
        Schedule.create(ws, "s", "no-such-id", "exp", recurrence=rec)
    draft = Store.open(ws.path).pipelines.create(graph={}, name="d").id
    with pytest.raises(UserErrorException, match="公開パイプライン"):
        Schedule.create(ws, "s", draft, "exp", recurrence=rec)
    with pytest.raises(UserErrorException, match="どちらか一方"):
        Schedule.create(ws, "s", published, "exp")
    with pytest.raises(UserErrorException, match="どちらか一方"):
        Schedule.create(ws, "s", published, "exp", recurrence=rec,
                        datastore=ws.get_default_datastore())
    with pytest.raises(UserErrorException):
        Schedule.create(ws, "s", published, "bad name!", recurrence=rec)


def test_a_recurrence_fires_once_per_occurrence(ws, published) -> None:
    start = datetime.fromtimestamp(time.time() - 3600, timezone.utc).replace(microsecond=0)
    schedule = Schedule.create(ws, "hourly", published, "exp", description="d",
                               recurrence=ScheduleRecurrence("Minute", 10, start_time=start),
                               pipeline_parameters={"k": 5})
    assert [s.name for s in Schedule.list(ws)] == ["hourly"]
    assert schedule.pipeline_parameters == {"k": 5}
    assert schedule.due() is None  # a start time in the past: the next occurrence (v1)
    now = time.time() + 601
    firing = schedule.due(now)
    assert firing is not None and firing.reason == "recurrence"
    started = []
    run = schedule.fire(firing, lambda s: started.append(s.name) or type("R", (), {"id": "r1"})())
    assert run.id == "r1" and started == ["hourly"]
    assert schedule.fire(firing, lambda s: started.append("again")) is None  # claimed already
    assert schedule.due(now) is None  # until the next occurrence
    assert schedule.due(now + 600) is not None
    assert [(f.reason, f.run_id) for f in schedule.firings()] == [("recurrence", "r1")]
    schedule.disable()
    assert schedule.due(time.time() + 3600) is None
    assert Schedule.list(ws) == [] and len(Schedule.list(ws, active_only=False)) == 1
    schedule.enable()
    assert Schedule.get(ws, schedule.id).status == "Active"


def test_a_failed_submission_is_recorded(ws, published) -> None:
    schedule = Schedule.create(ws, "s", published, "exp", recurrence=ScheduleRecurrence(
        "Minute", 1, start_time=datetime.fromtimestamp(time.time() - 120, timezone.utc)))

    def boom(_s):
        raise RuntimeError("endpoint gone")

    with pytest.raises(RuntimeError):
        schedule.fire(schedule.due(time.time() + 61), boom)
    assert "endpoint gone" in schedule.firings()[0].error


def test_a_datastore_trigger_fires_on_new_or_changed_files(ws, published, tmp_path) -> None:
    ds = ws.get_default_datastore()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("1")
    ds.upload(str(tmp_path / "in"), target_path="incoming", show_progress=False)
    schedule = Schedule.create(ws, "on-data", published, "exp", datastore=ds,
                               path_on_datastore="incoming", polling_interval=0.01)
    later = time.time() + 1
    assert schedule.due(later) is None  # nothing changed since creation
    (tmp_path / "in" / "b.csv").write_text("2")
    ds.upload(str(tmp_path / "in"), target_path="incoming", show_progress=False)
    assert schedule.due(later + 0.1) is None  # polling interval not reached
    firing = schedule.due(later + 2)
    assert firing is not None and "incoming/b.csv" in firing.reason
    assert schedule.due(later + 4) is None  # seen
    with pytest.raises(UserErrorException, match="polling_interval"):
        Schedule.create(ws, "x", published, "exp", datastore=ds, polling_interval=0)


def test_two_schedulers_never_fire_the_same_occurrence(ws, published, tmp_path) -> None:
    schedule = Schedule.create(ws, "race", published, "exp", recurrence=ScheduleRecurrence(
        "Minute", 1, start_time=datetime.fromtimestamp(time.time() - 120, timezone.utc)))
    code = textwrap.dedent(f"""
        import sys
        from amlhandson.core import Workspace
        from amlhandson.pipeline.core import Schedule
        ws = Workspace(None, "docs-aml", "docs-ws")
        s = Schedule.get(ws, {schedule.id!r})
        f = s.due(float(sys.argv[2]))
        run = s.fire(f, lambda s: type("R", (), {{"id": sys.argv[1]}})()) if f else None
        print("fired" if run else "skipped")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, f"p{i}", str(time.time() + 61)], stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ)) for i in range(4)]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(outs).count("fired") == 1, outs
    assert len(schedule.firings()) == 1
    assert Path(ws.path).exists()
