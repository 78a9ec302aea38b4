"""Tests of the IPython magics (in a real kernel) and of the plain functions behind them."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

import pytest
from helpers import start_kernel

from amlhandson import Experiment, Run, Workspace, tracking
from amlhandson.exceptions import (
    ConfigNotFoundError,
    MetricError,
    RunStateError,
    UserErrorException,
)

CONFIG = {"subscription_id": "00000000-0000-0000-0000-000000000000",
          "resource_group": "magic-rg", "workspace_name": "magic-ws"}


# -- a real kernel ---------------------------------------------------------------------------
def stdout(outputs: list[dict]) -> str:
    return "".join(o["text"] for o in outputs if o["type"] == "stream" and o["name"] == "stdout")


def stderr(outputs: list[dict]) -> str:
    return "".join(o["text"] for o in outputs if o["type"] == "stream" and o["name"] == "stderr")


def displays(outputs: list[dict]) -> list[dict]:
    return [o["data"] for o in outputs if o["type"] == "display_data"]


def errors(outputs: list[dict]) -> list[dict]:
    return [o for o in outputs if o["type"] == "error"]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    with start_kernel(tmp_path_factory.mktemp("magics-kernel"), CONFIG) as session:
        session.ok("%load_ext amlhandson")
        yield session


@pytest.fixture(autouse=True)
def _isolated(aml_home, monkeypatch):
    monkeypatch.delenv("AMLHANDSON_EXPERIMENT", raising=False)


@pytest.fixture
def kws(kernel, monkeypatch):
    """The kernel's workspace, opened from this (other) process."""
    monkeypatch.setenv("AMLHANDSON_HOME", str(kernel.home))
    return Workspace.create(CONFIG["workspace_name"], resource_group=CONFIG["resource_group"],
                            exist_ok=True, show_output=False)


def runs_of(ws: Workspace, experiment: str) -> list[Run]:
    return list(Experiment(ws, experiment).get_runs())


# -- kernel: %%aml_run --------------------------------------------------------------------------
def test_kernel_uses_this_python_and_loads_the_extension(kernel):
    assert Path(kernel.value("__import__('sys').executable")).resolve() == Path(sys.executable).resolve()
    assert set(kernel.value("sorted(get_ipython().magics_manager.magics['line'])")) >= {
        "aml_run", "aml_log", "aml_runs", "aml_workspace"}
    assert "aml_run" in kernel.value("sorted(get_ipython().magics_manager.magics['cell'])")


def test_aml_run_success_records_run_source_and_output(kernel, kws):
    cell = ("%%aml_run -e magic-ok -n 'first try' -t model=knn \"k=3\"\n"
            "print('hello from the cell')\n"
            "for loss in (0.9, 0.5, 0.3):\n"
            "    run.log('loss', loss)\n"
            "%aml_log learning_rate 0.01\n"
            "%aml_log \"my list\" [1, 1, 2]\n"
            "%aml_log delta -0.5\n"
            "6 * 7\n")
    outputs = kernel.ok(cell)
    assert "hello from the cell" in stdout(outputs)
    results = [o for o in outputs if o["type"] == "execute_result"]
    assert results and results[0]["data"]["text/plain"] == "42"
    summary = displays(outputs)[-1]
    assert summary["text/plain"].splitlines()[0].startswith("Run 1 (first try) - Completed")
    assert "loss = 0.3 (last of 3)" in summary["text/plain"]
    assert "learning_rate" in summary["text/html"]

    (run,) = runs_of(kws, "magic-ok")
    assert run.get_status() == "Completed"
    assert run.display_name == "first try"
    assert run.get_tags() == {"model": "knn", "k": "3"}
    assert run.get_metrics() == {"loss": [0.9, 0.5, 0.3], "learning_rate": 0.01,
                                 "my list": [1, 1, 2], "delta": -0.5}
    assert {"cell_source.py", "azureml-logs/70_driver_log.txt"} <= set(run.get_file_names())
    source = (run.local_path / "cell_source.py").read_text(encoding="utf-8")
    assert source.startswith("# %%aml_run -e magic-ok -n 'first try' -t model=knn \"k=3\"\n")
    assert "run.log('loss', loss)" in source
    log = (run.local_path / "azureml-logs/70_driver_log.txt").read_text(encoding="utf-8")
    assert log == "hello from the cell\n"
    # `run` stays bound to the finished run after the cell
    assert kernel.value("[run.id, run.get_status()]") == [run.id, "Completed"]


