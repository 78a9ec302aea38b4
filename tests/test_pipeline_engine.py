"""The pipeline engine with real scripts in real processes: data between steps, parallel
independent steps, reuse and its reasons, regenerate_outputs, failures and their dependants.

Steps are started by a small launcher of this test (one subprocess per step, in a thread),
standing in for the compute targets' script runs, so the engine's rules are tested here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from amlhandson.exceptions import ActivityFailedException
from amlhandson.pipeline.core import Pipeline, PipelineData, PipelineParameter
from amlhandson.pipeline.core._engine import STEP_RUN_TYPE, StepLaunch
from amlhandson.pipeline.core.step_run import StepRun
from amlhandson.pipeline.steps import PythonScriptStep


def process_launcher(launch: StepLaunch) -> StepRun:
    """Run the step's script as a subprocess in a thread; report back when it ends."""
    tmp = tempfile.mkdtemp()
    run = StepRun._create(launch.experiment, run_id=launch.run_id, name=launch.name,
                          parent=launch.parent, run_type=STEP_RUN_TYPE, target=launch.target,
                          outputs=tmp)
    run.add_properties(launch.properties)

    def work() -> None:
        proc = subprocess.run([sys.executable, launch.script_name, *launch.arguments],
                              cwd=launch.source_directory, capture_output=True, text=True,
                              env={**os.environ, **launch.environment})
        run.upload_file("azureml-logs/70_driver_log.txt",
                        _write(Path(tmp) / "log.txt", proc.stdout + proc.stderr))
        if proc.returncode == 0:
            run.complete()
            launch.on_done("Completed", None)
        else:
            message = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            run.fail(error_details=message)
            launch.on_done("Failed", message)
        shutil.rmtree(tmp, ignore_errors=True)

    threading.Thread(target=work, daemon=True).start()
    return run


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


