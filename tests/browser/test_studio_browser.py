"""The studio and RunDetails in a real Chromium, against a real JupyterLab (one of each per session).

Every page loads without console errors and shows hostile names as text; the
create-workspace form, compare, the endpoint test form, the live refresh of a
running run, the Launcher card, ``%aml_studio`` and ``RunDetails(run).show()``
inside a notebook (tabs, charts, live update).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from studio_helpers import HOSTILE, HOSTILE_SCRIPT, env_for

WS = "ws/docs-aml/docs-ws"


def _no_trouble(page: Any) -> None:
    assert page.errors == [], page.errors
    assert page.dialogs == [], page.dialogs
    assert page.pwned() is None


def test_every_page_loads_without_console_errors(page: Any, lab: Any) -> None:
    run, failed = lab.ids["runs"][0], lab.ids["failed"]
    paths = ["", f"{WS}/", f"{WS}/experiments", f"{WS}/experiments/my-first-experiment",
             f"{WS}/runs/{run}", f"{WS}/runs/{failed}",
             f"{WS}/runs/{run}/files/{quote('outputs/notes.txt', safe='')}",
             f"{WS}/compare?runs={','.join(lab.ids['runs'])}", f"{WS}/models",
             f"{WS}/endpoints", f"{WS}/endpoints/{lab.ids['service']}"]
    for path in paths:
        response = page.page.goto(lab.studio(path))
        assert response is not None and response.status == 200, path
        page.page.wait_for_load_state("load")
        assert page.page.locator("h1").count() == 1, path
        _no_trouble(page)
    # hostile names are shown as text, not run
    page.page.goto(lab.studio(f"{WS}/runs/{run}"))
    assert page.page.get_by_text(HOSTILE, exact=True).count() >= 1
    assert page.page.get_by_text(HOSTILE_SCRIPT, exact=True).count() >= 1
    page.page.goto(lab.studio(f"{WS}/runs/{run}/files/{quote('outputs/notes.txt', safe='')}"))
    assert page.page.locator("#file-text").inner_text() == HOSTILE_SCRIPT
    page.page.goto(lab.studio(f"{WS}/runs/{run}"))
    page.page.locator("#metric-table button.show-values").first.click()
    page.page.wait_for_selector("#values table")
    assert "1–30 / 30" in page.page.locator("#values h3").inner_text()
    # drag across the loss chart: the server redraws that range
    box = page.page.locator(".zoomable").first
    box.scroll_into_view_if_needed()
    bounds = box.locator("svg").bounding_box()
    y = bounds["y"] + bounds["height"] / 2
    page.page.mouse.move(bounds["x"] + bounds["width"] * 0.45, y)
    page.page.mouse.down()
    page.page.mouse.move(bounds["x"] + bounds["width"] * 0.75, y)
    page.page.mouse.up()
    page.page.wait_for_function(
        "document.querySelector('.zoomable svg').textContent.includes(' / 30)')")
    box.dblclick()
    page.page.wait_for_function(
        "document.querySelector('.zoomable svg').textContent.includes('(last:')")
    images = page.page.locator(".images img")
    assert images.count() >= 1
    assert page.page.evaluate("(img) => img.naturalWidth", images.first.element_handle()) == 4
    _no_trouble(page)


def test_create_workspace_form(page: Any, lab: Any) -> None:
    p = page.page
    p.goto(lab.studio())
    p.fill("#create-form input[name=name]", "bad name!")
    p.click("#create-form button[type=submit]")
    result = p.locator("#create-result")
    result.wait_for(state="visible")
    assert "作成できませんでした" in result.inner_text() and "bad name!" in result.inner_text()
    assert "error" in (result.get_attribute("class") or "")
    # the refused request itself is the only console message (Chromium logs every 4xx)
    assert [e for e in page.errors if "status of 400" not in e] == []
    page.errors.clear()
    p.fill("#create-form input[name=name]", "portal-ws")
    p.fill("#create-form input[name=subscription_id]", "11111111-2222-3333-4444-555555555555")
    p.fill("#create-form input[name=resource_group]", "portal-rg")
    p.fill("#create-form input[name=location]", "japaneast")
    p.click("#create-form button[type=submit]")
    p.wait_for_selector("#open-created")
    assert "portal-ws" in result.inner_text()
    href = p.locator("#create-result a[download]").get_attribute("href")
    response = p.request.get(lab.url.rstrip("/") + href)
    assert "attachment" in response.headers["content-disposition"]
    config = response.json()
    assert config == {"subscription_id": "11111111-2222-3333-4444-555555555555",
                      "resource_group": "portal-rg", "workspace_name": "portal-ws"}
    p.click("#open-created")
    p.wait_for_selector("h1:has-text('portal-ws')")
    assert "japaneast" in p.locator("dl.props").inner_text()
    _no_trouble(page)


def test_runs_table_sort_filter_and_compare(page: Any, lab: Any) -> None:
    p = page.page
    p.goto(lab.studio(f"{WS}/experiments/my-first-experiment"))
    assert p.locator("#runs tbody tr").count() == 3
    p.click("#runs thead a.sort:has-text('accuracy')")
    p.wait_for_url("**sort=metric%3Aaccuracy**")
    p.fill("#filters input[name=tag]", "k=3")
    p.click("#filters button[type=submit]")
    p.wait_for_url("**tag=k%3D3**")
    assert p.locator("#runs tbody tr").count() == 1
    p.goto(lab.studio(f"{WS}/experiments/my-first-experiment"))
    button = p.locator("#compare-button")
    assert button.is_disabled()
    boxes = p.locator("#runs input.pick")
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert button.is_enabled()
    button.click()
    p.wait_for_selector("#compare-table")
    assert p.locator("#compare-table thead th").count() == 3  # label column + 2 runs
    assert p.locator("#overlays svg").count() >= 2  # loss, fib overlaid
    assert p.locator("#overlays svg polyline").count() >= 4
    assert p.locator("#scatter svg circle").count() == 2
    _no_trouble(page)


def test_endpoint_test_form(page: Any, lab: Any) -> None:
    p = page.page
    p.goto(lab.studio(f"{WS}/endpoints/{lab.ids['service']}"))
    p.fill("#score-form textarea", json.dumps({"data": [1, 2.5, 4]}))
    p.click("#score-form button[type=submit]")
    result = p.locator("#score-result[data-status]")
    result.wait_for()
    text = result.inner_text()
    assert text.startswith("HTTP 200") and "[\n  2,\n  5,\n  8\n]" in text
    p.fill("#score-form textarea", "{not json")
    p.click("#score-form button[type=submit]")
    p.wait_for_function("document.querySelector('#score-result').textContent.includes('JSON')")
    assert [e for e in page.errors if "status of 400" not in e] == []  # the refused body only
    page.errors.clear()
    p.fill("#score-form textarea", json.dumps({"nodata": 1}))
    p.click("#score-form button[type=submit]")
    p.wait_for_function("document.querySelector('#score-result').dataset.status === '500'")
    assert "init done" in p.locator("#service-logs").inner_text()
    _no_trouble(page)


LIVE_SCRIPT = """
import os, sys, time
from pathlib import Path
from amlhandson import Workspace, Experiment
ws = Workspace.get("docs-ws", resource_group="docs-aml")
run = Experiment(ws, "live").start_logging(display_name="live-run")
print(run.id, flush=True)
stop = Path(sys.argv[1])
i = 0
while not stop.exists() and i < 600:
    run.log("loss", 1.0 / (i + 1))
    i += 1
    time.sleep(0.25)
