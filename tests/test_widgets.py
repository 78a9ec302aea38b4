"""Tests of amlhandson.widgets: the data, the static views, the live widget (also in a kernel)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from helpers import start_kernel

from amlhandson import Experiment, Run, Workspace
from amlhandson.exceptions import UserErrorException
from amlhandson.widgets import RunDetails, RunSummary, _summary, _svg
from amlhandson.widgets._widget import WIDGET_MIME

CONFIG = {"subscription_id": "00000000-0000-0000-0000-000000000000",
          "resource_group": "widget-rg", "workspace_name": "widget-ws"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(autouse=True)
def _isolated(aml_home):
    """Every test gets its own AMLHANDSON_HOME (``ws`` also a scratch folder as cwd)."""


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def rich_run(ws: Workspace) -> Run:
    """A finished parent run with every kind of metric, an image and two children."""
    run = Experiment(ws, "rich").start_logging(display_name="knn-search")
    for loss in (0.9, 0.5, 0.3):
        run.log("loss", loss)
    run.log("accuracy", 0.95)
    run.log("solver", "<lbfgs>")
    run.log_list("fib", [1, 1, 2, 3])
    run.log_row("k-search", k=1, acc=0.9)
    run.log_row("k-search", k=3, acc=0.93)
    png = Path("tiny.png")
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    run.log_image("digits", path=str(png))
    run.tag("model", "knn")
    for k, acc in ((1, 0.9), (3, 0.93)):
        with run.child_run(f"k={k}") as child:
            child.tag("k", str(k))
            child.log("accuracy", acc)
    run.upload_file(_summary.DRIVER_LOG, _log_file())
    run.complete()
    return run


def _log_file() -> str:
    path = Path("driver.txt")
    path.write_text("".join(f"line {i}\n" for i in range(100)), encoding="utf-8")
    return str(path)


# -- svg --------------------------------------------------------------------------------------
def test_line_chart_draws_numbers_only():
    svg = _svg.line_chart([0.9, None, 0.5, "x", 0.3], "loss")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "loss" in svg and "(last: 0.3)" in svg
    assert svg.count("<circle") == 3 and "<polyline" in svg
    assert _svg.line_chart(["a", None, float("nan")], "nothing") == ""
    assert _svg.line_chart([], "empty") == ""
    one = _svg.line_chart([5], "single")
    assert "<polyline" not in one and one.count("<circle") == 1
    flat = _svg.line_chart([2, 2, 2], "flat")  # no division by zero
    assert "1.8" in flat and "2.2" in flat


def test_line_chart_is_deterministic_escaped_and_thinned():
    values = [i * 0.5 for i in range(5000)]
    svg = _svg.line_chart(values, "<series & co>")
    assert svg == _svg.line_chart(values, "<series & co>")
    assert "&lt;series &amp; co&gt;" in svg and "<series" not in svg
    points = re.search(r'points="([^"]+)"', svg).group(1).split()
    assert len(points) == _svg.MAX_POINTS
    assert ">5000<" in svg  # x axis ends at the number of values
    labelled = _svg.line_chart([0.1, 0.2], "acc", x_labels=["k=1", "k=3"])
    assert ">k=1<" in labelled and ">k=3<" in labelled


def test_format_helpers():
    assert _svg.format_number(0.123456) == "0.1235"
    assert [_summary.format_duration(s) for s in (0.04, 59.94, 60, 3599, 3600, None)] == \
        ["0.0s", "59.9s", "1m 00s", "59m 59s", "1h 00m", "-"]
    assert _summary.format_value([1, 2, 3, 4, 5, 6, 7]) == "[1, 2, 3, 4, 5, 6, …]"
    assert _summary.format_value(float("nan")) == "nan"


# -- data and static views ------------------------------------------------------------------------
def test_collect_describes_every_metric_kind(ws):
    run = rich_run(ws)
    data = _summary.collect(run)
    json.dumps(data)  # plain data
    assert (data["status"], data["is_terminal"], data["display_name"]) == \
        ("Completed", True, "knn-search")
    assert data["duration_seconds"] >= 0 and data["end_time"].endswith("Z")
    by_name = {m["name"]: m for m in data["metrics"]}
    assert [m["name"] for m in data["metrics"]] == \
        ["loss", "accuracy", "solver", "fib", "k-search", "digits"]
    assert by_name["loss"] == {"name": "loss", "kind": "series", "values": [0.9, 0.5, 0.3],
                               "last": 0.3, "count": 3}
    assert by_name["accuracy"]["kind"] == "scalar"
    assert by_name["fib"]["kind"] == "list" and by_name["fib"]["last"] == 3
    assert by_name["k-search"] == {"name": "k-search", "kind": "table", "rows": 2,
                                   "columns": {"k": [1, 3], "acc": [0.9, 0.93]}}
    assert by_name["digits"]["files"] == ["tiny.png"]
    assert [(c["name"], c["status"], c["tags"], c["metrics"]) for c in data["children"]] == [
        ("k=1", "Completed", {"k": "1"}, {"accuracy": 0.9}),
        ("k=3", "Completed", {"k": "3"}, {"accuracy": 0.93})]
    assert data["children_total"] == 2
    assert data["log_name"] == _summary.DRIVER_LOG
    assert data["log_tail"].splitlines() == [f"line {i}" for i in range(60, 100)]
    assert data["tags"] == {"model": "knn"}


def test_summary_text_is_stable(ws):
    run = rich_run(ws)
    text = _summary.summary_text(_summary.collect(run))
    sanitized = re.sub(r"Duration: .*", "Duration: D", UUID.sub("ID", text))
    sanitized = re.sub(r"Run \d+", "Run N", sanitized)
    assert sanitized.splitlines() == [
        "Run N (knn-search) - Completed",
        "Experiment: rich",
        "Id: ID",
        "Duration: D",
        "Tags: model=knn",
        "Metrics:",
        "  loss = 0.3 (last of 3)",
        "  accuracy = 0.95",
        "  solver = <lbfgs>",
        "  fib = [1, 1, 2, 3] (log_list, 4 values)",
        "  k-search: table, 2 rows (k, acc)",
        "  digits: image ×1",
        "Child runs (2):",
        "  Run N k=1 [k=1] - Completed - accuracy = 0.9",
        "  Run N k=3 [k=3] - Completed - accuracy = 0.93",
    ]
    assert text == _summary.summary_text(_summary.collect(run))


def test_static_html_has_charts_tables_images_children_and_escapes(ws):
    run = rich_run(ws)
    page = _summary.static_html(_summary.collect(run), run.local_path)
    assert page.count("<svg") == 5  # loss, fib, k-search: k and acc, accuracy across children
    assert "data:image/png;base64," in page
    assert "&lt;lbfgs&gt;" in page and "<lbfgs>" not in page
    assert ">k=3<" in page and "Child runs (2)" in page
    assert str(run.local_path) not in page  # no machine paths
    assert "line 99" not in page  # the log is only in the live widget


def test_failed_run_shows_its_error(ws):
    run = Experiment(ws, "broken").start_logging()
    try:
        raise ValueError("bad <input>")
    except ValueError as exc:
        run.fail(error_details=exc)
    data = _summary.collect(run)
    assert data["error"] == "ValueError: bad <input>"
    assert "Error: ValueError: bad <input>" in _summary.summary_text(data)
    assert "bad &lt;input&gt;" in _summary.header_html(data)
    assert "Metrics: (none)" in _summary.summary_text(data)


def test_run_summary(ws):
    run = Experiment(ws, "compact").start_logging()
    run.log("acc", 0.5)
    run.log_table("t", {"a": [1, 2]})
    run.complete()
    summary = RunSummary.of(run)
    lines = repr(summary).splitlines()
    assert re.fullmatch(r"Run 1 - Completed - \d+\.\ds - experiment compact", lines[0])
    assert lines[1:] == ["  acc = 0.5", "  t: table, 2 rows (a)"]
    assert "t (table, 2 rows)" in summary._repr_html_()


# -- RunDetails without a kernel ---------------------------------------------------------------
def test_run_details_rejects_other_objects(ws):
    with pytest.raises(UserErrorException, match="Run"):
        RunDetails("not a run")
    run = Experiment(ws, "x").start_logging()
    with pytest.raises(UserErrorException, match="refresh_interval"):
        RunDetails(run, refresh_interval=0)
    run.complete()


def test_run_details_bundle_for_a_finished_run(ws):
    run = rich_run(ws)
    details = RunDetails(run)
    bundle = details._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", WIDGET_MIME}
    assert bundle[WIDGET_MIME]["model_id"] == details.widget.model_id
    assert bundle["text/plain"] == _summary.summary_text(details.data)
    assert "<svg" in bundle["text/html"]
    assert not details.is_refreshing  # finished: nothing to refresh
    titles = details.widget.children[1].titles
    assert titles == ("Metrics (5)", "Charts (2)", "Images (1)", "Child runs (2)", "Log",
                      f"Files ({len(details.data['files'])})")
    assert details.get_widget_data()["status"] == "Completed"
    details.close()
    assert details.widget.comm is None


def test_run_details_refreshes_until_the_run_ends(ws):
    run = Experiment(ws, "live").start_logging()
    run.log("loss", 1.0)
    details = RunDetails(run, refresh_interval=0.05)
    bundle = details._repr_mimebundle_()
    assert "表示した時点" in bundle["text/html"]
    assert details.is_refreshing
    header = details.widget.children[0]
    assert "Running" in header.value
    for loss in (0.5, 0.25):
        run.log("loss", loss)
    run.flush()
    assert wait_until(lambda: "0.25" in details._panes["charts"].value)
    run.complete()
    assert wait_until(lambda: not details.is_refreshing)
    assert "Completed" in header.value
    count = details.refresh_count
    time.sleep(0.2)
    assert details.refresh_count == count  # stopped for good
    assert details.last_error is None


def test_run_details_stops_when_closed(ws):
    run = Experiment(ws, "closed").start_logging()
    details = RunDetails(run, refresh_interval=0.05)
    details._repr_mimebundle_()
    assert details.is_refreshing
    details.close()
    assert not details.is_refreshing
    run.complete()


def test_run_details_without_ipywidgets(ws, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails
    run = rich_run(ws)
    details = RunDetails(run)
    bundle = details._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert details.widget is None


def test_nbconvert_shows_the_static_summary(ws):
    import nbformat
    from nbconvert import HTMLExporter

    run = rich_run(ws)
    bundle = RunDetails(run)._repr_mimebundle_()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("RunDetails(run).show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
    nb.cells.append(cell)
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert "Child runs (2)" in body and "<svg" in body


# -- in a real kernel -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    with start_kernel(tmp_path_factory.mktemp("widgets-kernel"), CONFIG) as session:
        session.ok("%load_ext amlhandson\nfrom amlhandson import Workspace, Experiment, Run\n"
                   "from amlhandson.widgets import RunDetails\n"
                   "ws = Workspace.from_config()")
        yield session


def test_show_in_a_kernel_gives_widget_and_static_views(kernel):
    kernel.ok("%%aml_run -e shown --no-show\nfor v in (3, 2, 1):\n    run.log('loss', v)\n")
    reply, outputs = kernel.execute("RunDetails(run).show()")
    assert reply["status"] == "ok"
    (shown,) = [o["data"] for o in outputs if o["type"] == "display_data"]
    assert set(shown) == {WIDGET_MIME, "text/html", "text/plain"}
    assert shown["text/plain"].splitlines()[0] == "Run 1 - Completed"
    assert "loss = 1 (last of 3)" in shown["text/plain"]
    assert "<svg" in shown["text/html"]
    model_ids = {o["comm_id"] for o in outputs if o["type"] == "comm_open"}
    assert shown[WIDGET_MIME]["model_id"] in model_ids
    assert [o for o in outputs if o["type"] in ("stream", "error")] == []


def test_live_refresh_from_another_process(kernel, monkeypatch):
    # This test process plays "another process" (a script, a training job) that logs.
    monkeypatch.setenv("AMLHANDSON_HOME", str(kernel.home))
    ws = Workspace.create(CONFIG["workspace_name"], resource_group=CONFIG["resource_group"],
                          exist_ok=True, show_output=False)
    run = Experiment(ws, "live-remote").start_logging()
    run.log("loss", 1.0)
    run.flush()
    kernel.ok(f"details = RunDetails(Run(Experiment(ws, 'live-remote'), {run.id!r}), "
              "refresh_interval=0.2)\ndetails.show()")
    assert kernel.value("details.is_refreshing") is True
    assert kernel.value("details.data['status']") == "Running"
    for loss in (0.5, 0.25, 0.125):
        run.log("loss", loss)
    run.log("accuracy", 0.97)
    run.flush()

    def kernel_sees(expr: str) -> bool:
        return bool(kernel.value(expr))

    assert wait_until(lambda: kernel_sees(
        "[m.get('values') for m in details.data['metrics'] if m['name'] == 'loss'] == "
        "[[1.0, 0.5, 0.25, 0.125]]"), timeout=15, interval=0.2)
    assert kernel_sees("'0.97' in details._panes['metrics'].value")
    assert kernel_sees("details.is_refreshing")
    run.complete()
    assert wait_until(lambda: kernel_sees("not details.is_refreshing"), timeout=15, interval=0.2)
    assert kernel.value("details.data['status']") == "Completed"
    assert kernel_sees("'Completed' in details.widget.children[0].value")
    assert kernel.value("details.last_error is None") is True
    # widget updates went out as comm messages; the thread never printed anything
    assert any(m["msg_type"] == "comm_msg" for m in kernel.other)
    assert [m for m in kernel.other if m["msg_type"] in ("stream", "display_data", "error")] == []


def test_images_over_the_budget_are_listed_not_embedded(ws, monkeypatch):
    run = rich_run(ws)
    data = _summary.collect(run)
    assert "data:image/png" in _summary.images_html(data, run.local_path)
    monkeypatch.setattr(_summary, "MAX_EMBEDDED_BYTES", 10)
    page = _summary.images_html(data, run.local_path)
    assert "data:image/png" not in page and "<code>tiny.png</code>" in page
    assert "<code>tiny.png</code>" in _summary.images_html(data, None)


def _knn_search(ws: Workspace) -> Run:
    parent = Experiment(ws, "knn").start_logging()
    for k, acc in ((5, 0.962), (1, 0.968), (3, 0.969)):  # children out of k order on purpose
        with parent.child_run(f"k={k}") as child:
            child.log("k", k)
            child.log("accuracy", acc)
    parent.complete()
    return parent


def test_child_chart_is_accuracy_against_k_sorted_by_k(ws):
    html = _summary.children_html(_summary.collect(_knn_search(ws)))
    titles = re.findall(r'aria-label="([^"]+)"', html)
    assert titles == ["accuracy vs k"]  # no chart of k against the child's number
    svg = html[html.index("<svg"):]
    ticks = re.findall(r'fill="#666">(\d+)</text>', svg)
    assert ticks[-3:] == ["1", "3", "5"]


def test_child_chart_without_a_parameter_goes_child_by_child(ws):
    parent = Experiment(ws, "plain").start_logging()
    for acc in (0.9, 0.9, 0.95):  # same value twice: not a parameter
        with parent.child_run("trial") as child:
            child.log("accuracy", acc)
    parent.complete()
    html = _summary.children_html(_summary.collect(parent))
    assert re.findall(r'aria-label="([^"]+)"', html) == ["accuracy (child runs)"]


def test_header_links_to_the_studio_only_when_one_runs(ws, tmp_path, monkeypatch):
    import os

    from amlhandson.studio import links

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    run = Experiment(ws, "linked").start_logging()
    run.complete()
    assert "AML Studio" not in RunDetails(run).widget.children[0].value
    links.write_marker(os.getpid())
    (tmp_path / "runtime" / f"jpserver-{os.getpid()}.json").write_text(
        json.dumps({"url": "http://127.0.0.1:8888/", "token": "t"}))
    header = RunDetails(run).widget.children[0].value
    assert "AML Studio で開く" in header and 'href="/studio/ws/docs-aml/docs-ws/' in header
