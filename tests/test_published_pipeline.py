"""Published pipelines: frozen scripts, the SDK calls, and the REST endpoint over real HTTP on
127.0.0.1 (requests and curl): v1's header and body, every refusal, idle clients, restarts,
runs that outlive the server, a cancel from another process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from amlhandson import Experiment
from amlhandson.core.authentication import (
    InteractiveLoginAuthentication,
    check_header,
    key_file,
    local_key,
    regenerate_local_key,
)
from amlhandson.core.run import Run
from amlhandson.exceptions import UserErrorException
from amlhandson.pipeline.core import (
    Pipeline,
    PipelineData,
    PipelineParameter,
    PublishedPipeline,
    _detached,
)
from amlhandson.pipeline.core.pipeline_run import PipelineRun
from amlhandson.pipeline.steps import PythonScriptStep

pytest.importorskip("uvicorn")

PREP = textwrap.dedent("""
    import argparse, os
    p = argparse.ArgumentParser(); p.add_argument("--out"); a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    open(os.path.join(a.out, "n.txt"), "w").write("4")
""")
TRAIN = textwrap.dedent("""
    import argparse, os, time
    from amlhandson.core import Run
    p = argparse.ArgumentParser()
    p.add_argument("--data"); p.add_argument("--k", type=int); p.add_argument("--sleep", type=float)
    a = p.parse_args()
    time.sleep(a.sleep)
    n = int(open(os.path.join(a.data, "n.txt")).read())
    Run.get_context().log("score", n * a.k * FACTOR)
