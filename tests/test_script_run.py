"""experiment.submit(ScriptRunConfig / estimator) on 'local', on an AmlCompute and on an attached scheduler."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from amlhandson import Experiment
from amlhandson.core import RunStatus
from amlhandson.core.compute import AmlCompute, ComputeTarget, ComputeTargetException, DaskCompute
from amlhandson.core.script_run import ScriptRun
from amlhandson.core.script_run_config import ScriptRunConfig
from amlhandson.exceptions import ActivityFailedException, SnapshotException
from amlhandson.train.estimator import Estimator
from amlhandson.train.sklearn import SKLearn

pytest.importorskip("distributed")

from tests.test_trial_protocol import external_cluster  # noqa: E402,F401 - a shared fixture

TRAIN = textwrap.dedent("""
    import argparse, os, sys, time
    from amlhandson.core import Run
    p = argparse.ArgumentParser()
    p.add_argument("--k", type=int, default=1)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--fail", action="store_true")
    a = p.parse_args()
    run = Run.get_context()
    print("training k =", a.k)
    for i in range(a.steps):
        run.log("accuracy", 0.5 + i / (10 * a.steps) + a.k / 100)
        time.sleep(a.sleep)
    run.log_list("curve", [0.1, 0.2])
    run.log_table("tbl", {"k": [a.k], "acc": [0.9]})
    run.tag("model", "knn")
    os.makedirs("outputs", exist_ok=True)
    with open("outputs/model.pkl", "wb") as f:
        f.write(b"model-%d" % a.k)
    with run.child_run("fold-1") as c:
        c.log("acc", 0.8)
    print("finished", file=sys.stderr)
    if a.fail:
        1 / 0
