"""Views of submitted runs: RunDetails for a script run and a HyperDrive parent, %aml_runs with trials."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from amlhandson import Experiment, tracking
from amlhandson.core.compute import AmlCompute, ComputeTarget
from amlhandson.core.script_run_config import ScriptRunConfig
from amlhandson.train.hyperdrive import (
    GridParameterSampling,
    HyperDriveConfig,
    PrimaryMetricGoal,
    choice,
)
from amlhandson.widgets import RunDetails
from amlhandson.widgets._widget import _titles

pytest.importorskip("distributed")

TRAIN = textwrap.dedent("""
    import argparse, sys, time
    from amlhandson.core import Run
    p = argparse.ArgumentParser()
    p.add_argument("--k", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--wait-for", default="")
    a = p.parse_args()
    run = Run.get_context()
    for step in range(1, a.steps + 1):
        run.log("accuracy", (0.9 - abs(a.k - 3) / 100) * step / a.steps)
        print(f"step {step} <b>k={a.k}</b>", flush=True)
        time.sleep(a.sleep)
    import os
    while a.wait_for and not os.path.exists(a.wait_for):
        time.sleep(0.05)
    print("done", file=sys.stderr)
""")


@pytest.fixture
def folder(scratch: Path) -> Path:
    path = scratch / "scripts"
    path.mkdir()
    (path / "train.py").write_text(TRAIN)
    return path


def test_script_run_details_show_status_live_log_and_metrics(ws, folder: Path, scratch: Path) -> None:
    gate = scratch / "go"
    exp = Experiment(ws, "views-script")
    run = exp.submit(ScriptRunConfig(str(folder), "train.py",
                                     arguments=["--steps", "2", "--wait-for", str(gate)]))
    details = RunDetails(run, refresh_interval=0.2)
    deadline = time.monotonic() + 60
    data = details.get_widget_data()
    while "step 2" not in (data["log_tail"] or ""):  # the log tail follows the script live
        assert time.monotonic() < deadline, data
        time.sleep(0.1)
        data = details.get_widget_data()
    assert data["status"] == "Running" and not data["is_terminal"]
    assert data["log_name"] == "azureml-logs/70_driver_log.txt"
    bundle = details._repr_mimebundle_()
    assert details.is_refreshing
    assert "&lt;b&gt;k=1&lt;/b&gt;" in bundle["text/html"]  # the log is escaped in the static view
    assert "Log (azureml-logs/70_driver_log.txt, last lines):" in bundle["text/plain"]
    gate.write_text("")
    run.wait_for_completion()
    deadline = time.monotonic() + 30
    while details.is_refreshing:  # stops by itself once the run has ended
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert details.data["status"] == "Completed"
    assert [m["values"] for m in details.data["metrics"] if m["name"] == "accuracy"] == \
        [[0.44, 0.88]]
    assert "done" in details.data["log_tail"]
    assert "Running" not in details._text(details.data)


@pytest.fixture
def cluster(ws):
    target = ComputeTarget.create(ws, "viewcluster", AmlCompute.provisioning_configuration(
        max_nodes=2, idle_seconds_before_scaledown=600))
    yield target
    target.delete()


def test_hyperdrive_parent_view_lists_trials_marks_the_best_and_charts(ws, folder: Path,
                                                                       cluster) -> None:
    exp = Experiment(ws, "views-hd")
    src = ScriptRunConfig(str(folder), "train.py", arguments=["--steps", "3"],
                          compute_target=cluster)
    config = HyperDriveConfig(run_config=src,
                              hyperparameter_sampling=GridParameterSampling({"--k": choice(1, 3, 6)}),
                              primary_metric_name="accuracy",
                              primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                              max_total_runs=3, max_concurrent_runs=2)
    hd = exp.submit(config)
    details = RunDetails(hd, refresh_interval=0.2)
    first = details.get_widget_data()
    assert first["hyperdrive"]["primary_metric"] == "accuracy"
    hd.wait_for_completion()
    data = details.get_widget_data()
    view = data["hyperdrive"]
    assert [t["parameters"] for t in view["trials"]] == [{"--k": 1}, {"--k": 3}, {"--k": 6}]
    assert [t["trial"] for t in view["trials"]] == [0, 1, 2]
    best = hd.get_best_run_by_primary_metric()
    assert view["best_run_id"] == best.id == f"{hd.id}_1"
    assert view["best_value"] == pytest.approx(0.9)
    assert all(len(t["values"]) == 3 for t in view["trials"])
    assert view["counts"] == {"Completed": 3}
    # the parent's configuration tags are not shown as tags
    assert not any(k.startswith(hd.id) or k == "generator_config" for k in data["tags"])

    pane = details._pane_html("children", data)
    assert pane.count("<tr") == 4 and pane.count("★") >= 1
    assert "background:#fff4ce" in pane  # the best row is highlighted
    assert "accuracy per trial" in pane and pane.count("<polyline") == 3  # one curve per trial
    assert "accuracy vs k" in pane and "accuracy by trial" in pane
    bundle = details._repr_mimebundle_()
    assert "Trials (3)" in bundle["text/html"] and "accuracy vs k" in bundle["text/html"]
    text = bundle["text/plain"]
    assert " * #1 k=3 - Completed - accuracy = 0.9" in text
    assert "Primary metric accuracy (maximize) · trials 3 / 3 (Completed 3) · best" in text
    assert _titles(data)[3] == "Trials (3)"

    table = tracking.runs_table(ws, "views-hd")
    head, body = table.cells()
    assert "Parameters" in head and any(h.startswith("accuracy") for h in head)
    ids = [row[1] for row in body]
    assert ids[0].startswith("HD_") and ids[1:] == ["└ …_0", "└ …_1", "└ …_2"]
    assert [row[2] for row in body[1:]] == ["", "", ""]  # trials carry no long composed name
    params = [row[head.index("Parameters")] for row in body]
    assert params == ["", "k=1", "k=3", "k=6"]
    assert "generator_config" not in str(table)
    assert "1 runs" in table._caption()


def test_an_empty_hyperdrive_view_says_so() -> None:
    from amlhandson.widgets import _hyperdrive

    data = {"hyperdrive": {"primary_metric": "acc", "goal": "minimize", "parameters": [],
                           "best_run_id": None, "best_value": None, "max_total_runs": 4,
                           "policy": "Bandit", "counts": {}, "trials": []}}
    assert "まだ試行がありません" in _hyperdrive.trials_html(data)
    assert _hyperdrive.trials_text(data).startswith("Primary metric acc (minimize) · trials 0 / 4")
    assert _hyperdrive.trials_html({"hyperdrive": None}) == ""