run.complete()
"""


def test_live_refresh_of_a_running_run(page: Any, lab: Any, tmp_path: Path) -> None:
    stop_file = tmp_path / "stop"
    script = tmp_path / "live.py"
    script.write_text(textwrap.dedent(LIVE_SCRIPT))
    proc = subprocess.Popen([sys.executable, str(script), str(stop_file)], cwd=tmp_path,
                            env=env_for(lab.home), stdout=subprocess.PIPE, text=True)
    try:
        run_id = proc.stdout.readline().strip()
        p = page.page
        p.goto(lab.studio(f"{WS}/runs/{run_id}"))
        assert p.locator("#run-status").inner_text() == "Running"
        count = p.locator("tr[data-metric=loss] td:nth-child(3)")

        def shown() -> int:
            return int(count.inner_text()) if count.count() else 0

        p.wait_for_function("Number(document.body.dataset.refreshed || 0) >= 2", timeout=30_000)
        first = shown()
        p.wait_for_function(
            f"(() => {{ const c = document.querySelector('tr[data-metric=loss] td:nth-child(3)');"
            f" return c && Number(c.textContent) > {first}; }})()", timeout=30_000)
        assert p.locator("#overview .live-dot").count() == 1
        assert p.locator("#metrics svg").count() >= 1
        stop_file.write_text("stop")
        p.wait_for_function(
            "document.querySelector('#run-status').textContent === 'Completed'", timeout=30_000)
        assert p.locator("#overview .live-dot").count() == 0
        assert p.evaluate("document.body.dataset.terminal") == "1"
        _no_trouble(page)
    finally:
        stop_file.write_text("stop")
        proc.wait(30)


def test_launcher_card_opens_studio_in_jupyterlab(page: Any, lab: Any) -> None:
    p = page.page
    p.goto(f"{lab.url}lab?token={lab.token}")
    card = p.locator(".jp-LauncherCard", has_text="AML Studio")
    card.first.wait_for(timeout=60_000)
    card.first.click()
    frame = p.frame_locator("iframe[src*='studio/']")
    frame.locator("h1").wait_for(timeout=30_000)
    assert frame.locator("h1").inner_text() == "ワークスペース"
    assert frame.locator("#workspaces").get_by_text("docs-ws").count() == 1
    assert p.locator(".lm-TabBar-tab", has_text="AML Studio").count() >= 1


NOTEBOOK = [
    "%load_ext amlhandson\n%aml_studio",
    "from amlhandson import Workspace, Experiment\n"
    "from amlhandson.widgets import RunDetails\n"
    "ws = Workspace.from_config()\n"
    "run = Experiment(ws, 'widget-live').start_logging()\n"
    "run.log('loss', 1.0)\n"
    "details = RunDetails(run, refresh_interval=0.3)\n"
    "details.show()",
    "import threading, time\n"
    "def train():\n"
    "    for i in range(2, 12):\n"
    "        time.sleep(0.3)\n"
    "        run.log('loss', 1.0 / i)\n"
    "    run.complete()\n"
    "threading.Thread(target=train).start()",
]


def test_run_details_and_aml_studio_in_a_notebook(page: Any, lab: Any) -> None:
    cells = [{"cell_type": "code", "metadata": {}, "source": src, "outputs": [],
              "execution_count": None} for src in NOTEBOOK]
    notebook = {"cells": cells, "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}
    (lab.root / "widget.ipynb").write_text(json.dumps(notebook))
    p = page.page
    p.goto(f"{lab.url}lab/tree/widget.ipynb?token={lab.token}")
    p.wait_for_function(
        "window.jupyterapp && jupyterapp.shell.currentWidget && jupyterapp.shell.currentWidget"
        ".sessionContext && jupyterapp.shell.currentWidget.sessionContext.session && "
        "jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
        "jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=90_000)
    p.evaluate("jupyterapp.commands.execute('notebook:run-all-cells')")
    link = p.locator(".jp-OutputArea-output a[href*='studio/ws/docs-aml/docs-ws/']")
    link.first.wait_for(timeout=60_000)
    assert link.first.get_attribute("href").startswith("/studio/ws/docs-aml/docs-ws/")
    widget = p.locator(".amlhandson-run-details")
    widget.wait_for(timeout=60_000)
    tabs = widget.locator(".lm-TabBar-tab")
    assert tabs.count() == 6
    # live update: the run completes in a thread; the header follows without re-running a cell
    p.wait_for_function(
        "document.querySelector('.amlhandson-run-details').textContent.includes('Completed')",
        timeout=60_000)
    widget.locator(".lm-TabBar-tab", has_text="Charts").click()
    chart = widget.locator("svg.aml-chart")
    chart.first.wait_for()
    assert "(last: 0.09091)" in widget.inner_text()
    assert not [e for e in page.errors if "amlhandson" in e.lower()]


def test_no_browser_test_left_a_run_open(lab: Any) -> None:
    time.sleep(0.5)
    runs = lab.api(f"{WS}/experiments/live/runs").json()["items"]
    assert runs and all(r["status"] != "Running" for r in runs)


@pytest.mark.parametrize("path", ["", f"{WS}/models"])
def test_pages_need_the_login(browser, lab: Any, path: str) -> None:
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(lab.studio(path))
        assert "/login" in tab.url
        assert tab.locator("#workspaces, #models").count() == 0
    finally:
        context.close()
