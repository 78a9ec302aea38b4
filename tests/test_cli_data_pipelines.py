"""The data and pipeline commands: datasets, datastores, pipelines, schedules (in-process ``main``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from amlhandson import Experiment
from amlhandson.cli import main
from amlhandson.core import Dataset
from amlhandson.pipeline.core import Schedule, ScheduleRecurrence, _detached
from tests.test_published_pipeline import make_pipeline, project  # noqa: F401 - a fixture


@pytest.fixture
def files(ws, tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.gz", "b.gz"):
        (src / name).write_text(name)
    ds = ws.get_default_datastore()
    ds.upload(str(src), target_path="mnist", show_progress=False)
    return ds


def test_datasets_list_and_show(ws, files, exp, capsys, tmp_path) -> None:
    assert main(["datasets", "list"]) == 0
    assert "まだありません" in capsys.readouterr().out
    first = Dataset.File.from_files((files, "mnist/*.gz")).register(ws, "mnist",
                                                                     description="digits")
    (tmp_path / "src" / "c.gz").write_text("c")
    files.upload(str(tmp_path / "src"), target_path="mnist", show_progress=False)
    second = Dataset.File.from_files((files, "mnist/*.gz")).register(
        ws, "mnist", create_new_version=True)
    assert (first.version, second.version) == (1, 2)
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert "mnist" in out and " 2 " in out and " 1 " not in out.split("\n", 1)[1]
    assert main(["datasets", "list", "--versions"]) == 0
    out = capsys.readouterr().out
    assert out.count("mnist") == 2 and "digits" in out
    assert main(["datasets", "show", "mnist"]) == 0
    out = capsys.readouterr().out
    assert "Dataset mnist version 2" in out and "Files       : 3" in out
    assert "登録時と同じ" in out
    # a dataset is a definition (a glob here), as in v1: version 1 now selects c.gz too
    assert main(["datasets", "show", "mnist", "-v", "1"]) == 0
    out = capsys.readouterr().out
    assert "Dataset mnist version 1" in out and "登録後に変わっています" in out
    (Path(files.local_folder) / "mnist" / "a.gz").write_text("changed")
    assert main(["datasets", "show", "mnist", "-v", "2"]) == 0
    assert "登録後に変わっています" in capsys.readouterr().out
    assert main(["datasets", "show", "no-such-dataset"]) == 1
    assert "no-such-dataset" in capsys.readouterr().err


def test_datastores_list(ws, files, capsys) -> None:
    assert main(["datastores", "list"]) == 0
    out = capsys.readouterr().out
    assert "workspaceblobstore (default)" in out and "workspacefilestore" in out
    line = next(x for x in out.splitlines() if x.startswith("workspaceblobstore"))
    assert line.split()[-1] == "2"  # two files uploaded


def test_pipelines_list_show_and_endpoint(ws, project, capsys) -> None:  # noqa: F811
    assert main(["pipelines", "list"]) == 0
    assert "まだありません" in capsys.readouterr().out
    pipeline = make_pipeline(ws, project)
    run = Experiment(ws, "pl").submit(pipeline)
    run.wait_for_completion(show_output=False)
    again = Experiment(ws, "pl").submit(pipeline)
    again.wait_for_completion(show_output=False)
    published = pipeline.publish(name="train-pipeline", version="1.0", description="nightly")
    assert main(["pipelines", "list"]) == 0
    out = capsys.readouterr().out
    assert "train-pipeline" in out and published.id in out and "k=2" in out
    assert main(["pipelines", "list", "--runs"]) == 0
    out = capsys.readouterr().out
    assert run.id in out and again.id in out and "2 (2 reused)" in out
    assert main(["pipelines", "show", again.id[:8]]) == 0
    out = capsys.readouterr().out
    assert "train: Completed, 再利用" in out and "- 再利用:" in out
    try:
        assert main(["pipelines", "show", published.id]) == 0
        assert "サーバーは止まっています" in capsys.readouterr().out
        assert main(["pipelines", "endpoint", "start"]) == 0
        assert "http://127.0.0.1:" in capsys.readouterr().out
        assert main(["pipelines", "endpoint", "status"]) == 0
        assert "動いています" in capsys.readouterr().out
        assert main(["pipelines", "show", published.id]) == 0
        out = capsys.readouterr().out
        assert f"PipelineSubmit/{published.id}" in out and "train: train.py on local" in out
    finally:
        assert main(["pipelines", "endpoint", "stop"]) == 0
    assert "止めました" in capsys.readouterr().out
    assert main(["pipelines", "endpoint", "status"]) == 0
    assert "止まっています" in capsys.readouterr().out
    published.disable()
    assert main(["pipelines", "list"]) == 0
    assert "まだありません" in capsys.readouterr().out
    assert main(["pipelines", "list", "--all"]) == 0
    assert "Disabled" in capsys.readouterr().out
    assert main(["pipelines", "show", "nothing-like-this"]) == 1
    _detached.reap()


def test_schedules_list_show_enable_disable(ws, project, capsys) -> None:  # noqa: F811
    published = make_pipeline(ws, project).publish(name="p")
    assert main(["schedules", "list"]) == 0
    assert "まだありません" in capsys.readouterr().out
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    schedule = Schedule.create(ws, "nightly", published.id, "pl",
                               recurrence=ScheduleRecurrence("Day", 1, start_time=start))
    assert main(["schedules", "list"]) == 0
    out = capsys.readouterr().out
    assert "nightly" in out and "Runs every 1 Day(s)" in out
    assert start.astimezone().strftime("%Y-%m-%d %H:%M") in out  # the next firing
    assert main(["schedules", "disable", schedule.id]) == 0
    assert "nightly: Disabled" in capsys.readouterr().out
    assert main(["schedules", "list"]) == 0
    assert "まだありません" in capsys.readouterr().out
    assert main(["schedules", "enable", schedule.id]) == 0
    assert main(["schedules", "show", schedule.id]) == 0
    out = capsys.readouterr().out
    assert "Schedule nightly" in out and "Active" in out and published.id in out
    assert main(["schedules", "show", "nope"]) == 1
    assert "nope" in capsys.readouterr().err
    assert main(["schedules", "run", "--once"]) == 0
    assert "スケジューラーを開始しました" in capsys.readouterr().out