""")


@pytest.fixture
def project(scratch: Path) -> Path:
    for folder, name, text in (("prep", "prep.py", PREP),
                               ("train", "train.py", "FACTOR = 1\n" + TRAIN)):
        (scratch / "steps" / folder).mkdir(parents=True)
        (scratch / "steps" / folder / name).write_text(text)
    return scratch / "steps"


def make_pipeline(ws, project: Path) -> Pipeline:
    prepared = PipelineData("prepared")
    k = PipelineParameter("k", default_value=2)
    sleep = PipelineParameter("sleep", default_value=0.0)
    prep = PythonScriptStep("prep.py", name="prepare", arguments=["--out", prepared],
                            outputs=[prepared], source_directory=project / "prep")
    train = PythonScriptStep("train.py", name="train", inputs=[prepared],
                             arguments=["--data", prepared, "--k", k, "--sleep", sleep],
                             source_directory=project / "train")
    assert prep
    return Pipeline(ws, steps=[train], description="test pipeline")


@pytest.fixture
def published(ws, project):
    pub = make_pipeline(ws, project).publish(name="train-pipeline", description="d",
                                              version="1.0")
    yield pub
    _detached.stop_endpoint(ws)


def score_of(ws, run_id: str) -> float:
    run = Run.find(ws, run_id)
    assert isinstance(run, PipelineRun)
    assert run.wait_for_completion(show_output=False, timeout_seconds=120) == "Completed"
    return run.find_step_run("train")[0].get_metrics()["score"]


def test_publish_freezes_the_scripts_and_the_sdk_calls(ws, project, published) -> None:
    assert published.status == "Active" and published.version == "1.0"
    assert published.parameters == {"k": 2, "sleep": 0.0}
    assert [p.id for p in PublishedPipeline.list(ws)] == [published.id]
    assert PublishedPipeline.get(ws, published.id).name == "train-pipeline"
    # editing a script after publishing changes the Pipeline object, not the published one
    (project / "train" / "train.py").write_text("FACTOR = 100\n" + TRAIN)
    run = published.submit(ws, "published", pipeline_parameters={"k": 3})
    assert run.wait_for_completion(show_output=False) == "Completed"
    assert run.find_step_run("train")[0].get_metrics() == {"score": 12}
    assert run.get_properties()["azureml.pipelineid"] == published.id
    fresh = Experiment(ws, "draft").submit(make_pipeline(ws, project))
    fresh.wait_for_completion(show_output=False)
    assert fresh.find_step_run("train")[0].get_metrics() == {"score": 800}

    with pytest.raises(UserErrorException, match="'x'"):
        published.submit(ws, "published", pipeline_parameters={"x": 1})
    with pytest.raises(UserErrorException, match="int"):
        published.submit(ws, "published", pipeline_parameters={"k": "three"})
    published.disable()
    assert PublishedPipeline.list(ws) == [] and published.status == "Disabled"
    with pytest.raises(UserErrorException, match="Disabled"):
        published.submit(ws, "published")
    published.enable()
    assert [p.id for p in PublishedPipeline.list(ws)] == [published.id]
    with pytest.raises(LookupError, match="PublishedPipeline 'nope'"):
        PublishedPipeline.get(ws, "nope")


def test_publish_pipeline_from_a_run_uses_the_scripts_that_run_ran(ws, project) -> None:
    run = Experiment(ws, "draft").submit(make_pipeline(ws, project))
    assert run.wait_for_completion(show_output=False) == "Completed"
    (project / "train" / "train.py").write_text("FACTOR = 100\n" + TRAIN)
    published = run.publish_pipeline(name="from-run", description="d", version="2")
    again = published.submit(ws, "published")
    again.wait_for_completion(show_output=False)
    step = again.find_step_run("train")[0]  # the scripts are the same: the step is reused
    assert step.reused and step.reused_run_id == run.find_step_run("train")[0].id
    assert step.get_metrics() == {"score": 8}
    assert step.get_job_log().startswith(f"(再利用: Run {step.reused_run_id}")
    again = published.submit(ws, "published", pipeline_parameters={"k": 3})
    again.wait_for_completion(show_output=False)
    assert again.find_step_run("train")[0].get_metrics() == {"score": 12}


def test_the_local_key(aml_home: Path) -> None:
    header = InteractiveLoginAuthentication().get_authentication_header()
    token = header["Authorization"].split(" ", 1)[1]
    assert token == local_key() and len(token) >= 40
    if os.name == "posix":
        assert stat.S_IMODE(key_file().stat().st_mode) == 0o600
        assert stat.S_IMODE(key_file().parent.stat().st_mode) == 0o700
    assert check_header(header["Authorization"]) and check_header(f"bearer {token}")
    for bad in (None, "", "Bearer", f"Basic {token}", f"Bearer {token}x", "Bearer " + "é" * 10):
        assert not check_header(bad)
    new = regenerate_local_key()
    assert new != token and not check_header(header["Authorization"])
    key_file().write_text("")  # an emptied key file is replaced, never accepted as ""
    assert not check_header("Bearer ") and len(local_key()) >= 40


@pytest.mark.parametrize("start", ["no key", "an emptied key file"])
def test_racing_processes_create_one_key(aml_home: Path, start: str) -> None:
    if start != "no key":
        key_file().parent.mkdir(parents=True, exist_ok=True)
        key_file().write_text("")
    code = "from amlhandson.core.authentication import local_key; print(local_key())"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "AMLHANDSON_HOME": str(aml_home)})
             for _ in range(6)]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1 and keys == {key_file().read_text()}


def test_the_endpoint_over_http(ws, published) -> None:
    url = published.endpoint
    assert url.startswith("http://127.0.0.1:") and url.endswith(
        f"/workspaces/{ws.name}/PipelineRuns/PipelineSubmit/{published.id}")
    header = InteractiveLoginAuthentication().get_authentication_header()
    reply = requests.post(url, headers=header, json={"ExperimentName": "rest",
                                                     "ParameterAssignments": {"k": 5}}, timeout=60)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["ExperimentName"] == "rest" and body["PipelineId"] == published.id
    assert score_of(ws, body["Id"]) == 20
    assert Run.find(ws, body["Id"]).experiment.name == "rest"

    def refused(status: int, **kwargs) -> str:
        r = requests.request(kwargs.pop("method", "POST"), kwargs.pop("url", url), timeout=30,
                             **kwargs)
        assert r.status_code == status, r.text
        return r.json()["error"]["message"]

    good = {"ExperimentName": "rest"}
    assert "Authorization ヘッダーがありません" in refused(401, json=good)
    assert "キーが違います" in refused(401, json=good, headers={"Authorization": "Bearer nope"})
    assert "Content-Type" in refused(415, data=b"{}", headers={**header,
                                                               "Content-Type": "text/plain"})
    assert "JSON" in refused(400, data=b"{not json", headers={**header,
                                                               "Content-Type": "application/json"})
    assert "ExperimentName" in refused(400, json={}, headers=header)
    assert "ExperimentName" in refused(400, json=["a"], headers=header)
    assert "実験" in refused(400, json={"ExperimentName": "../../etc"}, headers=header)
    assert "'zz'" in refused(400, json={**good, "ParameterAssignments": {"zz": 1}},
                             headers=header)
    assert "オブジェクト" in refused(400, json={**good, "ParameterAssignments": [1]},
                                    headers=header)
    assert "大きすぎます" in refused(413, json={**good, "pad": "x" * 2_000_000}, headers=header)
    assert "POST" in refused(405, method="GET", headers=header)
    assert "ありません" in refused(404, json=good, headers=header,
                               url=url.rsplit("/", 1)[0] + "/no-such-pipeline")
    assert "ありません" in refused(404, json=good, headers=header,
                               url=url.rsplit("/", 1)[0] + "/..%2F..%2Fetc")
    assert "ありません" in refused(404, json=good, headers=header,
                               url=url.replace(f"/workspaces/{ws.name}/", "/workspaces/other/"))
    published.disable()
    assert "Disabled" in refused(409, json=good, headers=header)
    published.enable()
    regenerate_local_key()
    assert "キーが違います" in refused(401, json=good, headers=header)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_endpoint_with_curl(ws, published) -> None:
    header = InteractiveLoginAuthentication().get_authentication_header()
    out = subprocess.run(["curl", "-sS", "-X", "POST", published.endpoint,
                          "-H", f"Authorization: {header['Authorization']}",
                          "-H", "Content-Type: application/json",
                          "-d", json.dumps({"ExperimentName": "curl",
                                            "ParameterAssignments": {"k": 4}})],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert score_of(ws, json.loads(out)["Id"]) == 16
    status = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                             published.endpoint, "-d", "{}"], capture_output=True, text=True,
                            timeout=60).stdout
    assert status == "401"


def test_idle_and_slow_clients_do_not_block_others(ws, published) -> None:
    url = published.endpoint
    port = int(url.split(":")[2].split("/")[0])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")  # and stops
    try:
        started = time.monotonic()
        reply = requests.get(url.split("/pipelines/")[0] + "/", timeout=10)
        assert reply.status_code == 200 and reply.text == "Healthy"
        assert time.monotonic() - started < 5
    finally:
        for s in [*idle, slow]:
            s.close()


def test_a_dead_server_is_restarted_on_its_port_and_runs_outlive_it(ws, published) -> None:
    url = published.endpoint
    header = InteractiveLoginAuthentication().get_authentication_header()
    reply = requests.post(url, headers=header, timeout=60, json={
        "ExperimentName": "rest", "ParameterAssignments": {"sleep": 3.0}})
    run_id = reply.json()["Id"]
    state = _detached.endpoint_state(ws)
    os.kill(state["pid"], 9)
    time.sleep(0.5)
    assert _detached.endpoint_state(ws) is None
    assert score_of(ws, run_id) == 8  # the run went on without the server
    assert published.endpoint == url  # restarted, same port
    assert _detached.endpoint_state(ws)["pid"] != state["pid"]


def test_a_cancel_from_another_process_stops_a_detached_run(ws, published) -> None:
    run_id = _detached.start_run(ws, published.id, "rest", {"k": 2, "sleep": 60.0})
    run = Run.find(ws, run_id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        steps = run.find_step_run("train")
        if steps and steps[0].get_status() == "Running":
            break
        time.sleep(0.2)
    run.cancel()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and run.find_step_run("train")[0].get_status() not in (
            "Canceled", "Failed"):
        time.sleep(0.2)
    assert run.find_step_run("train")[0].get_status() == "Canceled"
    assert run.get_status() == "Canceled"


def test_stopping_the_server_and_a_deleted_workspace(ws, published) -> None:
    assert published.endpoint.startswith("http://127.0.0.1:")
    assert _detached.stop_endpoint(ws) is True
    assert _detached.endpoint_state(ws) is None and _detached.stop_endpoint(ws) is False
    assert published.endpoint.startswith("http://127.0.0.1:")
    pid = _detached.endpoint_state(ws)["pid"]
    (Path(ws.path) / "endpoint" / "server.json").unlink()  # what deleting the workspace does
    deadline = time.monotonic() + 10
    import psutil

    while time.monotonic() < deadline and psutil.pid_exists(pid) and \
            psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.2)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    _detached.reap()


def test_racing_processes_start_one_endpoint_server(ws, published, aml_home) -> None:
    code = textwrap.dedent(f"""
        from amlhandson import Workspace
        from amlhandson.pipeline.core import PublishedPipeline
        ws = Workspace.get("docs-ws", resource_group="docs-aml")
        print(PublishedPipeline.get(ws, {published.id!r}).endpoint)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "AMLHANDSON_HOME": str(aml_home)})
             for _ in range(4)]
    urls = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert len(urls) == 1 and urls == {published.endpoint}
    import psutil

    servers = [p for p in psutil.process_iter(["cmdline"])
               if any("_endpoint_server" in part for part in (p.info["cmdline"] or []))
               and str(Path(ws.path)) in " ".join(p.info["cmdline"] or [])]
    assert len(servers) == 1
