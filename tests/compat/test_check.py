"""``amlhandson compat check``: static scans, a real notebook run, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from amlhandson.cli import main as cli_main
from amlhandson.compat.check import check_path, installs_sdk_only, scan_source

from .conftest import CONFIG, child_env

SCRIPT = """\
import numpy as np
from sklearn.externals import joblib
from sklearn.linear_model import LogisticRegression
from azureml.core import Run, Workspace
from azureml.core.webservice import AksWebservice
from azureml.core import Wrokspace
import azureml.nosuchthing
run = Run.get_submitted_run()
clf = LogisticRegression(C=1.0, solver="liblinear", multi_class="auto")
run.log("acc", np.float(0.5))
Webservice.deploy_from_model(workspace=ws)
"""


def _cell(source: str, tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "metadata": {"tags": tags or []}, "outputs": [],
            "execution_count": None, "source": source.splitlines(keepends=True)}


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = {"nbformat": 4, "nbformat_minor": 2, "metadata": {"kernelspec": {
        "name": "python36", "display_name": "Python 3.6", "language": "python"}},
          "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# 2019"]}]
          + [_cell(c) for c in cells]}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_static_scan_of_a_script() -> None:
    report = scan_source(SCRIPT, "train.py")
    rows = {(f.where, f.status) for f in report.findings}
    assert ("2", "shim") in rows and ("9", "shim") in rows and ("10", "shim") in rows
    assert ("5", "cloud") in rows and ("6", "change") in rows and ("7", "change") in rows
    assert ("8", "shim") in rows and ("11", "change") in rows
    assert ("4", "ok") in rows
    assert report.exit_code == 1
    text = report.render()
    assert "クラウド専用" in text and "要変更" in text and "docs/compat.md" in text


def test_static_scan_never_leaves_the_layer_on() -> None:
    import amlhandson.compat as compat

    scan_source("import azureml.core\n")
    assert not compat.is_installed()


def test_syntax_errors_and_magics() -> None:
    report = scan_source("print 'hello'\n")
    assert report.findings[0].status == "change" and "文法エラー" in report.findings[0].why
    assert scan_source("%matplotlib inline\n!ls\nimport azureml.core\n").findings[0].where == "3"


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = tmp_path / "good.py"
    good.write_text("from azureml.core import Workspace, Experiment\nimport os\n")
    bad = tmp_path / "bad.py"
    bad.write_text(SCRIPT)
    assert cli_main(["compat", "check", str(good)]) == 0
    assert cli_main(["compat", "check", str(bad)]) == 1
    assert cli_main(["compat", "check", str(bad), "--fail-under", "40"]) == 0
    assert cli_main(["compat", "check", str(tmp_path / "missing.py")]) == 2
    (tmp_path / "notes.txt").write_text("x")
    assert cli_main(["compat", "check", str(tmp_path / "notes.txt")]) == 2
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert cli_main(["compat", "check", "--static", str(tmp_path / "broken.ipynb")]) == 2
    out = capsys.readouterr()
    assert "good.py" in out.out and "エラー" in out.err


def test_sdk_install_cells_are_recognised() -> None:
    assert installs_sdk_only("# install\n!pip install --upgrade azureml-sdk[notebooks,automl]\n")
    assert installs_sdk_only("%pip install azureml-core azureml-widgets")
    assert not installs_sdk_only("!pip install azureml-sdk\nimport os")
    assert not installs_sdk_only("!pip install matplotlib")


def test_a_2019_notebook_runs_cell_by_cell(tmp_path: Path, aml_home: Path) -> None:
    folder = tmp_path / "nb"
    folder.mkdir()
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))  # found in a parent, as v1 did
    (folder / "helper.py").write_text("GREETING = 'hello'\n")
    notebook = _notebook(folder / "tutorial.ipynb", [
        "!pip install --upgrade azureml-sdk[notebooks]",
        "import azureml.core\nfrom azureml.core import Workspace, Experiment\n"
        "from helper import GREETING\nprint('SDK version:', azureml.core.VERSION)",
        "ws = Workspace.from_config()\nexp = Experiment(workspace=ws, name='nb-2019')",
        "run = exp.start_logging()\nrun.log('trial', 1)\nrun.complete()",
        "from azureml.core.webservice import AksWebservice\n"
        "aks_config = AksWebservice.deploy_configuration(cpu_cores=1, memory_gb=1)",
        "from azureml.core.webservice import Webservice\n"
        "Webservice.deploy_from_model(workspace=ws, name='x', models=[], image_config=None)",
        "print(run.get_metrics())",
    ])
    before = sorted(p.name for p in folder.iterdir())
    report = check_path(notebook, timeout=120)
    statuses = [f.status for f in report.findings]
    assert statuses == ["skipped", "ok", "ok", "ok", "cloud", "change", "ok"], report.render()
    assert "Azure Kubernetes Service" in report.findings[4].why
    assert "Model.deploy" in report.findings[5].why
    assert report.exit_code == 1 and round(report.ratio, 2) == 0.67
    assert sorted(p.name for p in folder.iterdir()) == before  # ran in a scratch copy
    assert not (aml_home / "workspaces").exists()  # and with a scratch AMLHANDSON_HOME
    text = report.render()
    assert "4/6 セルが動きます (67%)" in text


def test_check_command_in_a_new_process(tmp_path: Path) -> None:
    script = tmp_path / "score.py"
    script.write_text("from sklearn.externals import joblib\nfrom azureml.core.model import Model\n")
    proc = subprocess.run([sys.executable, "-m", "amlhandson.cli", "compat", "check", str(script)],
                          env=child_env(tmp_path / "home"), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "動く (互換)" in proc.stdout and "2/2 項目が動きます (100%)" in proc.stdout
