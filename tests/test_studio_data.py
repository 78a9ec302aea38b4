"""The studio's pure parts: charts, the data functions on a real workspace, the store search, links."""

from __future__ import annotations

import json
import math
import os
import re

import pytest

from amlhandson import Experiment
from amlhandson._store import Store
from amlhandson.exceptions import RunNotFoundError, UserErrorException
from amlhandson.studio import _data, _render, _run, links
from amlhandson.widgets import _svg


# -- charts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lo, hi", [(0, 1), (0.13, 0.92), (-3.2, 7.9), (1e-7, 3e-7), (1, 5000),
                                    (2, 2), (-1e9, 1e9), (0.9, 0.95)])
def test_nice_ticks_cover_the_range_with_round_steps(lo, hi):
    ticks = _svg.nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi and 2 <= len(ticks) <= 8
    steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:])}
    assert len({round(s / min(steps), 6) for s in steps}) == 1  # equal steps
    step = min(steps)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5)


def test_nice_ticks_refuse_nonsense():
    assert _svg.nice_ticks(float("nan"), 1) == [] and _svg.nice_ticks(0, float("inf")) == []
    assert _svg.nice_ticks(1, 3, integer=True) == [1.0, 2.0, 3.0]


def test_downsample_keeps_spikes_and_bounds_the_points():
    values = [0.0] * 1_000_000
    values[123_457] = 50.0
    values[876_543] = -50.0
    points = _svg.downsample(values, 200)
    assert len(points) <= 400
    assert (123_457, 50.0) in points and (876_543, -50.0) in points
    mixed = [None, "x", 1, float("nan"), 2] * 1000
    assert all(isinstance(y, float) and math.isfinite(y) for _, y in _svg.downsample(mixed, 50))


def test_charts_escape_and_draw_overlays_and_scatter():
    hostile = '<script>alert("x")</script>'
    svg = _svg.multi_line_chart([(hostile, [1, 2, 3]), ("b", [3, 2])], hostile)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and svg.count("<polyline") == 2
    scatter = _svg.scatter_chart([(1, 2, hostile), ("x", 3, "skip"), (2, None, "skip")],
                                 "t", hostile, "y")
    assert scatter.count("<circle") == 1 and "<script>" not in scatter
    assert _svg.scatter_chart([], "t", "x", "y") == ""
    big = _svg.line_chart([float(i % 100) for i in range(1_000_000)], "big")
    assert len(re.search(r'points="([^"]+)"', big).group(1).split()) <= _svg.MAX_POINTS


# -- data on a real workspace --------------------------------------------------------------------
@pytest.fixture
def runs(ws):
    exp = Experiment(ws, "grid")
    made = []
    for k in range(6):
        run = exp.start_logging(display_name=f"k{k}")
        run.log("accuracy", 0.5 + k / 10)
        if k % 2:
            run.log("loss", k)
        run.tag("k", str(k))
        if k < 3:
            run.tag("small")
        if k == 5:
            run.fail(error_details="boom")
        else:
            run.complete()
        made.append(run)
    return made


def test_list_runs_filters_sorts_and_pages_in_the_store(ws, runs):
    page = _data.list_runs(ws, "grid", limit=4)
    assert page["total"] == 6 and [r["number"] for r in page["items"]] == [6, 5, 4, 3]
    assert page["metric_names"] == ["accuracy", "loss"] and page["tag_keys"] == ["k", "small"]

    def ids(**args):
        query = _data.RunQuery.parse({k: [v] for k, v in args.items()})
        return [r["display_name"] for r in _data.list_runs(ws, "grid", query)["items"]]

    assert ids(sort="metric:accuracy", desc="0") == ["k0", "k1", "k2", "k3", "k4", "k5"]
    assert ids(sort="metric:loss") == ["k5", "k3", "k1", "k4", "k2", "k0"]  # no value: last
    assert ids(tag="small", sort="number", desc="0") == ["k0", "k1", "k2"]
    assert ids(tag="k=4") == ["k4"]
    assert ids(range="accuracy:0.65:0.85", sort="number", desc="0") == ["k2", "k3"]
    assert ids(status="Failed") == ["k5"]
    assert ids(sort="tag:k", desc="0")[0] == "k0"
    with pytest.raises(UserErrorException):
        _data.RunQuery.parse({"sort": ["bogus"]})
    with pytest.raises(UserErrorException):
        _data.RunQuery.parse({"range": ["accuracy"]})
    with pytest.raises(RunNotFoundError):
        _data.list_runs(ws, "no-such-experiment")