SCRIPTS = {
    "prep.py": """
import argparse, json, os, time
p = argparse.ArgumentParser(); p.add_argument("--out"); a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
json.dump({"rows": [1, 2, 3, 4]}, open(os.path.join(a.out, "data.json"), "w"))
""",
    "train.py": """
import argparse, json, os, time
p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--out"); p.add_argument("--k", type=int, default=1)
p.add_argument("--name"); p.add_argument("--marks")
a = p.parse_args()
start = time.time(); time.sleep(0.6)
rows = json.load(open(os.path.join(a.data, "data.json")))["rows"]
os.makedirs(a.out, exist_ok=True)
json.dump({"score": sum(rows) * a.k, "param": os.environ.get("AML_PARAMETER_mode")},
          open(os.path.join(a.out, "model.json"), "w"))
open(os.path.join(a.marks, a.name), "w").write(f"{start} {time.time()}")
""",
    "compare.py": """
import argparse, json, os
p = argparse.ArgumentParser(); p.add_argument("--a"); p.add_argument("--b"); p.add_argument("--out")
a = p.parse_args()
scores = [json.load(open(os.path.join(x, "model.json")))["score"] for x in (a.a, a.b)]
print("best", max(scores))
open(a.out, "w").write(str(max(scores)))
""",
    "boom.py": "raise SystemExit('the middle step failed on purpose')\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name, text in SCRIPTS.items():
        (folder / name).write_text(text)
    (tmp_path / "marks").mkdir()
    return folder


def build(project: Path, marks: Path, result: Path, middle: str = "train.py"):
    prepared = PipelineData("prepared")
    model_a, model_b = PipelineData("model_a"), PipelineData("model_b")
    k = PipelineParameter("k", default_value=2)
    PythonScriptStep("prep.py", name="prepare", arguments=["--out", prepared],
                            outputs=[prepared], source_directory=project)
    PythonScriptStep(middle, name="train_a",
                               arguments=["--data", prepared, "--out", model_a, "--k", k,
                                          "--name", "a", "--marks", str(marks)],
                               inputs=[prepared], outputs=[model_a], source_directory=project,
                               params={"mode": "fast"})
    PythonScriptStep("train.py", name="train_b",
                               arguments=["--data", prepared, "--out", model_b, "--name", "b",
                                          "--marks", str(marks)],
                               inputs=[prepared], outputs=[model_b], source_directory=project)
    compare = PythonScriptStep("compare.py", name="compare",
                               arguments=["--a", model_a, "--b", model_b, "--out", str(result)],
                               inputs=[model_a, model_b], source_directory=project)
    return Pipeline(None, steps=[compare])


def submit(exp, pipeline, **kwargs):
    run = exp.submit(pipeline, _launcher=process_launcher, **kwargs)
    run.wait_for_completion(show_output=False, raise_on_error=False)
    return run


def reused(run) -> dict[str, bool]:
    return {s.step_name: s.reused for s in run.get_steps()}


def test_data_flows_steps_run_in_parallel_and_then_are_reused(exp, project, tmp_path) -> None:
    result = tmp_path / "best.txt"
    pipeline = build(project, tmp_path / "marks", result)
    run = submit(exp, pipeline)
    assert run.get_status() == "Completed", run.record.error
    assert run.type == "azureml.PipelineRun" and result.read_text() == "20"
    steps = run.get_steps()
    assert sorted(s.step_name for s in steps) == ["compare", "prepare", "train_a", "train_b"]
    assert all(s.get_status() == "Completed" and not s.reused for s in steps)
    assert all(s.type == "azureml.StepRun" for s in steps)
    assert "best 20" in run.find_step_run("compare")[0].get_job_log()
    (a0, a1), (b0, b1) = (map(float, (tmp_path / "marks" / n).read_text().split())
                          for n in ("a", "b"))
    assert a0 < b1 and b0 < a1, "the two independent steps did not overlap"
    ref = run.find_step_run("train_a")[0].get_output_data("model_a")
    model = json.loads(Path(ref.datastore.local_folder, ref.path_on_datastore,
                            "model.json").read_text())
    assert model == {"score": 20, "param": "fast"}

    again = submit(exp, pipeline)
    assert again.get_status() == "Completed"
    assert reused(again) == {"prepare": True, "train_a": True, "train_b": True, "compare": True}
    first_ids = {s.step_name: s.id for s in steps}
    for step in again.get_steps():
        assert step.reused_run_id == first_ids[step.step_name]
        assert step.reuse_reasons[0].startswith("再利用")


def test_a_changed_parameter_reruns_only_what_depends_on_it(exp, project, tmp_path) -> None:
    pipeline = build(project, tmp_path / "marks", tmp_path / "best.txt")
    submit(exp, pipeline)
    run = submit(exp, pipeline, pipeline_parameters={"k": 5})
    assert reused(run) == {"prepare": True, "train_a": False, "train_b": True, "compare": False}
    train_a = run.find_step_run("train_a")[0]
    assert train_a.reuse_reasons == ["引数が変わりました: --data data:prepared --out data:model_a "
                                     f"--k 2 --name a --marks {tmp_path / 'marks'} → --data "
                                     "data:prepared --out data:model_a --k 5 --name a --marks "
                                     f"{tmp_path / 'marks'}"]
    assert any("'model_a' の内容が変わりました" in r
               for r in run.find_step_run("compare")[0].reuse_reasons)
    assert (tmp_path / "best.txt").read_text() == "50"


def test_a_changed_script_reruns_its_step(exp, project, tmp_path) -> None:
    pipeline = build(project, tmp_path / "marks", tmp_path / "best.txt")
    submit(exp, pipeline)
    (project / "compare.py").write_text(SCRIPTS["compare.py"] + "print('changed')\n")
    run = submit(exp, build(project, tmp_path / "marks", tmp_path / "best.txt"))
    # every script sits in one source folder: a change there is a change for every step
    reasons = run.find_step_run("prepare")[0].reuse_reasons
    assert reasons == ["スクリプトのフォルダーのファイルが変わりました: compare.py (変更)"]


def test_regenerate_outputs_and_allow_reuse_false(exp, project, tmp_path) -> None:
    pipeline = build(project, tmp_path / "marks", tmp_path / "best.txt")
    submit(exp, pipeline)
    run = submit(exp, pipeline, regenerate_outputs=True)
    assert not any(reused(run).values())
    assert run.find_step_run("prepare")[0].reuse_reasons[0].startswith("regenerate_outputs=True")
    pipeline.steps[0].allow_reuse = False
    run = submit(exp, pipeline)
    assert reused(run)["prepare"] is False
    assert run.find_step_run("prepare")[0].reuse_reasons == ["allow_reuse=False なので、毎回実行します。"]


def test_deleted_outputs_are_not_reused(exp, project, tmp_path, ws) -> None:
    pipeline = build(project, tmp_path / "marks", tmp_path / "best.txt")
    first = submit(exp, pipeline)
    prep_id = first.find_step_run("prepare")[0].id
    shutil.rmtree(ws.get_default_datastore().local_folder / "azureml" / prep_id)
    run = submit(exp, pipeline)
    prepare = run.find_step_run("prepare")[0]
    assert not prepare.reused
    assert any("消えている" in r for r in prepare.reuse_reasons)


def test_a_failing_middle_step_fails_its_dependants_not_its_siblings(exp, project, tmp_path) -> None:
    pipeline = build(project, tmp_path / "marks", tmp_path / "best.txt", middle="boom.py")
    run = exp.submit(pipeline, _launcher=process_launcher)
    with pytest.raises(ActivityFailedException, match="train_a"):
        run.wait_for_completion(show_output=False)
    status = {s.step_name: s.get_status() for s in run.get_steps()}
    assert status == {"prepare": "Completed", "train_a": "Failed", "train_b": "Completed",
                      "compare": "Canceled"}
    assert "failed on purpose" in run.record.error["message"]
    assert "'train_a' が失敗" in run.find_step_run("compare")[0].record.error["message"]


def test_invalid_pipelines_are_refused_before_anything_runs(exp, project) -> None:
    a = PythonScriptStep("prep.py", name="a", source_directory=project)
    b = PythonScriptStep("prep.py", name="b", source_directory=project)
    a.run_after(b)
    b.run_after(a)
    from amlhandson.pipeline.core import PipelineValidationError

    with pytest.raises(PipelineValidationError, match="循環"):
        exp.submit(Pipeline(None, [a]), _launcher=process_launcher)
    assert list(exp.get_runs()) == []


def test_show_output_prints_each_step(exp, project, tmp_path, capsys) -> None:
    pipeline = build(project, tmp_path / "marks", tmp_path / "best.txt")
    submit(exp, pipeline)
    run = exp.submit(pipeline, _launcher=process_launcher)
    started = time.perf_counter()
    assert run.wait_for_completion(show_output=True) == "Completed"
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert "StepRun(prepare) Status: Completed (再利用" in out
    assert "PipelineRun Status: Completed" in out
    print(f"fully reused 4-step pipeline: {elapsed:.3f} s")
