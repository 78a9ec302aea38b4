"""Pipelines on the real compute targets: steps are script runs on 'local', on an AmlCompute
(a local Dask cluster of two workers) and on an attached Dask scheduler; data references and
datasets reach the scripts as local paths, also in plain ScriptRunConfig submissions."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from amlhandson import Experiment
from amlhandson.core import Dataset
from amlhandson.core.compute import AmlCompute, ComputeTarget, DaskCompute
from amlhandson.core.script_run_config import ScriptRunConfig
from amlhandson.exceptions import ActivityFailedException
from amlhandson.pipeline.core import Pipeline, PipelineData, PipelineParameter
from amlhandson.pipeline.core.step_run import StepRun
from amlhandson.pipeline.steps import PythonScriptStep

pytest.importorskip("distributed")

from tests.test_trial_protocol import external_cluster  # noqa: E402,F401 - a shared fixture

PREP = textwrap.dedent("""
    import argparse, json, os
    from amlhandson.core import Run
    p = argparse.ArgumentParser(); p.add_argument("--raw"); p.add_argument("--out")
    a = p.parse_args()
    run = Run.get_context()
    rows = [int(x) for x in open(os.path.join(a.raw, "numbers.txt")).read().split()]
    os.makedirs(a.out, exist_ok=True)
    json.dump(rows, open(os.path.join(a.out, "rows.json"), "w"))
    run.log("rows", len(rows))
    print("prepared", len(rows), "rows; inputs:", sorted(run.input_datasets))
""")

TRAIN = textwrap.dedent("""
    import argparse, json, os, time
    from amlhandson.core import Run
    p = argparse.ArgumentParser()
    p.add_argument("--data"); p.add_argument("--out"); p.add_argument("--k", type=int)
    p.add_argument("--seconds", type=float, default=0.0)
    a = p.parse_args()
    start = time.time()
    while time.time() - start < a.seconds:
        pass
    rows = json.load(open(os.path.join(a.data, "rows.json")))
    score = sum(rows) * a.k
    Run.get_context().log("score", score)
    os.makedirs(a.out, exist_ok=True)
    json.dump({"score": score, "start": start, "end": time.time(),
               "mode": os.environ.get("AML_PARAMETER_mode")},
              open(os.path.join(a.out, "model.json"), "w"))
    print("trained k =", a.k)
""")

COMPARE = textwrap.dedent("""
    import argparse, json, os
    from amlhandson.core import Run
    p = argparse.ArgumentParser(); p.add_argument("--a"); p.add_argument("--b")
    a = p.parse_args()
    scores = [json.load(open(os.path.join(x, "model.json")))["score"] for x in (a.a, a.b)]
    if os.environ.get("AML_PARAMETER_fail") == "yes":
        raise ValueError("compare failed on purpose")
    Run.get_context().log("best", max(scores))
    print("best", max(scores))