def test_dead_runs_show_failed_in_listings(ws):
    import subprocess
    import sys

    code = ("import os; from amlhandson import Workspace, Experiment\n"
            "ws = Workspace.get('docs-ws', resource_group='docs-aml')\n"
            "run = Experiment(ws, 'dying').start_logging(); print(run.id, flush=True)\n"
            "os._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ), check=True).stdout.strip()
    page = _data.list_runs(ws, "dying")
    assert page["items"][0]["run_id"] == out and page["items"][0]["status"] == "Failed"
    assert _data.list_experiments(ws)[0]["statuses"] == {"Failed": 1}


def test_run_detail_version_and_metric_pages(ws, runs):
    run = Experiment(ws, "grid").start_logging()
    for i in range(250):
        run.log("loss", 1 / (i + 1))
    run.log_list("fib", [1, 1, 2])
    run.log_row("rows", a=1, b="x")
    run.flush()  # the studio is another process: it sees what was flushed
    before = _run.run_version(ws, run.id)
    detail = _run.run_detail(ws, run.id)
    kinds = {m["name"]: (m["kind"], m["how"]) for m in detail["metrics"]}
    assert kinds == {"loss": ("series", "log"), "fib": ("series", "log_list"),
                     "rows": ("table", "log_row")}
    assert not detail["is_terminal"] and detail["version"] == before["version"]
    run.log("loss", 0.0)
    run.flush()
    assert _run.run_version(ws, run.id)["version"] != before["version"]
    values = _run.metric_values(ws, run.id, "loss", offset=249, limit=10)
    assert values["total"] == 251 and values["items"] == [1 / 250, 0.0]
    run.log_list("long", list(range(700)))
    run.flush()
    assert len(_run.metric_values(ws, run.id, "long", limit=10_000)["items"]) == _data.MAX_LIMIT
    everything = _run.metric_values(ws, run.id, "long", limit=None)  # downloads: no page cap
    assert everything["items"] == list(range(700))
    zoom = _run.metric_chart(ws, run.id, "loss", 100, 150)
    assert (zoom["start"], zoom["end"], zoom["count"]) == (100, 150, 252 - 1)
    assert "(101–150 / 251)" in zoom["svg"] and 'data-x="101 150"' in zoom["svg"]
    whole = _run.metric_chart(ws, run.id, "loss", -5, 10**9)
    assert (whole["start"], whole["end"]) == (0, 251) and "(last: 0)" in whole["svg"]
    with pytest.raises(FileNotFoundError):
        _run.metric_chart(ws, run.id, "rows")  # a table is not a series
    view = _render.run_view(_run.run_detail(ws, run.id))
    assert {m["name"] for m in view["metrics"]} == {"loss", "fib", "rows", "long"}
    loss = next(m for m in view["metrics"] if m["name"] == "loss")
    assert loss["count"] == 251 and len(loss["head"]) == 20 and "values" not in loss
    assert loss["min"] == 0.0 and loss["max"] == 1.0 and "<svg" in loss["chart"]
    run.complete()
    with pytest.raises(RunNotFoundError):
        _run.run_detail(ws, run.id[:8])  # a prefix is not an id here


def test_compare_runs_and_its_view(ws, runs):
    data = _run.compare_runs(ws, [r.id for r in runs[:3]])
    assert [r["display_name"] for r in data["runs"]] == ["k0", "k1", "k2"]
    view = _render.compare_view(data, "tag:k", "accuracy")
    assert view["scatter"].count("<circle") == 3
    assert [row["name"] for row in view["rows"]] == ["accuracy", "loss"]


def test_create_workspace_uses_workspace_create_rules(aml_home):
    made = _data.create_workspace({"name": "w1", "resource_group": "g1", "location": "x"})
    assert made["name"] == "w1" and made["location"] == "x"
    for form in ({"name": "w1", "resource_group": "g1"}, {"name": ""}, {},
                 {"name": "a/b"}, {"name": "ok", "location": ["x"]}):
        with pytest.raises(UserErrorException):
            _data.create_workspace(form)
    assert [w["name"] for w in _data.list_workspaces()] == ["w1"]


def test_store_search_orders_duration_and_pages(ws, runs):
    store = Store.open(ws.path)
    exp = store.experiments.get("grid")
    total, page = store.runs.search(exp.pk, sort="duration", limit=2, offset=1)
    assert total == 6 and len(page) == 2
    total, _ = store.runs.search(exp.pk, tags=[("k", "1"), ("small", None)])
    assert total == 1
    assert store.metrics.names_in_experiment(exp.pk) == ["accuracy", "loss"]
    assert store.runs.tag_keys(exp.pk) == ["k", "small"]


# -- links ----------------------------------------------------------------------------------------
def test_links_find_a_live_studio_of_this_home(tmp_path, monkeypatch, aml_home):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "rt"))
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    assert links.find_studio() is None and links.studio_url() is None
    links.write_marker()
    assert links.find_studio() is None  # no jpserver file: not a running server
    (tmp_path / "rt" / f"jpserver-{os.getpid()}.json").write_text(json.dumps(
        {"url": "http://127.0.0.1:8888/base/", "token": "t0k"}))
    server = links.find_studio()
    assert server is not None and server.link("studio/x") == "http://127.0.0.1:8888/base/studio/x"
    assert server.link("studio/", with_token=True).endswith("studio/?token=t0k")
    dead = 2 ** 22 + 7  # no such pid
    links.write_marker(dead)
    (tmp_path / "rt" / f"jpserver-{dead}.json").write_text(json.dumps({"url": "http://x/"}))
    assert links.find_studio().pid == os.getpid()  # a dead server is never chosen
    html = links.StudioLink("studio/ws/a/b/", "開く <b>", server=server)._repr_html_()
    assert 'href="/base/studio/ws/a/b/"' in html and "&lt;b&gt;" in html
    assert "amlhandson studio" in repr(links.StudioLink("studio/", server=None))
    links.remove_marker()
    assert links.find_studio() is None


