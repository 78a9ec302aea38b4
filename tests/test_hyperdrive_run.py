"""HyperDrive runs end to end on a local Dask cluster: grid, random + early termination, the 2019 form."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from amlhandson import Experiment
from amlhandson.core.compute import AmlCompute, ComputeTarget
from amlhandson.core.script_run_config import ScriptRunConfig
from amlhandson.exceptions import TrainingException
from amlhandson.train.hyperdrive import (
    BanditPolicy,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    HyperDriveRunConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    choice,
)
from amlhandson.train.sklearn import SKLearn

pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

TRAIN = textwrap.dedent("""
    import argparse, os, time
    from amlhandson.core import Run
    p = argparse.ArgumentParser()
    p.add_argument("--k", type=int, default=1)
    p.add_argument("--kernel", default="linear")
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--ramp", type=int, default=1)
    a = p.parse_args()
    run = Run.get_context()
    run.log("pid", os.getpid())
    quality = {"linear": 0.9, "rbf": 0.7}.get(a.kernel, 0.5) - abs(a.k - 3) / 100
    for step in range(1, a.steps + 1):
        run.log("Accuracy", quality * step / a.steps if a.ramp else quality)
        time.sleep(a.sleep)
    os.makedirs("outputs", exist_ok=True)
    open("outputs/model.txt", "w").write(str(quality))