def test_aml_run_exception_fails_run_and_the_cell(kernel, kws):
    reply, outputs = kernel.execute("%%aml_run -e magic-fail\nprint('before')\nx = 1 / 0\n")
    assert reply["status"] == "error" and reply["ename"] == "ZeroDivisionError"
    (error,) = errors(outputs)
    text = "\n".join(error["traceback"])
    assert "x = 1 / 0" in text
    assert "tracking.py" not in text and "magics.py" not in text  # our frames are hidden
    assert "Failed" in displays(outputs)[-1]["text/plain"]
    (run,) = runs_of(kws, "magic-fail")
    details = run.get_details()
    assert details["status"] == "Failed"
    assert "division by zero" in details["error"]["error"]["message"]
    log = (run.local_path / "azureml-logs/70_driver_log.txt").read_text(encoding="utf-8")
    assert log.startswith("before\n")
    assert "ZeroDivisionError: division by zero" in log and "tracking.py" not in log


def test_rerunning_a_cell_three_times_gives_three_finished_runs(kernel, kws):
    cell = "%%aml_run -e magic-rerun --no-show\nrun.log('trial', 1)\n"
    for _ in range(3):
        outputs = kernel.ok(cell)
        assert displays(outputs) == []  # --no-show
        assert "already active" not in stdout(outputs) + stderr(outputs)
    runs = runs_of(kws, "magic-rerun")
    assert len(runs) == 3
    assert [r.get_status() for r in runs] == ["Completed"] * 3
    assert sorted(r.number for r in runs) == [1, 2, 3]
    assert len({r.id for r in runs}) == 3
    # the same cell failing then succeeding leaves nothing running either
    kernel.execute("%%aml_run -e magic-rerun --no-show\nraise ValueError('x')\n")
    kernel.ok(cell)
    assert all(r.get_status() in ("Completed", "Failed") for r in runs_of(kws, "magic-rerun"))


def test_interrupting_a_cell_cancels_its_run(kernel, kws):
    msg_id = kernel.kc.execute("%%aml_run -e magic-interrupt\nimport time\n"
                               "print('started', flush=True)\ntime.sleep(30)\n")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        msg = kernel.kc.get_iopub_msg(timeout=20)
        if msg["msg_type"] == "stream" and "started" in msg["content"]["text"]:
            break
    kernel.km.interrupt_kernel()
    reply, _ = kernel.collect(msg_id)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    (run,) = runs_of(kws, "magic-interrupt")
    assert run.get_status() == "Canceled"
    assert "KeyboardInterrupt" in run.get_details()["error"]["error"]["message"]


def test_syntax_error_creates_no_run(kernel, kws):
    reply, outputs = kernel.execute("%%aml_run -e magic-syntax\nx = (\n")
    assert reply["status"] == "error"
    names = [e["ename"] for e in errors(outputs)]
    assert names == ["SyntaxError", "CellSyntaxError"]
    assert "magics.py" not in "\n".join(errors(outputs)[0]["traceback"])
    assert runs_of(kws, "magic-syntax") == []


def test_run_context_inside_the_cell_is_the_cell_run(kernel):
    kernel.ok("%%aml_run -e magic-context --no-show\nfrom amlhandson import Run\n"
              "same = Run.get_context() is run\n")
    assert kernel.value("same") is True
    assert kernel.value("__import__('amlhandson').Run._context_run is None") is True


def test_bad_options_are_short_cell_errors(kernel):
    for cell, words in [
        ("%%aml_run -t novalue\n1\n", "KEY=VALUE"),
        ("%%aml_run -e 'bad name'\n1\n", "experiment"),
        ("%%aml_run --bogus\n1\n", "--help"),
        ("%aml_run", "セルマジック"),
    ]:
        reply, outputs = kernel.execute(cell)
        assert reply["status"] == "error", cell
        (error,) = errors(outputs)
        assert error["ename"] == "AmlMagicError"
        assert len(error["traceback"]) == 1 and words in error["traceback"][0], error


