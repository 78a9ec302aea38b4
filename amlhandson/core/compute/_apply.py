"""Writing a submitted script's messages into the workspace (the receiver's sink for one run).

Every message the script's ``Run.get_context()`` sent (metrics of every kind,
tags, properties, files, images, child runs and their statuses) is replayed
through the public :class:`~amlhandson.core.run.Run` API of the submitted run
(which this process owns); the script's output is appended to
``azureml-logs/70_driver_log.txt``. The receiver hands messages over in order
and exactly once, so replaying is safe. A message the workspace refuses (for
example a metric name already used with another kind by the notebook) is
reported in the driver log instead of stopping the run.

Example:
    >>> writer = RunWriter(run)  # doctest: +SKIP
    >>> writer.apply([{"k": "m", "r": run.id, "t": 0, "n": "acc", "v": 0.9}])  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from ..._store import Store
from ...exceptions import AmlHandsOnError, MetricError
from .._metrics import IMAGE, KIND_CALL, LIST, ROW, SCALAR, TABLE, check_name

__all__ = ["RunWriter", "DRIVER_LOG"]

#: v1's name for the script's output among the run's files.
DRIVER_LOG = "azureml-logs/70_driver_log.txt"


class RunWriter:
    """Applies one submitted run's messages (see the module docstring)."""

    def __init__(self, run: Any, on_metric: Callable[[str, str, Any], None] | None = None,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.run = run
        self.runs: dict[str, Any] = {run.id: run}
        self.on_metric = on_metric
        self.on_event = on_event
        self.script_error: dict[str, Any] | None = None
        self.other_attempts: list[str] = []
        self._files: dict[tuple[str, str], Any] = {}
        self._temp: list[str] = []
        self._lock = threading.Lock()
        path = run.local_path / DRIVER_LOG
        path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115

    # -- receiver interface ---------------------------------------------------------------------
    def apply(self, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            for message in messages:
                try:
                    self._one(message)
                except AmlHandsOnError as exc:
                    self.note(f"amlhandson: スクリプトからの記録 ({message.get('k')} "
                              f"{message.get('n', '')}) をワークスペースに書けませんでした: {exc}")
            with contextlib.suppress(OSError, ValueError):
                self._log.flush()

    def on_other_attempt(self, attempt: str, first: dict[str, Any] | None) -> None:
        self.other_attempts.append(attempt)
        if self.on_event is not None:
            self.on_event("other_attempt", {"attempt": attempt, "first": first})

    # -- helpers ----------------------------------------------------------------------------------
    def note(self, text: str) -> None:
        """Append a line of our own to the driver log."""
        with contextlib.suppress(OSError, ValueError):
            self._log.write(text.rstrip("\n") + "\n")
            self._log.flush()

    def close(self) -> None:
        """Close the driver log and drop unfinished file uploads."""
        with self._lock:
            with contextlib.suppress(OSError, ValueError):
                self._log.close()
            for fh in self._files.values():
                with contextlib.suppress(OSError):
                    fh.close()
                    os.unlink(fh.name)
            self._files.clear()
            for folder in self._temp:
                shutil.rmtree(folder, ignore_errors=True)

    def _target(self, message: dict[str, Any]) -> Any:
        run = self.runs.get(message.get("r", self.run.id))
        if run is None:
            raise KeyError(message.get("r"))
        return run

    def _one(self, m: dict[str, Any]) -> None:
        kind = m.get("k")
        if kind == "log":
            self._log.write(m.get("x", ""))
            return
        if kind == "m":
            run = self._target(m)
            t, name, value, desc = m["t"], m["n"], m["v"], m.get("d") or ""
            if t == SCALAR:
                run.log(name, value, desc)
                if self.on_metric is not None and run is self.run:
                    self.on_metric(run.id, name, value)
            elif t == LIST:
                run.log_list(name, value, desc)
            elif t == ROW:
                run.log_row(name, desc or None, **value)
            elif t == TABLE:
                run.log_table(name, value, desc)
            return
        if kind == "tag":
            self._target(m).set_tags(m["d"])
        elif kind == "prop":
            self._target(m).add_properties(m["d"])
        elif kind == "file":
            self._file(m)
        elif kind == "img":
            self._image(m)
        elif kind == "child":
            parent = self._target({"r": m["p"]})
            folder = tempfile.mkdtemp(prefix="amlhandson-child-outputs-")
            self._temp.append(folder)  # never the notebook's ./outputs
            self.runs[m["c"]] = parent.child_run(m.get("n"), run_id=m["c"], outputs=folder)
        elif kind == "status":
            self._status(m)
        elif kind == "reg":  # run.register_model in the script: its files arrived before
            model = self._target(m).register_model(m["n"], m.get("p"), tags=m.get("t"),
                                                   properties=m.get("pr"),
                                                   description=m.get("d"))
            self.note(f"amlhandson: モデル {model.id} を登録しました。")
        elif kind == "err":
            self.script_error = m
        if self.on_event is not None and kind in ("start", "running", "err"):
            self.on_event(kind, m)

    def _file(self, m: dict[str, Any]) -> None:
        key = (m["r"], m["n"])
        fh = self._files.get(key)
        if fh is None:
            fh = self._files[key] = tempfile.NamedTemporaryFile(delete=False,  # noqa: SIM115
                                                                prefix="amlhandson-upload-")
        fh.write(base64.b64decode(m.get("b64") or ""))
        if m.get("last"):
            fh.close()
            del self._files[key]
            try:
                self._target(m).upload_file(m["n"], fh.name)
            finally:
                os.unlink(fh.name)

    def _image(self, m: dict[str, Any]) -> None:
        """Record the image metric for the artifact the script already uploaded (no second copy)."""
        run = self._target(m)
        name, artifact = m["n"], m["a"]
        check_name(name, IMAGE)
        store = Store.open(run.experiment.workspace.path)
        pk = run.record.pk
        kind = store.metrics.register(pk, name, IMAGE, m.get("d") or None)
        if kind != IMAGE:
            raise MetricError(
                f"Conflicting metric types: {name!r} はすでに {KIND_CALL[kind]} で記録されているので "
                f"{KIND_CALL[IMAGE]} では記録できません。別の名前を使ってください。")
        uri = f"aml://artifactId/ExperimentRun/dcid.{run.id}/{artifact}"
        store.queue.append((pk, name, IMAGE, uri, time.time()))
        store.queue.start()

    def _status(self, m: dict[str, Any]) -> None:
        run = self._target(m)
        if run is self.run:
            return  # the submitted run's own status is decided by the script's exit
        status, error = m.get("s"), m.get("e") or {}
        if status == "Completed":
            run.complete()
        elif status == "Failed":
            run.fail(error_details=error.get("message"), error_code=error.get("code"))
        elif status == "Canceled":
            run.cancel()
