"""Environments and conda dependencies (YAML files in, YAML files out)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from amlhandson.core import Environment as LazyEnvironment
from amlhandson.core.conda_dependencies import CondaDependencies
from amlhandson.core.environment import Environment
from amlhandson.core.model import InferenceConfig
from amlhandson.exceptions import UserErrorException

MYENV = """\
# the hands-on's environment
name: myenv
channels:
  - conda-forge
dependencies:
  - python=3.10
  - scikit-learn=1.4
  - pip
  - pip:
      - joblib
      - --index-url https://example.invalid/simple
"""


def test_create_add_remove_and_serialize(tmp_path: Path) -> None:
    cd = CondaDependencies.create(conda_packages=["scikit-learn", "numpy=1.26"],
                                  pip_packages=["joblib"], python_version="3.11")
    assert cd.conda_packages == ["python=3.11", "scikit-learn", "numpy=1.26", "pip"]
    assert cd.pip_packages == ["joblib"]
    cd.add_conda_package("numpy>=2")  # same package: replaced, not doubled
    cd.add_pip_package("requests==2.31")
    cd.add_pip_package("Requests")
    cd.remove_conda_package("scikit-learn")
    cd.remove_pip_package("joblib")
    cd.add_channel("defaults")
    cd.add_channel("defaults")
    assert cd.conda_packages == ["python=3.11", "numpy>=2", "pip"]
    assert cd.pip_packages == ["Requests"] and cd.conda_channels == ["conda-forge", "defaults"]
    text = cd.serialize_to_string()
    assert text.startswith("# Conda environment specification.")
    data = yaml.safe_load(text)
    assert data == {"name": "project_environment",
                    "dependencies": ["python=3.11", "numpy>=2", "pip", {"pip": ["Requests"]}],
                    "channels": ["conda-forge", "defaults"]}
    path = cd.save(tmp_path / "sub" / "env.yml")
    assert CondaDependencies(path) == cd
    assert cd.get_python_version() == "3.11"
    with pytest.raises(UserErrorException, match="バージョン"):
        cd.set_python_version("three")
    with pytest.raises(UserErrorException, match="パッケージ名"):
        cd.add_pip_package("")


def test_read_conda_file_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "myenv.yml"
    good.write_text(MYENV)
    cd = CondaDependencies(good)
    assert cd.name == "myenv"
    assert cd.conda_packages == ["python=3.10", "scikit-learn=1.4", "pip"]
    assert cd.pip_packages == ["joblib"]
    assert cd.pip_options == ["--index-url https://example.invalid/simple"]
    assert cd.get_python_version() == "3.10"
    cd.add_conda_package("numpy")
    assert cd.conda_packages == ["python=3.10", "scikit-learn=1.4", "numpy", "pip"]
    bad_yaml = tmp_path / "bad.yml"
    bad_yaml.write_text("name: x\ndependencies:\n  - a\n - b\n")
    with pytest.raises(UserErrorException, match=r"正しい YAML ではありません \(行 4"):
        CondaDependencies(bad_yaml)
    not_mapping = tmp_path / "list.yml"
    not_mapping.write_text("- numpy\n")
    with pytest.raises(UserErrorException, match="マッピング"):
        CondaDependencies(not_mapping)
    bad_pip = tmp_path / "pip.yml"
    bad_pip.write_text("dependencies:\n  - pip: joblib\n")
    with pytest.raises(UserErrorException, match="pip"):
        CondaDependencies(bad_pip)
    with pytest.raises(UserErrorException, match="ありません"):
        CondaDependencies(tmp_path / "missing.yml")


def test_environment_from_files_and_sections(tmp_path: Path) -> None:
    (tmp_path / "myenv.yml").write_text(MYENV)
    env = Environment.from_conda_specification("sklearn-env", tmp_path / "myenv.yml")
    assert env.name == "sklearn-env" and env.version is None
    assert env.python.conda_dependencies.pip_packages == ["joblib"]
    assert env.python.user_managed_dependencies is False and env.docker.enabled is False
    with pytest.raises(UserErrorException, match="CondaDependencies"):
        env.python.conda_dependencies = ["numpy"]
    (tmp_path / "requirements.txt").write_text("# deps\nscikit-learn>=1.2\n\njoblib  # pickles\n")
    req = Environment.from_pip_requirements("req-env", tmp_path / "requirements.txt")
    assert req.python.conda_dependencies.pip_packages == ["scikit-learn>=1.2", "joblib"]
    assert Environment("plain").python.conda_dependencies.pip_packages == []
    assert LazyEnvironment is Environment
    with pytest.raises(UserErrorException, match="environment の名前"):
        Environment("bad name")


def test_register_get_list(ws) -> None:
    env = Environment("sklearn-env")
    env.python.conda_dependencies = CondaDependencies.create(conda_packages=["scikit-learn"])
    assert env.register(ws).version == "1"
    same = Environment("sklearn-env")
    same.python.conda_dependencies = CondaDependencies.create(conda_packages=["scikit-learn"])
    assert same.register(ws).version == "1"  # unchanged: no new version
    env.python.conda_dependencies.add_pip_package("joblib")
    assert env.register(ws).version == "2"
    got = Environment.get(ws, "sklearn-env")
    assert got.version == "2" and got.python.conda_dependencies.pip_packages == ["joblib"]
    assert Environment.get(ws, "sklearn-env", version=1).python.conda_dependencies.pip_packages == []
    assert list(Environment.list(ws)) == ["sklearn-env"]
    with pytest.raises(UserErrorException, match="登録されていません"):
        Environment.get(ws, "other-env")


def test_inference_config_validation(scratch: Path) -> None:
    (scratch / "src").mkdir()
    (scratch / "src" / "score.py").write_text("def init():\n    pass\n")
    (scratch / "src" / "env.yml").write_text(MYENV)
    ic = InferenceConfig(entry_script="score.py", source_directory="src", conda_file="env.yml",
                         runtime="python")
    assert ic._environment().python.conda_dependencies.pip_packages == ["joblib"]
    spec = ic._to_spec()
    assert Path(spec["entry_script"]) == (scratch / "src" / "score.py").resolve()
    with pytest.raises(UserErrorException, match="同時に指定できません"):
        InferenceConfig(entry_script="score.py", source_directory="src",
                        conda_file="env.yml", environment=Environment("e"))
    with pytest.raises(UserErrorException, match="not found"):
        InferenceConfig(entry_script="score.py")
    with pytest.raises(UserErrorException, match="runtime"):
        InferenceConfig(entry_script="score.py", source_directory="src", runtime="spark-py")
    with pytest.raises(UserErrorException, match="source_directory"):
        InferenceConfig(entry_script="score.py", source_directory="nowhere")
    with pytest.raises(UserErrorException, match="conda_file"):
        InferenceConfig(entry_script="score.py", source_directory="src", conda_file="no.yml")
    (scratch / "src" / "notes.txt").write_text("x")
    with pytest.raises(UserErrorException, match=".py"):
        InferenceConfig(entry_script="notes.txt", source_directory="src")


RACER = """
import sys, time
import time
from pathlib import Path
from amlhandson import Workspace
from amlhandson.core.conda_dependencies import CondaDependencies
from amlhandson.core.environment import Environment
ws = Workspace.get("docs-ws", resource_group="docs-aml")
while not Path(sys.argv[2]).exists():
    time.sleep(0.001)
env = Environment("race")
env.python.conda_dependencies = CondaDependencies.create(pip_packages=[sys.argv[1]])
print(env.register(ws).version)
"""


def test_racing_registrations_get_distinct_complete_versions(ws, scratch: Path) -> None:
    import os
    import subprocess
    import sys

    go = scratch / "go"
    names = [f"pkg{i}" for i in range(6)]
    procs = [subprocess.Popen([sys.executable, "-c", RACER, name, str(go)], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
             for name in names]
    time.sleep(1.0)  # every process imported and waits
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    versions = sorted(int(out) for out, _ in results)
    assert versions == list(range(1, 7))
    got = {Environment.get(ws, "race", version=v).python.conda_dependencies.pip_packages[0]
           for v in versions}
    assert got == set(names)