def test_missing_config_says_what_to_do(kernel, tmp_path):
    empty = tmp_path / "no-config"
    empty.mkdir()
    kernel.ok(f"import os; _old = os.getcwd(); os.chdir({str(empty)!r})")
    try:
        reply, outputs = kernel.execute("%%aml_run\n1\n")
    finally:
        kernel.ok("os.chdir(_old)")
    assert reply["status"] == "error" and reply["ename"] == "AmlMagicError"
    assert "01-workspace" in errors(outputs)[0]["traceback"][0]


# -- kernel: %aml_log, %aml_runs, %aml_workspace, help ---------------------------------------
def test_aml_log_outside_a_run_is_a_clear_error(kernel):
    reply, outputs = kernel.execute("%aml_log accuracy 0.9")
    assert reply["status"] == "error" and reply["ename"] == "AmlMagicError"
    (error,) = errors(outputs)
    assert "%%aml_run" in error["traceback"][0] and "run.log" in error["traceback"][0]
    reply, outputs = kernel.execute("%%aml_run -e magic-log --no-show\n%aml_log bad {'a': 1}\n")
    assert reply["status"] == "error"
    assert "log_table" in errors(outputs)[0]["traceback"][0]


def test_aml_runs_lists_runs_with_metrics(kernel, kws):
    kernel.ok("%%aml_run -e magic-table --no-show -t lr=0.1\nrun.log('acc', 0.5)\nrun.log('acc', 0.75)\n")
    kernel.ok("%%aml_run -e magic-table --no-show\nrun.log('acc', 0.875)\nrun.log('note', 'ok')\n")
    (data,) = displays(kernel.ok("%aml_runs magic-table"))
    text = data["text/plain"]
    lines = text.splitlines()
    assert lines[0] == "Experiment magic-table: 2 runs"
    # acc was logged twice in one run: the column says that it shows the last value
    assert lines[1].split() == ["Run", "Id", "Name", "Status", "Duration", "Tags", "acc", "(last)",
                                "note"]
    assert lines[3].split()[0] == "2" and "0.875" in lines[3] and "ok" in lines[3]
    assert lines[4].split()[0] == "1" and "0.75" in lines[4] and "lr=0.1" in lines[4]
    assert "<table" in data["text/html"] and "0.875" in data["text/html"]
    # default experiment: the last %%aml_run's; --top limits
    (data,) = displays(kernel.ok("%aml_runs --top 1"))
    assert data["text/plain"].startswith("Experiment magic-table: 2 runs (新しい順に 1 件を表示)")
    for bad in ("%aml_runs no-such-experiment", "%aml_runs --top 0", "%aml_runs --top x"):
        reply, outputs = kernel.execute(bad)
        assert reply["status"] == "error" and reply["ename"] == "AmlMagicError", bad


def test_aml_workspace_shows_portable_paths(kernel):
    (data,) = displays(kernel.ok("%aml_workspace"))
    text = data["text/plain"]
    assert "magic-ws" in text and "magic-rg" in text
    assert "$AMLHANDSON_HOME/workspaces/magic-rg/magic-ws" in text
    assert "config.json    : config.json" in text
    assert str(kernel.home) not in text + data["text/html"]


def test_help_is_printed_not_raised(kernel):
    for line, words in [("%aml_run --help", "--experiment"), ("%aml_log -h", "VALUE"),
                        ("%aml_runs --help", "--top"), ("%aml_workspace -h", "config.json")]:
        out = stdout(kernel.ok(line))
        assert words in out or words.lower() in out, line
    reply, _ = kernel.execute("%aml_runs?")
    assert reply["status"] == "ok"
    page = reply["payload"][0]["data"]["text/plain"]
    assert "--top" in page
    reply, _ = kernel.execute("%aml_run?")
    assert "--no-show" in reply["payload"][0]["data"]["text/plain"]


