"""The scoring server under attack and under careless score.py code (issue 10), server side.

Each test starts a real server process from a folder (no workspace) on
127.0.0.1 and attacks it the way a workshop or a careless score.py would:
idle and slow-drip connections, a ``run()`` that sleeps, crashes or hangs,
huge bodies, paths and numbers, an ``init()`` that never returns, a score.py
that leaks memory, a log that would grow without end.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import socket
import threading
import time
from pathlib import Path

import psutil
import pytest
import svc_fixtures
from svc_fixtures import gone, http, post, wait_until

raw_server = svc_fixtures.raw_server  # the fixture

BEHAVING = """\
import json, os, time
def init():
    print("init done")
def run(raw):
    data = json.loads(raw)
    what = data.get("do")
    if what == "sleep":
        time.sleep(data["seconds"])
    elif what == "crash":
        os._exit(1)
    elif what == "hang":
        while True:
            time.sleep(1)
    elif what == "fail":
        raise ValueError("asked to fail")
    elif what == "bad-body":
        return {"aml_response_body": object()}
    elif what == "print":
        print(data["text"])
    return data.get("data")
"""


def _hang(port: int) -> None:
    try:
        post(port, '{"do": "hang"}', timeout=30)
    except OSError:
        pass  # the server was stopped under it: expected


def _quick(port: int, timeout: float = 10) -> tuple[int, float]:
    began = time.monotonic()
    status = post(port, '{"data": [1]}', timeout=timeout)[0]
    return status, time.monotonic() - began


# -- 1. idle and slow clients -------------------------------------------------------------------------
def test_idle_and_slow_drip_connections_do_not_starve_others(raw_server) -> None:
    server = raw_server(BEHAVING)
    sockets: list[socket.socket] = []
    stop = threading.Event()
    try:
        for _ in range(120):  # opened and left idle
            sockets.append(socket.create_connection(("127.0.0.1", server.port)))
        drips = []
        for _ in range(120):  # a request line, then a header byte now and then
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"POST /score HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            drips.append(sock)
        sockets += drips

        def drip() -> None:
            while not stop.wait(0.5):
                for sock in drips:
                    try:
                        sock.send(b"a")
                    except OSError:
                        pass

        threading.Thread(target=drip, daemon=True).start()
        for _ in range(20):
            status, took = _quick(server.port, timeout=5)
            assert status == 200 and took < 2.0, (status, took)
        assert http(server.port, "GET", "/", timeout=5)[::2] == (200, b"Healthy")
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


def test_request_deadline_closes_idle_and_dripping_connections(raw_server) -> None:
    server = raw_server(BEHAVING, request_timeout_s=1, keep_alive_s=1)
    idle = socket.create_connection(("127.0.0.1", server.port))
    dripping = socket.create_connection(("127.0.0.1", server.port))
    dripping.sendall(b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{")
    idle.settimeout(5)
    dripping.settimeout(5)
    began = time.monotonic()
    assert idle.recv(100) == b""  # closed by the server
    for _ in range(3):  # a byte every 0.3 s does not keep it open
        try:
            dripping.send(b" ")
        except OSError:
            break
        time.sleep(0.3)
    assert dripping.recv(100) == b""
    assert time.monotonic() - began < 4
    idle.close()
    dripping.close()
    assert _quick(server.port)[0] == 200


def test_huge_head_is_refused_and_not_logged(raw_server) -> None:
    server = raw_server(BEHAVING)
    before = (server.folder / "service.log").stat().st_size
    long_path = "/" + "p" * 200_000
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(f"GET {long_path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            sock.settimeout(5)
            try:
                assert sock.recv(100).startswith(b"HTTP/1.1 431")
            except ConnectionResetError:
                pass  # closed while we were still sending: refused all the same
    for _ in range(100):  # under the head limit: 404, logged once, cut short
        assert http(server.port, "GET", "/" + "q" * 30_000)[0] == 404
    grown = (server.folder / "service.log").stat().st_size - before
    assert grown < 100 * 1000, grown
    assert _quick(server.port)[0] == 200


# -- 2. slow run() ---------------------------------------------------------------------------------------
def test_slow_run_does_not_block_other_requests_or_health(raw_server) -> None:
    server = raw_server(BEHAVING, workers=2, max_workers=4)
    slow = '{"do": "sleep", "seconds": 6}'
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        first = pool.submit(post, server.port, slow)
        time.sleep(0.3)
        for _ in range(20):
            status, took = _quick(server.port)
            assert status == 200 and took < 1.0, took
        # three more slow ones: more workers start (up to 4); health answers at once
        more = [pool.submit(post, server.port, slow) for _ in range(3)]
        for _ in range(10):
            began = time.monotonic()
            assert http(server.port, "GET", "/", timeout=5)[0] == 200
            assert time.monotonic() - began < 0.5
            time.sleep(0.1)
        assert all(f.result()[0] == 200 for f in [first, *more])
    assert (server.runtime() or {})["pool"]["total"] >= 3


# -- 3. crashes are restarted ---------------------------------------------------------------------------
def test_crash_in_run_is_502_then_the_worker_is_restarted(raw_server) -> None:
    server = raw_server(BEHAVING, workers=1, max_workers=1)
    status, _, body = post(server.port, '{"do": "crash"}')
    assert status == 502 and "exit code 1" in json.loads(body)["message"]
    assert wait_until(lambda: _quick(server.port)[0] == 200, 15)
    pool = server.runtime()["pool"]
    assert pool["restarts"] == 1 and pool["last_exit"]["code"] == 1
    assert "exited with exit code 1 while running 1 request(s)" in server.logs()
    assert "restarting in 0.1 s (restart 1)" in server.logs()


def test_requests_that_crash_run_in_a_row_do_not_back_off(raw_server) -> None:
    server = raw_server(BEHAVING, workers=1, max_workers=1, scoring_timeout_ms=1000)
    for bad in ['{"do": "crash"}', '{"do": "hang"}', '{"do": "crash"}', '{"do": "hang"}']:
        assert post(server.port, bad)[0] in (502, 504)
        assert wait_until(lambda: http(server.port, "GET", "/")[0] == 200, 15)
    logs = server.logs()
    assert "restarting in 0.1 s (restart 4)" in logs, logs
    assert "restarting in 0.5 s" not in logs  # a worker that served is not a failing score.py
    assert _quick(server.port)[0] == 200


def test_crash_loop_backs_off_and_health_says_so(raw_server, tmp_path: Path) -> None:
    marker = tmp_path / "first-init-done"
    score = BEHAVING.replace('def init():\n    print("init done")', (
        "def init():\n"
        f"    if os.path.exists({str(marker)!r}) and not os.path.exists({str(marker)!r} + '.ok'):\n"
        "        os._exit(7)\n"
        f"    open({str(marker)!r}, 'w').close()"))
    server = raw_server(score, workers=1, max_workers=1)
    assert post(server.port, '{"do": "crash"}')[0] == 502
    assert wait_until(lambda: server.logs().count("exited with exit code 7") >= 3, 20)
    logs = server.logs()
    # the crash in run() is restarted at once; the failing init() backs off
    assert "while running 1 request(s); restarting in 0.1 s (restart 1)" in logs
    assert "in init(); restarting in 0.1 s (restart 2)" in logs
    assert "restarting in 0.5 s (restart 3)" in logs and "restarting in 1.0 s (restart 4)" in logs
    assert http(server.port, "GET", "/")[0] == 503
    assert server.runtime()["pool"]["last_exit"]["code"] == 7
    Path(str(marker) + ".ok").touch()  # init() works again: the next restart recovers
    assert wait_until(lambda: http(server.port, "GET", "/")[0] == 200, 20)
    assert _quick(server.port)[0] == 200


# -- 4. init() that never returns ------------------------------------------------------------------------
def test_init_that_never_returns_is_killed_after_init_timeout(raw_server) -> None:
    server = raw_server("def init():\n    while True:\n        pass\n\ndef run(raw):\n    return 1\n",
                       wait=False, init_timeout_s=2)
    assert wait_until(lambda: server.proc.poll() is not None, 20)
    assert server.proc.returncode == 3
    failure = json.loads((server.folder / "failure.json").read_text())
    assert failure["kind"] == "init_timeout" and "init_timeout_s" in failure["message"]
    assert "User's init function failed" in server.logs()
    assert wait_until(lambda: not [p for p in psutil.process_iter(["cmdline"])
                                   if str(server.folder) in " ".join(p.info["cmdline"] or [])], 5)


# -- 5. limits ----------------------------------------------------------------------------------------------
def test_50_mb_body_is_413_not_a_reset(raw_server) -> None:
    server = raw_server(BEHAVING)
    status, _, body = post(server.port, b"[" + b"1," * (25 * 1024 * 1024) + b"1]")
    assert status == 413 and "大きすぎます" in json.loads(body)["message"]
    assert _quick(server.port)[0] == 200


def test_json_limits_are_400_without_traceback(raw_server) -> None:
    server = raw_server(BEHAVING)
    cases = {
        '{"data": ' + "9" * 10_000 + "}": "整数が長すぎます",
        '{"data": [1e999]}': "有限の数",
        '{"data": ' + "[" * 500 + "]" * 500 + "}": "入れ子が深すぎます",
        '{"data": [NaN]}': "NaN",
    }
    for body, expected in cases.items():
        status, _, answer = post(server.port, body)
        assert status == 400 and expected in json.loads(answer)["message"], answer[:200]
        assert b"Traceback" not in answer
    assert _quick(server.port)[0] == 200


def test_errors_tell_the_client_the_type_not_the_traceback(raw_server) -> None:
    server = raw_server(BEHAVING)
    status, headers, body = post(server.port, '{"do": "fail"}')
    assert status == 500 and body.decode().startswith("ValueError: asked to fail")
    assert b"Traceback" not in body and headers["x-ms-run-function-failed"] == "True"
    status, _, body = post(server.port, '{"do": "bad-body"}')
    assert status == 500 and b"An unexpected internal error occurred. TypeError" in body
    assert b"Traceback" not in body and b"File " not in body
    assert "Traceback" in server.logs()


def test_log_lines_are_cut_and_the_log_rotates(raw_server) -> None:
    server = raw_server(BEHAVING, log_max_bytes=64 * 1024, log_backups=2, max_log_line=1000)
    assert post(server.port, json.dumps({"do": "print", "text": "x" * 300_000}))[0] == 200
    assert wait_until(lambda: "bytes of that line cut" in server.logs() or
                      (server.folder / "service.log.1").exists(), 5)
    line = "y" * 900
    for _ in range(200):
        assert post(server.port, json.dumps({"do": "print", "text": line}))[0] == 200
    time.sleep(0.5)
    log = server.folder / "service.log"
    assert log.stat().st_size <= 64 * 1024 + 2000
    assert (server.folder / "service.log.1").exists() and (server.folder / "service.log.2").exists()
    assert not (server.folder / "service.log.3").exists()
    biggest = max(len(line) for path in server.folder.glob("service.log*")
                  for line in path.read_text(errors="replace").splitlines())
    assert biggest <= 1100


# -- 8. open by accident --------------------------------------------------------------------------------------
def test_non_loopback_host_without_keys_is_refused_before_binding(raw_server) -> None:
    server = raw_server(BEHAVING, wait=False, host="0.0.0.0")
    assert wait_until(lambda: server.proc.poll() is not None, 15)
    assert server.proc.returncode == 4
    failure = json.loads((server.folder / "failure.json").read_text())
    assert failure["kind"] == "open" and "allow_unauthenticated" in failure["message"]
    assert server.runtime() is None  # it never bound a socket


# -- the checks of the issue: many clients against slow, crashing and hanging code -----------------------
def test_30_clients_against_slow_crashing_and_hanging_run(raw_server) -> None:
    server = raw_server(BEHAVING, workers=2, max_workers=4, scoring_timeout_ms=1500,
                        max_request_wait_time_ms=20_000)
    kinds = ['{"data": [1]}', '{"do": "sleep", "seconds": 0.3, "data": [2]}', '{"do": "crash"}',
             '{"do": "hang"}']

    def client(i: int) -> list[int]:
        return [post(server.port, kinds[(i + j) % 4], timeout=60)[0] for j in range(3)]

    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        statuses = [s for result in pool.map(client, range(30)) for s in result]
    counts = collections.Counter(statuses)
    assert set(counts) <= {200, 502, 503, 504}, counts
    # the quick and the slow ones (45 of 90) get through while workers crash and hang (45 measured;
    # before request-caused restarts stopped adding to the back-off: 24 to 44)
    assert counts[200] >= 36 and counts[504] and counts[502], counts
    assert wait_until(lambda: _quick(server.port)[0] == 200, 20)
    assert len(psutil.Process(server.proc.pid).children()) <= 5
    logs = server.logs()
    assert "scoring_timeout_ms" in logs and "exited with exit code 1" in logs


def test_leaking_score_py_is_recycled_with_a_reason(raw_server) -> None:
    score = ("LEAK = []\ndef init():\n    pass\n\ndef run(raw):\n"
             "    LEAK.append(bytearray(30 * 1024 * 1024))\n    return len(LEAK)\n")
    server = raw_server(score, workers=1, max_workers=2, max_worker_memory_mb=120)
    for _ in range(12):
        assert post(server.port, "{}")[0] == 200
        time.sleep(0.3)
    assert wait_until(lambda: "max_worker_memory_mb" in server.logs(), 10)
    assert "replacing it" in server.logs()
    assert wait_until(lambda: post(server.port, "{}")[0] == 200, 15)
    for child in psutil.Process(server.proc.pid).children():
        assert child.memory_info().rss < 2 * 120 * 1024 * 1024


def test_server_stop_leaves_no_worker(raw_server) -> None:
    server = raw_server(BEHAVING, workers=3)
    assert wait_until(lambda: server.runtime()["pool"]["ready"] == 3, 20)
    workers = [c.pid for c in psutil.Process(server.proc.pid).children()]
    assert len(workers) == 3
    threading.Thread(target=_hang, args=(server.port,), daemon=True).start()
    time.sleep(0.3)
    server.proc.terminate()  # SIGTERM: graceful stop, workers stopped (a hung one killed)
    assert server.proc.wait(15) == 0 or server.proc.returncode == -15
    assert wait_until(lambda: gone(workers), 10)


def test_killed_server_takes_its_workers_with_it(raw_server) -> None:
    server = raw_server(BEHAVING, workers=2)
    assert wait_until(lambda: server.runtime()["pool"]["ready"] == 2, 20)
    workers = [c.pid for c in psutil.Process(server.proc.pid).children()]
    threading.Thread(target=_hang, args=(server.port,), daemon=True).start()
    time.sleep(0.3)
    server.proc.kill()  # no chance to clean up: workers notice their pipe closing
    server.proc.wait(10)
    assert wait_until(lambda: gone(workers), 10)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_replica_max_concurrent_requests(raw_server, concurrency: int) -> None:
    server = raw_server(BEHAVING, workers=1, max_workers=1,
                        replica_max_concurrent_requests=concurrency)
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: post(server.port, '{"do": "sleep", "seconds": 1}')[0],
                                range(3)))
    took = time.monotonic() - began
    assert results == [200, 200, 200]
    assert (took < 2.5) if concurrency == 3 else (took >= 2.9), took
