"""The warm launcher: trials forked from a process that imported the libraries once, still separate and killable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from amlhandson.core.compute import _trial, _warm
from amlhandson.core.compute._launch import finish, launch
from amlhandson.core.compute._snapshot import make_snapshot

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the warm launcher needs fork")

SCRIPT = textwrap.dedent("""
    import argparse, json, os, sys, time
    import numpy as np
    from amlhandson.core import Run
    p = argparse.ArgumentParser()
    p.add_argument("--sleep", type=float, default=0)
    p.add_argument("--fail", action="store_true")
    a = p.parse_args()
    import joblib  # a file next to the script shadows the pre-imported library, as with python
    print("INFO " + json.dumps({"ppid": os.getppid(), "pid": os.getpid(), "cwd": os.getcwd(),
          "argv": sys.argv[1:], "rand": float(np.random.rand()), "shadow": getattr(joblib, "X", None),
          "env": os.environ.get("TRIAL_VAR"), "pgid": os.getpgid(0), "path0": sys.path[0]}))
    run = Run.get_context()
    for i in range(1000):
        run.log("loss", 1.0 / (i + 1))
        if a.sleep:
            time.sleep(a.sleep)
    if a.fail:
        raise ValueError("broken on purpose")
""")


class Sink:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def apply(self, messages: list[dict[str, Any]]) -> None:
        self.messages.extend(messages)

    def on_other_attempt(self, attempt: str, first: Any) -> None:
        pass

    def info(self) -> dict[str, Any]:
        text = "".join(m["x"] for m in self.messages if m.get("k") == "log")
        line = next(x for x in text.splitlines() if x.startswith("INFO "))
        return json.loads(line[5:])

    def losses(self) -> list[float]:
        return [m["v"] for m in self.messages if m.get("k") == "m" and m["n"] == "loss"]


@pytest.fixture(scope="module")
def launcher_pid():
    """This process's launcher, ready (it is shut down at the end of the module)."""
    assert _warm.prewarm()
    launcher = _warm._current()
    assert launcher is not None and launcher.wait_ready(60)
    yield launcher.proc.pid
    _warm.shutdown()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(SCRIPT)
    (folder / "joblib.py").write_text("X = 42\n")
    return folder


def _run(source: Path, run_id: str, *args: Any, env: dict[str, str] | None = None,
         kill_after: int | None = None) -> tuple[dict[str, Any], Sink]:
    spec = {"run_id": run_id, "experiment": "exp", "script": "train.py", "arguments": list(args),
            "snapshot": make_snapshot(source).data, "packages": None, "env": env or {}}
    sink = Sink()
    handle = launch(None, spec, sink)
    if kill_after is not None:
        deadline = time.monotonic() + 30
        while len(sink.losses()) < kill_after:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        handle.kill("policy: test")
    result = handle.wait(60)
    finish(handle, result)
    return result, sink


def test_trials_are_forked_by_the_launcher_with_their_own_argv_cwd_env(source: Path,
                                                                         launcher_pid: int) -> None:
    infos = []
    for i in range(2):
        result, sink = _run(source, f"warm-{i}", "--sleep", "0", env={"TRIAL_VAR": f"v{i}"})
        assert result["status"] == "Completed", result["error"]
        assert sink.losses() == [1.0 / (n + 1) for n in range(1000)]
        infos.append(sink.info())
    for i, info in enumerate(infos):
        assert info["ppid"] == launcher_pid  # forked, not a fresh interpreter of ours
        assert info["pgid"] == info["pid"]  # its own session: killable as a group
        assert info["argv"] == ["--sleep", "0"]
        assert info["cwd"].endswith("run") and info["path0"] == info["cwd"]
        assert info["env"] == f"v{i}"
        assert info["shadow"] == 42  # the script's joblib.py, not the pre-imported joblib
    assert infos[0]["rand"] != infos[1]["rand"]  # numpy's global state re-seeded per trial


def test_a_failing_warm_trial_reports_its_traceback(source: Path, launcher_pid: int) -> None:
    result, sink = _run(source, "warm-fail", "--fail")
    assert result["status"] == "Failed" and result["rc"] == 1
    assert sink.info()["ppid"] == launcher_pid
    err = [m for m in sink.messages if m.get("k") == "err"][0]
    assert err["type"] == "ValueError" and "broken on purpose" in err["traceback"]


def test_killing_a_warm_trial_stops_its_process_at_once(source: Path, launcher_pid: int) -> None:
    t0 = time.monotonic()
    result, sink = _run(source, "warm-kill", "--sleep", "0.01", kill_after=5)
    pid = sink.info()["pid"]
    assert sink.info()["ppid"] == launcher_pid
    assert result["status"] == "Canceled" and result["error"]["message"] == "policy: test"
    assert result["rc"] == -signal.SIGTERM
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert 5 <= len(sink.losses()) < 1000
    assert time.monotonic() - t0 < 30