""")


@pytest.fixture
def project(scratch: Path) -> Path:
    for folder, name, text in (("prep", "prep.py", PREP), ("train", "train.py", TRAIN),
                               ("compare", "compare.py", COMPARE)):
        (scratch / "steps" / folder).mkdir(parents=True)
        (scratch / "steps" / folder / name).write_text(text)
    raw = scratch / "raw"
    raw.mkdir()
    (raw / "numbers.txt").write_text("1 2 3 4")
    return scratch / "steps"


def build(ws, project: Path, target, seconds: float = 0.0, fail: str = "no") -> Pipeline:
    ds = ws.get_default_datastore()
    ds.upload(str(project.parent / "raw"), target_path="raw", overwrite=True, show_progress=False)
    numbers = Dataset.File.from_files((ds, "raw/numbers.txt")).register(
        ws, "numbers", create_new_version=True)
    raw_input = numbers.as_named_input("numbers").as_download()
    prepared, model_a, model_b = PipelineData("prepared"), PipelineData("a"), PipelineData("b")
    k = PipelineParameter("k", default_value=2)
    prep = PythonScriptStep("prep.py", name="prepare", arguments=["--raw", raw_input,
                                                                  "--out", prepared],
                            inputs=[raw_input], outputs=[prepared], compute_target=target,
                            source_directory=project / "prep")
    train_a = PythonScriptStep("train.py", name="train_a", compute_target=target,
                               arguments=["--data", prepared, "--out", model_a, "--k", k,
                                          "--seconds", seconds],
                               inputs=[prepared], outputs=[model_a], params={"mode": "fast"},
                               source_directory=project / "train")
    train_b = PythonScriptStep("train.py", name="train_b", compute_target=target,
                               arguments=["--data", prepared, "--out", model_b, "--k", 3,
                                          "--seconds", seconds],
                               inputs=[prepared], outputs=[model_b],
                               source_directory=project / "train")
    compare = PythonScriptStep("compare.py", name="compare", compute_target=target,
                               arguments=["--a", model_a, "--b", model_b],
                               inputs=[model_a, model_b], params={"fail": fail},
                               source_directory=project / "compare")
    assert prep and train_a and train_b
    return Pipeline(ws, steps=[compare])


def model_of(step: StepRun, name: str) -> dict:
    ref = step.get_output_data(name)
    return json.loads((Path(ref.datastore.local_folder) / ref.path_on_datastore /
                       "model.json").read_text())


def test_local_pipeline_runs_steps_as_script_runs_and_is_reused(ws, exp, project, capsys) -> None:
    pipeline = build(ws, project, "local")
    run = exp.submit(pipeline)
    assert run.wait_for_completion(show_output=True) == "Completed"
    out = capsys.readouterr().out
    assert "StepRun(train_a) Status: Running" in out and "PipelineRun Status: Completed" in out
    steps = {s.step_name: s for s in run.get_steps()}
    assert set(steps) == {"prepare", "train_a", "train_b", "compare"}
    assert all(isinstance(s, StepRun) and not s.reused for s in steps.values())
    assert steps["prepare"].get_metrics() == {"rows": 4}
    assert "prepared 4 rows; inputs: ['numbers']" in steps["prepare"].get_job_log()
    assert steps["compare"].get_metrics() == {"best": 30}
    assert model_of(steps["train_a"], "a")["mode"] == "fast"
    assert steps["train_a"].get_details()["target"] == "local"
    # the step's run recorded which dataset version it read
    assert [d["dataset"] for d in steps["prepare"].get_details()["inputDatasets"]] == \
        ["numbers"]

    again = exp.submit(pipeline, pipeline_parameters={"k": 5})
    assert again.wait_for_completion(show_output=False) == "Completed"
    flags = {s.step_name: s.reused for s in again.get_steps()}
    assert flags == {"prepare": True, "train_a": False, "train_b": True, "compare": False}
    assert again.find_step_run("compare")[0].get_metrics() == {"best": 50}


def test_independent_steps_run_in_parallel_on_a_two_worker_cluster(ws, exp, project) -> None:
    cluster = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(
        vm_size="STANDARD_D2_V2", max_nodes=2))
    try:
        run = exp.submit(build(ws, project, cluster, seconds=1.5))
        assert run.wait_for_completion(show_output=False) == "Completed"
        steps = {s.step_name: s for s in run.get_steps()}
        a, b = model_of(steps["train_a"], "a"), model_of(steps["train_b"], "b")
        assert a["start"] < b["end"] and b["start"] < a["end"], "the two steps did not overlap"
        workers = set()
        for name in ("train_a", "train_b"):
            assert steps[name].get_details()["target"] == "cpu"
            log = steps[name].get_job_log()
            workers.add(log.split("ワーカー ")[1].split()[0])
        assert len(workers) == 2, "each independent step should have had a worker of its own"
    finally:
        cluster.delete()


def test_a_failing_step_on_a_cluster_names_itself_and_keeps_its_traceback(ws, exp,
                                                                          project) -> None:
    cluster = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(
        vm_size="STANDARD_D2_V2", max_nodes=2))
    try:
        run = exp.submit(build(ws, project, cluster, fail="yes"))
        with pytest.raises(ActivityFailedException, match="'compare'"):
            run.wait_for_completion(show_output=False)
        compare = run.find_step_run("compare")[0]
        assert compare.get_status() == "Failed"
        assert "ValueError: compare failed on purpose" in compare.get_job_log()
        assert "compare failed on purpose" in run.record.error["message"]
        assert {s.get_status() for s in run.get_steps() if s.step_name != "compare"} == \
            {"Completed"}
    finally:
        cluster.delete()


def test_steps_on_an_attached_scheduler(ws, exp, project, external_cluster) -> None:  # noqa: F811
    target = ComputeTarget.attach(ws, "dask", DaskCompute.attach_configuration(
        external_cluster.scheduler_address))
    try:
        run = exp.submit(build(ws, project, target))
        assert run.wait_for_completion(show_output=False) == "Completed"
        assert run.find_step_run("compare")[0].get_metrics() == {"best": 30}
        assert "ワーカー tcp://127.0.0.1" in run.find_step_run("train_b")[0].get_job_log()
    finally:
        target.detach()


MOUNTED = textwrap.dedent("""
    import argparse, os
    from amlhandson.core import Run
    p = argparse.ArgumentParser(); p.add_argument("--data"); p.add_argument("--out")
    p.add_argument("numbers")
    a = p.parse_args()
    run = Run.get_context()
    print("data:", sorted(os.listdir(a.data)))
    print("named:", {k: os.path.isdir(v) for k, v in run.input_datasets.items()})
    print("same:", run.input_datasets["numbers"] == a.numbers)
    open(os.path.join(a.out, "result.txt"), "w").write("written by the script")
