"""Process identity (pid + start stamp) survives a step of the system clock.

A laptop that joins the wifi corrects its clock (NTP); psutil's ``create_time()``
then moves by the size of the correction for every process, so comparing it with
the start time recorded earlier took every live kernel for a dead one and marked
its runs Failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from amlhandson import Run, _process
from amlhandson.core.run import RunStatus

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc stamps")


def _clock_stepped(monkeypatch, seconds: float) -> None:
    """Make psutil see a system clock that jumped by ``seconds``."""
    real = psutil.Process.create_time
    monkeypatch.setattr(psutil.Process, "create_time", lambda self: real(self) + seconds)


@linux_only
def test_a_live_process_stays_itself_after_the_clock_steps(monkeypatch) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        stamp = _process.started_at(child.pid)
        _clock_stepped(monkeypatch, 120.0)
        assert _process.is_alive(child.pid, stamp)
        assert not _process.is_alive(child.pid, stamp - 5)  # another start: another process
    finally:
        child.kill()
        child.wait()
    assert not _process.is_alive(child.pid, stamp)


def test_wall_clock_stamps_of_older_releases_are_still_understood() -> None:
    me = psutil.Process(os.getpid()).create_time()
    assert _process.is_alive(os.getpid(), me)
    assert not _process.is_alive(os.getpid(), me - 3600)


@linux_only
def test_a_run_of_another_live_process_is_not_failed_by_a_clock_step(ws, monkeypatch,
                                                                    tmp_path) -> None:
    script = tmp_path / "owner.py"
    script.write_text(
        "import sys, time\n"
        "from amlhandson import Workspace, Experiment\n"
        "ws = Workspace.get(sys.argv[1], resource_group=sys.argv[2])\n"
        "run = Experiment(ws, 'clock').start_logging()\n"
        "print(run.id, flush=True)\n"
        "time.sleep(60)\n")
    owner = subprocess.Popen([sys.executable, str(script), ws.name, ws.resource_group],
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        run_id = owner.stdout.readline().strip()
        _clock_stepped(monkeypatch, -90.0)
        run = Run.find(ws, run_id)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            assert run.get_status() == RunStatus.RUNNING
            time.sleep(0.5)
    finally:
        owner.kill()
        owner.wait()
