"""What a workshop does to a workspace: many writers, killed kernels, re-run cells."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import python_env

from amlhandson import Experiment, Run, Workspace
from amlhandson._store import CORE, Store
from amlhandson.exceptions import StoreError

WRITER = textwrap.dedent("""
    import sys
    from amlhandson import Workspace, Experiment, Run
    ws = Workspace.get("docs-ws", resource_group="docs-aml")
    exp = Experiment(ws, "crowd")
    shared = Run(exp, sys.argv[2])
    with exp.start_logging(name="writer-" + sys.argv[1]) as run:
        for i in range(2000):
            run.log("i", i)
            shared.log("shared", i)
            if i % 500 == 0:
                run.log_row("rows", i=i)
                shared.tag("writer-" + sys.argv[1], str(i))
""")


def test_ten_concurrent_writers(ws: Workspace, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    exp = Experiment(ws, "crowd")
    shared = exp.start_logging(name="shared")
    env = python_env(Path(os.environ["AMLHANDSON_HOME"]))
    procs = [subprocess.Popen([sys.executable, str(script), str(n), shared.id], env=env,
                              stderr=subprocess.PIPE, text=True) for n in range(10)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    shared.complete()
    runs = [r for r in exp.get_runs() if r.name.startswith("writer-")]
    assert len(runs) == 10
    assert sorted(r.number for r in exp.get_runs()) == list(range(1, 12))
    for run in runs:
        assert run.get_status() == "Completed"
        metrics = run.get_metrics()
        assert metrics["i"] == list(range(2000))
        assert metrics["rows"] == {"i": [0, 500, 1000, 1500]}
    values = shared.get_metrics()["shared"]
    assert len(values) == 20_000 and sorted(values) == sorted(list(range(2000)) * 10)
    assert len(shared.get_tags()) == 10


KILLED = textwrap.dedent("""
    import time
    from amlhandson import Workspace, Experiment
    ws = Workspace.get("docs-ws", resource_group="docs-aml")
    run = Experiment(ws, "killed").start_logging()
    print(run.id, flush=True)
    while True:
        run.log("t", time.time())
        time.sleep(0.001)
""")


def test_sigkilled_writer_keeps_its_data_and_stops_running(ws: Workspace,
                                                            tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    env = python_env(Path(os.environ["AMLHANDSON_HOME"]))
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                            text=True)
    run_id = proc.stdout.readline().strip()
    run = Run(Experiment(ws, "killed"), run_id)
    time.sleep(2.0)
    assert run.get_status() == "Running"
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.time() + 5
    while run.get_status() == "Running" and time.time() < deadline:
        time.sleep(0.1)
    assert run.get_status() == "Failed"
    assert "pid" in run.get_details()["error"]["error"]["message"]
    values = run.get_metrics()["t"]
    assert values == sorted(values)
    assert values[-1] >= killed_at - 1.0, "lost more than the last second of metrics"
    assert len(values) > 500


def test_rerunning_a_cell_a_hundred_times_leaves_one_open_run(ws: Workspace) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.user_ns["ws"] = ws
        cell = ("from amlhandson import Experiment\n"
                "run = Experiment(ws, 'rerun').start_logging()\nrun.log('x', 1)\n")
        for _ in range(100):
            result = shell.run_cell(cell, store_history=True)
            assert result.success
        runs = list(Experiment(ws, "rerun").get_runs())
        assert len(runs) == 100
        statuses = [r.get_status() for r in runs]
        assert statuses[0] == "Running" and set(statuses[1:]) == {"Canceled"}
        assert all(r.get_metrics() == {"x": 1} for r in runs)
        # a loop in one execution creates several runs: none is closed by its siblings
        loop = ("runs = [Experiment(ws, 'loop').start_logging() for _ in range(3)]\n")
        assert shell.run_cell(loop, store_history=True).success
        assert [r.get_status() for r in Experiment(ws, "loop").get_runs()] == ["Running"] * 3
    finally:
        InteractiveShell.clear_instance()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    store = Store(folder)
    store.versions()
    store.close()
    conn = sqlite3.connect(folder / "workspace.db")
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(CORE.version + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="pip install -U"):
        Store(folder).versions()


def test_corrupt_database_gives_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "workspace.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="workspace repair"):
        Store(folder).versions()


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_gets_its_own_connection(ws: Workspace) -> None:
    exp = Experiment(ws, "fork")
    run = exp.start_logging()
    run.log("parent", 1)
    pid = os.fork()
    if pid == 0:  # child
        try:
            child_run = Experiment(ws, "fork").start_logging()
            child_run.log("child", 2)
            child_run.complete()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    run.complete()
    assert run.get_metrics() == {"parent": 1}
    child = next(r for r in exp.get_runs() if r.id != run.id)
    assert child.get_metrics() == {"child": 2} and child.get_status() == "Completed"


def test_a_failed_flush_keeps_the_metrics_for_the_next_one(ws: Workspace,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    run = Experiment(ws, "flaky").start_logging()
    store = Store.open(ws.path)
    store.queue.stop()  # stop the background thread so only this test flushes
    run.log("a", 1)
    run.log("a", 2)
    original = store.metrics.write
    calls = {"n": 0}

    def failing_once(items):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 1:
            raise StoreError("disk full (simulated)")
        return original(items)

    monkeypatch.setattr(store.queue, "sink", failing_once)
    with pytest.raises(StoreError, match="simulated"):
        store.flush()
    store.queue.start()
    run.complete()
    assert run.get_metrics() == {"a": [1, 2]}