""")


def test_a_script_run_gets_data_references_and_datasets_as_local_paths(ws, exp, scratch,
                                                                       project) -> None:
    ds = ws.get_default_datastore()
    ds.upload(str(project.parent / "raw"), target_path="raw", overwrite=True,
              show_progress=False)
    numbers = Dataset.File.from_files((ds, "raw/*.txt")).register(ws, "numbers")
    src = scratch / "job"
    src.mkdir()
    (src / "job.py").write_text(MOUNTED)
    config = ScriptRunConfig(str(src), "job.py", arguments=[
        "--data", ds.path("raw").as_mount(), "--out", ds.path("results").as_upload(),
        numbers.as_named_input("numbers").as_download()])
    run = exp.submit(config)
    details = run.wait_for_completion()
    log = (run.local_path / "azureml-logs/70_driver_log.txt").read_text()
    assert "data: ['numbers.txt']" in log and "named: {'numbers': True}" in log
    assert "same: True" in log
    assert "$AZUREML_DATAREFERENCE" not in " ".join(details["runDefinition"]["arguments"])
    # as_upload: what the script wrote is on the datastore once the run completed
    assert (Path(ds.local_folder) / "results" / "result.txt").read_text() == "written by the script"
    inputs = {d["name"]: (d["dataset"], d["mode"]) for d in details["inputDatasets"]}
    assert inputs["numbers"] == ("numbers", "download")
    assert sorted(inputs) == ["numbers", "workspaceblobstore"], inputs


def test_one_pipeline_submitted_to_two_experiments(ws, project) -> None:
    pipeline = build(ws, project, "local")
    first = Experiment(ws, "one").submit(pipeline)
    second = Experiment(ws, "two").submit(pipeline)
    assert first.wait_for_completion(show_output=False) == "Completed"
    assert second.wait_for_completion(show_output=False) == "Completed"
    assert first.experiment.name == "one" and second.experiment.name == "two"
    assert all(s.experiment.name == "two" for s in second.get_steps())
