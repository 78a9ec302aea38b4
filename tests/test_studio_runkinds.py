"""Studio views of HyperDrive searches, pipeline runs, compute targets, datastores and datasets.

A real HyperDrive grid search on a local Dask cluster (AmlCompute) and a real
two-step pipeline, then the data functions, the rendered pages of a standalone
studio, and the JSON API.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator

import pytest
from studio_helpers import Studio, standalone_studio

pytest.importorskip("distributed")

WS = "ws/docs-aml/docs-ws"
TRAIN = textwrap.dedent("""
    import argparse
    from amlhandson.core import Run
    p = argparse.ArgumentParser(); p.add_argument("--k", type=int, default=1)
    a = p.parse_args()
    run = Run.get_context()
    run.log("Accuracy", 0.9 - abs(a.k - 3) / 100)
""")
PREP = "import argparse, os\np = argparse.ArgumentParser(); p.add_argument('--out')\n" \
       "a = p.parse_args(); os.makedirs(a.out, exist_ok=True)\n" \
       "open(os.path.join(a.out, 'd.txt'), 'w').write('1')\n"
USE = "import argparse, os\np = argparse.ArgumentParser(); p.add_argument('--data')\n" \
      "a = p.parse_args(); print(open(os.path.join(a.data, 'd.txt')).read())\n"


def _launcher(launch):
    """Each pipeline step as a subprocess (what a compute target would do), in a thread."""
    from amlhandson.pipeline.core._engine import STEP_RUN_TYPE
    from amlhandson.pipeline.core.step_run import StepRun

    tmp = tempfile.mkdtemp()
    run = StepRun._create(launch.experiment, run_id=launch.run_id, name=launch.name,
                          parent=launch.parent, run_type=STEP_RUN_TYPE, target=launch.target,
                          outputs=tmp)
    run.add_properties(launch.properties)

    def work() -> None:
        proc = subprocess.run([sys.executable, launch.script_name, *launch.arguments],
                              cwd=launch.source_directory, capture_output=True, text=True,
                              env={**os.environ, **launch.environment})
        if proc.returncode == 0:
            run.complete()
            launch.on_done("Completed", None)
        else:
            run.fail(error_details=proc.stderr[-300:])
            launch.on_done("Failed", proc.stderr[-300:])
        shutil.rmtree(tmp, ignore_errors=True)

    threading.Thread(target=work, daemon=True).start()
    return run


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Studio, dict]]:
    base = tmp_path_factory.mktemp("runkinds")
    home, work = base / "home", base / "work"
    (work / "scripts").mkdir(parents=True)
    (work / "scripts" / "train.py").write_text(TRAIN)
    (work / "scripts" / "prep.py").write_text(PREP)
    (work / "scripts" / "use.py").write_text(USE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AMLHANDSON_HOME", str(home))
        mp.chdir(work)
        from amlhandson import Experiment, Workspace
        from amlhandson.core.compute import AmlCompute, ComputeTarget
        from amlhandson.core.script_run_config import ScriptRunConfig
        from amlhandson.pipeline.core import Pipeline, PipelineData
        from amlhandson.pipeline.steps import PythonScriptStep
        from amlhandson.train.hyperdrive import (
            GridParameterSampling,
            HyperDriveConfig,
            PrimaryMetricGoal,
            choice,
        )

        ws = Workspace.create("docs-ws", resource_group="docs-aml", show_output=False)
        cluster = ComputeTarget.create(ws, "cpucluster", AmlCompute.provisioning_configuration(
            max_nodes=2, idle_seconds_before_scaledown=600))
        src = ScriptRunConfig(str(work / "scripts"), "train.py", compute_target=cluster)
        config = HyperDriveConfig(
            run_config=src, hyperparameter_sampling=GridParameterSampling({"--k": choice(1, 3, 5)}),
            primary_metric_name="Accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
            max_total_runs=3, max_concurrent_runs=2)
        hd = Experiment(ws, "hd").submit(config)
        hd.wait_for_completion()
        data = PipelineData("prepared")
        prep = PythonScriptStep("prep.py", name="prepare", arguments=["--out", data],
                                outputs=[data], source_directory=str(work / "scripts"))
        use = PythonScriptStep("use.py", name="use <it>", arguments=["--data", data],
                               inputs=[data], source_directory=str(work / "scripts"))
        pipeline_run = Experiment(ws, "pipe").submit(Pipeline(ws, steps=[use, prep]),
                                                     _launcher=_launcher)
        pipeline_run.wait_for_completion(show_output=False)
        ids = {"hd": hd.id, "pipeline": pipeline_run.id,
               "step": pipeline_run.find_step_run("prepare")[0].id}
        try:
            with standalone_studio(home, base) as server:
                yield server, ids
        finally:
            cluster.delete()


def test_hyperdrive_run_page(made) -> None:
    server, ids = made
    detail = server.api(f"{WS}/runs/{ids['hd']}").json()
    search = detail["hyperdrive"]
    assert search["primary_metric"] == "Accuracy" and search["goal"] == "maximize"
    assert search["trials"][0]["hyperparameters"] == {"--k": 3}  # the best trial first
    assert sorted(t["hyperparameters"]["--k"] for t in search["trials"]) == [1, 3, 5]
    assert search["best_run_id"] == search["trials"][0]["run_id"]
    assert search["parameters"] == ["--k"] and len(detail["hyperdrive_charts"]) == 2
    page = server.page(f"{WS}/runs/{ids['hd']}").text
    assert 'id="hyperdrive"' in page and 'id="trials"' in page and page.count('class="best"') == 1


def test_pipeline_and_step_pages(made) -> None:
    server, ids = made
    detail = server.api(f"{WS}/runs/{ids['pipeline']}").json()
    steps = {s["name"]: s for s in detail["pipeline"]["steps"]}
    assert set(steps) == {"prepare", "use <it>"}
    assert steps["use <it>"]["after"] == [steps["prepare"]["id"]]
    assert steps["use <it>"]["inputs"] == ["prepared"] and steps["prepare"]["outputs"] == ["prepared"]
    assert all(s["status"] == "Completed" for s in steps.values())
    svg = detail["pipeline_svg"]
    assert svg.count("<rect") == 2 and svg.count("marker-end") == 1
    assert "use &lt;it&gt;" in svg and "use <it>" not in svg
    page = server.page(f"{WS}/runs/{ids['pipeline']}").text
    assert 'id="pipeline"' in page and 'id="steps"' in page and "use &lt;it&gt;" in page
    step = server.api(f"{WS}/runs/{ids['step']}").json()
    assert step["step"]["name"] == "prepare" and step["step"]["reused"] is False
    assert 'id="step"' in server.page(f"{WS}/runs/{ids['step']}").text


def test_compute_and_data_pages(made) -> None:
    server, _ = made
    targets = {t["name"]: t for t in server.api(f"{WS}/compute").json()["items"]}
    assert "cpucluster" in targets and targets["cpucluster"]["type"] == "AmlCompute"
    stores = server.api(f"{WS}/datastores").json()["items"]
    assert stores and stores[0]["default"] is True
    assert server.api(f"{WS}/datasets").json()["total"] == 0
    assert "cpucluster" in server.page(f"{WS}/compute").text
    page = server.page(f"{WS}/data").text
    assert stores[0]["name"] in page and 'id="datastores"' in page
