"""The studio over real HTTP: one standalone ``amlhandson studio`` server for the module.

Login and XSRF, every page and API call, paging, escaping of hostile names,
file views that cannot leave the run folder, downloads, the explicit actions,
and the standalone command's own rules (loopback, token).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from studio_helpers import HOSTILE, HOSTILE_SCRIPT, Studio, env_for, seed, standalone_studio

WS = "ws/docs-aml/docs-ws"


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Studio, dict]]:
    base = tmp_path_factory.mktemp("studio")
    home, work = base / "home", base / "work"
    work.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AMLHANDSON_HOME", str(home))
        mp.chdir(work)
        from amlhandson import Workspace

        ws = Workspace.create("docs-ws", resource_group="docs-aml", show_output=False)
        ids = seed(ws, work)
    with standalone_studio(home, base) as server:
        yield server, ids


def test_login_is_required_everywhere(studio):
    server, ids = studio
    run = ids["runs"][0]
    for path in ["", f"{WS}/", f"{WS}/runs/{run}", f"{WS}/models"]:
        resp = requests.get(server.url + "studio/" + path, allow_redirects=False, timeout=30)
        assert resp.status_code == 302 and "login" in resp.headers["Location"], path
    for path in ["api/workspaces", f"api/{WS}/runs/{run}", f"api/{WS}/runs/{run}/files/outputs%2Fnotes.txt",
                 f"api/{WS}/config.json"]:
        resp = requests.get(server.url + "studio/" + path, timeout=30)
        assert resp.status_code == 403, path
    bad = requests.get(server.url + "studio/api/workspaces",
                       headers={"Authorization": "token wrong"}, timeout=30)
    assert bad.status_code == 403


def test_every_page_renders(studio):
    server, ids = studio
    run = ids["runs"][0]
    pages = ["", f"{WS}/", f"{WS}/experiments", f"{WS}/experiments/my-first-experiment",
             f"{WS}/runs/{run}", f"{WS}/runs/{ids['failed']}",
             f"{WS}/runs/{run}/files/azureml-logs%2F70_driver_log.txt",
             f"{WS}/compare?runs={','.join(ids['runs'])}", f"{WS}/models", f"{WS}/endpoints"]
    for path in pages:
        resp = server.page(path)
        assert resp.status_code == 200, (path, resp.text[:500])
        assert "<h1" in resp.text
    assert "training..." in server.page(f"{WS}/runs/{run}/files/azureml-logs%2F70_driver_log.txt").text
    assert "失敗の例" in server.page(f"{WS}/runs/{ids['failed']}").text


def test_hostile_names_are_escaped(studio):
    server, ids = studio
    run = ids["runs"][0]
    for path in [f"{WS}/experiments/my-first-experiment", f"{WS}/runs/{run}",
                 f"{WS}/runs/{run}/files/outputs%2Fnotes.txt",
                 f"{WS}/compare?runs={','.join(ids['runs'])}",
                 f"{WS}/runs/{ids['failed']}"]:
        text = server.page(path).text
        assert HOSTILE not in text and HOSTILE_SCRIPT not in text and "<b>bold</b>" not in text
    text = server.page(f"{WS}/runs/{run}").text
    assert "&lt;img src=x onerror=" in text and "&lt;script&gt;" in text
    # the API gives them back as data, unchanged
    detail = server.api(f"{WS}/runs/{run}").json()
    assert detail["tags"]["note"] == HOSTILE_SCRIPT
    assert HOSTILE in [m["name"] for m in detail["metrics"]]


def test_unknown_things_are_404_with_a_message(studio):
    server, _ = studio
    for path in ["ws/docs-aml/nope/", f"{WS}/runs/no-such-run", f"{WS}/experiments/nope",
                 f"{WS}/endpoints/nope"]:
        assert server.page(path).status_code == 404, path
    reply = server.api(f"{WS}/runs/no-such-run")
    assert reply.status_code == 404 and "no-such-run" in reply.json()["message"]
    assert server.api("ws/docs-aml/nope").status_code == 404


def test_listing_apis_paginate(studio):
    server, ids = studio
    runs = server.api(f"{WS}/experiments/my-first-experiment/runs?limit=2").json()
    assert runs["total"] == 3 and len(runs["items"]) == 2 and runs["limit"] == 2
    rest = server.api(f"{WS}/experiments/my-first-experiment/runs?limit=2&offset=2").json()
    assert [r["run_id"] for r in runs["items"] + rest["items"]] == ids["runs"][::-1]
    assert server.api(f"{WS}/experiments/my-first-experiment/runs?limit=x").status_code == 400
    assert server.api(f"{WS}/experiments/my-first-experiment/runs?limit=100000").json()["limit"] == 500
    exps = server.api(f"{WS}/experiments").json()
    assert {e["name"]: e["run_count"] for e in exps["items"]} == \
        {"my-first-experiment": 3, "other-experiment": 1}
    files = server.api(f"{WS}/runs/{ids['runs'][0]}/files?limit=1").json()
    assert files["total"] >= 3 and len(files["items"]) == 1
    assert server.api(f"{WS}/models").json()["items"][0]["id"] == ids["model"]
    assert server.api("workspaces").json()["items"][0]["name"] == "docs-ws"


def test_runs_filter_sort_and_columns(studio):
    server, ids = studio
    base = f"{WS}/experiments/my-first-experiment/runs"
    by_acc = server.api(base + "?sort=metric:accuracy&desc=0").json()["items"]
    assert [r["metrics"]["accuracy"] for r in by_acc] == pytest.approx([0.91, 0.93, 0.95])
    assert len(server.api(base + "?tag=k=3").json()["items"]) == 1
    assert len(server.api(base + "?range=accuracy:0.92:").json()["items"]) == 2
    assert server.api(base + "?status=Failed").json()["total"] == 0
    assert server.api(base + "?range=accuracy:x:").status_code == 400
    page = server.page("ws/docs-aml/docs-ws/experiments/my-first-experiment?columns=accuracy").text
    assert "sort=metric%3Aaccuracy" in page and "sort=metric%3Aloss" not in page


def test_run_api_shapes_and_metric_values(studio):
    server, ids = studio
    run = ids["runs"][0]
    detail = server.api(f"{WS}/runs/{run}").json()
    kinds = {m["name"]: m["kind"] for m in detail["metrics"]}
    assert kinds["loss"] == "series" and kinds["accuracy"] == "scalar"
    assert kinds["k-search"] == "table" and kinds["digits"] == "image"
    digits = next(m for m in detail["metrics"] if m["name"] == "digits")
    for name in digits["files"]:
        image = server.api(f"{WS}/runs/{run}/files/{quote(name, safe='')}")
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    loss = next(m for m in detail["metrics"] if m["name"] == "loss")
    assert loss["count"] == 30 and "<svg" in loss["chart"] and loss["max"] == 1.0
    assert detail["children_total"] == 2 and detail["status"] == "Completed"
    assert "chart" not in json.dumps(server.api(f"{WS}/runs/{run}?charts=0").json()["metrics"])
    values = server.api(f"{WS}/runs/{run}/metrics/loss?offset=10&limit=5").json()
    assert values["total"] == 30 and values["items"] == [1.0 / (i + 1) for i in range(10, 15)]
    table = server.api(f"{WS}/runs/{run}/metrics/k-search").json()
    assert table["items"] == [{"k": 1, "acc": 0.9}, {"k": 3, "acc": 0.93}]
    download = server.api(f"{WS}/runs/{run}/metrics/loss?format=csv")
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == ["index", "value"] and len(rows) == 31
    hostile = server.api(f"{WS}/runs/{run}/metrics/{quote(HOSTILE, safe='')}").json()
    assert hostile["items"] == [1]
    assert server.api(f"{WS}/runs/{run}/metrics/nope").status_code == 404


def test_files_cannot_leave_the_run_folder(studio, monkeypatch):
    server, ids = studio
    run = ids["runs"][0]
    escapes = ["..%2F..%2F..%2Fworkspace.json", "%2Fetc%2Fpasswd", "outputs%2F..%2F..%2Fx",
               "%2e%2e%2fworkspace.json", "outputs/../../../workspace.json"]
    for name in escapes:
        resp = server.api(f"{WS}/runs/{run}/files/{name}")
        assert resp.status_code in (404, 400), (name, resp.url, resp.text[:300])
        assert "workspaceid" not in resp.text
    # a symlink inside the run folder that points outside is refused too
    from amlhandson import Workspace
    from amlhandson.core.run import Run

    monkeypatch.setenv("AMLHANDSON_HOME", str(server.home))
    folder = Run.find(Workspace.get("docs-ws", resource_group="docs-aml"), run).local_path
    link = folder / "outputs" / "escape.json"
    link.symlink_to(folder.parents[2] / "workspace.json")
    try:
        resp = server.api(f"{WS}/runs/{run}/files/outputs%2Fescape.json")
        assert resp.status_code == 404 and "workspaceid" not in resp.text
    finally:
        link.unlink()


def test_file_responses_never_run_script(studio):
    server, ids = studio
    run = ids["runs"][0]
    text = server.api(f"{WS}/runs/{run}/files/outputs%2Fnotes.txt")
    assert text.status_code == 200 and text.text == HOSTILE_SCRIPT
    assert text.headers["Content-Type"].startswith("text/plain")
    assert text.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in text.headers["Content-Security-Policy"]
    image = server.api(f"{WS}/runs/{run}/files/tiny.png")
    assert image.headers["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")
    down = server.api(f"{WS}/runs/{run}/files/outputs%2Fnotes.txt?download=1")
    assert down.headers["Content-Type"] == "application/octet-stream"
    assert 'filename="notes.txt"' in down.headers["Content-Disposition"]


def test_downloads_config_json_and_model(studio):
    server, ids = studio
    config = server.api(f"{WS}/config.json")
    assert config.json() == {"subscription_id": "00000000-0000-0000-0000-000000000000",
                             "resource_group": "docs-aml", "workspace_name": "docs-ws"}
    assert "attachment" in config.headers["Content-Disposition"]
    model = server.api(f"{WS}/models/sklearn_mnist/1/download")
    assert model.status_code == 200 and model.content == b"model-bytes"
    assert server.api(f"{WS}/models/sklearn_mnist/9/download").status_code == 404
    assert server.api(f"{WS}/models/sklearn_mnist/x/download").status_code == 400


def test_writes_need_xsrf_or_token(studio):
    server, _ = studio
    session = requests.Session()
    # log in with the token as a browser does: the cookie, then the _xsrf cookie from a page
    assert session.get(server.url + f"studio/?token={server.token}", timeout=30).status_code == 200
    xsrf = session.cookies.get("_xsrf")
    assert xsrf
    body = json.dumps({"name": "cookie-ws"})
    no_header = session.post(server.url + "studio/api/workspaces", data=body, timeout=30)
    assert no_header.status_code == 403
    ok = session.post(server.url + "studio/api/workspaces", data=body,
                      headers={"X-XSRFToken": xsrf}, timeout=30)
    assert ok.status_code == 201 and ok.json()["name"] == "cookie-ws"
    assert session.get(server.url + "studio/api/workspaces", timeout=30).status_code == 200


def test_create_workspace_validates_like_workspace_create(studio):
    server, _ = studio
    created = server.api("workspaces", "POST", data=json.dumps({
        "name": "portal-ws", "subscription_id": "1234", "resource_group": "portal-rg",
        "location": "japaneast"}))
    assert created.status_code == 201
    assert created.json()["location"] == "japaneast" and created.json()["subscriptionId"] == "1234"
    again = server.api("workspaces", "POST", data=json.dumps({"name": "portal-ws",
                                                              "resource_group": "portal-rg"}))
    assert again.status_code == 400 and "already exists" in again.json()["message"]
    for bad in [{"name": "bad name!"}, {"name": ""}, {"name": "ok", "resource_group": "../x"},
                {"name": 5}, {"name": "<script>"}]:
        reply = server.api("workspaces", "POST", data=json.dumps(bad))
        assert reply.status_code == 400, bad
        assert reply.json()["message"]
    assert server.api("workspaces", "POST", data="not json").status_code == 400
    assert server.api("workspaces", "POST", data="[1]").status_code == 400
    names = [w["name"] for w in server.api("workspaces").json()["items"]]
    assert "portal-ws" in names and "<script>" not in names


def test_cancel_run_only_when_running(studio, monkeypatch):
    server, ids = studio
    reply = server.api(f"{WS}/runs/{ids['runs'][0]}/cancel", "POST")
    assert reply.status_code == 409 and "Completed" in reply.json()["message"]
    from amlhandson import Experiment, Workspace

    monkeypatch.setenv("AMLHANDSON_HOME", str(server.home))
    ws = Workspace.get("docs-ws", resource_group="docs-aml")
    run = Experiment(ws, "to-cancel").start_logging()
    reply = server.api(f"{WS}/runs/{run.id}/cancel", "POST")
    assert reply.status_code == 200 and reply.json()["status"] == "Canceled"
    assert run.get_status() == "Canceled"
    again = server.api(f"{WS}/runs/{run.id}/cancel", "POST")
    assert again.status_code == 409


def test_standalone_refuses_non_loopback_without_token(tmp_path):
    env = env_for(tmp_path / "home", tmp_path / "runtime")
    for args in (["--ip", "0.0.0.0"], ["--token", ""], ["--ip", "0.0.0.0", "--token", " "]):
        done = subprocess.run([sys.executable, "-m", "amlhandson.cli", "studio", *args], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, args
        assert "--token" in done.stderr


def test_standalone_prints_url_with_given_token_and_leaves_a_marker(tmp_path, monkeypatch):
    from amlhandson.studio import links

    with standalone_studio(tmp_path / "home", tmp_path, "--token", "given-token") as server:
        assert server.token == "given-token" and server.url.startswith("http://127.0.0.1:")
        assert server.api("workspaces").status_code == 200
        monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
        monkeypatch.setenv("AMLHANDSON_HOME", str(tmp_path / "home"))
        found = links.find_studio()
        assert found is not None and found.url.rstrip("/") + "/" == server.url
        assert found.pid == server.proc.pid
        monkeypatch.setenv("AMLHANDSON_HOME", str(tmp_path / "another-home"))
        assert links.find_studio() is None  # a studio of another home is not ours
    assert not list(Path(tmp_path / "runtime").glob("amlhandson-studio-*.json"))
