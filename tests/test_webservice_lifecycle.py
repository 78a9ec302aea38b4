"""Deployed services seen through the SDK under attack (issue 10): state, restarts, secrets, races.

Real services deployed with ``Model.deploy`` into a workspace of a temporary
home; every one is deleted at the end and the module checks that no server or
worker process is left.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest
import svc_fixtures
from helpers import python_env
from svc_fixtures import gone, post, wait_until

from amlhandson.core.webservice import AciWebservice, LocalWebservice, Webservice
from amlhandson.exceptions import UserErrorException, WebserviceException

svc_env = svc_fixtures.svc_env  # the fixtures
svc_deploy = svc_fixtures.svc_deploy

SCORE = """\
import json, os, sys, time
def init():
    print("init done")
def run(raw, request_headers):
    data = json.loads(raw)
    if data.get("do") == "crash":
        os._exit(1)
    if data.get("do") == "hang":
        time.sleep(600)
    if data.get("do") == "headers":
        print("headers:", request_headers)
    return data.get("data")
"""


def _pids(service: Webservice) -> list[int]:
    pid = service.serialize()["pid"]
    return [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]


# -- 3. a crashed score.py is restarted; the exit code shows in state and logs -------------------
def test_crash_is_restarted_and_reported(svc_deploy) -> None:
    service = svc_deploy("crash-svc", SCORE, LocalWebservice.deploy_configuration(
        workers=1, max_workers=1))
    with pytest.raises(WebserviceException, match="HTTP 502"):
        service.run('{"do": "crash"}')
    assert wait_until(lambda: post(service.port, '{"data": [3]}')[0] == 200, 15)
    assert service.run('{"data": [3]}') == [3]
    assert service.restarts == 1
    assert service.last_exit["code"] == 1 and "exit code 1" in service.last_exit["description"]
    assert service.serialize()["lastExit"]["during"] == "while running 1 request(s)"
    logs = service.get_logs()
    assert "exited with exit code 1" in logs and "restarting in" in logs


def test_crash_loop_is_unhealthy_with_the_exit_code_then_recovers(svc_deploy, svc_env) -> None:
    marker = svc_env["work"] / "loop-marker"
    score = SCORE.replace('    print("init done")', (
        f"    if os.path.exists({str(marker)!r}):\n        os._exit(7)\n"
        f"    open({str(marker)!r}, 'w').close()"))
    config = AciWebservice.deploy_configuration(workers=1, max_workers=1)
    service = svc_deploy("loop-svc", score, config)
    assert service.state == "Healthy"
    with pytest.raises(WebserviceException, match="Response Code: 502"):
        service.run('{"do": "crash"}')
    assert wait_until(lambda: service.state == "Unhealthy" and "exit code 7" in
                      (service.error or {}).get("message", ""), 15), service.error
    assert service.error["kind"] == "restarting"
    assert service.restarts >= 2
    marker.unlink()  # init() works again once
    assert wait_until(lambda: service.state == "Healthy", 40)
    assert service.error is None and service.run('{"data": 1}') == 1


def test_killed_server_is_reported_with_its_signal(svc_deploy) -> None:
    service = svc_deploy("killed-svc", SCORE)
    pids = _pids(service)
    psutil.Process(pids[0]).kill()
    assert wait_until(lambda: service.state == "failed", 10)
    assert "シグナル 9" in service.error["message"] or "SIGKILL" in service.error["message"]
    assert wait_until(lambda: gone(pids), 10)  # the workers went with it
    with pytest.raises(WebserviceException, match="failed"):
        service.run("{}")


# -- 4. init() that never returns ------------------------------------------------------------------------
HANGING_INIT = "def init():\n    while True:\n        pass\n\ndef run(raw):\n    return 1\n"


def test_wait_timeout_stops_a_hanging_init(svc_deploy) -> None:
    service = svc_deploy("hang-init", HANGING_INIT, wait=False)
    pids = _pids(service)
    began = time.monotonic()
    with pytest.raises(WebserviceException, match="timeout_sec"):
        service.wait_for_deployment(timeout_sec=3)
    assert time.monotonic() - began < 10
    assert service.state == "failed" and service.error["kind"] == "init_timeout"
    assert wait_until(lambda: gone(pids), 10)  # nothing keeps burning CPU
    began = time.monotonic()
    with pytest.raises(WebserviceException, match="failed"):
        service.run("{}")
    assert time.monotonic() - began < 2


def test_init_timeout_of_the_service_fails_the_deployment(svc_deploy) -> None:
    service = svc_deploy("hang-init2", HANGING_INIT, LocalWebservice.deploy_configuration(
        init_timeout_s=2), wait=False)
    with pytest.raises(WebserviceException, match="init_timeout_s"):
        service.wait_for_deployment(timeout_sec=60)
    assert service.state == "failed" and service.error["kind"] == "init_timeout"
    assert "User's init function failed" in service.get_logs()


# -- 5. limits, seen from the SDK ------------------------------------------------------------------------
def test_service_run_refuses_an_oversized_body_before_sending(svc_deploy) -> None:
    service = svc_deploy("small-body", SCORE, LocalWebservice.deploy_configuration(
        max_request_body_mb=1))
    with pytest.raises(WebserviceException, match="max_request_body_mb"):
        service.run({"data": [1.5] * 400_000})
    status, _, body = post(service.port, b"[" + b"1," * 3_000_000 + b"1]")
    assert status == 413 and "上限 1.0 MB" in json.loads(body)["message"]


# -- 6. secrets ------------------------------------------------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_keys_are_private_and_never_logged_or_stored(svc_deploy, svc_env) -> None:
    config = AciWebservice.deploy_configuration(auth_enabled=True,
                                                primary_key="primary-secret-0001")
    assert "primary-secret" not in repr(config)
    service = svc_deploy("keyed-svc", SCORE, config)
    primary, secondary = service.get_keys()
    assert primary == "primary-secret-0001"
    folder = svc_env["ws"].path / "services" / "keyed-svc"
    assert stat.S_IMODE((folder / "keys.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "server.json").stat().st_mode) == 0o600
    for path in (folder, folder.parent, svc_env["ws"].path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert post(service.port, '{"data": 1}', Authorization="Bearer wrong-key-guess")[0] == 401
    assert service.run('{"do": "headers", "data": 2}') == 2
    service.regen_key("Secondary")
    new_secondary = service.get_keys()[1]
    assert post(service.port, '{"data": 1}', Authorization=f"Bearer {new_secondary}")[0] == 200
    logs = service.get_logs()
    assert "headers:" in logs and "'Authorization'" not in logs
    keys = [primary, secondary, new_secondary]
    for key in keys:
        assert key not in logs and key not in json.dumps(service.serialize())
    # Read the database files in another process: opening and closing them here would drop
    # this process's SQLite locks (POSIX lock semantics) and let a WAL be checkpointed away.
    found = subprocess.run(
        [sys.executable, "-c", "import sys, pathlib\n"
         "print([k for k in sys.argv[2:] for p in pathlib.Path(sys.argv[1]).glob('workspace.db*')"
         " if k.encode() in p.read_bytes()])", str(svc_env["ws"].path), *keys],
        capture_output=True, text=True, check=True).stdout.strip()
    assert found == "[]"


# -- 8. open by accident ------------------------------------------------------------------------------------
def test_non_loopback_host_needs_keys_or_an_explicit_yes() -> None:
    with pytest.raises(UserErrorException, match="allow_unauthenticated"):
        LocalWebservice.deploy_configuration(host="0.0.0.0")
    with pytest.raises(UserErrorException, match="auth_enabled"):
        AciWebservice.deploy_configuration(host="192.0.2.1")
    assert AciWebservice.deploy_configuration(host="0.0.0.0", auth_enabled=True).auth_enabled
    assert LocalWebservice.deploy_configuration(host="0.0.0.0",
                                                allow_unauthenticated=True).host == "0.0.0.0"
    assert LocalWebservice.deploy_configuration(host="localhost").host == "localhost"
    with pytest.raises(UserErrorException, match="scoring_timeout_ms"):
        LocalWebservice.deploy_configuration(scoring_timeout_ms=0)
    with pytest.raises(UserErrorException, match="max_workers"):
        LocalWebservice.deploy_configuration(workers=3, max_workers=2)


# -- 9. races -----------------------------------------------------------------------------------------------
def test_concurrent_updates_from_two_processes_keep_both(svc_deploy, svc_env) -> None:
    service = svc_deploy("race-update", SCORE)
    code = textwrap.dedent("""
        import sys
        from amlhandson.core import Workspace
        from amlhandson.core.webservice import Webservice
        ws = Workspace.get("svc-ws", resource_group="svc-rg")
        s = Webservice(ws, "race-update")
        for i in range(15):
            if sys.argv[1] == "tags":
                s.update(tags={"t": i})
            else:
                s.update(properties={"p": i})
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, what], cwd=svc_env["work"],
                              env=python_env(svc_env["home"]))
             for what in ("tags", "properties")]
    assert [p.wait(120) for p in procs] == [0, 0]
    fresh = Webservice(svc_env["ws"], "race-update")
    assert fresh.tags == {"t": 14} and fresh.properties == {"p": 14}
    assert fresh.state == "running" and service.run('{"data": 5}') == 5


