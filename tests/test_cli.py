"""The amlhandson command: workspace, runs, errors in plain words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from amlhandson import Experiment, Workspace
from amlhandson.cli import main


def test_workspace_show_and_list(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    Experiment(ws, "my-first-experiment").start_logging().complete()
    assert main(["workspace", "show"]) == 0
    out = capsys.readouterr().out
    assert "docs-ws" in out and "docs-aml" in out and str(ws.path) in out
    assert "my-first-experiment" in out and "Runs           : 1" in out
    assert main(["workspace", "list"]) == 0
    assert "docs-ws" in capsys.readouterr().out


def test_runs_list_and_show(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    exp = Experiment(ws, "my-first-experiment")
    with exp.start_logging() as run:
        run.log("accuracy", 0.92)
        run.log_list("my list", [1, 2, 3])
        run.tag("model", "logreg")
        with run.child_run("k=1") as child:
            child.log("accuracy", 0.9)
    assert main(["runs", "list"]) == 0
    out = capsys.readouterr().out
    assert run.id in out and "Completed" in out and "accuracy=0.92" in out
    assert child.id not in out
    assert main(["runs", "list", "--all", "-e", "my-first-experiment"]) == 0
    assert child.id in capsys.readouterr().out
    assert main(["runs", "show", run.id[:8]]) == 0
    out = capsys.readouterr().out
    assert "accuracy = 0.92" in out and "model = 'logreg'" in out and "Children : 1" in out
    assert main(["runs", "show", run.id, "--json"]) == 0
    assert '"accuracy": 0.92' in capsys.readouterr().out


def test_unknown_run_and_missing_config(ws: Workspace, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "show", "does-not-exist"]) == 1
    assert "runs list" in capsys.readouterr().err
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert main(["runs", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("エラー: We could not find config.json") and "Traceback" not in err
    assert main(["runs", "list", "-w", "docs-ws", "-g", "docs-aml"]) == 0


def test_workspace_delete(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "delete", "docs-ws", "-g", "docs-aml", "--yes"]) == 0
    assert not ws.path.exists()
    assert main(["workspace", "delete", "docs-ws", "-g", "docs-aml", "--yes"]) == 1


def test_course_command_without_notebooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["course", "--no-lab", "--notebooks", str(tmp_path)]) == 2
    assert "--notebooks" in capsys.readouterr().err


def test_console_script_is_installed(scratch: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "amlhandson.cli", "--version"],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.startswith("amlhandson ")


def test_data_mnist_passes_options_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from amlhandson.datasets import mnist

    seen = []
    monkeypatch.setattr(mnist, "cli_main", lambda argv: seen.append(argv) or 0)
    assert main(["data", "mnist", "--dir", str(tmp_path), "--no-progress"]) == 0
    assert seen == [["--dir", str(tmp_path), "--no-progress"]]


def test_course_prepares_the_sample_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00-overview.ipynb").write_text("{}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AMLHANDSON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMLHANDSON_MNIST_NO_PUBLIC", "1")
    monkeypatch.delenv("AMLHANDSON_MNIST_MIRROR", raising=False)
    assert main(["course", "--no-lab"]) == 0
    captured = capsys.readouterr()
    assert "見本 (sample" in captured.out and "$AMLHANDSON_HOME/datasets/mnist" in captured.out
    # one short notice, not the list of every mirror tried
    assert captured.err.startswith("注意: ") and len(captured.err.splitlines()) == 1
    assert "amlhandson data mnist --mirror" in captured.err and "cli.py:" not in captured.err
    from amlhandson.datasets import mnist

    assert (mnist.data_dir() / "train-images.gz").is_file()  # where the notebooks read it
    assert not (tmp_path / "notebooks" / "data").exists()
    # the next start does not try the mirrors again (an offline room would wait each time)
    assert main(["course", "--no-lab"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "見本 (sample" in captured.out
    # with a classroom mirror set, it tries again (and -v explains every mirror tried)
    monkeypatch.setenv("AMLHANDSON_MNIST_MIRROR", str(tmp_path / "no-such-mirror"))
    assert main(["course", "--no-lab", "-v"]) == 0
    assert "no-such-mirror" in capsys.readouterr().err
