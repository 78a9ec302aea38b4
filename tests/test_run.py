"""Run: the v1 semantics of metrics, tags, properties, files, lifecycle and children."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from amlhandson import Experiment, Run, Workspace
from amlhandson.exceptions import (
    ActivityFailedException,
    ArtifactNotFoundError,
    ArtifactPathError,
    MetricError,
    RunNotFoundError,
    RunStateError,
    UserErrorException,
)


def test_metric_shapes_match_the_reference(exp: Experiment) -> None:
    run = exp.start_logging()
    for value in (0.9, 0.5, 0.3):
        run.log("loss", value)
    run.log("lr", 0.01)
    run.log_list("fib", [1, 1, 2])
    run.complete()
    assert run.get_metrics() == {"loss": [0.9, 0.5, 0.3], "lr": 0.01, "fib": [1, 1, 2]}
    assert run.get_metrics(name="lr") == {"lr": 0.01}


def test_hands_on_first_demo(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("trial", 30)
    run.log_list("my list", [1, 1, 2, 3, 5, 8, 13, 21, 34, 55])
    run.complete()
    assert run.get_metrics() == {"trial": 30, "my list": [1, 1, 2, 3, 5, 8, 13, 21, 34, 55]}


def test_values_keep_their_types(exp: Experiment) -> None:
    run = exp.start_logging()
    values = {"int": 3, "float": 1.0, "bool": True, "false": False, "str": "adam",
              "none": None, "big": 2**80, "neg": -7, "inf": math.inf}
    for name, value in values.items():
        run.log(name, value)
    run.log("nan", math.nan)
    run.log("np_int", np.int64(4))
    run.log("np_float", np.float32(0.5))
    run.log("np_bool", np.bool_(True))
    run.log("np_0d", np.array(2.5))
    run.log_list("one", [7])
    run.log_list("gen", (i * i for i in range(4)))
    run.log_list("np", np.arange(3))
    run.complete()
    got = run.get_metrics()
    for name, value in values.items():
        assert got[name] == value and type(got[name]) is type(value), name
    assert math.isnan(got["nan"])
    assert got["np_int"] == 4 and type(got["np_int"]) is int
    assert got["np_float"] == 0.5 and type(got["np_float"]) is float
    assert got["np_bool"] is True
    assert got["np_0d"] == 2.5
    assert got["one"] == [7]  # a one-element list stays a list (v1 collapsed it)
    assert got["gen"] == [0, 1, 4, 9]
    assert got["np"] == [0, 1, 2] and all(type(v) is int for v in got["np"])


def test_log_list_extends(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log_list("a", [1, 2])
    run.log_list("a", [3])
    assert run.get_metrics()["a"] == [1, 2, 3]


def test_rows_and_tables(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log_row("k-search", k=1, accuracy=0.9)
    run.log_row("k-search", k=3, accuracy=0.95)
    run.log_row("sparse", x=1, y=2)
    run.log_row("sparse", x=3, z="a")
    run.log_row("single", x=1)
    run.log_table("table", {"a": [1, 2], "b": [0.5, 0.25]})
    run.log_table("table", {"a": [3], "c": ["x"]})
    run.log_table("one-row", {"x": [1]})
    got = run.get_metrics()
    assert got["k-search"] == {"k": [1, 3], "accuracy": [0.9, 0.95]}
    assert got["sparse"] == {"x": [1, 3], "y": [2, None], "z": [None, "a"]}
    assert got["single"] == {"x": [1]}
    assert got["table"] == {"a": [1, 2, 3], "b": [0.5, 0.25, None], "c": [None, None, "x"]}
    assert got["one-row"] == {"x": [1]}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.log(" acc", 1), "前後に空白"),
        (lambda r: r.log("acc ", 1), "'acc'"),
        (lambda r: r.log("", 1), "空"),
        (lambda r: r.log(3, 1), "文字列"),
        (lambda r: r.log("x" * 300, 1), "長すぎ"),
        (lambda r: r.log("acc", [1, 2]), "Use run.log_list instead"),
        (lambda r: r.log("acc", range(3)), "log_list"),
        (lambda r: r.log("acc", (i for i in range(2))), "log_list"),
        (lambda r: r.log("acc", np.zeros(3)), "log_list"),
        (lambda r: r.log("acc", {"a": 1}), "log_table"),
        (lambda r: r.log("acc", object()), "object"),
        (lambda r: r.log("acc", "x" * 70_000), "長すぎ"),
        (lambda r: r.log_list("acc", 3), "繰り返し"),
        (lambda r: r.log_list("acc", "abc"), "run.log"),
        (lambda r: r.log_list("acc", [1, "a"]), "differ in type"),
        (lambda r: r.log_list("acc", [[1], [2]]), "list"),
        (lambda r: r.log_row("acc", x=[1, 2]), "Row metrics cannot contain list values"),
        (lambda r: r.log_row("acc"), "列がありません"),
        (lambda r: r.log_table("acc", {"a": [1], "b": [1, 2]}), "長さ"),
        (lambda r: r.log_table("acc", {"a": 1}), "リスト"),
        (lambda r: r.log_table("acc", {}), "dict"),
        (lambda r: r.log_image("acc"), "どちらか一方"),
    ],
)
def test_bad_metrics_are_refused_and_nothing_is_lost(exp: Experiment, call, message: str) -> None:
    run = exp.start_logging()
    run.log("kept", 1)
    with pytest.raises(MetricError, match=message) as info:
        call(run)
    assert isinstance(info.value, ValueError)
    run.complete()
    assert run.get_metrics() == {"kept": 1}


def test_conflicting_kinds_are_refused(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("loss", 0.5)
    with pytest.raises(MetricError, match="Conflicting metric types"):
        run.log_list("loss", [1])
    # also across objects attached to the same run
    other = Run(exp, run.id)
    with pytest.raises(MetricError, match="run.log で記録"):
        other.log_row("loss", a=1)
    other.log("loss", 0.25)
    assert run.get_metrics()["loss"] == [0.5, 0.25]


def test_large_volume_round_trip(exp: Experiment) -> None:
    run = exp.start_logging()
    for i in range(20_000):
        run.log("i", i)
    run.complete()
    assert run.get_metrics()["i"] == list(range(20_000))


def test_tags(exp: Experiment) -> None:
    run = exp.start_logging()
    run.tag("DeploymentCandidate")
    run.tag("modifiedBy", "release pipeline")
    run.set_tags({"k": 3, "flag": True})
    assert run.get_tags() == {"DeploymentCandidate": None, "modifiedBy": "release pipeline",
                              "k": "3", "flag": "True"}
    run.remove_tags(["k", "missing"])
    assert "k" not in run.get_tags() and "k" not in run.tags
    with pytest.raises(UserErrorException):
        run.tag("", "x")
    with pytest.raises(UserErrorException):
        run.set_tags({"a": [1]})


def test_properties_are_immutable(exp: Experiment) -> None:
    run = exp.start_logging()
    run.add_properties({"author": "me"})
    run.add_properties({"author": "me", "data": "mnist"})
    with pytest.raises(UserErrorException, match="変更できません"):
        run.add_properties({"author": "you", "other": "x"})
    props = run.get_properties()
    assert props["author"] == "me" and props["data"] == "mnist" and "other" not in props
    assert props["azureml.runsource"] == "experiment"


def test_files_round_trip(exp: Experiment, tmp_path: Path) -> None:
    src = tmp_path / "model.pkl"
    src.write_bytes(b"\x00model")
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    run = exp.start_logging()
    assert run.upload_file("outputs/model.pkl", str(src)) == "outputs/model.pkl"
    run.upload_file("notes.txt", __import__("io").BytesIO(b"hello"))
    run.upload_files(["x/1.txt", "x/2.txt"], [str(folder / "a.txt"), str(folder / "sub/b.txt")])
    run.upload_folder("data", str(folder))
    assert run.get_file_names() == ["data/a.txt", "data/sub/b.txt", "notes.txt",
                                    "outputs/model.pkl", "x/1.txt", "x/2.txt"]
    out = tmp_path / "out"
    out.mkdir()
    assert run.download_file("outputs/model.pkl", out).read_bytes() == b"\x00model"
    assert run.download_file("notes.txt", out / "renamed.txt").read_text() == "hello"
    got = run.download_files(prefix="data", output_directory=tmp_path / "dl")
    assert sorted(p.relative_to(tmp_path / "dl").as_posix() for p in got) == [
        "data/a.txt", "data/sub/b.txt"]
    with pytest.raises(ArtifactNotFoundError, match="outputs/model.pkl"):
        run.download_file("missing.txt", out)
    with pytest.raises(ArtifactNotFoundError):
        run.upload_file("y.txt", str(tmp_path / "nope"))
    with pytest.raises(UserErrorException):
        run.upload_files(["a"], [])


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../escape.txt", "/etc/passwd",
                                  "C:/x.txt", "..\\..\\x.txt", "", "a\0b", ".."])
def test_artifact_names_cannot_escape(exp: Experiment, tmp_path: Path, name: str) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    run = exp.start_logging()
    with pytest.raises(ArtifactPathError):
        run.upload_file(name, str(src))
    with pytest.raises(ArtifactPathError):
        run.download_file(name, tmp_path)
    assert not (run.local_path.parent / "escape.txt").exists()


def test_symlink_inside_run_cannot_lead_out(exp: Experiment, tmp_path: Path) -> None:
    run = exp.start_logging()
    run.local_path.mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, run.local_path / "link")
    src = tmp_path / "f.txt"
    src.write_text("x")
    with pytest.raises(ArtifactPathError):
        run.upload_file("link/f.txt", str(src))
    assert not (outside / "f.txt").exists()


def test_log_image_from_plot_and_path(exp: Experiment, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    plt.plot([1, 2, 3])
    run = exp.start_logging()
    run.log_image("curve", plot=fig)
    png = tmp_path / "digit.png"
    fig.savefig(png)
    plt.close(fig)
    os.chdir(tmp_path)
    run.log_image("digit", path="digit.png")
    metrics = run.get_metrics()
    prefix = f"aml://artifactId/ExperimentRun/dcid.{run.id}/"
    assert metrics["curve"].startswith(prefix + "curve_") and metrics["curve"].endswith(".png")
    assert metrics["digit"] == prefix + "digit.png"
    assert "digit.png" in run.get_file_names()
    populated = run.get_metrics(populate=True)
    assert populated["digit"][:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(MetricError, match="matplotlib"):
        run.log_image("bad", plot="not a figure")
    with pytest.raises(ArtifactNotFoundError):
        run.log_image("bad2", path="missing.png")


def test_context_manager_completes_and_uploads_outputs(exp: Experiment, scratch: Path) -> None:
    with exp.start_logging() as run:
        assert run.get_status() == "Running"
        (scratch / "outputs" / "model.txt").write_text("m")
        run.log("a", 1)
    assert run.get_status() == "Completed"
    assert "outputs/model.txt" in run.get_file_names()
    details = run.get_details()
    assert details["status"] == "Completed" and details["target"] == "sdk"
    assert details["endTimeUtc"] >= details["startTimeUtc"]


def test_bare_complete_uploads_outputs(exp: Experiment, scratch: Path) -> None:
    run = exp.start_logging(outputs="my-outputs")
    (scratch / "my-outputs" / "m.bin").write_bytes(b"1")
    run.complete()
    assert run.get_file_names() == ["outputs/m.bin"]


def test_context_manager_fails_and_reraises(exp: Experiment) -> None:
    with pytest.raises(ZeroDivisionError):
        with exp.start_logging() as run:
            run.log("before", 1)
            run.log("ratio", 1 / 0)
    assert run.get_status() == "Failed"
    error = run.get_details()["error"]["error"]
    assert "division by zero" in error["message"] and "ZeroDivisionError" in error["traceback"]
    assert run.get_metrics() == {"before": 1}
    with pytest.raises(ActivityFailedException, match="division"):
        run.wait_for_completion()
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Failed"


def test_system_exit_zero_is_success(exp: Experiment) -> None:
    with exp.start_logging() as run:
        raise SystemExit(0)
    assert run.get_status() == "Completed"


def test_keyboard_interrupt_cancels(exp: Experiment) -> None:
    with pytest.raises(KeyboardInterrupt):
        with exp.start_logging() as run:
            raise KeyboardInterrupt
    assert run.get_status() == "Canceled"


def test_lifecycle_transitions(exp: Experiment) -> None:
    run = exp.start_logging()
    run.complete()
    run.complete()  # a second complete() is harmless
    with pytest.raises(RunStateError, match="Completed"):
        run.fail("late")
    failed = exp.start_logging()
    failed.fail(error_details="bad data", error_code="DataError")
    assert failed.get_details()["error"]["error"] == {"message": "bad data", "code": "DataError"}
    canceled = exp.start_logging()
    canceled.cancel()
    assert canceled.get_status() == "Canceled"


def test_waiting_on_own_running_run_explains(exp: Experiment) -> None:
    run = exp.start_logging()
    with pytest.raises(RunStateError, match="complete"):
        run.wait_for_completion()


def test_identity_numbers_and_repr(exp: Experiment) -> None:
    first = exp.start_logging()
    second = exp.start_logging(run_id="my-run-2")
    assert (first.number, second.number) == (1, 2)
    assert second.id == "my-run-2" and second.name == "run_my-run-2"
    assert first.experiment == exp and first.type is None and first.parent is None
    assert repr(first) == (f"Run(Experiment: my-first-experiment,\nId: {first.id},\n"
                           "Type: None,\nStatus: Running)")
    html = first._repr_html_()
    for column in ("Experiment", "Id", "Type", "Status", "Details Page", "Docs Page"):
        assert column in html
    assert repr(exp) == "Experiment(Name: my-first-experiment,\nWorkspace: docs-ws)"
    assert "Report Page" in exp._repr_html_()
    with pytest.raises(UserErrorException, match="すでに使われています"):
        exp.start_logging(run_id="my-run-2")
    with pytest.raises(UserErrorException):
        exp.start_logging(run_id="bad/id")
    first.display_name = "nice name"
    assert Run(exp, first.id).display_name == "nice name"


def test_reattach_and_unknown_run(exp: Experiment, ws: Workspace) -> None:
    run = exp.start_logging()
    run.log("a", 1)
    again = Run(exp, run.id)
    again.log("a", 2)
    run.complete()
    assert again.get_metrics() == {"a": [1, 2]}
    assert again.get_status() == "Completed"
    with pytest.raises(RunNotFoundError, match="get_runs"):
        Run(exp, "nope")
    with pytest.raises(RunNotFoundError, match="別の experiment"):
        Run(Experiment(ws, "other"), run.id)


def test_get_runs_newest_first_with_filters(exp: Experiment) -> None:
    runs = [exp.start_logging() for _ in range(3)]
    runs[0].tag("best")
    runs[1].set_tags({"model": "knn"})
    runs[2].add_properties({"p": "1"})
    child = runs[2].child_run()
    assert [r.id for r in exp.get_runs()] == [r.id for r in reversed(runs)]
    assert list(exp.get_runs())[0] == runs[2]
    assert [r.id for r in exp.get_runs(tags="best")] == [runs[0].id]
    assert [r.id for r in exp.get_runs(tags={"model": "knn"})] == [runs[1].id]
    assert [r.id for r in exp.get_runs(tags={"model": "svm"})] == []
    assert [r.id for r in exp.get_runs(properties={"p": "1"})] == [runs[2].id]
    assert [r.id for r in exp.get_runs(properties=["p"])] == [runs[2].id]
    assert child.id in [r.id for r in exp.get_runs(include_children=True)]
    assert child.id not in [r.id for r in exp.get_runs()]


def test_children(exp: Experiment) -> None:
    parent = exp.start_logging(name="knn")
    with parent.child_run(name="k=1") as child:
        child.log("accuracy", 0.96)
    assert child.get_status() == "Completed"
    assert child.name == "knn>k=1" and child.parent == parent
    batch = parent.create_children(count=3)
    assert [c.get_tags()["azureml.batch_child_number"] for c in batch] == ["0", "1", "2"]
    tagged = parent.create_children(tag_key="k", tag_values=["3", "5"])
    assert [c.get_tags()["k"] for c in tagged] == ["3", "5"]
    grandchild = batch[0].child_run()
    grandchild.log("deep", True)
    assert len(list(parent.get_children())) == 6
    assert len(list(parent.get_children(recursive=True))) == 7
    assert [c.id for c in parent.get_children(tags={"k": "5"})] == [tagged[1].id]
    assert [c.id for c in parent.get_children(status="Completed")] == [child.id]
    metrics = parent.get_metrics(recursive=True)
    assert metrics[child.id] == {"accuracy": 0.96} and metrics[grandchild.id] == {"deep": True}
    assert metrics[parent.id] == {}
    with pytest.raises(UserErrorException):
        parent.create_children()
    with pytest.raises(UserErrorException):
        parent.create_children(count=2, tag_key="a", tag_values=["b"])
    with pytest.raises(UserErrorException, match="100"):
        parent.create_children(count=101)


def test_experiment_needs_a_workspace(ws: Workspace) -> None:
    with pytest.raises(UserErrorException, match="Workspace"):
        Experiment("docs-ws", "x")  # type: ignore[arg-type]
    with pytest.raises(UserErrorException, match="名前"):
        Experiment(ws, "bad name")
    with pytest.raises(UserErrorException, match="submit"):
        Experiment(ws, "x").submit(object())
    assert Experiment(workspace=ws, name="kw").name == "kw"


def test_get_context_records_locally(scratch: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from helpers import python_env

    script = scratch / "train.py"
    script.write_text(
        "from amlhandson.core import Run\n"
        "run = Run.get_context()\n"
        "run.log('accuracy', 0.9)\n"
        "assert Run.get_context() is run\n"
        "print(run.id, run.experiment.name)\n"
    )
    env = python_env(Path(os.environ["AMLHANDSON_HOME"]))
    out = subprocess.run([sys.executable, str(script)], cwd=scratch, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    run_id, exp_name = out[0], out[1]
    assert run_id.startswith("OfflineRun_") and exp_name == "train"
    ws = Workspace.from_config()
    run = Run(Experiment(ws, "train"), run_id)
    assert run.get_metrics() == {"accuracy": 0.9}
    assert run.get_status() == "Completed"
    # a crash in the script marks the context run Failed
    script.write_text("from amlhandson.core import Run\nrun = Run.get_context()\n"
                      "print(run.id)\nraise ValueError('boom')\n")
    proc = subprocess.run([sys.executable, str(script)], cwd=scratch, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    failed = Run(Experiment(ws, "train"), proc.stdout.split()[0])
    assert failed.get_status() == "Failed" and "boom" in failed.get_details()[
        "error"]["error"]["message"]


def test_unfinished_run_at_exit_is_canceled_not_running(scratch: Path) -> None:
    import subprocess
    import sys

    from helpers import python_env

    code = ("from amlhandson import Workspace, Experiment\n"
            "ws = Workspace.from_config()\n"
            "run = Experiment(ws, 'e').start_logging()\n"
            "run.log('a', 1)\nprint(run.id)\n")
    env = python_env(Path(os.environ["AMLHANDSON_HOME"]))
    out = subprocess.run([sys.executable, "-c", code], cwd=scratch, env=env, check=True,
                         capture_output=True, text=True).stdout.split()[-1]
    run = Run(Experiment(Workspace.from_config(), "e"), out)
    assert run.get_status() == "Canceled"
    assert run.get_metrics() == {"a": 1}
    assert "complete" in run.get_details()["error"]["error"]["message"]


def test_get_context_attaches_to_a_given_run(exp: Experiment, scratch: Path) -> None:
    import subprocess
    import sys

    from helpers import python_env

    run = exp.start_logging()
    env = python_env(Path(os.environ["AMLHANDSON_HOME"]))
    env.update(AMLHANDSON_RUN_ID=run.id, AMLHANDSON_WORKSPACE="docs-aml/docs-ws",
               AMLHANDSON_EXPERIMENT=exp.name)
    code = "from amlhandson import Run\nRun.get_context().log('from_script', 5)\n"
    subprocess.run([sys.executable, "-c", code], cwd=scratch, env=env, check=True)
    assert run.get_metrics() == {"from_script": 5}
    assert run.get_status() == "Completed"  # the script's end completes its context run


class _FakeQueue:
    def __init__(self) -> None:
        self.tick_hooks: list = []

    def start(self) -> None:
        pass


class _FakeStore:
    def __init__(self) -> None:
        self.queue = _FakeQueue()


def test_a_new_store_gets_its_heartbeat_even_when_it_reuses_a_dropped_stores_id() -> None:
    """After Store.forget() a store can be collected and the next one get its id(): that one must
    still beat, and must not see the old store's runs as its own."""
    from amlhandson.core import _lifecycle

    ids = set()
    for pk in range(20):
        store = _FakeStore()
        _lifecycle.track(object(), store, pk)  # type: ignore[arg-type]
        try:
            assert len(store.queue.tick_hooks) == 1
            assert _lifecycle.is_tracked(store, pk)  # type: ignore[arg-type]
            assert not _lifecycle.is_tracked(store, pk - 1)  # type: ignore[arg-type]
        finally:
            _lifecycle.untrack(store, pk)  # type: ignore[arg-type]
        ids.add(id(store))
        store.queue.tick_hooks.clear()  # the hook holds the store: let it be collected
        del store
    assert len(ids) < 20  # CPython did reuse an id: the case above was exercised
