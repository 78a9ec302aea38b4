"""Deployment: the scoring server's HTTP surface, service lifecycle, keys, CLI, packaging.

Services are real processes on 127.0.0.1. Every service a test starts is
deleted by a fixture finalizer, and the module ends by checking that no server
process of its workspaces is left.
"""

from __future__ import annotations

import http.client as httpclient
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest

from amlhandson.cli.services import services_cli
from amlhandson.core import Workspace
from amlhandson.core.environment import Environment
from amlhandson.core.model import InferenceConfig, Model
from amlhandson.core.webservice import AciWebservice, LocalWebservice, Webservice
from amlhandson.exceptions import DataError, UserErrorException, WebserviceException

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
SERVER_MODULE = "amlhandson.core.webservice._server"

PLAIN_SCORE = """\
import json
import os

def init():
    global factor
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "factor.txt")) as fh:
        factor = float(fh.read())
    print("init: factor", factor)

def run(raw_data, request_headers):
    data = json.loads(raw_data)
    if isinstance(data, dict) and data.get("fail"):
        raise ValueError("run() was asked to fail")
    if isinstance(data, dict) and "header" in data:
        return request_headers.get(data["header"])
    return [x * factor for x in data["data"]]
"""

SCHEMA_SCORE = """\
import numpy as np
from amlhandson.core.webservice.schema import input_schema, output_schema, NumpyParameterType

def init():
    pass

@input_schema("data", NumpyParameterType(np.zeros((1, 4))))
@output_schema(NumpyParameterType(np.array([0.0])))
def run(data):
    assert isinstance(data, np.ndarray) and data.dtype == np.float64
    return data.sum(axis=1)
"""


