"""RunDetails of a pipeline run: the graph (steps, data, status colours, reused steps) in the
static view and the live widget, updated while the pipeline runs."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from amlhandson.pipeline.core import Pipeline, PipelineData
from amlhandson.pipeline.steps import PythonScriptStep
from amlhandson.widgets import RunDetails
from amlhandson.widgets._pipeline import pipeline_svg
from amlhandson.widgets._svg import STATUS_COLORS

pytest.importorskip("ipywidgets")

STEP = textwrap.dedent("""
    import os, sys, time
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    time.sleep(float(args.get("--sleep", 0)))
    if args.get("--fail") == "yes":
        raise SystemExit("failed on purpose")
    if "--out" in args:
        os.makedirs(args["--out"], exist_ok=True)
        open(os.path.join(args["--out"], "x"), "w").write("x")
""")


def wait_until(predicate, timeout=60.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def build(ws, folder: Path, sleep: float = 0.0, fail: str = "no") -> Pipeline:
    folder.mkdir(exist_ok=True)
    (folder / "step.py").write_text(STEP)
    prepared = PipelineData("prepared")
    prep = PythonScriptStep("step.py", name="prepare", arguments=["--out", prepared],
                            outputs=[prepared], source_directory=folder)
    train = PythonScriptStep("step.py", name="train", inputs=[prepared],
                             arguments=["--in", prepared, "--sleep", sleep, "--fail", fail],
                             source_directory=folder)
    report = PythonScriptStep("step.py", name="report", source_directory=folder,
                              arguments=["--x", "1"])
    report.run_after(train)
    assert prep
    return Pipeline(ws, steps=[report])


def test_the_graph_of_a_finished_and_of_a_reused_pipeline(ws, exp, scratch) -> None:
    pipeline = build(ws, scratch / "steps")
    run = exp.submit(pipeline)
    run.wait_for_completion(show_output=False)
    details = RunDetails(run)
    bundle = details._repr_mimebundle_()
    graph = details.data["pipeline"]
    assert [(s["name"], s["status"], s["reused"]) for s in graph["steps"]] == [
        ("prepare", "Completed", False), ("train", "Completed", False),
        ("report", "Completed", False)]
    assert [d["name"] for d in graph["data"]] == ["prepared"]
    assert ["s" if a.startswith("step") else a for a, _b, _k in graph["edges"]] == \
        ["s", "d:prepared", "s"]
    assert graph["edges"][-1][2] == "after"  # report runs after train (no data between them)
    html = bundle["text/html"]
    assert html.index("Pipeline") < html.index("Metrics")
    for name in ("prepare", "train", "report", "prepared", "amlh-arrow"):
        assert name in html
    assert STATUS_COLORS["Completed"] in html and 'stroke-dasharray="4 3"' in html
    assert "Steps:\n  prepare - Completed\n  train - Completed\n  report - Completed" in \
        bundle["text/plain"]
    assert details.widget.children[1].titles[0] == "Pipeline (3 steps)"
    details.close()

    again = exp.submit(pipeline)
    again.wait_for_completion(show_output=False)
    data = RunDetails(again).get_widget_data()["pipeline"]
    assert all(s["reused"] for s in data["steps"])
    svg = pipeline_svg(data)
    assert svg.count("再利用") == 3 and svg.count('stroke-dasharray="5 3"') == 3
    assert svg == pipeline_svg(data)  # deterministic
    assert "再利用:" in RunDetails(again)._repr_mimebundle_()["text/html"]


def test_the_graph_updates_live_and_shows_a_failure(ws, exp, scratch) -> None:
    run = exp.submit(build(ws, scratch / "steps", sleep=1.5, fail="yes"))
    details = RunDetails(run, refresh_interval=0.1)
    details._repr_mimebundle_()
    pane = details._panes["graph"]
    assert details.is_refreshing
    assert wait_until(lambda: "Running" in pane.value or "Preparing" in pane.value)
    assert wait_until(lambda: not details.is_refreshing)
    steps = {s["name"]: s["status"] for s in details.data["pipeline"]["steps"]}
    assert steps == {"prepare": "Completed", "train": "Failed", "report": "Canceled"}
    assert STATUS_COLORS["Failed"] in pane.value and STATUS_COLORS["Canceled"] in pane.value
    assert "前のステップ &#x27;train&#x27; が失敗したので" in pane.value
    details.close()


def test_hostile_names_are_escaped() -> None:
    data = {"steps": [{"id": "s0", "name": "<script>alert(1)</script>", "status": "Running",
                       "reused": False, "reused_run_id": None, "run_id": "r",
                       "duration_seconds": None, "target": "<b>", "reasons": ["<i>"]}],
            "data": [{"id": "d:x", "name": "a&b", "kind": "data"}],
            "edges": [["s0", "d:x", "data"]]}
    svg = pipeline_svg(data)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    assert pipeline_svg({"steps": [], "data": [], "edges": []}) == ""
