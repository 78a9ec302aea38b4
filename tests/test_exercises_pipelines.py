"""The pipeline exercise checks (notebook 08) on real pipeline runs: what a learner may get wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from amlhandson.exercises import check_pipeline_run, check_pipeline_step
from amlhandson.pipeline.core import Pipeline, PipelineData, PipelineParameter
from amlhandson.pipeline.core.pipeline import PipelineValidationError
from amlhandson.pipeline.steps import PythonScriptStep

STEP = textwrap.dedent("""
    import os, sys
    from amlhandson.core import Run
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    if args.get("--fail") == "yes":
        raise ValueError("broken step")
    if "--out" in args:
        os.makedirs(args["--out"], exist_ok=True)
        open(os.path.join(args["--out"], "x"), "w").write("x")
    if "--log" in args:
        Run.get_context().log("accuracy", 0.9)
""")


@pytest.fixture
def parts(ws, scratch: Path):
    for name in ("prep", "tree"):
        (scratch / name).mkdir()
        (scratch / name / "step.py").write_text(STEP)
    prepared = PipelineData("prepared")
    prep = PythonScriptStep("step.py", name="prepare", arguments=["--out", prepared],
                            outputs=[prepared], source_directory=scratch / "prep")
    return scratch, prepared, prep


def tree_step(scratch, prepared, *, inputs=True, log=True, fail="no", name="train_tree"):
    tree = PipelineData("tree_model")
    args = ["--data", prepared, "--out", tree, "--fail", fail] + (["--log", "1"] if log else [])
    return PythonScriptStep("step.py", name=name, arguments=args,
                            inputs=[prepared] if inputs else [], outputs=[tree],
                            source_directory=scratch / "tree")


def run_of(exp, step):
    run = exp.submit(Pipeline(exp.workspace, steps=[step]))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    return run


def check_step(run):
    return check_pipeline_step(run, step="train_tree", reads=["prepared"], writes=["tree_model"],
                               metrics={"accuracy": ...}, reused=["prepare"], hint="H")


def test_check_pipeline_step(ws, exp, parts, capsys) -> None:
    scratch, prepared, prep = parts
    assert not check_step(None)
    assert "まだ答えが入っていません" in capsys.readouterr().out
    first = run_of(exp, prep)  # the lesson ran prepare once already
    assert not check_step(tree_step(scratch, prepared))
    assert "PipelineRun" in capsys.readouterr().out
    assert not check_step(first)
    assert "'train_tree' というステップがありません (あるのは 'prepare')" in capsys.readouterr().out
    assert not check_step(run_of(exp, tree_step(scratch, prepared, name="tree")))
    assert "あるのは 'prepare', 'tree'" in capsys.readouterr().out
    assert not check_step(run_of(exp, tree_step(scratch, prepared, fail="yes")))
    out = capsys.readouterr().out
    assert "Failed" in out and "broken step" in out
    assert not check_step(run_of(exp, tree_step(scratch, prepared, log=False)))
    assert "'accuracy' が記録されていません" in capsys.readouterr().out
    right = run_of(exp, tree_step(scratch, prepared))
    assert check_step(right)
    assert "✅" in capsys.readouterr().out
    assert check_step(run_of(exp, tree_step(scratch, prepared)))  # reused this time: still right


def test_check_pipeline_step_sees_missing_inputs(ws, exp, parts, capsys) -> None:
    scratch, prepared, prep = parts
    # data in the arguments but not in inputs: refused at submit, saying where it belongs
    with pytest.raises(PipelineValidationError, match="'prepared' が inputs にも outputs にも"):
        exp.submit(Pipeline(ws, steps=[tree_step(scratch, prepared, inputs=False), prep]))
    # a step that never reads the prepared data: the check names the missing input
    tree = PipelineData("tree_model")
    alone = PythonScriptStep("step.py", name="train_tree", arguments=["--out", tree],
                             outputs=[tree], source_directory=scratch / "tree")
    run = exp.submit(Pipeline(ws, steps=[alone, prep]))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    assert not check_step(run)
    assert "inputs に 'prepared' がありません" in capsys.readouterr().out


def test_check_pipeline_run(ws, exp, parts, capsys) -> None:
    scratch, prepared, _prep = parts
    k = PipelineParameter("n_neighbors", default_value=3)
    step = PythonScriptStep("step.py", name="knn", arguments=["--k", k],
                            source_directory=scratch / "tree")
    pipeline = Pipeline(ws, steps=[step])
    direct = exp.submit(pipeline, pipeline_parameters={"n_neighbors": 7})
    direct.wait_for_completion(show_output=False)
    published = pipeline.publish(name="p")

    def check(run):
        return check_pipeline_run(run, experiment="rest", pipeline_id=published.id,
                                  parameters={"n_neighbors": 7}, hint="H")

    assert not check(None)
    assert not check(direct)
    assert "実験 'my-first-experiment'" in capsys.readouterr().out
    from amlhandson import Experiment

    wrong = published.submit(ws, "rest", pipeline_parameters={"n_neighbors": 5})
    wrong.wait_for_completion(show_output=False)
    assert not check(wrong)
    assert "'n_neighbors' の値が" in capsys.readouterr().out
    not_published = Experiment(ws, "rest").submit(pipeline, pipeline_parameters={"n_neighbors": 7})
    not_published.wait_for_completion(show_output=False)
    assert not check(not_published)
    assert "公開したパイプラインの Run ではありません" in capsys.readouterr().out
    right = published.submit(ws, "rest", pipeline_parameters={"n_neighbors": 7})
    right.wait_for_completion(show_output=False)
    assert check(right)
    assert "✅" in capsys.readouterr().out