# -- helpers -------------------------------------------------------------------------------------
def python_env(home: Path) -> dict[str, str]:
    """Environment for a child Python process using ``home`` as AMLHANDSON_HOME."""
    env = dict(os.environ, AMLHANDSON_HOME=str(home))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def http(port: int, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def post(port: int, body: bytes | str, ctype: str = "application/json",
         **headers: str) -> tuple[int, dict[str, str], bytes]:
    data = body.encode() if isinstance(body, str) else body
    return http(port, "POST", "/score", data, {"Content-Type": ctype, **headers})


def server_pids(home: Path) -> list[int]:
    pids = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if SERVER_MODULE in cmd and str(home) in cmd:
            pids.append(proc.info["pid"])
    return pids


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One home, workspace, model and scratch folder for the module."""
    base = tmp_path_factory.mktemp("deploy")
    home = base / "home"
    work = base / "work"
    work.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AMLHANDSON_HOME", str(home))
        mp.chdir(work)
        ws = Workspace.create("svc-ws", resource_group="svc-rg", exist_ok=True, show_output=False)
        (work / "factor.txt").write_text("2.5")
        model = Model.register(ws, "factor.txt", "factor")
        (work / "plain").mkdir()
        (work / "plain" / "score.py").write_text(PLAIN_SCORE)
        (work / "schema_score.py").write_text(SCHEMA_SCORE)
        yield {"home": home, "work": work, "ws": ws, "model": model}
        for service in Webservice.list(ws):
            service.delete()
        deadline = time.time() + 10
        while server_pids(home) and time.time() < deadline:
            time.sleep(0.1)
        assert server_pids(home) == [], "a scoring server process was left running"


@pytest.fixture
def deploy(env: dict) -> Iterator:
    """Deploy a service for one test; deleted afterwards whatever happens."""
    started: list[Webservice] = []

    def _deploy(name: str, entry: str = "plain/score.py", config=None, wait: bool = True,
                models=None, **kw):
        ic = InferenceConfig(entry_script=entry, **kw)
        service = Model.deploy(env["ws"], name, models or [env["model"]], ic,
                               config or LocalWebservice.deploy_configuration(), overwrite=True)
        started.append(service)
        if wait:
            service.wait_for_deployment()
        return service

    yield _deploy
    for service in started:
        service.delete()


@pytest.fixture(scope="module")
def plain(env: dict) -> Iterator[Webservice]:
    ic = InferenceConfig(entry_script="score.py", source_directory="plain")
    service = Model.deploy(env["ws"], "plain-svc", [env["model"]], ic,
                           LocalWebservice.deploy_configuration(), overwrite=True)
    service.wait_for_deployment()
    yield service
    service.delete()


@pytest.fixture(scope="module")
def secured(env: dict) -> Iterator[Webservice]:
    ic = InferenceConfig(entry_script="schema_score.py")
    config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1, auth_enabled=True)
    service = Model.deploy(env["ws"], "schema-svc", [env["model"]], ic, config, overwrite=True)
    service.wait_for_deployment()
    yield service
    service.delete()


# -- HTTP surface --------------------------------------------------------------------------------
def test_health_score_and_headers(plain: Webservice) -> None:
    port = plain.port
    assert plain.state == "running"
    assert plain.scoring_uri == f"http://127.0.0.1:{port}/score"
    assert plain.swagger_uri == f"http://127.0.0.1:{port}/swagger.json"
    assert http(port, "GET", "/")[::2] == (200, b"Healthy")
    status, headers, body = post(port, '{"data": [1, 2]}')
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == [2.5, 5.0]
    # run(raw_data, request_headers) receives the request's headers
    status, _, body = post(port, '{"header": "X-Trace"}', **{"X-Trace": "abc"})
    assert (status, json.loads(body)) == (200, "abc")
    # charset parameters are fine; GET /score passes the query as a JSON object
    assert post(port, '{"data": [1]}', "application/json; charset=utf-8")[0] == 200
    assert json.loads(http(port, "GET", "/score?header=Host")[2]) == f"127.0.0.1:{port}"


def test_http_errors_are_4xx_with_messages(plain: Webservice) -> None:
    port = plain.port
    status, _, body = post(port, '{"data": [1]}', "text/plain")
    assert status == 415
    assert json.loads(body)["message"].startswith(
        "Expects Content-Type to be application/json")
    status, _, body = post(port, '{"data": [1,')
    assert status == 400 and "正しい JSON ではありません" in json.loads(body)["message"]
    status, _, body = post(port, "")
    assert status == 400 and "空" in json.loads(body)["message"]
    status, _, body = post(port, b"\xff\xfe\x00binary")
    assert status == 400 and "UTF-8" in json.loads(body)["message"]
    status, _, body = http(port, "GET", "/swagger.json")
    assert status == 404 and json.loads(body)["message"].startswith("Swagger not found")
    assert http(port, "OPTIONS", "/score")[0] == 405
    assert http(port, "GET", "/nothing-here")[0] == 404


def test_run_exception_is_500_saying_what_failed(plain: Webservice) -> None:
    status, headers, body = post(plain.port, '{"fail": true}')
    assert status == 500
    assert headers["x-ms-run-function-failed"] == "True"
    assert body.decode().startswith("ValueError: run() was asked to fail")
    assert "Encountered Exception in run()" in plain.get_logs()
    assert 'File "score.py"' in plain.get_logs()  # relative to the service's app folder


def test_request_body_limit(plain: Webservice, deploy) -> None:
    big = b'{"data": [' + b"1," * (6 * 1024 * 1024) + b"1]}"  # ~12 MB > default 10 MB
    status, _, body = post(plain.port, big)
    assert status == 413 and "大きすぎます" in json.loads(body)["message"]
    small = deploy("small-limit", config=LocalWebservice.deploy_configuration(
        max_request_body_mb=0.01))
    assert post(small.port, '{"data": [1]}')[0] == 200
    status, _, body = post(small.port, b'{"data": [' + b"1," * 20000 + b"1]}")
    assert status == 413 and "上限 10 KB" in json.loads(body)["message"]
    status, _, _ = post(small.port, b"1" * (1024 * 1024))  # far beyond: still a clean 413
    assert status == 413
    assert post(small.port, '{"data": [1]}')[0] == 200


def test_service_run_local(plain: Webservice, capsys: pytest.CaptureFixture) -> None:
    assert plain.run(json.dumps({"data": [2]})) == [5.0]
    assert plain.run({"data": np.array([1.0])}) == [2.5]  # objects are JSON-encoded
    out = capsys.readouterr().out
    assert "Making a scoring call..." in out and "Scoring result: [5.0]" in out
    with pytest.raises(WebserviceException, match="Error: Scoring was unsuccessful"):
        plain.run('{"fail": true}')
    with pytest.raises(WebserviceException, match="HTTP 400"):
        plain.run("not json")
    with pytest.raises(NotImplementedError):
        plain.get_keys()


def test_malformed_barrage_never_takes_the_service_down(secured: Webservice) -> None:
    port = secured.port
    key = {"Authorization": f"Bearer {secured.get_keys()[0]}"}
    bad: list[tuple[bytes, str]] = [
        (b"", "application/json"), (b"   ", "application/json"), (b"{", "application/json"),
        (b"null", "application/json"), (b"[1, 2, 3]", "application/json"),
        (b'"data"', "application/json"), (b"{}", "application/json"),
        (b'{"data": null}', "application/json"), (b'{"data": 5}', "application/json"),
        (b'{"data": [1, 2, 3, 4]}', "application/json"),
        (b'{"data": [[1, 2, 3]]}', "application/json"),
        (b'{"data": [[1, 2, 3, 4], [1, 2]]}', "application/json"),
        (b'{"data": [["a", "b", "c", "d"]]}', "application/json"),
        (b'{"data": [[true, false, true, false]]}', "application/json"),
        (b'{"data": [[1, 2, 3, null]]}', "application/json"),
        (b'{"data": [[{"x": 1}, 2, 3, 4]]}', "application/json"),
        (b'{"data": [[[1, 2, 3, 4]]]}', "application/json"),
        (b'{"data": [[1, 2, 3, 4]], "extra": 1}', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (bytes(range(256)) * 4, "application/json"),
        (b"\x89PNG\r\n\x1a\n" + os.urandom(2048), "application/octet-stream"),
        (b'{"data": [[1, 2, 3, 4]]}', "text/plain"),
        (b'{"data": [[1, 2, 3, 4]]}', ""),
        (b'{"data": [[1e999, 2, 3, 4]]}', "application/json"),
        (b'{"data": [[NaN, 2, 3, 4]]}', "application/json"),
        (b'{"data": [[99999999999999999999999, 2, 3, 4]]}', "application/json"),
    ]
    for body, ctype in bad:
        status, _, answer = post(port, body, ctype, **key)
        assert 400 <= status < 500, (body[:40], status, answer[:200])
        message = json.loads(answer)["message"]
        assert isinstance(message, str) and len(message) > 10
        assert http(port, "GET", "/")[0] == 200
    status, _, body = post(port, '{"data": [[1, 2, 3, 4], [0.5, 0, 0, 0]]}', **key)
    assert (status, json.loads(body)) == (200, [10.0, 0.5])
    assert secured.state == "Healthy"


def test_auth_keys_and_swagger(secured: Webservice) -> None:
    port = secured.port
    body = '{"data": [[1, 1, 1, 1]]}'
    primary, secondary = secured.get_keys()
    assert primary != secondary and len(primary) >= 32
    status, headers, answer = post(port, body)
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    assert "Authorization" in json.loads(answer)["message"]
    assert post(port, body, Authorization="Bearer wrong-key")[0] == 401
    assert post(port, body, Authorization=primary)[0] == 401  # scheme is required
    assert post(port, body, Authorization=f"Bearer {primary}")[0] == 200
    assert post(port, body, Authorization=f"Bearer {secondary}")[0] == 200
    assert secured.run(body) == [4.0]  # the SDK sends the primary key
    secured.regen_key("Primary")
    new_primary, same_secondary = secured.get_keys()
    assert new_primary != primary and same_secondary == secondary
    assert post(port, body, Authorization=f"Bearer {primary}")[0] == 401
    assert post(port, body, Authorization=f"Bearer {new_primary}")[0] == 200
    assert secured.run(body) == [4.0]
    with pytest.raises(UserErrorException, match="Primary"):
        secured.regen_key("Tertiary")
    # a real schema, without auth (health and swagger are open as in v1)
    status, _, doc = http(port, "GET", "/swagger.json")
    swagger = json.loads(doc)
    assert status == 200 and swagger["swagger"] == "2.0"
    data_schema = swagger["definitions"]["ServiceInput"]["properties"]["data"]
    assert data_schema["type"] == "array" and data_schema["items"]["items"]["type"] == "number"
    with pytest.raises(WebserviceException, match="Received bad response from service"):
        secured.run('{"data": [[1]]}')


# -- lifecycle ---------------------------------------------------------------------------------------
def test_broken_init_fails_with_traceback_then_reload_fixes_it(env: dict, deploy) -> None:
    folder = env["work"] / "editable"
    folder.mkdir()
    score = folder / "score.py"
    score.write_text(textwrap.dedent("""\
        def init():
            global model
            model = joblib.load(model_pth)

        def run(raw_data):
            return "v1"
        """))
    service = deploy("broken-svc", entry="score.py", source_directory=str(folder), wait=False)
    started = time.monotonic()
    with pytest.raises(WebserviceException) as info:
        service.wait_for_deployment()
    assert time.monotonic() - started < 15
    message = str(info.value)
    assert message.startswith("Error: Connection to container has failed. Did your init method "
                              "fail?")
    assert "init()" in message and "NameError" in message
    assert 'File "score.py", line 3, in init' in message
    assert service.state == "failed" and service.error["kind"] == "init"
    logs = service.get_logs()
    assert "User's init function failed" in logs and "NameError" in logs
    assert str(env["home"]) not in message
    with pytest.raises(WebserviceException, match="failed"):
        service.run('{"data": 1}')
    # fix score.py: reload picks up the edited file and keeps serving on a port
    score.write_text("def init():\n    pass\n\ndef run(raw_data):\n    return 'v2'\n")
    service.reload()
    assert service.state == "running"
    assert json.loads(post(service.port, "{}")[2]) == "v2"
    port = service.port
    score.write_text("def init():\n    pass\n\ndef run(raw_data):\n    return 'v3'\n")
    service.reload()
    assert service.port == port and json.loads(post(port, "{}")[2]) == "v3"


def test_script_problems_are_explained(env: dict, deploy) -> None:
    cases = {
        "syntax": ("def init(:\n    pass\n", "文法エラー"),
        "no-run": ("def init():\n    pass\n", "run() がありません"),
        "no-args": ("def init():\n    pass\n\ndef run():\n    return 1\n", "引数がありません"),
        "missing-module": ("import no_such_module_xyz\n", "no_such_module_xyz"),
    }
    for name, (source, expected) in cases.items():
        path = env["work"] / f"{name}.py"
        path.write_text(source)
        service = deploy(f"bad-{name}", entry=path.name, wait=False,
                         config=AciWebservice.deploy_configuration())
        with pytest.raises(WebserviceException) as info:
            service.wait_for_deployment()
        assert str(info.value).startswith("Service deployment polling reached non-successful "
                                          "terminal state, current service state: Failed")
        assert expected in str(info.value)
        assert service.state == "Failed"


def test_update_models_and_delete(env: dict, deploy, capsys) -> None:
    (env["work"] / "factor.txt").write_text("10")
    new = Model.register(env["ws"], "factor.txt", "factor")
    service = deploy("update-svc")
    assert service.run('{"data": [1]}') == [2.5]
    service.update(models=[new])
    assert service.run('{"data": [1]}') == [10.0]
    assert [m.id for m in service.models] == [new.id]
    service.update(tags={"stage": "test"})
    assert Webservice(env["ws"], "update-svc").tags == {"stage": "test"}
    with pytest.raises(UserErrorException, match="update-svc"):
        new.delete()  # in use
    service.delete()
    assert service.state == "deleted"
    with pytest.raises(WebserviceException, match="Cannot call run\\(\\) when service is deleted"):
        service.run("{}")
    with pytest.raises(WebserviceException, match="WebserviceNotFound"):
        Webservice(env["ws"], "update-svc")
    assert not (env["ws"].path / "services" / "update-svc").exists()


def test_deploy_checks_arguments(env: dict, deploy) -> None:
    ws, model = env["ws"], env["model"]
    ic = InferenceConfig(entry_script="plain/score.py")
    with pytest.raises(UserErrorException, match="service name is invalid"):
        Model.deploy(ws, "Bad_Name", [model], ic, LocalWebservice.deploy_configuration())
    with pytest.raises(UserErrorException, match="models"):
        Model.deploy(ws, "ok-name", ["factor:1"], ic, LocalWebservice.deploy_configuration())
    with pytest.raises(UserErrorException, match="entry_script"):
        InferenceConfig(entry_script="missing.py")
    with pytest.raises(UserErrorException, match="同時に指定できません"):
        InferenceConfig(entry_script="plain/score.py", environment=Environment("e"),
                        runtime="python")
    with pytest.raises(UserErrorException, match="port"):
        LocalWebservice.deploy_configuration(port=70000)
    with pytest.raises(UserErrorException, match="ssl_enabled"):
        AciWebservice.deploy_configuration(ssl_enabled=True)
    deploy("dup-svc")
    with pytest.raises(WebserviceException, match="already a service with name dup-svc"):
        Model.deploy(ws, "dup-svc", [model], ic, LocalWebservice.deploy_configuration())


def test_port_in_use_is_explained(plain: Webservice, deploy) -> None:
    service = deploy("port-clash", wait=False,
                     config=LocalWebservice.deploy_configuration(port=plain.port))
    with pytest.raises(WebserviceException, match="ポート"):
        service.wait_for_deployment()
    assert plain.state == "running"


def test_dead_process_shows_failed_and_tampered_model(env: dict, deploy) -> None:
    service = deploy("doomed-svc")
    pid = service.serialize()["pid"]
    psutil.Process(pid).kill()  # as if the machine or a user killed it
    deadline = time.time() + 10
    while service.state == "running" and time.time() < deadline:
        time.sleep(0.05)
    assert service.state == "failed"
    assert "終了しています" in service.error["message"]
    with pytest.raises(WebserviceException, match="failed"):
        service.run("{}")
    # the service's copy of the model is checked when the server starts
    copy = env["ws"].path / "services" / "doomed-svc" / "app" / "azureml-models" / "factor" / "1" / "factor.txt"
    copy.write_text("999")
    with pytest.raises(WebserviceException, match="SHA-256"):
        service.reload()
    assert service.error["kind"] == "model"


def test_find_and_stop_from_new_processes(env: dict, deploy) -> None:
    child_env = python_env(env["home"])
    # a new process deploys a service and exits; the service keeps running
    code = textwrap.dedent("""
        from amlhandson.core import Workspace
        from amlhandson.core.model import Model, InferenceConfig
        from amlhandson.core.webservice import LocalWebservice
        ws = Workspace.get("svc-ws", resource_group="svc-rg")
        s = Model.deploy(ws, "other-proc", [Model(ws, "factor", version=1)],
                         InferenceConfig(entry_script="plain/score.py"),
                         LocalWebservice.deploy_configuration())
        s.wait_for_deployment()
    """)
    subprocess.run([sys.executable, "-c", code], env=child_env, cwd=env["work"], check=True,
                   timeout=60, capture_output=True)
    other = Webservice(env["ws"], "other-proc")
    try:
        assert isinstance(other, LocalWebservice) and other.state == "running"
        assert "other-proc" in env["ws"].webservices
        assert post(other.port, '{"data": [4]}')[2] == b"[10.0]"
        # and a new process finds services started here
        mine = deploy("mine-svc")
        code = textwrap.dedent("""
            import json
            from amlhandson.core import Workspace
            from amlhandson.core.webservice import Webservice
            ws = Workspace.get("svc-ws", resource_group="svc-rg")
            s = Webservice(ws, "mine-svc")
            print(json.dumps([s.state, s.port, s.run('{"data": [2]}')]))
        """)
        out = subprocess.run([sys.executable, "-c", code], env=child_env, cwd=env["work"],
                             check=True, timeout=60, capture_output=True, text=True).stdout
        assert json.loads(out.splitlines()[-1]) == ["running", mine.port, [5.0]]
        # the CLI lists and stops them
        cli = [sys.executable, "-m", "amlhandson.cli", "services"]
        where = ["-w", "svc-ws", "-g", "svc-rg"]
        out = subprocess.run(cli + ["list", *where], env=child_env, check=True, timeout=60,
                             capture_output=True, text=True).stdout
        assert "other-proc" in out and "mine-svc" in out and "running" in out
        pid = other.serialize()["pid"]
        out = subprocess.run(cli + ["stop", "other-proc", *where], env=child_env, check=True,
                             timeout=60, capture_output=True, text=True).stdout
        assert "Stopped" in out
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        with pytest.raises(WebserviceException, match="WebserviceNotFound"):
            Webservice(env["ws"], "other-proc")
        assert other.state == "deleted"
    finally:
        other.delete()


def test_services_cli_in_process(env: dict, deploy, capsys) -> None:
    service = deploy("cli-svc")
    where = ["-w", "svc-ws", "-g", "svc-rg"]
    assert services_cli(["list", *where]) == 0
    out = capsys.readouterr().out
    assert "cli-svc" in out and "RESTARTS" in out
    assert services_cli(["show", "cli-svc", *where]) == 0
    out = capsys.readouterr().out
    assert "restarts" in out and "running" in out and "last exit" in out
    assert services_cli(["logs", "cli-svc", "-n", "5", *where]) == 0
    assert "Scoring server is ready" in capsys.readouterr().out
    assert services_cli(["stop", "no-such-svc", *where]) == 1
    assert "見つかりません" in capsys.readouterr().err
    assert services_cli(["stop", "cli-svc", *where]) == 0
    assert service.state == "deleted"


def test_removed_folder_stops_the_server(env: dict, deploy) -> None:
    service = deploy("orphan-svc")
    pid = service.serialize()["pid"]
    (env["ws"].path / "services" / "orphan-svc" / "server.json").unlink()
    proc = psutil.Process(pid)
    deadline = time.time() + 10
    while proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE and time.time() < deadline:
        time.sleep(0.1)
    assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE


# -- MNIST end to end ----------------------------------------------------------------------------------
MNIST_SCORE = """\
import json
import joblib
import numpy as np
from amlhandson.core.model import Model

def init():
    global model
    model = joblib.load(Model.get_model_path("mnist-lr"))

def run(raw_data):
    pixels = np.asarray(json.loads(raw_data)["data"], dtype=np.float64) / 255.0
    return model.predict(pixels).tolist()
"""


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mnist_served_accuracy_equals_in_process(env: dict, deploy, tmp_path: Path) -> None:
    import joblib
    from sklearn.linear_model import LogisticRegression

    from amlhandson.datasets import mnist

    mirrors = [str(SHARED_MNIST)] if SHARED_MNIST.is_dir() else None
    mnist.download(tmp_path / "data", mirrors=mirrors, progress=False)
    X_train, y_train, X_test, y_test = mnist.load(tmp_path / "data")
    raw_test = np.rint(X_test * 255).astype(np.uint8)
    clf = LogisticRegression(max_iter=30).fit(X_train[:1000], y_train[:1000])  # seconds, not minutes
    expected = clf.predict(raw_test / 255.0)
    joblib.dump(clf, tmp_path / "mnist.pkl")
    model = Model.register(env["ws"], tmp_path / "mnist.pkl", "mnist-lr")
    (env["work"] / "mnist_score.py").write_text(MNIST_SCORE)
    service = deploy("mnist-svc", entry="mnist_score.py", models=[model])
    predicted = []
    for start in range(0, len(raw_test), 1000):
        chunk = raw_test[start:start + 1000].tolist()
        status, _, body = post(service.port, json.dumps({"data": chunk}))
        assert status == 200
        predicted += json.loads(body)
    assert len(predicted) == len(y_test)
    assert np.array_equal(np.array(predicted), expected)
    served = float(np.mean(np.array(predicted) == y_test))
    assert served == float(np.mean(expected == y_test)) and served > 0.8
    single = service.run(json.dumps({"data": raw_test[:1].tolist()}))
    assert single == [int(expected[0])]


# -- packaging -------------------------------------------------------------------------------------------
def test_package_writes_a_self_contained_build_context(env: dict, tmp_path: Path) -> None:
    import yaml

    from amlhandson.core.conda_dependencies import CondaDependencies

    environment = Environment("deploy-env")
    environment.python.conda_dependencies = CondaDependencies.create(
        conda_packages=["numpy"], pip_packages=["joblib"])
    ic = InferenceConfig(entry_script="score.py", source_directory=str(env["work"] / "plain"),
                         environment=environment)
    out = tmp_path / "imagefiles"
    package = Model.package(env["ws"], [env["model"]], ic, output_dir=out)
    package.wait_for_creation()
    assert Path(package.location) == out
    dockerfile = (out / "Dockerfile").read_text()
    assert "FROM continuumio/miniconda3" in dockerfile
    assert "EXPOSE 5001" in dockerfile
    assert "conda env create -n amlenv -f /var/azureml-server/environment.yml" in dockerfile
    assert "uvicorn" in dockerfile and "COPY app /var/azureml-app" in dockerfile
    assert "AZUREML_MODEL_DIR=/var/azureml-app/azureml-models/factor/1" in dockerfile
    assert f'"{SERVER_MODULE}"' in dockerfile
    assert (out / "app" / "score.py").read_text() == PLAIN_SCORE
    assert (out / "app" / "azureml-models" / "factor" / "1" / "factor.txt").read_text() == "2.5"
    conda = yaml.safe_load((out / "environment.yml").read_text())
    deps = conda["dependencies"]
    assert "numpy" in deps and {"pip": ["joblib"]} in deps and "pip" in deps
    assert any(str(d).startswith("python=") for d in deps)
    server = json.loads((out / "server.json").read_text())
    assert server["host"] == "0.0.0.0" and server["port"] == 5001
    assert (out / "amlhandson-src" / "amlhandson" / "core" / "webservice" / "_server.py").is_file()
    assert not (out / "amlhandson-src" / "amlhandson" / "datasets" / "_mnist_sample").exists()
    assert "docker build" in (out / "README.md").read_text()
    # The context runs as the image would: its own amlhandson copy, its own server.json.
    server.update(app_dir="app", host="127.0.0.1", port=0, runtime_file="runtime.json")
    (out / "server.json").write_text(json.dumps(server))
    child_env = dict(os.environ, PYTHONPATH=str(out / "amlhandson-src"))
    proc = subprocess.Popen([sys.executable, "-m", SERVER_MODULE, "server.json"], cwd=out,
                            env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        runtime = None
        while time.time() < deadline and proc.poll() is None:
            if (out / "runtime.json").is_file():
                runtime = json.loads((out / "runtime.json").read_text())
                if runtime.get("ready"):
                    break
            time.sleep(0.05)
        assert runtime and runtime["ready"], proc.stdout.read().decode() if proc.poll() else ""
        assert post(runtime["port"], '{"data": [2]}')[2] == b"[5.0]"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
    # writing again over a package folder is fine; over another folder it is refused
    Model.package(env["ws"], [env["model"]], ic, output_dir=out)
    other = tmp_path / "not-a-package"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(UserErrorException, match="空ではなく"):
        Model.package(env["ws"], [env["model"]], ic, output_dir=other)


def test_package_tampered_model_is_refused(env: dict, deploy, tmp_path: Path) -> None:
    (env["work"] / "t.txt").write_text("1")
    model = Model.register(env["ws"], env["work"] / "t.txt", "tamper-me")
    model.local_path.write_text("2")
    ic = InferenceConfig(entry_script="plain/score.py")
    with pytest.raises(DataError, match="SHA-256"):
        Model.package(env["ws"], [model], ic, output_dir=tmp_path / "p")
    with pytest.raises(DataError, match="SHA-256"):
        Model.deploy(env["ws"], "tampered-svc", [model], ic,
                     LocalWebservice.deploy_configuration())
    with pytest.raises(WebserviceException):
        Webservice(env["ws"], "tampered-svc")
    running = deploy("keeps-running")
    with pytest.raises(DataError, match="SHA-256"):
        running.update(models=[model])
    assert running.state == "running" and post(running.port, '{"data": [1]}')[2] == b"[2.5]"


# -- the score handler and schemas, in process -------------------------------------------------------
def test_handler_signatures_and_results_in_process() -> None:
    from amlhandson.core.webservice._scoring import ScoreHandler, ScoreScriptError

    handler = ScoreHandler("svc")
    assert handler.handle("POST", b"{}")[0] == 503  # init() not finished
    with pytest.raises(ScoreScriptError, match="引数がありません"):
        handler.load(lambda: 1)
    with pytest.raises(ScoreScriptError, match="多すぎます"):
        handler.load(lambda a, b, c: 1)
    handler.load(lambda raw, headers=None: {"aml_response_body": "plain",
                                            "aml_response_headers": {"X-Extra": "1"}})
    status, headers, body = handler.handle("POST", b"{}")
    assert (status, body, dict(headers)["X-Extra"]) == (200, b"plain", "1")
    assert dict(headers)["Content-Type"].startswith("text/plain")
    handler.load(lambda raw: object())
    status, headers, body = handler.handle("POST", b"{}")
    assert status == 500 and "JSON にできません" in body.decode()
    handler.load(lambda raw: {"n": np.int64(3), "a": np.arange(2)})
    assert json.loads(handler.handle("POST", b"{}")[2]) == {"n": 3, "a": [0, 1]}


def test_schema_types_in_process() -> None:
    from amlhandson.core.webservice._scoring import ScoreHandler
    from amlhandson.core.webservice.schema import (
        NumpyParameterType,
        StandardPythonParameterType,
        input_schema,
    )

    with pytest.raises(UserErrorException, match="引数 'x' が"):
        input_schema("x", StandardPythonParameterType(1))(lambda data: data)
    with pytest.raises(UserErrorException, match="数値の numpy 配列"):
        NumpyParameterType(["a", object()])

    @input_schema("data", NumpyParameterType(np.zeros((1, 2), dtype=np.int64)))
    @input_schema("scale", StandardPythonParameterType(1.0))
    def run(data, scale=1.0, request_headers=None):
        return (data * scale).tolist() + [request_headers.get("X-Id")]

    handler = ScoreHandler("svc")
    handler.load(run)
    call = lambda body: handler.handle("POST", body.encode(), headers={"X-Id": "7"})  # noqa: E731
    assert json.loads(call('{"data": [[1, 2]], "scale": 2}')[2]) == [[2.0, 4.0], "7"]
    assert json.loads(call('{"data": [[1.0, 2.0]]}')[2]) == [[1.0, 2.0], "7"]
    for body, expected in [('{"data": [[1.5, 2]]}', "整数"), ('{"data": [[1, 2]], "scale": "x"}',
                                                            "number"),
                           ('{"scale": 2}', "キー ['data']"), ('{"data": [], "k": 1}', "知らないキー")]:
        status, _, answer = call(body)
        assert status == 400 and expected in json.loads(answer)["message"], answer
    props = handler.swagger["definitions"]["ServiceInput"]["properties"]
    assert props["data"]["items"]["items"]["type"] == "integer"
    assert props["scale"]["type"] == "number"
