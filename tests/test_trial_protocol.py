"""The trial protocol end to end: script subprocess -> pipe -> relay -> (Dask) -> receiver.

Real processes only: a script run by ``_host``, a real ``LocalCluster``, and a
separately started ``dask scheduler`` with two ``dask worker`` processes on
127.0.0.1 whose working folder is not the test's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from amlhandson.core.compute import _cluster, _trial
from amlhandson.core.compute._launch import finish, launch, wait_started
from amlhandson.core.compute._receiver import Receiver
from amlhandson.core.compute._snapshot import make_snapshot

psutil = pytest.importorskip("psutil")
pytest.importorskip("distributed")

SCRIPT = textwrap.dedent("""
    import argparse, os, sys, time
    from amlhandson.core import Run
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--fail", action="store_true")
    a = p.parse_args()
    run = Run.get_context()
    print("cwd", os.getcwd(), flush=True)
    run.tag("where", "script")
    for i in range(a.n):
        run.log("loss", 1.0 / (i + 1))
        if a.sleep:
            time.sleep(a.sleep)
    run.log_list("fib", [1, 1, 2])
    run.log_row("tbl", x=1, y="a")
    with run.child_run("child") as c:
        c.log("inner", 5)
    os.makedirs("outputs", exist_ok=True)
    open("outputs/model.txt", "w").write("weights")
    run.upload_file("extra/big.bin", __file__)
    print("done", file=sys.stderr)
    if a.fail:
        raise ValueError("bad value in training")