""")


@pytest.fixture
def setup(ws, scratch: Path):
    folder = scratch / "scripts"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN)
    # 3 workers, so that the 3 trials of the policy test run side by side
    cluster = ComputeTarget.create(ws, "cpucluster", AmlCompute.provisioning_configuration(
        max_nodes=3, idle_seconds_before_scaledown=600))
    yield ws, folder, cluster
    cluster.delete()


def test_grid_search_over_k(setup) -> None:
    ws, folder, cluster = setup
    exp = Experiment(ws, "hd-grid")
    src = ScriptRunConfig(str(folder), "train.py", arguments=["--k", "99"], compute_target=cluster)
    config = HyperDriveConfig(run_config=src,
                              hyperparameter_sampling=GridParameterSampling({"--k": choice(1, 3, 5)}),
                              primary_metric_name="Accuracy",
                              primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                              max_total_runs=10, max_concurrent_runs=2)
    with pytest.warns(UserWarning, match="The same input parameter"):
        hd = exp.submit(config)
    assert isinstance(hd, HyperDriveRun) and hd.id.startswith("HD_") and hd.type == "hyperdrive"
    details = hd.wait_for_completion()
    assert details["status"] == "Completed"
    children = list(hd.get_children())
    assert sorted(c.id for c in children) == [f"{hd.id}_{i}" for i in range(3)]  # space of 3
    params = hd.get_hyperparameters()
    assert sorted(p["--k"] for p in params.values()) == [1, 3, 5]
    best = hd.get_best_run_by_primary_metric()
    assert params[best.id] == {"--k": 3}
    assert best.get_details()["runDefinition"]["arguments"] == ["--k", "3"]
    rows = hd.get_children_sorted_by_primary_metric()
    assert [json.loads(r["hyperparameters"])["--k"] for r in rows] == [3, 1, 5] or \
        [json.loads(r["hyperparameters"])["--k"] for r in rows][0] == 3
    assert rows[0]["best_primary_metric"] == pytest.approx(0.9)
    assert set(hd.get_metrics()) == set(params)
    table = hd.get_metrics  # the parent's own table of the best child
    assert Experiment(ws, "hd-grid").get_runs().__next__().id == hd.id
    best_rows = super(HyperDriveRun, hd).get_metrics()["best_child_by_primary_metric"]
    assert best_rows["final"][-1] is True and best_rows["run_id"][-1] == best.id
    assert table is not None


def test_random_search_with_bandit_policy_kills_bad_trials(setup) -> None:
    ws, folder, cluster = setup
    exp = Experiment(ws, "hd-random")
    # A flat metric and 10 s per trial: whichever trial starts first, the two bad ones are
    # still running when the good one logs its first value, and are canceled then.
    src = ScriptRunConfig(str(folder), "train.py", compute_target=cluster,
                          arguments=["--steps", "200", "--sleep", "0.05", "--ramp", "0"])
    config = HyperDriveConfig(
        run_config=src,
        hyperparameter_sampling=RandomParameterSampling({"--kernel": choice("linear", "rbf",
                                                                            "poly")},
                                                        properties={"seed": 1}),
        policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=3),
        primary_metric_name="Accuracy", primary_metric_goal="maximize",
        max_total_runs=3, max_concurrent_runs=3)
    hd = exp.submit(config)
    hd.wait_for_completion()
    statuses = {hd.get_hyperparameters()[c.id]["--kernel"]: c for c in hd.get_children()}
    assert statuses["linear"].get_status() == "Completed"
    for kernel in ("rbf", "poly"):
        child = statuses[kernel]
        assert child.get_status() == "Canceled"
        error = child.get_details()["error"]["error"]["message"]
        assert error.startswith("BanditPolicy")
        assert len(child.get_metrics()["Accuracy"]) < 200
        pid = child.get_metrics()["pid"]
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert hd.get_best_run_by_primary_metric().id == statuses["linear"].id
    assert hd.get_best_run_by_primary_metric(include_canceled=False).id == statuses["linear"].id


def test_2019_hyperdriverunconfig_with_sklearn_estimator(setup) -> None:
    ws, folder, cluster = setup
    exp = Experiment(ws, "hd-2019")
    est = SKLearn(source_directory=str(folder), script_params={"--k": 3},
                  compute_target=cluster, entry_script="train.py")
    ps = RandomParameterSampling({"--kernel": choice("linear", "rbf")})
    with pytest.warns(DeprecationWarning):
        config = HyperDriveRunConfig(estimator=est, hyperparameter_sampling=ps, policy=None,
                                     primary_metric_name="Accuracy",
                                     primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                     max_total_runs=4, max_concurrent_runs=2)
    hd = exp.submit(config)
    hd.wait_for_completion(show_output=False)
    assert len(list(hd.get_children())) == 2  # the space has 2 values: fewer runs than asked
    best = hd.get_best_run_by_primary_metric()
    assert best.get_metrics()["Accuracy"] == pytest.approx(0.9)
    assert "outputs/model.txt" in best.get_file_names()


def test_cancel_stops_every_trial(setup) -> None:
    ws, folder, cluster = setup
    src = ScriptRunConfig(str(folder), "train.py", arguments=["--steps", "1000", "--sleep", "0.02"],
                          compute_target=cluster)
    config = HyperDriveConfig(run_config=src,
                              hyperparameter_sampling=GridParameterSampling({"--k": choice(1, 2, 3)}),
                              primary_metric_name="Accuracy", primary_metric_goal="MAXIMIZE",
                              max_total_runs=3, max_concurrent_runs=2)
    hd = Experiment(ws, "hd-cancel").submit(config)
    deadline = time.monotonic() + 60
    while not any(c.get_metrics().get("Accuracy") for c in hd.get_children()):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    hd.cancel()
    assert hd.get_status() == "Canceled"
    children = list(hd.get_children())
    assert len(children) == 2 and all(c.get_status() == "Canceled" for c in children)


def test_local_target_is_refused_like_v1(ws, scratch: Path) -> None:
    (scratch / "train.py").write_text("print(1)\n")
    config = HyperDriveConfig(run_config=ScriptRunConfig(str(scratch), "train.py"),
                              hyperparameter_sampling=GridParameterSampling({"--k": choice(1)}),
                              primary_metric_name="a", primary_metric_goal="maximize",
                              max_total_runs=1)
    with pytest.raises(TrainingException, match="not supported for types DatabricksCompute and local"):
        Experiment(ws, "x").submit(config)


def test_cli_compute_and_runs_show_on_a_hyperdrive_parent(setup, capsys) -> None:
    from amlhandson.cli import main

    ws, folder, cluster = setup
    assert main(["compute", "list"]) == 0
    out = capsys.readouterr().out
    assert "cpucluster" in out and "local" in out and "LocalCluster" in out
    assert main(["compute", "show", "cpucluster", "--json"]) == 0
    assert '"max_nodes": 3' in capsys.readouterr().out
    src = ScriptRunConfig(str(folder), "train.py", compute_target=cluster)
    hd = Experiment(ws, "hd-cli").submit(HyperDriveConfig(
        run_config=src, hyperparameter_sampling=GridParameterSampling({"--k": choice(2, 3)}),
        primary_metric_name="Accuracy", primary_metric_goal="maximize", max_total_runs=2))
    hd.wait_for_completion()
    capsys.readouterr()
    assert main(["runs", "show", hd.id]) == 0
    out = capsys.readouterr().out
    assert "HyperDrive trials" in out and "--k 3" in out
    assert out.index("--k 3") < out.index("--k 2")  # best first
    assert main(["compute", "delete", "cpucluster"]) == 0
    assert main(["compute", "show", "cpucluster"]) == 1