def test_concurrent_deploys_of_one_name_one_wins(svc_env) -> None:
    code = textwrap.dedent("""
        from amlhandson.core import Workspace
        from amlhandson.core.model import Model, InferenceConfig
        from amlhandson.core.webservice import LocalWebservice
        from amlhandson.exceptions import WebserviceException
        ws = Workspace.get("svc-ws", resource_group="svc-rg")
        open("race_score.py", "w").write("def init():\\n    pass\\ndef run(raw):\\n    return 1\\n")
        try:
            s = Model.deploy(ws, "race-deploy", [Model(ws, "factor", version=1)],
                             InferenceConfig(entry_script="race_score.py"),
                             LocalWebservice.deploy_configuration())
            s.wait_for_deployment()
            print("deployed")
        except WebserviceException as exc:
            print("refused" if "already a service" in str(exc) else "other: %s" % exc)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=svc_env["work"],
                              env=python_env(svc_env["home"]), stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    outcomes = sorted(p.communicate(timeout=120)[0].strip().splitlines()[-1] for p in procs)
    assert outcomes == ["deployed", "refused", "refused"], outcomes
    service = Webservice(svc_env["ws"], "race-deploy")
    try:
        assert outcomes == ["deployed", "refused", "refused"], outcomes
        assert service.state == "running" and service.run("{}") == 1
    finally:
        service.delete()


# -- delete() never leaves a process behind ------------------------------------------------------------------
def test_delete_leaves_no_process_even_mid_request(svc_deploy) -> None:
    score = SCORE.replace('    print("init done")', (
        "    import subprocess\n"
        "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])"))
    service = svc_deploy("orphan-check", score, LocalWebservice.deploy_configuration(workers=3))
    assert wait_until(lambda: len(_pids(service)) >= 7, 20)  # server, 3 workers, 3 grandchildren
    pids = _pids(service)
    threading.Thread(target=lambda: _ignore(post, service.port, '{"do": "hang"}'),
                     daemon=True).start()
    time.sleep(0.3)
    service.delete()
    assert wait_until(lambda: gone(pids), 10), [p for p in pids if psutil.pid_exists(p)]


def _ignore(call, *args) -> None:
    try:
        call(*args)
    except OSError:
        pass
