"""The checks of notebook 07's exercises: a submitted script's run, a HyperDriveConfig."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from amlhandson import Experiment
from amlhandson.core import ScriptRunConfig
from amlhandson.exercises import NOT_ANSWERED, check_hyperdrive_config, check_script_run
from amlhandson.train.hyperdrive import (
    BanditPolicy,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    choice,
    loguniform,
    uniform,
)

SCRIPT = textwrap.dedent("""
    import os, sys
    from amlhandson.core import Run
    run = Run.get_context()
    run.log("alpha", 0.0001)
    for value in (0.5, 0.7, 0.8):
        run.log("accuracy", value)
    if "--save" in sys.argv:
        os.makedirs("outputs", exist_ok=True)
        open("outputs/model.pkl", "wb").write(b"model")
    if "--fail" in sys.argv:
        raise RuntimeError("the data folder is wrong")
""")
WANT = {"alpha": 0.0001, "accuracy": lambda v: isinstance(v, list) and len(v) == 3}


@pytest.fixture
def folder(scratch: Path) -> Path:
    path = scratch / "ex"
    path.mkdir()
    (path / "train_sgd.py").write_text(SCRIPT)
    (path / "other.py").write_text(SCRIPT)
    return path


def _submit(exp: Experiment, folder: Path, script: str = "train_sgd.py", *args: str):
    run = exp.submit(ScriptRunConfig(str(folder), script, arguments=list(args)))
    run.wait_for_completion(raise_on_error=False)
    return run


def _check(run, capsys, **overrides) -> tuple[bool, str]:
    kwargs = dict(script="train_sgd.py", experiment="remote-training", metrics=WANT,
                  files=["outputs/model.pkl"], hint="HINT")
    kwargs.update(overrides)
    ok = check_script_run(run, **kwargs)
    return bool(ok), capsys.readouterr().out


def test_check_script_run_accepts_the_right_run(ws, folder: Path, capsys) -> None:
    run = _submit(Experiment(ws, "remote-training"), folder, "train_sgd.py", "--save")
    ok, out = _check(run, capsys)
    assert ok and out.startswith("✅")


def test_check_script_run_says_what_is_wrong(ws, folder: Path, capsys) -> None:
    exp = Experiment(ws, "remote-training")
    assert _check(None, capsys) == (False, NOT_ANSWERED + "\n")
    ok, out = _check(run_details := {"status": "Completed"}, capsys)  # wait_for_completion()'s dict
    assert not ok and "Run" in out and "wait_for_completion" in out and run_details
    interactive = exp.start_logging()
    interactive.complete()
    ok, out = _check(interactive, capsys)
    assert not ok and "ScriptRunConfig" in out
    ok, out = _check(_submit(exp, folder, "other.py", "--save"), capsys)
    assert not ok and "'other.py'" in out
    ok, out = _check(_submit(Experiment(ws, "elsewhere"), folder, "train_sgd.py", "--save"),
                     capsys)
    assert not ok and "'elsewhere'" in out
    failed = _submit(exp, folder, "train_sgd.py", "--fail")
    ok, out = _check(failed, capsys)
    assert not ok and "Failed" in out and "the data folder is wrong" in out
    no_model = _submit(exp, folder, "train_sgd.py")
    ok, out = _check(no_model, capsys)
    assert not ok and "outputs/model.pkl" in out and "HINT" in out
    ok, out = _check(no_model, capsys, metrics={"accuracy": lambda v: len(v) == 5}, files=[])
    assert not ok and "3 回記録されています" in out
    ok, out = _check(no_model, capsys, metrics={"loss": ...}, files=[])
    assert not ok and "'loss'" in out


def test_check_script_run_waits_for_a_running_run(ws, folder: Path, capsys) -> None:
    (folder / "slow.py").write_text("import time\ntime.sleep(30)\n")
    run = Experiment(ws, "remote-training").submit(ScriptRunConfig(str(folder), "slow.py"))
    try:
        ok, out = _check(run, capsys, script="slow.py")
        assert not ok and "まだ終わっていません" in out
    finally:
        run.cancel()


def _config(**overrides) -> HyperDriveConfig:
    args = dict(run_config=ScriptRunConfig(".", "train_sgd.py"),
                hyperparameter_sampling=RandomParameterSampling({"--alpha": loguniform(-12, -4)}),
                policy=BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=1),
                primary_metric_name="accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                max_total_runs=6, max_concurrent_runs=2)
    args.update(overrides)
    return HyperDriveConfig(**args)


@pytest.mark.parametrize("overrides, words", [
    ({"run_config": ScriptRunConfig(".", "train.py")}, "'train.py'"),
    ({"hyperparameter_sampling": GridParameterSampling({"--alpha": choice(0.1, 0.01)})},
     "GridParameterSampling"),
    ({"hyperparameter_sampling": RandomParameterSampling({"--C": loguniform(-12, -4)})}, "'--C'"),
    ({"hyperparameter_sampling": RandomParameterSampling({"--alpha": uniform(0, 1)})}, "uniform"),
    ({"policy": MedianStoppingPolicy()}, "MedianStoppingPolicy"),
    ({"policy": None}, "NoTerminationPolicy"),
    ({"primary_metric_name": "loss"}, "'loss'"),
    ({"primary_metric_goal": PrimaryMetricGoal.MINIMIZE}, "minimize"),
    ({"max_total_runs": 8}, "max_total_runs"),
    ({"max_concurrent_runs": 6}, "max_concurrent_runs"),
])
def test_check_hyperdrive_config_names_the_first_difference(overrides, words, capsys) -> None:
    ok = check_hyperdrive_config(_config(**overrides), sampling="random",
                                 parameters={"--alpha": "loguniform"}, policy="Bandit",
                                 primary_metric="accuracy", goal="maximize", max_total_runs=6,
                                 max_concurrent_runs=2, script="train_sgd.py", hint="HINT")
    out = capsys.readouterr().out
    assert not ok and words in out and out.startswith("❌"), out


def test_check_hyperdrive_config_accepts_the_right_one(capsys) -> None:
    args = dict(sampling="random", parameters={"--alpha": "loguniform"}, policy="Bandit",
                primary_metric="accuracy", goal="maximize", max_total_runs=6,
                max_concurrent_runs=2, script="train_sgd.py", hint="HINT")
    assert check_hyperdrive_config(_config(), **args)
    assert not check_hyperdrive_config(None, **args)
    assert not check_hyperdrive_config("HyperDriveConfig(...)", **args)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("✅") and out[1] == NOT_ANSWERED and "HyperDriveConfig" in out[2]
