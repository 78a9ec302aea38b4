"""``amlhandson doctor`` on a good machine and on broken ones; missing modules named with the fix.

A "missing package" is made real for a child process: a folder early on its
``PYTHONPATH`` holds a package of that name whose import fails exactly like a
missing module does (``ModuleNotFoundError`` with the module's name).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from amlhandson import doctor
from amlhandson.doctor import INSTALL_COMMAND, Finding

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


def hide_module(folder: Path, module: str) -> Path:
    """A folder that makes ``import module`` fail as if it were not installed."""
    package = folder / module
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n")
    return folder


def run_doctor(home: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AMLHANDSON_HOME=str(home))
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(pythonpath), env.get("PYTHONPATH"))
                                            if p)
    return subprocess.run([sys.executable, "-m", "amlhandson.cli", "doctor"], env=env,
                          capture_output=True, text=True, timeout=120)


def _prepare_mnist(home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from amlhandson.datasets import mnist

    monkeypatch.setenv("AMLHANDSON_HOME", str(home))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mnist.MnistWarning)
        mnist.download(mirrors=str(SHARED_MNIST) if SHARED_MNIST.is_dir() else None,
                       progress=False)
    return mnist.status().kind


def _line(out: str, item: str) -> str:
    return next(line for line in out.splitlines() if f"  {item} " in line)


def test_doctor_on_a_good_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kind = _prepare_mnist(tmp_path / "home", monkeypatch)
    proc = run_doctor(tmp_path / "home")
    assert proc.returncode == 0, proc.stdout
    for item in ("Python", "numpy", "uvicorn", "scikit-learn", "JupyterLab", "ウィジェット拡張",
                 "ポート", "ディスクの空き", "書き込み"):
        assert _line(proc.stdout, item).startswith("OK"), item
    mnist_line = _line(proc.stdout, "MNIST")
    if kind == "full":
        assert mnist_line.startswith("OK") and "すべて OK です" in proc.stdout
    else:  # the sample works, with a note on how to get the full set
        assert mnist_line.startswith("注意") and "--mirror" in mnist_line
    assert "\033[" not in proc.stdout  # no colours when not on a terminal


def test_doctor_names_a_missing_package_and_the_install_command(tmp_path: Path) -> None:
    proc = run_doctor(tmp_path / "home", hide_module(tmp_path / "hide", "uvicorn"))
    assert proc.returncode == 1
    line = _line(proc.stdout, "uvicorn")
    assert line.startswith("NG") and "No module named 'uvicorn'" in line
    assert line.rstrip().endswith(INSTALL_COMMAND)
    assert "NG が" in proc.stdout and "もう一度 amlhandson doctor" in proc.stdout


def test_doctor_reports_missing_data_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "not-yet" / "home"
    proc = run_doctor(home)
    assert proc.returncode == 1
    line = _line(proc.stdout, "MNIST")
    assert line.startswith("NG") and "amlhandson data mnist" in line
    assert not (tmp_path / "not-yet").exists()  # a check never creates the home folder
    assert _line(proc.stdout, "書き込み").startswith("OK")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (Linux)")
def test_doctor_reports_a_home_it_cannot_write_to(tmp_path: Path) -> None:
    proc = run_doctor(Path("/proc/amlhandson-home"))
    assert proc.returncode == 1
    line = _line(proc.stdout, "書き込み")
    assert line.startswith("NG") and "AMLHANDSON_HOME" in line


def test_package_checks() -> None:
    assert doctor.check_package("numpy", ">=1.0").level == "ok"
    too_old = doctor.check_package("numpy", ">=999")
    assert too_old.level == "bad" and ">=999" in too_old.detail and "--upgrade" in too_old.fix
    missing = doctor.check_package("no-such-package-amlhandson", "")
    assert missing.level == "bad" and missing.fix == INSTALL_COMMAND
    wanted = dict(doctor.course_requirements() or [])
    assert {"uvicorn", "jupyterlab", "scikit-learn", "numpy"} <= set(wanted)
    assert wanted["jupyterlab"] == ">=4.1"
    assert "pytest" not in wanted and "nbval" not in wanted  # test tools are not course needs


def test_render_and_exit_code() -> None:
    findings = [Finding("Python", "ok", "3.11"), Finding("MNIST", "warn", "見本", "amlhandson data mnist"),
                Finding("uvicorn", "bad", "見つかりません", INSTALL_COMMAND)]
    text = doctor.render(findings)
    assert text.splitlines()[0].split() == ["状態", "項目", "結果", "直し方"]
    assert "NG が 1 件あります" in text and doctor.exit_code(findings) == 1
    coloured = doctor.render(findings, color=True)
    assert "\033[32mOK\033[0m" in coloured and "\033[31mNG\033[0m" in coloured
    assert doctor.exit_code(findings[:2]) == 0


SCORE = """\
def init():
    pass

def run(raw_data):
    return [1]
"""


def test_deploy_without_the_server_library_names_it_and_the_install_command(
        ws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from amlhandson.core.model import InferenceConfig, Model
    from amlhandson.core.webservice import LocalWebservice
    from amlhandson.exceptions import WebserviceException

    hidden = hide_module(tmp_path / "hide", "uvicorn")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(hidden), os.environ.get("PYTHONPATH")) if p))
    (tmp_path / "m.pkl").write_bytes(b"x")
    (tmp_path / "score.py").write_text(textwrap.dedent(SCORE))
    model = Model.register(ws, str(tmp_path / "m.pkl"), "m")
    service = Model.deploy(ws, "no-server", [model],
                           InferenceConfig(entry_script=str(tmp_path / "score.py")),
                           LocalWebservice.deploy_configuration(), overwrite=True)
    try:
        with pytest.raises(WebserviceException) as caught:
            service.wait_for_deployment()
        message = str(caught.value)
        assert "No module named 'uvicorn'" in message
        assert 'pip install -e ".[course]"' in message
        assert "再起動" not in message  # not the "killed process / restarted PC" explanation
    finally:
        service.delete()