def test_unload_and_reload(kernel):
    kernel.ok("%unload_ext amlhandson")
    reply, _ = kernel.execute("%aml_runs")
    assert reply["status"] == "error"
    kernel.ok("%load_ext amlhandson")
    assert "aml_runs" in kernel.value("sorted(get_ipython().magics_manager.magics['line'])")


# -- plain functions (no kernel) -------------------------------------------------------------
def test_parse_value():
    assert tracking.parse_value(" 3 ") == 3
    assert tracking.parse_value("-0.5") == -0.5
    assert tracking.parse_value("True") is True
    assert tracking.parse_value("None") is None
    assert tracking.parse_value("'quoted text'") == "quoted text"
    assert tracking.parse_value("plain text") == "plain text"
    assert tracking.parse_value("[1, 2]") == [1, 2]
    assert tracking.parse_value("__import__('os')") == "__import__('os')"  # never evaluated


def test_parse_tags():
    assert tracking.parse_tags(None) == {}
    assert tracking.parse_tags([["a=1", "b=x=y"], ["c="]]) == {"a": "1", "b": "x=y", "c": ""}
    for bad in (["novalue"], ["=1"]):
        with pytest.raises(UserErrorException, match="KEY=VALUE"):
            tracking.parse_tags(bad)


def test_default_experiment_name(monkeypatch):
    assert tracking.default_experiment_name() == "notebook-runs"
    monkeypatch.setenv("AMLHANDSON_EXPERIMENT", "course")
    assert tracking.default_experiment_name() == "course"


def test_display_path(tmp_path, monkeypatch):
    assert tracking.display_path(Path.home() / ".amlhandson" / "x") == "~/.amlhandson/x"
    outside = Path("/") / "srv-not-home-aml"
    if Path.home().resolve() in outside.resolve().parents:
        pytest.skip("home is /")
    monkeypatch.setenv("AMLHANDSON_HOME", str(outside))
    assert tracking.display_path(outside / "workspaces" / "rg") == "$AMLHANDSON_HOME/workspaces/rg"
    monkeypatch.delenv("AMLHANDSON_HOME")
    assert tracking.display_path(outside / "a") == str(outside / "a")


