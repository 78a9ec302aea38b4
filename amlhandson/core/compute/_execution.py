"""Taking one submitted run from NotStarted to Completed/Failed/Canceled (a thread per run).

Status transitions (v1's): ``NotStarted`` (created by ``submit``) -> ``Starting``
(the target's cluster is started or connected) -> ``Queued`` (the trial is
handed to Dask or to a local thread) -> ``Preparing`` (the runner unpacks the
snapshot and checks packages) -> ``Running`` (the script started) ->
``Finalizing`` (``outputs/`` is uploaded) -> ``Completed`` | ``Failed`` |
``Canceled``.

The script's exit code decides: 0 -> Completed, anything else -> Failed with
the script's traceback in the error; a kill (``cancel()``, an early-termination
policy, ``max_run_duration_seconds``) -> Canceled with the reason; a worker
that died or left the cluster -> Failed with the reason (a task Dask starts
again elsewhere is stopped, never applied to the same run).

Example:
    >>> execution = Execution(run, spec, target)  # doctest: +SKIP
    >>> execution.start(); execution.join()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..._store import Store
from ...exceptions import AmlHandsOnError
from .._status import RunStatus
from . import _launch
from ._apply import RunWriter

__all__ = ["Execution", "live"]

_live: dict[str, Execution] = {}
_live_lock = threading.Lock()


def live(run_id: str) -> Execution | None:
    """The execution of ``run_id`` running in this process, if any."""
    with _live_lock:
        return _live.get(run_id)


class Execution:
    """Runs one submitted run in a background thread (see the module docstring)."""

    def __init__(self, run: Any, spec: dict[str, Any], runtime: Callable[[], Any] | None,
                 on_metric: Callable[[str, str, Any], None] | None = None,
                 on_done: Callable[[Execution], None] | None = None,
                 on_finalize: Callable[[], None] | None = None) -> None:
        self.run = run
        self.spec = spec
        self.runtime = runtime
        self.on_done = on_done
        # runs while the run is Finalizing, before it is Completed (as_upload outputs)
        self.on_finalize = on_finalize
        self.store = Store.open(run.experiment.workspace.path)
        self.pk = run.record.pk
        self.writer = RunWriter(run, on_metric=on_metric, on_event=self._event)
        self.handle: _launch.TrialHandle | None = None
        self.result: dict[str, Any] | None = None
        self.status: str | None = None
        self._cancel: str | None = None
        self._lost: str | None = None
        self.done = threading.Event()
        self.submitted_at = time.time()
        self.started_at: float | None = None
        self._thread = threading.Thread(target=self._main, daemon=True,
                                        name=f"amlhandson-run-{run.id[:30]}")

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background thread."""
        with _live_lock:
            _live[self.run.id] = self
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the end; ``True`` if it ended."""
        return self.done.wait(timeout)

    def cancel(self, reason: str) -> None:
        """Stop the script (it ends Canceled with ``reason``)."""
        self._cancel = reason
        handle = self.handle
        if handle is not None:
            handle.kill(reason)

    # -- status ------------------------------------------------------------------------------------
    def _set(self, status: str, **fields: Any) -> None:
        self.store.runs.update(self.pk, status=status, only_if_status=[
            s for s in (RunStatus.NOT_STARTED, RunStatus.STARTING, RunStatus.QUEUED,
                        RunStatus.PREPARING, RunStatus.RUNNING) if s != status], **fields)

    def _event(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "start":
            self._set(RunStatus.PREPARING)
            if message.get("worker") and message.get("worker") != "local":
                self.writer.note(f"amlhandson: ワーカー {message['worker']} "
                                 f"({message.get('host')}) で実行します。")
        elif kind == "running":
            self.started_at = message.get("ts") or time.time()
            self._set(RunStatus.RUNNING, start_time=self.started_at)
        elif kind == "other_attempt":
            self._lost = ("この Run を実行していたワーカーが止まり、Dask がタスクを別のワーカーで"
                          "やり直そうとしたため、やり直しを止めて Failed にしました (ステップ 0 から"
                          "同じ Run に記録し直すことはしません)。")
            handle = self.handle
            if handle is not None and handle.client is not None:
                threading.Thread(target=self._stop_rerun, daemon=True).start()

    def _stop_rerun(self) -> None:
        handle = self.handle
        if handle is None:
            return
        handle.kill_reason = self._lost
        if handle._future is not None:
            handle._future.cancel()
        try:
            from ._trial import kill_trial

            handle.client.run(kill_trial, self.run.id, self._lost, on_error="return")
        except Exception:  # noqa: BLE001 - the re-run may already be gone
            pass

    # -- the thread -----------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - the run must end, whatever happened
            self._end(RunStatus.FAILED, {"code": "SubmitError",
                                         "message": f"{type(exc).__name__}: {exc}"}, None)
        finally:
            with _live_lock:
                _live.pop(self.run.id, None)
            self.done.set()
            if self.on_done is not None:
                try:
                    self.on_done(self)
                except Exception:  # noqa: BLE001 - a callback must not break the runner
                    pass

    def _run(self) -> None:
        self._set(RunStatus.STARTING)
        runtime = self.runtime() if self.runtime is not None else None
        if self._cancel is not None:
            self._end(RunStatus.CANCELED, {"code": "Canceled", "message": self._cancel}, None)
            return
        self._set(RunStatus.QUEUED)
        busy = runtime.in_use() if runtime is not None else contextlib.nullcontext()
        with busy:  # an idle-scale-down never removes a worker while a trial runs
            self.handle = handle = _launch.launch(runtime, self.spec, self.writer)
            if self._cancel is not None:
                handle.kill(self._cancel)
            misses, last_check = 0, time.monotonic()
            while not handle.done():
                time.sleep(0.2)
                if time.monotonic() - last_check < 1.0:
                    continue
                last_check = time.monotonic()
                misses = 0 if handle.worker_alive() else misses + 1
                if self._lost is None and misses >= 2:
                    self._lost = (f"この Run を実行していたワーカー ({handle.worker}) がクラスターから"
                                  "いなくなりました。Run は Failed にし、別のワーカーで最初からやり"
                                  "直すことはしません。それまでに届いたメトリックは残っています。")
                    self._stop_rerun()
                    break
            result = handle.wait(None if self._lost is None else 30)
        _launch.finish(handle, result)
        self.result = result
        if self._lost is not None:
            self._end(RunStatus.FAILED, {"code": "WorkerLost", "message": self._lost}, None)
            return
        status = result.get("status", RunStatus.FAILED)
        error = result.get("error")
        if status == RunStatus.FAILED and self.writer.script_error is not None:
            err = self.writer.script_error
            error = {"code": "UserError", "type": err.get("type"),
                     "message": f"User program failed with {err.get('type')}: "
                                f"{err.get('message')}\n\n{err.get('traceback', '')}",
                     "traceback": err.get("traceback")}
        self._end(status, error, result.get("outputs") or b"")

    def _end(self, status: str, error: dict[str, Any] | None, outputs: bytes | None) -> None:
        self.status = status
        run = self.run
        with _live_lock:  # from here on run.cancel() is a plain status change
            _live.pop(run.id, None)
        folder = run.record.outputs_dir
        if outputs and folder:
            with zipfile.ZipFile(io.BytesIO(outputs)) as zf:
                zf.extractall(folder)
        if status == RunStatus.COMPLETED and self.on_finalize is not None:
            self._set(RunStatus.FINALIZING)
            try:
                self.on_finalize()
            except (AmlHandsOnError, OSError) as exc:
                status = self.status = RunStatus.FAILED
                error = {"code": "OutputUploadFailed",
                         "message": f"出力のアップロードに失敗しました: {type(exc).__name__}: {exc}"}
        if status != RunStatus.COMPLETED and error is not None:
            self.writer.note(f"\namlhandson: Run は {status} で終わりました: "
                             f"{str(error.get('message', '')).splitlines()[0]}")
        self.writer.close()
        try:
            if status == RunStatus.COMPLETED:
                run.complete()
            elif status == RunStatus.CANCELED:
                run.cancel(error_details=(error or {}).get("message", "Canceled"),
                           error_code=(error or {}).get("code", "Canceled"))
            else:
                message = (error or {}).get("message", "Run failed")
                run.fail(error_details=message, error_code=(error or {}).get("code"))
        finally:
            if folder and Path(folder).is_dir():
                shutil.rmtree(folder, ignore_errors=True)