""")


class ListSink:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.others: list[str] = []
        self.lock = threading.Lock()

    def apply(self, messages: list[dict[str, Any]]) -> None:
        with self.lock:
            self.messages.extend(messages)

    def on_other_attempt(self, attempt: str, first: Any) -> None:
        self.others.append(attempt)

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m.get("k") == kind]

    def losses(self) -> list[float]:
        return [m["v"] for m in self.of("m") if m["n"] == "loss"]


def _spec(folder: Path, run_id: str, *args: Any) -> dict[str, Any]:
    return {"run_id": run_id, "experiment": "exp", "script": "train.py",
            "arguments": list(args), "snapshot": make_snapshot(folder).data, "packages": None}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text(SCRIPT)
    (folder / ".amlignore").write_text("data/\n")
    (folder / "data").mkdir()
    (folder / "data" / "huge.bin").write_bytes(b"x" * 1000)
    return folder


def _check_complete_trial(sink: ListSink, result: dict[str, Any], n: int) -> None:
    assert result["status"] == "Completed", result["error"]
    assert sink.losses() == [1.0 / (i + 1) for i in range(n)]
    assert [m["v"] for m in sink.of("m") if m["n"] == "fib"] == [[1, 1, 2]]
    child = [m for m in sink.of("child")][0]
    assert child["n"] == "child"
    assert [m["s"] for m in sink.of("status") if m["r"] == child["c"]] == ["Completed"]
    text = "".join(m["x"] for m in sink.of("log"))
    assert "done" in text and "cwd" in text
    files = {m["n"] for m in sink.of("file")}
    assert files == {"extra/big.bin"}
    with zipfile.ZipFile(__import__("io").BytesIO(result["outputs"])) as zf:
        assert zf.read("model.txt") == b"weights"
    spool = _trial.decode_spool(result["spool"])
    assert len(spool) == result["last_seq"] == len(sink.messages)


# -- local: the runner in this process ----------------------------------------------------------
def test_local_trial_delivers_everything_in_order(source: Path, tmp_path: Path) -> None:
    sink = ListSink()
    handle = launch(None, _spec(source, "run-local-1", "--n", "500"), sink)
    result = handle.wait(60)
    finish(handle, result)
    _check_complete_trial(sink, result, 500)
    cwd = [m["x"] for m in sink.of("log") if m["x"].startswith("cwd")][0].split()[1]
    assert Path(cwd) != Path.cwd() and not Path(cwd).exists()  # a fresh folder, removed after
    assert sink.of("start")[0]["worker"] == "local"


def test_local_trial_failure_carries_the_traceback(source: Path) -> None:
    sink = ListSink()
    handle = launch(None, _spec(source, "run-local-2", "--n", "3", "--fail"), sink)
    result = handle.wait(60)
    finish(handle, result)
    assert result["status"] == "Failed" and result["rc"] == 1
    err = sink.of("err")[0]
    assert err["type"] == "ValueError" and "bad value in training" in err["traceback"]
    assert 'train.py", line' in err["traceback"] and "runpy" not in err["traceback"]
    assert len(sink.losses()) == 3


def test_missing_packages_fail_before_the_script_starts(source: Path) -> None:
    sink = ListSink()
    spec = _spec(source, "run-local-3")
    spec["packages"] = {"conda": ["python=3.11"], "pip": ["no-such-package-abc", "numpy>=1"]}
    handle = launch(None, spec, sink)
    result = handle.wait(60)
    finish(handle, result)
    assert result["status"] == "Failed" and result["error"]["code"] == "MissingPackages"
    assert "no-such-package-abc" in result["error"]["message"]
    assert "numpy" not in result["error"]["message"].split("パッケージがありません")[1].split("。")[0]
    assert not sink.of("m") and "pip install no-such-package-abc" in sink.of("log")[0]["x"]


def test_kill_stops_the_local_script_at_once(source: Path) -> None:
    sink = ListSink()
    handle = launch(None, _spec(source, "run-local-4", "--n", "100000", "--sleep", "0.01"), sink)
    deadline = time.monotonic() + 20
    while len(sink.losses()) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = sink.of("running")[0]["pid"]
    t0 = time.monotonic()
    assert handle.kill("BanditPolicy: test")
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() - t0 < 1.0
        time.sleep(0.01)
    result = handle.wait(30)
    finish(handle, result)
    assert result["status"] == "Canceled" and result["error"]["message"] == "BanditPolicy: test"
    assert 5 <= len(sink.losses()) < 100000


@pytest.mark.parametrize("slow", ["missing_packages", "_popen"])
def test_a_kill_while_preparing_is_not_lost(source: Path, slow: str, monkeypatch) -> None:
    """Killed before its process exists (unpacking, waiting for a warm launcher): never runs on."""
    original = getattr(_trial, slow)
    started = threading.Event()

    def slowly(*args: Any, **kwargs: Any) -> Any:
        started.set()
        time.sleep(1.0)
        return original(*args, **kwargs)

    monkeypatch.setattr(_trial, slow, slowly)
    sink = ListSink()
    handle = launch(None, _spec(source, f"run-prep-{slow}", "--n", "100000", "--sleep", "0.01"),
                    sink)
    assert started.wait(20)
    assert handle.kill("MedianStoppingPolicy: test")  # the trial is known, though not started
    result = handle.wait(30)
    finish(handle, result)
    assert result["status"] == "Canceled" and result["error"]["message"] == \
        "MedianStoppingPolicy: test"
    assert len(sink.losses()) < 100000
    if slow == "missing_packages":
        assert not sink.of("running")  # the script never started
    assert _trial.running_trials() == []


# -- a real LocalCluster -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_cluster():
    cluster = _cluster.LocalDaskCluster(max_nodes=2, min_nodes=0, idle_seconds=600)
    yield cluster
    cluster.close()


def test_two_trials_on_a_local_cluster(source: Path, local_cluster) -> None:
    sinks = [ListSink(), ListSink()]
    handles = [launch(local_cluster, _spec(source, f"run-lc-{i}", "--n", "2000",
                                           "--sleep", "0.0005"), sinks[i]) for i in range(2)]
    results = [h.wait(120) for h in handles]
    for h, r in zip(handles, results):
        finish(h, r)
    for sink, result in zip(sinks, results):
        _check_complete_trial(sink, result, 2000)
    assert {r["worker"] for r in results} <= set(local_cluster.workers())


def test_kill_on_a_local_cluster_worker(source: Path, local_cluster) -> None:
    sink = ListSink()
    handle = launch(local_cluster, _spec(source, "run-lc-kill", "--n", "100000", "--sleep",
                                         "0.01"), sink)
    assert wait_started(handle, 60)
    deadline = time.monotonic() + 30
    while len(sink.losses()) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = sink.of("running")[0]["pid"]
    t0 = time.monotonic()
    assert handle.kill("TruncationSelectionPolicy: test")
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert time.monotonic() - t0 < 1.0
    result = handle.wait(30)
    finish(handle, result)
    assert result["status"] == "Canceled"


def test_worker_killed_mid_run_fails_the_trial_and_keeps_early_metrics(source: Path, tmp_path: Path,
                                                                      monkeypatch) -> None:
    temp = tmp_path / "workers-tmp"  # a killed worker cannot remove its trial folder
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    cluster = _cluster.LocalDaskCluster(max_nodes=2, idle_seconds=600)
    try:
        sink = ListSink()
        handle = launch(cluster, _spec(source, "run-lc-dead", "--n", "100000", "--sleep",
                                       "0.002"), sink)
        assert wait_started(handle, 60)
        deadline = time.monotonic() + 30
        while len(sink.losses()) < 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker_pid = sink.of("start")[0]["pid"]
        script_pid = sink.of("running")[0]["pid"]
        time.sleep(1.0)
        seen_before = len(sink.losses())
        os.kill(worker_pid, signal.SIGKILL)
        result = handle.wait(60)
        finish(handle, result)
        assert result["status"] == "Failed" and result["error"]["code"] == "KilledWorker"
        assert len(sink.losses()) >= seen_before  # everything sent up to 1 s before is kept
        assert sink.others == []  # never re-run into the same run
        deadline = time.monotonic() + 5  # the orphaned script notices and exits
        while psutil.pid_exists(script_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not psutil.pid_exists(script_pid) or \
            psutil.Process(script_pid).status() == psutil.STATUS_ZOMBIE
    finally:
        cluster.close()


# -- a separately started scheduler and two workers ---------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def external_cluster(tmp_path_factory):
    dask = shutil.which("dask", path=os.path.dirname(sys.executable))
    if dask is None:
        pytest.skip("the dask command is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    home = tmp_path_factory.mktemp("dask-side")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], cwd=home, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    for i in range(2):
        wdir = home / f"worker{i}"
        wdir.mkdir()
        procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1",
                                       "--nworkers", "1", "--no-dashboard", "--host",
                                       "127.0.0.1", "--local-directory", str(wdir)],
                                      cwd=wdir, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    holder = _cluster.AttachedDaskCluster(address)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = holder.client()
                client.wait_for_workers(2, timeout=60)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield holder
    finally:
        holder.close()
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def test_two_trials_on_an_attached_scheduler(source: Path, external_cluster) -> None:
    sinks = [ListSink(), ListSink()]
    handles = [launch(external_cluster, _spec(source, f"run-ext-{i}", "--n", "3000", "--sleep",
                                              "0.0005"), sinks[i]) for i in range(2)]
    results = [h.wait(120) for h in handles]
    for h, r in zip(handles, results):
        finish(h, r)
    for sink, result in zip(sinks, results):
        _check_complete_trial(sink, result, 3000)
        cwd = [m["x"] for m in sink.of("log") if m["x"].startswith("cwd")][0].split()[1]
        assert not cwd.startswith(str(Path.cwd()))
    assert len({r["worker"] for r in results}) == 2  # one trial on each worker


def test_kill_on_an_attached_worker(source: Path, external_cluster) -> None:
    sink = ListSink()
    handle = launch(external_cluster, _spec(source, "run-ext-kill", "--n", "100000", "--sleep",
                                            "0.01"), sink)
    assert wait_started(handle, 60), (sink.messages[:3], handle.wait(1))
    deadline = time.monotonic() + 30
    while len(sink.losses()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert handle.kill("MedianStoppingPolicy: test")
    result = handle.wait(30)
    finish(handle, result)
    assert result["status"] == "Canceled" and result["error"]["message"] == "MedianStoppingPolicy: test"


# -- the receiver's ordering rules ---------------------------------------------------------------
def _lines(*values: int) -> list[str]:
    return [json.dumps({"v": v}) for v in values]


class _FakeClient:
    def __init__(self) -> None:
        self.topics: list[str] = []

    def subscribe_topic(self, topic: str, handler: Any) -> None:
        self.topics.append(topic)


def test_receiver_subscribes_each_new_client_even_when_its_id_is_reused() -> None:
    """A client made after another was dropped often gets the same ``id()``; it must subscribe too
    (else no live message arrives: a trial's start is never seen, metrics only come at its end)."""
    rx = Receiver()
    ids = set()
    for _ in range(20):
        client = _FakeClient()
        rx.attach(client, "t")
        rx.attach(client, "t")  # once per client
        assert client.topics == ["t"]
        ids.add(id(client))
        del client
    assert len(ids) < 20  # CPython did reuse an id: the case above was exercised


def test_receiver_skips_duplicates_holds_gaps_and_fills_them_from_the_spool() -> None:
    rx, sink = Receiver(), ListSink()
    rx.watch("r", sink)
    rx.put({"run": "r", "attempt": "a", "seq": 1, "lines": _lines(1, 2)})
    rx.put({"run": "r", "attempt": "a", "seq": 5, "lines": _lines(5, 6)})  # 3-4 lost
    rx.put({"run": "r", "attempt": "a", "seq": 1, "lines": _lines(1)})  # a duplicate
    rx.put({"run": "r", "attempt": "b", "seq": 1, "lines": _lines(100)})  # a re-run elsewhere
    rx.sync()
    assert [m["v"] for m in sink.messages] == [1, 2]
    assert sink.others == ["b"]
    rx.finish("r", "a", 7, _lines(1, 2, 3, 4, 5, 6, 7))
    assert [m["v"] for m in sink.messages] == [1, 2, 3, 4, 5, 6, 7]
    rx.put({"run": "r", "attempt": "a", "seq": 8, "lines": _lines(8)})  # after the end: ignored
    rx.sync()
    assert len(sink.messages) == 7


def test_receiver_applies_a_held_batch_once_the_gap_closes() -> None:
    rx, sink = Receiver(), ListSink()
    rx.watch("r", sink)
    rx.put({"run": "r", "attempt": "a", "seq": 3, "lines": _lines(3, 4)})
    rx.put({"run": "r", "attempt": "a", "seq": 1, "lines": _lines(1, 2)})
    rx.put({"run": "r", "attempt": "a", "seq": 2, "lines": ["not json", *_lines(3)]})
    rx.sync()
    assert [m.get("v") for m in sink.messages] == [1, 2, 3, 4]


def test_receiver_keeps_going_after_a_sink_error() -> None:
    class Broken(ListSink):
        def apply(self, messages):
            raise RuntimeError("disk full")

    rx, sink = Receiver(), ListSink()
    rx.watch("bad", Broken())
    rx.watch("good", sink)
    rx.put({"run": "bad", "attempt": "a", "seq": 1, "lines": _lines(1)})
    rx.put({"run": "good", "attempt": "a", "seq": 1, "lines": _lines(2)})
    rx.sync()
    assert [m["v"] for m in sink.messages] == [2] and len(rx.errors) == 1
