"""Helpers shared by the tests (plain functions, not fixtures)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def python_env(home: Path) -> dict[str, str]:
    """Environment for a child Python process using ``home`` as AMLHANDSON_HOME."""
    env = dict(os.environ)
    env["AMLHANDSON_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class KernelSession:
    """One real ipykernel (the same Python as pytest): run code, collect that request's outputs.

    iopub messages that belong to no request of ours (e.g. a widget's refresh thread)
    are kept in ``other``.
    """

    def __init__(self, km: Any, kc: Any, home: Path, cwd: Path) -> None:
        self.km, self.kc, self.home, self.cwd = km, kc, home, cwd
        self.other: list[dict] = []

    def execute(self, code: str, timeout: float = 30) -> tuple[dict, list[dict]]:
        """Run ``code``; return (execute_reply content, iopub outputs of that request)."""
        return self.collect(self.kc.execute(code), timeout)

    def collect(self, msg_id: str, timeout: float = 30) -> tuple[dict, list[dict]]:
        """Outputs of request ``msg_id`` until the kernel is idle, then its reply."""
        import time

        outputs: list[dict] = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            kind, content = msg["msg_type"], msg["content"]
            if msg["parent_header"].get("msg_id") != msg_id:
                self.other.append(msg)
                continue
            if kind == "status" and content["execution_state"] == "idle":
                break
            outputs.append({"type": kind, **content})
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], outputs

    def ok(self, code: str) -> list[dict]:
        """Run ``code`` and assert it succeeded; return its outputs."""
        reply, outputs = self.execute(code)
        assert reply["status"] == "ok", (reply, outputs)
        return outputs

    def value(self, expr: str) -> Any:
        """Evaluate ``expr`` in the kernel and return it (through JSON)."""
        outputs = self.ok(f"import json as _j; print(_j.dumps({expr}))")
        return json.loads("".join(o["text"] for o in outputs
                                  if o["type"] == "stream" and o["name"] == "stdout"))


@contextmanager
def start_kernel(root: Path, config: dict[str, str]) -> Iterator[KernelSession]:
    """A kernel whose cwd holds ``config.json`` and whose AMLHANDSON_HOME is under ``root``."""
    from jupyter_client.manager import start_new_kernel

    home, cwd = root / "home", root / "cwd"
    cwd.mkdir(parents=True)
    (cwd / "config.json").write_text(json.dumps(config), encoding="utf-8")
    env = dict(os.environ, AMLHANDSON_HOME=str(home))
    env.pop("AMLHANDSON_EXPERIMENT", None)
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env, startup_timeout=60)
    try:
        yield KernelSession(km, kc, home, cwd)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
