"""Helpers for the studio tests: seed a workspace with every kind of data, run a studio server."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

#: Names and values a hostile user could log; pages must show them as text.
HOSTILE = '<img src=x onerror="window.__pwned=1">'
HOSTILE_SCRIPT = "<script>window.__pwned=2</script>"


@dataclass
class Studio:
    """A running studio server (standalone or JupyterLab) and how to call it."""

    url: str  # http://127.0.0.1:PORT/base/ (ends with "/")
    token: str
    proc: subprocess.Popen
    home: Path

    def api(self, path: str, method: str = "GET", **kw: Any) -> requests.Response:
        """Call ``studio/api/<path>`` with the token."""
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(method, self.url + "studio/api/" + path, headers=headers,
                                timeout=60, **kw)

    def page(self, path: str, **kw: Any) -> requests.Response:
        """Get the page ``studio/<path>`` with the token."""
        return requests.get(self.url + "studio/" + path,
                            headers={"Authorization": f"token {self.token}"}, timeout=60, **kw)


def seed(ws: Any, work: Path) -> dict[str, Any]:
    """Runs with every metric kind, hostile names, children, files, a model; returns their ids."""
    from amlhandson import Experiment
    from amlhandson.core.model import Model

    exp = Experiment(ws, "my-first-experiment")
    ids = []
    for k in (1, 3, 5):
        with exp.start_logging(display_name=f"knn-{k}") as run:
            for i in range(30):
                run.log("loss", 1.0 / (i + k))
            run.log("accuracy", 0.9 + k / 100)
            run.log(HOSTILE, 1)
            run.log_list("fib", [1, 1, 2, 3, 5])
            run.log_row("k-search", k=1, acc=0.9)
            run.log_row("k-search", k=3, acc=0.93)
            run.tag("model", "knn")
            run.tag("k", str(k))
            run.tag("note", HOSTILE_SCRIPT)
            run.upload_file("outputs/notes.txt", io.BytesIO(HOSTILE_SCRIPT.encode()))
            run.upload_file("azureml-logs/70_driver_log.txt", io.BytesIO(b"training...\ndone\n"))
            png = work / "tiny.png"
            png.write_bytes(_png())
            run.log_image("digits", path=str(png))
            with run.child_run("child-a") as child:
                child.log("acc", 0.5 + k / 10)
            with run.child_run("child-b") as child:
                child.log("acc", 0.6 + k / 10)
        ids.append(run.id)
    other = Experiment(ws, "other-experiment")
    failed = other.start_logging()
    failed.log("x", 1)
    failed.fail(error_details="失敗の例 <b>bold</b>")
    model_file = work / "model.pkl"
    model_file.write_bytes(b"model-bytes")
    model = Model.register(ws, str(model_file), "sklearn_mnist", tags={"data": "mnist"})
    return {"runs": ids, "failed": failed.id, "model": model.id}


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\0" + b"\x00\x78\xd4" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def env_for(home: Path, runtime: Path | None = None) -> dict[str, str]:
    """The environment of a server process using ``home`` (and its own Jupyter folders)."""
    env = dict(os.environ, AMLHANDSON_HOME=str(home), PYTHONUNBUFFERED="1")
    if runtime is not None:
        env["JUPYTER_RUNTIME_DIR"] = str(runtime)
    return env


@contextmanager
def standalone_studio(home: Path, tmp: Path, *args: str) -> Iterator[Studio]:
    """``amlhandson studio`` in a subprocess; yields once it printed its URL; stopped after."""
    log = open(tmp / "studio.log", "w+b")  # noqa: SIM115 - closed below
    cmd = [sys.executable, "-m", "amlhandson.cli", "studio", *args]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                            env=env_for(home, tmp / "runtime"), cwd=tmp)
    try:
        deadline = time.monotonic() + 60
        match = None
        while time.monotonic() < deadline and proc.poll() is None:
            text = (tmp / "studio.log").read_text("utf-8", "replace")
            match = re.search(r"AML Studio: (http://\S+/)studio/\?token=(\S+)", text)
            if match:
                break
            time.sleep(0.1)
        assert match, (tmp / "studio.log").read_text("utf-8", "replace")
        yield Studio(url=match.group(1), token=match.group(2), proc=proc, home=home)
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a server we started (SIGTERM: the server cleans up; kill if it hangs)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
