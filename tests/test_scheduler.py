"""The scheduler (``amlhandson schedules run``) firing real pipeline runs, tagged with their schedule:
a recurrence, a datastore trigger, a disabled pipeline, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from amlhandson.core.run import Run
from amlhandson.pipeline.core import Schedule, ScheduleRecurrence, _detached
from amlhandson.pipeline.core._scheduler import TAG_ID, TAG_NAME, TAG_REASON, fire_due
from tests.test_published_pipeline import make_pipeline, project  # noqa: F401 - a fixture


@pytest.fixture
def published(ws, project):  # noqa: F811
    return make_pipeline(ws, project).publish(name="train-pipeline", version="1")


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "amlhandson.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


def wait_done(ws, run_id: str) -> Run:
    run = Run.find(ws, run_id)
    assert run.wait_for_completion(show_output=False, timeout_seconds=120) == "Completed"
    return run


def test_a_recurrence_fires_a_tagged_run(ws, published) -> None:
    start = datetime.now(timezone.utc) + timedelta(seconds=2)
    schedule = Schedule.create(ws, "every-minute", published.id, "scheduled",
                               recurrence=ScheduleRecurrence("Minute", 1, start_time=start),
                               pipeline_parameters={"k": 7})
    out = cli("schedules", "run", "--interval", "0.5", "--max-firings", "1", "--timeout", "90")
    assert out.returncode == 0, out.stderr
    assert "every-minute: パイプライン Run" in out.stdout and "(recurrence)" in out.stdout
    firings = schedule.firings()
    assert len(firings) == 1 and firings[0].run_id
    assert abs(firings[0].due - start.timestamp()) < 1
    run = wait_done(ws, firings[0].run_id)
    assert run.experiment.name == "scheduled"
    assert run.get_tags() == {TAG_ID: schedule.id, TAG_NAME: "every-minute",
                              TAG_REASON: "recurrence"}
    assert run.find_step_run("train")[0].get_metrics() == {"score": 28}
    # the occurrence is taken: a second scheduler right after fires nothing
    again = cli("schedules", "run", "--once")
    assert again.returncode == 0 and "パイプライン Run" not in again.stdout
    assert len(schedule.firings()) == 1


def test_a_datastore_trigger_fires_when_files_arrive(ws, published, tmp_path) -> None:
    ds = ws.get_default_datastore()
    (tmp_path / "in").mkdir()
    schedule = Schedule.create(ws, "on-data", published.id, "scheduled", datastore=ds,
                               path_on_datastore="incoming", polling_interval=0.005)
    time.sleep(0.5)
    assert fire_due(ws) == []
    (tmp_path / "in" / "new.csv").write_text("1,2")
    ds.upload(str(tmp_path / "in"), target_path="incoming", show_progress=False)
    time.sleep(0.5)
    fired = fire_due(ws)
    assert [(f.schedule, f.error) for f in fired] == [("on-data", None)]
    assert "incoming/new.csv" in fired[0].reason
    run = wait_done(ws, fired[0].run_id)
    assert run.get_tags()[TAG_NAME] == "on-data"
    assert schedule.firings()[0].run_id == run.id


def test_a_disabled_pipeline_is_recorded_and_the_scheduler_goes_on(ws, published) -> None:
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    schedule = Schedule.create(ws, "broken", published.id, "scheduled",
                               recurrence=ScheduleRecurrence("Minute", 1, start_time=past))
    published.disable()
    fired = fire_due(ws, now=time.time() + 61)
    assert len(fired) == 1 and fired[0].run_id is None and "Disabled" in fired[0].error
    assert "Disabled" in schedule.firings()[0].error
    assert fire_due(ws, now=time.time() + 62) == []  # that occurrence is done


def test_ctrl_c_stops_the_scheduler_not_its_runs(ws, published) -> None:
    start = datetime.now(timezone.utc) + timedelta(seconds=1)
    schedule = Schedule.create(ws, "slow", published.id, "scheduled",
                               recurrence=ScheduleRecurrence("Minute", 1, start_time=start),
                               pipeline_parameters={"sleep": 3.0})
    proc = subprocess.Popen([sys.executable, "-m", "amlhandson.cli", "schedules", "run",
                             "--interval", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not schedule.firings():
            time.sleep(0.05)
        assert schedule.firings(), "the schedule did not fire"  # claimed; the run is starting
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "スケジューラーを終了しました" in err
    run = wait_done(ws, schedule.firings()[0].run_id)  # the run finished without the scheduler
    assert run.find_step_run("train")[0].get_status() == "Completed"
    _detached.reap()
    assert Path(ws.path).is_dir()
