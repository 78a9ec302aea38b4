"""The HyperDrive loop, on the notebook side: sample, start trials, apply the policy, stop.

One thread per HyperDrive run. Dask (or the local runner) only runs the trials;
everything that decides lives here:

* keep at most ``max_concurrent_runs`` trials in flight; start the next one as
  soon as one ends, until ``max_total_runs`` trials were started or the
  sampler has no new combination;
* each time a trial logs the primary metric, append it to that trial's history
  and ask :func:`.policy.should_cancel`; a trial to cancel is really stopped
  (its process on the worker is killed) and ends Canceled with the reason;
* keep the parent's ``best_child_by_primary_metric`` table (v1's) up to date;
* past ``max_duration_minutes`` cancel what still runs and stop;
* tell the sampler each finished trial's best value (Bayesian sampling learns
  from it).

Example:
    >>> sweep = Sweep(parent_run, config, snapshot)  # doctest: +SKIP
    >>> sweep.start()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import queue
import shutil
import threading
import time
from typing import Any

from ._samplers import COMPLETE, FAIL, PRUNED, make_sampler
from .policy import should_cancel

__all__ = ["Sweep", "sweep_of"]

_sweeps: dict[str, Sweep] = {}
_sweeps_lock = threading.Lock()


def sweep_of(run_id: str) -> Sweep | None:
    """The sweep driving HyperDrive run ``run_id`` in this process, if any."""
    with _sweeps_lock:
        return _sweeps.get(run_id)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


class Sweep:
    """Drives one HyperDrive run (see the module docstring)."""

    def __init__(self, parent: Any, config: Any, snapshot: Any) -> None:
        self.parent = parent
        self.config = config
        self.snapshot = snapshot
        self.goal = config.primary_metric_goal.name.lower()
        self.metric = config.primary_metric_name
        self.sampler = make_sampler(config.hyperparameter_sampling, self.goal)
        self.histories: dict[str, list[float]] = {}
        self.running: dict[str, Any] = {}
        self.samples: dict[str, Any] = {}
        self.canceled: dict[str, str] = {}
        self.best: tuple[str, float] | None = None
        self.started = 0
        self.exhausted = False
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._cancel: str | None = None
        self.done = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True,
                                        name=f"amlhandson-hyperdrive-{parent.id[:20]}")

    def start(self) -> None:
        """Start the loop in a background thread."""
        with _sweeps_lock:
            _sweeps[self.parent.id] = self
        self._thread.start()

    def cancel(self, reason: str = "HyperDrive run が取り消されました。") -> None:
        """Stop starting trials and cancel the running ones."""
        self._cancel = reason
        self._events.put(("wake", None))

    # -- callbacks (other threads) ------------------------------------------------------------------
    def _on_metric(self, run_id: str, name: str, value: Any) -> None:
        if name == self.metric:
            self._events.put(("metric", (run_id, value)))

    def _on_done(self, execution: Any) -> None:
        self._events.put(("done", execution))

    # -- the loop ----------------------------------------------------------------------------------
    def _main(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - the parent must end, whatever happened
            self.error = exc
            for execution in list(self.running.values()):
                execution.cancel(f"HyperDrive が止まりました: {exc}")
            try:
                self.parent.fail(error_details=exc)
            except Exception:  # noqa: BLE001
                pass
        finally:
            with _sweeps_lock:
                _sweeps.pop(self.parent.id, None)
            self.done.set()

    def _loop(self) -> None:
        cfg = self.config
        deadline = time.monotonic() + cfg.max_duration_minutes * 60
        while True:
            if self._cancel is None and time.monotonic() > deadline:
                self._cancel = (f"max_duration_minutes ({cfg.max_duration_minutes} 分) を超えたため、"
                                "実行中の試行を取り消しました。")
                self._timed_out = True
            if self._cancel is not None:
                for run_id, execution in list(self.running.items()):
                    if run_id not in self.canceled:
                        self.canceled[run_id] = self._cancel
                        execution.cancel(self._cancel)
            else:
                self._fill()
            if not self.running and (self._cancel is not None or self.exhausted
                                     or self.started >= cfg.max_total_runs):
                break
            try:
                kind, item = self._events.get(timeout=0.5)
            except queue.Empty:
                continue
            self._handle(kind, item)
            while True:  # everything that arrived meanwhile
                try:
                    kind, item = self._events.get_nowait()
                except queue.Empty:
                    break
                self._handle(kind, item)
        self._finish_parent()

    def _fill(self) -> None:
        from ...core.script_run import ScriptRun

        cfg = self.config
        while (len(self.running) < cfg.max_concurrent_runs and not self.exhausted
               and self.started < cfg.max_total_runs):
            sample = self.sampler.ask()
            if sample is None:
                self.exhausted = True
                return
            child_id = f"{self.parent.id}_{self.started}"
            params_json = json.dumps(sample.params, ensure_ascii=False)
            self.parent.set_tags({child_id: params_json})
            self.samples[child_id] = sample
            self.histories[child_id] = []
            self.started += 1
            child = ScriptRun._submit(
                self.parent.experiment, cfg.script_run_config, tags={"hyperparameters": params_json},
                parent=self.parent, run_id=child_id,
                arguments=cfg.trial_arguments(sample.params), on_metric=self._on_metric,
                on_done=self._on_done, snapshot=self.snapshot)
            from ...core.compute._execution import live

            execution = live(child.id)
            if execution is not None:  # (one that already ended reports "done" anyway)
                self.running[child_id] = execution

    def _handle(self, kind: str, item: Any) -> None:
        if kind == "metric":
            run_id, value = item
            number = _number(value)
            if number is None or run_id not in self.histories:
                return
            self.histories[run_id].append(number)
            self._note_best(run_id, number)
            if run_id in self.running and run_id not in self.canceled:
                reason = should_cancel(self.config.policy, self.histories, run_id, self.goal)
                if reason is not None:
                    self.canceled[run_id] = reason
                    self.running[run_id].cancel(reason)
        elif kind == "done":
            run_id = item.run.id
            self.running.pop(run_id, None)
            sample = self.samples.get(run_id)
            if sample is None:
                return
            values = self.histories.get(run_id) or []
            best = (max(values) if self.goal == "maximize" else min(values)) if values else None
            status = item.status
            state = COMPLETE if status == "Completed" else PRUNED if status == "Canceled" else FAIL
            self.sampler.tell(sample, best, state)

    def _note_best(self, run_id: str, value: float) -> None:
        better = self.best is None or (value > self.best[1] if self.goal == "maximize"
                                       else value < self.best[1])
        if better:
            self.best = (run_id, value)
            self.parent.log_row("best_child_by_primary_metric", run_id=run_id,
                                metric_value=value, final=False)

    def _finish_parent(self) -> None:
        with _sweeps_lock:  # from here on parent.cancel() is a plain status change
            _sweeps.pop(self.parent.id, None)
        if self.best is not None:
            self.parent.log_row("best_child_by_primary_metric", run_id=self.best[0],
                                metric_value=self.best[1], final=True)
        folder = self.parent.record.outputs_dir  # an empty temporary folder (not ./outputs)
        try:
            if self._cancel is not None and not getattr(self, "_timed_out", False):
                self.parent.cancel(error_details=self._cancel, error_code="Canceled")
            else:
                self.parent.complete()
        finally:
            if folder and "amlhandson-hd-outputs-" in folder:
                shutil.rmtree(folder, ignore_errors=True)