def test_aml_studio_magic_in_a_kernel(tmp_path, monkeypatch):
    from helpers import start_kernel

    runtime = tmp_path / "rt"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    config = {"subscription_id": "0", "resource_group": "docs-aml", "workspace_name": "docs-ws"}
    with start_kernel(tmp_path, config) as kernel:
        kernel.ok("from amlhandson import Workspace, Experiment\n"
                  "ws = Workspace.create('docs-ws', resource_group='docs-aml', show_output=False)\n"
                  "run = Experiment(ws, 'e').start_logging(); run.complete()\n"
                  "%load_ext amlhandson")

        def shown(line: str) -> dict:
            outputs = kernel.ok(line)
            return next(o["data"] for o in outputs if o["type"] == "display_data")

        assert "amlhandson studio" in shown("%aml_studio -p endpoints")["text/plain"]
        # a studio serving this home appears: links point at its pages, relative in HTML
        pid = kernel.value("__import__('os').getpid()")
        (runtime / f"amlhandson-studio-{pid}.json").write_text(json.dumps(
            {"pid": pid, "home": str((tmp_path / "home").resolve())}))
        (runtime / f"jpserver-{pid}.json").write_text(json.dumps(
            {"url": "http://127.0.0.1:8888/lab-base/", "token": "t"}))
        page = shown("%aml_studio -p endpoints")
        assert 'href="/lab-base/studio/ws/docs-aml/docs-ws/endpoints"' in page["text/html"]
        run_link = shown("%aml_studio {run.id[:8]}")
        assert "/studio/ws/docs-aml/docs-ws/runs/" in run_link["text/html"]
        assert "<iframe" in shown("%aml_studio -e e --frame")["text/html"]
        reply, outputs = kernel.execute("%aml_studio -e no-such-experiment")
        assert reply["status"] == "error" and "no-such-experiment" in reply["evalue"]
        reply, _ = kernel.execute("%aml_studio -p bogus")
        assert reply["status"] == "error"