def test_an_import_time_variable_starts_the_trial_the_plain_way(source: Path,
                                                                launcher_pid: int) -> None:
    result, sink = _run(source, "warm-omp", env={"OMP_NUM_THREADS": "7"})
    assert result["status"] == "Completed"
    assert sink.info()["ppid"] != launcher_pid  # a fresh interpreter honours OMP_NUM_THREADS


def test_the_launcher_and_its_trials_die_with_the_runner(source: Path, tmp_path: Path) -> None:
    """A runner killed with SIGKILL (a dead Dask worker) leaves no launcher and no trial behind."""
    code = textwrap.dedent(f"""
        import sys, time
        from amlhandson.core.compute import _warm
        from amlhandson.core.compute._launch import launch
        from amlhandson.core.compute._snapshot import make_snapshot
        assert _warm.prewarm() and _warm._current().wait_ready(60)
        print(_warm._current().proc.pid, flush=True)
        class S:
            def apply(self, m):
                for x in m:
                    if x.get("k") == "running":
                        print(x["pid"], flush=True)
            def on_other_attempt(self, *a): pass
        spec = {{"run_id": "orphan", "script": "train.py", "arguments": ["--sleep", "1"],
                 "snapshot": make_snapshot({str(source)!r}).data}}
        launch(None, spec, S())
        time.sleep(600)
    """)
    temp = tmp_path / "tmp"  # the killed runner cannot remove its trial folder: keep it here
    temp.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(temp)})
    try:
        launcher = int(proc.stdout.readline())
        script = int(proc.stdout.readline())
        assert psutil.Process(script).ppid() == launcher
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 5
        while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                  for p in (launcher, script)):
            assert time.monotonic() < deadline, "launcher or trial outlived the runner"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()


def test_a_library_that_starts_threads_is_denied_and_the_launcher_restarts(
        source: Path, tmp_path: Path, monkeypatch) -> None:
    libs = tmp_path / "libs"
    libs.mkdir()
    (libs / "threadlib.py").write_text("import threading, time\n"
                                       "threading.Thread(target=time.sleep, args=(60,), "
                                       "daemon=True).start()\n")
    _warm.shutdown()
    monkeypatch.setenv("AMLHANDSON_WARM_PRELOAD", "threadlib")
    monkeypatch.setenv("PYTHONPATH", str(libs))
    monkeypatch.setattr(_warm, "_deny", [])
    try:
        first = _warm._current()
        assert first is not None and not first.wait_ready(30)  # it refused to fork after that
        assert first.denied == ["threadlib"]
        second = _warm._current()  # started again without threadlib
        assert second is not first and second.wait_ready(60)
        result, sink = _run(source, "warm-after-deny")
        assert result["status"] == "Completed"
        assert sink.info()["ppid"] == second.proc.pid
    finally:
        _warm.shutdown()


def test_a_garbage_request_does_not_stop_the_launcher(launcher_pid: int) -> None:
    launcher = _warm._current()
    assert launcher is not None
    launcher.control.send(b"not json")  # no descriptors, not JSON: ignored
    r, w = os.pipe()
    try:
        assert launcher.spawn({"script": 1}, [w, w]) is None  # a bad request: no child
    finally:
        os.close(r)
        os.close(w)
    assert launcher.alive()


def test_without_fork_or_when_disabled_trials_start_the_plain_way(source: Path, monkeypatch) -> None:
    monkeypatch.setenv("AMLHANDSON_WARM", "0")
    assert not _warm.enabled()
    result, sink = _run(source, "plain")
    assert result["status"] == "Completed"
    assert psutil.Process(sink.info()["ppid"]).pid == os.getpid()
    assert _trial.running_trials() == []


def test_a_changed_process_environment_gets_a_new_launcher(source: Path, monkeypatch) -> None:
    """Starting a Dask LocalCluster sets OMP_NUM_THREADS=1 in this process: keep trials warm."""
    _warm.shutdown()
    first, sink = _run(source, "env-1")
    old = sink.info()["ppid"]
    assert first["status"] == "Completed" and psutil.Process(old).name().startswith("python")
    monkeypatch.setenv("OMP_NUM_THREADS", "1" if os.environ.get("OMP_NUM_THREADS") != "1" else "2")
    try:
        second, sink = _run(source, "env-2")
        new = sink.info()["ppid"]
        assert second["status"] == "Completed"
        assert new != old and new != os.getpid()  # forked by a new launcher, not started plain
        deadline = time.monotonic() + 10  # the old launcher had no trial left: it was closed
        while psutil.pid_exists(old) and psutil.Process(old).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        _warm.shutdown()