def test_load_workspace_is_quiet_and_explains_a_missing_config(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    with pytest.raises(ConfigNotFoundError, match="01-workspace"):
        tracking.load_workspace()
    (empty / "config.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    ws = tracking.load_workspace()
    assert ws.name == "magic-ws"
    assert capsys.readouterr().out == ""


def test_cell_run_tees_output_and_completes(ws, capsys):
    cell = tracking.CellRun.start("print('hi')", workspace=ws, experiment="unit", name="n",
                                  tags={"a": "1"}, magic_line="-n n")
    assert tracking.active_cell_run() is cell
    with cell.capture():
        print("hi")
        print("to stderr", file=sys.stderr)
        assert Run.get_context() is cell.run
    assert Run._context_run is None
    assert capsys.readouterr().out == "hi\n"  # the learner still sees the output
    assert cell.finish() == "Completed"
    assert tracking.active_cell_run() is None
    run = cell.run
    assert run.get_tags() == {"a": "1"}
    assert run.get_properties()["amlhandson.source"] == "%%aml_run"
    log = (run.local_path / tracking.DRIVER_LOG).read_text(encoding="utf-8")
    assert log == "hi\nto stderr\n"
    assert (run.local_path / tracking.CELL_SOURCE).read_text(encoding="utf-8") == \
        "# %%aml_run -n n\nprint('hi')"
    assert cell.finish() == "Completed"  # idempotent


def test_cell_run_statuses_for_errors(ws):
    def finished(error):
        cell = tracking.CellRun.start("x", workspace=ws, experiment="unit")
        return cell, cell.finish(error)

    try:
        raise ValueError("broken")
    except ValueError as exc:
        cell, status = finished(exc)
    assert status == "Failed"
    assert "broken" in cell.run.get_details()["error"]["error"]["message"]
    assert "ValueError: broken" in (cell.run.local_path / tracking.DRIVER_LOG).read_text("utf-8")
    assert finished(KeyboardInterrupt())[1] == "Canceled"
    assert finished(SystemExit(0))[1] == "Completed"
    assert finished(SystemExit(2))[1] == "Failed"
    # a run the cell completed itself keeps its status
    cell = tracking.CellRun.start("x", workspace=ws, experiment="unit")
    cell.run.fail(error_details="by hand")
    assert cell.finish(None) == "Failed"


def test_log_to_active_run(ws):
    with pytest.raises(RunStateError, match="%%aml_run"):
        tracking.log_to_active_run("acc", "0.9")
    cell = tracking.CellRun.start("", workspace=ws, experiment="unit")
    try:
        assert tracking.log_to_active_run("acc", "0.9")[1] == 0.9
        tracking.log_to_active_run("seq", "[1, 2]")
        tracking.log_to_active_run("opt", "adam")
        with pytest.raises(MetricError):
            tracking.log_to_active_run("bad", "{'a': 1}")
    finally:
        cell.finish()
    assert cell.run.get_metrics() == {"acc": 0.9, "seq": [1, 2], "opt": "adam"}


def test_runs_table(ws):
    exp = Experiment(ws, "table")
    first = exp.start_logging()
    first.log("acc", 0.5)
    first.log("acc", 0.7)
    first.log_list("fib", [1, 2, 3])
    first.log_row("rows", a=1)
    first.complete()
    second = exp.start_logging(display_name="named")
    second.tag("k", "3")
    second.log("loss", 0.25)
    table = tracking.runs_table(ws, "table", top=10)
    assert table.total == 2 and table.columns == ["loss", "acc", "fib"]
    assert [r["number"] for r in table.rows] == [2, 1]
    assert table.rows[0]["status"] == "Running" and table.rows[0]["name"] == "named"
    assert table.rows[1]["metrics"] == {"acc": 0.7, "fib": 3}
    assert table.rows[1]["name"] == ""  # v1's default run_<id> name is not repeated
    text = str(table)
    assert "named" in text and "k=3" in text and second.id[:8] + "…" in text
    assert "rows" not in text.splitlines()[1]  # table metrics are not columns
    assert "<td" in table._repr_html_()
    assert len(tracking.runs_table(ws, "table", top=1).rows) == 1
    second.complete()
    with pytest.raises(UserErrorException, match="table"):
        tracking.runs_table(ws, "nope")
    with pytest.raises(UserErrorException, match="--top"):
        tracking.runs_table(ws, "table", top=0)
    Experiment(ws, "empty")
    assert "まだ Run がありません" in str(tracking.runs_table(ws, "empty"))


def test_text_table_aligns_wide_characters():
    from amlhandson._tables import display_width, text_table

    text = text_table(["名前", "x"], [["精度", "1"], ["ab", "22"]])
    lines = text.splitlines()
    assert lines == ["名前  x", "----  --", "精度  1", "ab    22"]
    assert {display_width(line[: len(line) - len(line.split()[-1])]) for line in lines} == {6}


def test_workspace_info(ws):
    exp = Experiment(ws, "info")
    run = exp.start_logging()
    run.child_run().complete()
    run.complete()
    config = ws.write_config(path=".")
    info = tracking.workspace_info(ws, config)
    assert (info.name, info.resource_group, info.experiments, info.runs, info.models) == \
        ("docs-ws", "docs-aml", 1, 2, 0)
    assert info.data_path == "$AMLHANDSON_HOME/workspaces/docs-aml/docs-ws"
    assert info.config_path == "config.json"
    assert "Runs           : 2" in str(info)
    assert "<table" in info._repr_html_()


def test_tee_forwards_attributes():
    stream = io.StringIO()
    log_lines = []

    class Log:
        def write(self, text):
            log_lines.append(text)

    tee = tracking._Tee(stream, Log())
    tee.writelines(["a", "b"])
    tee.flush()
    assert stream.getvalue() == "ab" and log_lines == ["a", "b"]
    assert tee.getvalue() == "ab"  # other attributes come from the real stream
