"""RunConfiguration, ScriptRunConfig and the 2019 estimators (configuration only, no runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlhandson.core.conda_dependencies import CondaDependencies
from amlhandson.core.environment import Environment
from amlhandson.core.runconfig import RunConfiguration
from amlhandson.core.script_run_config import ScriptRunConfig
from amlhandson.exceptions import UserErrorException
from amlhandson.train.estimator import Estimator
from amlhandson.train.sklearn import SKLearn


class _Target:
    name = "cpucluster"


def test_run_configuration_records_v1_settings() -> None:
    rc = RunConfiguration()
    rc.target = _Target()
    rc.environment.docker.enabled = True
    rc.environment.docker.base_image = "mcr.microsoft.com/azureml/base:latest"
    rc.environment.python.user_managed_dependencies = True
    d = rc._to_dict()
    assert d["target"] == "cpucluster"
    assert d["environment"]["docker"]["enabled"] is True
    assert d["environment"]["docker"]["baseImage"].endswith("base:latest")
    assert d["environment"]["python"]["userManagedDependencies"] is True
    with pytest.raises(UserErrorException):
        rc.environment = "env"  # type: ignore[assignment]
    with pytest.raises(UserErrorException):
        rc.target = ""
    rc.framework = "Julia"
    with pytest.raises(UserErrorException, match="framework"):
        rc._to_dict()


def test_script_run_config_keywords_do_not_change_the_given_run_config(tmp_path: Path) -> None:
    rc = RunConfiguration()
    env = Environment("my-env")
    src = ScriptRunConfig(str(tmp_path), "train.py", arguments=["--k", 3], run_config=rc,
                          compute_target=_Target(), environment=env)
    assert src.target == "cpucluster" and src.run_config.environment is env
    assert rc.target == "local" and rc.environment is not env
    (tmp_path / "train.py").write_text("print(1)\n")
    assert src._script_path() == (tmp_path / "train.py").resolve()
    definition = src._definition()
    assert definition["arguments"] == ["--k", "3"] and definition["script"] == "train.py"


@pytest.mark.parametrize("kwargs, message", [
    ({"source_directory": ""}, "source_directory"),
    ({"source_directory": ".", "arguments": "--k 3"}, "arguments"),
    ({"source_directory": ".", "run_config": {"target": "local"}}, "RunConfiguration"),
    ({"source_directory": ".", "script": ""}, "script"),
])
def test_script_run_config_refuses_bad_values(kwargs, message) -> None:
    with pytest.raises(UserErrorException, match=message):
        ScriptRunConfig(**kwargs)


def test_script_path_must_exist_inside_the_source_directory(tmp_path: Path) -> None:
    (tmp_path / "outside.py").write_text("")
    folder = tmp_path / "src"
    folder.mkdir()
    with pytest.raises(UserErrorException, match="の中のファイル"):
        ScriptRunConfig(str(folder), "../outside.py")._script_path()
    with pytest.raises(UserErrorException, match="ありません"):
        ScriptRunConfig(str(folder), "missing.py")._script_path()
    with pytest.raises(UserErrorException, match="フォルダーが"):
        ScriptRunConfig(str(tmp_path / "nope"), "x.py")._script_path()
    with pytest.raises(UserErrorException, match="script"):
        ScriptRunConfig(str(folder))._script_path()


def test_estimator_builds_a_script_run_config() -> None:
    est = Estimator("scripts", entry_script="train.py", compute_target=_Target(),
                    script_params={"--data-folder": "data", "--flag": None, "--n": 2},
                    conda_packages=["numpy"], pip_packages=["joblib"], use_docker=False,
                    environment_variables={"A": "1"})
    src = est._get_script_run_config()
    assert src.script == "train.py" and src.target == "cpucluster"
    assert src.arguments == ["--data-folder", "data", "--flag", "--n", "2"]
    env = src.run_config.environment
    assert "numpy" in env.python.conda_dependencies.conda_packages
    assert env.python.conda_dependencies.pip_packages == ["joblib"]
    assert env.environment_variables == {"A": "1"} and env.docker.enabled is False


def test_sklearn_adds_scikit_learn_and_keeps_a_pin() -> None:
    est = SKLearn(".", entry_script="train.py", pip_packages=["scikit-learn==1.5.0"])
    assert est.conda_dependencies.pip_packages == ["scikit-learn==1.5.0"]
    cd = CondaDependencies.create(pip_packages=["pandas"])
    env = Environment("e")
    env.python.conda_dependencies = cd
    est2 = SKLearn(".", entry_script="train.py", environment_definition=env)
    assert est2.conda_dependencies.pip_packages == ["pandas"]


@pytest.mark.parametrize("kwargs, message", [
    ({}, "entry_script"),
    ({"entry_script": "t.py", "node_count": 2}, "node_count"),
    ({"entry_script": "t.py", "script_params": ["--k", 1]}, "script_params"),
    ({"entry_script": "t.py", "script_params": {"": 1}}, "script_params"),
    ({"entry_script": "t.py", "environment_definition": Environment("e"),
      "pip_packages": ["x"]}, "同時に指定できません"),
])
def test_estimator_refuses_bad_values(kwargs, message) -> None:
    with pytest.raises(UserErrorException, match=message):
        Estimator(".", **kwargs)