""")


@pytest.fixture
def scripts(scratch: Path) -> Path:
    folder = scratch / "scripts"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN)
    (folder / "notes.txt").write_text("ignored")
    (folder / ".amlignore").write_text("*.txt\n")
    return folder


def test_local_script_run_completes_with_metrics_logs_outputs(exp, scripts: Path, capsys) -> None:
    run = exp.submit(ScriptRunConfig(str(scripts), "train.py", arguments=["--k", 3]),
                     tags={"who": "test"})
    assert isinstance(run, ScriptRun) and run.type == "azureml.scriptrun"
    assert run.get_status() in (RunStatus.NOT_STARTED, RunStatus.STARTING, RunStatus.QUEUED,
                                RunStatus.PREPARING, RunStatus.RUNNING, RunStatus.FINALIZING,
                                RunStatus.COMPLETED)
    details = run.wait_for_completion(show_output=True)
    out = capsys.readouterr().out
    assert "training k = 3" in out and "Streaming azureml-logs/70_driver_log.txt" in out
    assert "Execution Summary" in out
    assert details["status"] == "Completed" and details["target"] == "local"
    assert details["runDefinition"]["arguments"] == ["--k", "3"]
    m = run.get_metrics()
    assert m["accuracy"] == pytest.approx([0.53, 0.55, 0.57, 0.59, 0.61])
    assert m["curve"] == [0.1, 0.2] and m["tbl"] == {"k": [3], "acc": [0.9]}
    assert run.get_tags() == {"who": "test", "model": "knn"}
    names = run.get_file_names()
    assert "outputs/model.pkl" in names and "azureml-logs/70_driver_log.txt" in names
    log = (run.local_path / "azureml-logs/70_driver_log.txt").read_text()
    assert "finished" in log
    child = list(run.get_children())[0]
    assert child.get_status() == "Completed" and child.get_metrics() == {"acc": 0.8}
    restored = Path(run.restore_snapshot(path=str(scripts.parent / "restored")))
    assert (restored / "train.py").is_file() and not (restored / "notes.txt").exists()
    again = next(exp.get_runs())
    assert isinstance(again, ScriptRun) and again.id == run.id
    assert not (Path.cwd() / "outputs").exists()  # nothing written in the notebook's folder


def test_failing_script_shows_its_traceback(exp, scripts: Path) -> None:
    run = exp.submit(ScriptRunConfig(str(scripts), "train.py", arguments=["--fail"]))
    with pytest.raises(ActivityFailedException) as info:
        run.wait_for_completion()
    text = str(info.value)
    assert "ZeroDivisionError" in text and "train.py" in text
    assert run.get_status() == "Failed"
    assert run.get_metrics()["accuracy"]  # what it logged before failing is kept
    assert "outputs/model.pkl" in run.get_file_names()


def test_estimators_submit_like_script_run_configs(exp, scripts: Path) -> None:
    est = SKLearn(str(scripts), entry_script="train.py", script_params={"--k": 2})
    run = exp.submit(est)
    assert run.wait_for_completion()["runDefinition"]["arguments"] == ["--k", "2"]
    est = Estimator(str(scripts), entry_script="train.py", pip_packages=["not-a-real-pkg-xyz"])
    run = exp.submit(est)
    with pytest.raises(ActivityFailedException, match="not-a-real-pkg-xyz"):
        run.wait_for_completion()
    assert run.get_metrics() == {}


def test_cancel_kills_the_running_script(exp, scripts: Path) -> None:
    run = exp.submit(ScriptRunConfig(str(scripts), "train.py",
                                     arguments=["--steps", "10000", "--sleep", "0.01"]))
    deadline = time.monotonic() + 30
    while len(run.get_metrics().get("accuracy", []) or []) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    run.cancel()
    assert run.get_status() == "Canceled"
    assert len(run.get_metrics()["accuracy"]) < 10000


def test_snapshot_too_big_is_refused_before_a_run_exists(exp, scripts: Path, monkeypatch) -> None:
    from amlhandson.core.compute import _snapshot

    monkeypatch.setattr(_snapshot, "MAX_FILES", 1)
    monkeypatch.setattr(_snapshot.make_snapshot, "__defaults__", (_snapshot.MAX_BYTES, 1))
    (scripts / "more.py").write_text("")
    with pytest.raises(SnapshotException, match="Snapshot is too large"):
        exp.submit(ScriptRunConfig(str(scripts), "train.py"))
    assert list(exp.get_runs()) == []


def test_compute_target_get_or_create_and_cluster_run(ws, exp, scripts: Path, capsys) -> None:
    with pytest.raises(ComputeTargetException, match="ComputeTargetNotFound"):
        ComputeTarget(workspace=ws, name="cpucluster")
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2,
                                                   idle_seconds_before_scaledown=600)
    cluster = ComputeTarget.create(ws, "cpucluster", config)
    assert "LocalCluster" in capsys.readouterr().out
    cluster.wait_for_completion(show_output=True)
    assert isinstance(ComputeTarget(ws, "cpucluster"), AmlCompute)
    assert list(ws.compute_targets) == ["cpucluster"]
    with pytest.raises(ComputeTargetException):
        DaskCompute(ws, "cpucluster")
    try:
        runs = [exp.submit(ScriptRunConfig(str(scripts), "train.py", arguments=["--k", k],
                                           compute_target=cluster)) for k in (1, 2)]
        for run in runs:
            assert run.wait_for_completion()["target"] == "cpucluster"
        assert runs[1].get_metrics()["accuracy"][0] == pytest.approx(0.52)
        assert cluster.get_status().serialize()["currentNodeCount"] == 2
    finally:
        cluster.delete()
    assert ws.compute_targets == {}


def test_attach_refuses_an_unreachable_scheduler(ws) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = DaskCompute.attach_configuration(f"tcp://127.0.0.1:{port}")
    with pytest.raises(ComputeTargetException, match="接続できませんでした"):
        ComputeTarget.attach(ws, "dask", config)
    assert ws.compute_targets == {}


def test_attached_cluster_script_run(ws, scripts: Path, external_cluster) -> None:  # noqa: F811
    target = ComputeTarget.attach(ws, "dask", DaskCompute.attach_configuration(
        external_cluster.scheduler_address))
    exp = Experiment(ws, "remote")
    try:
        runs = [exp.submit(ScriptRunConfig(str(scripts), "train.py", arguments=["--k", k],
                                           compute_target=target)) for k in (1, 2)]
        for run in runs:
            assert run.wait_for_completion()["status"] == "Completed"
            assert "outputs/model.pkl" in run.get_file_names()
    finally:
        target.detach()
    log = (runs[0].local_path / "azureml-logs/70_driver_log.txt").read_text()
    assert "ワーカー tcp://127.0.0.1" in log
