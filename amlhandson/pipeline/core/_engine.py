"""Running a pipeline graph: steps start when their inputs exist, reuse, failures, cancel.

One engine thread per pipeline run (in the process that submitted it: a
notebook kernel, the REST endpoint server, the scheduler). It starts every
step whose upstream steps completed, all at once, through a *launcher* that
runs the script on the step's compute target without blocking (so independent
steps run in parallel on the target's workers) and reports back when the
script ends. A step whose reuse key matches an earlier completed run whose
outputs are still intact is not launched: it is recorded as reused, with the
run it took its outputs from. A failing step cancels the steps that depend on
it (not its independent siblings) and fails the pipeline run, naming it.

Example:
    >>> engine = PipelineEngine(ws, exp, pipeline_run, graph, {"k": 3}, False, launcher)  # doctest: +SKIP
    >>> engine.start(); engine.join()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..._store import Store
from ...data._inputs import Materialized, materialize_arguments, record_inputs, script_environment
from . import _reuse, _step_prep
from ._step_prep import OutputLocation

__all__ = ["PipelineEngine", "StepLaunch", "StepState", "STEP_RUN_TYPE", "live_engine"]

#: ``run.type`` of a step's child run.
STEP_RUN_TYPE = "azureml.StepRun"
_engines: dict[str, PipelineEngine] = {}
_engines_lock = threading.Lock()


def live_engine(run_id: str) -> PipelineEngine | None:
    """The engine running pipeline run ``run_id`` in this process, if any."""
    with _engines_lock:
        return _engines.get(run_id)


@dataclass
class StepLaunch:
    """What a launcher needs to start one step's script as a child run.

    The launcher creates the child run with ``run_id`` (type
    :data:`STEP_RUN_TYPE`, parent ``parent``), starts the script without
    blocking, returns the run, and calls ``on_done(status, error_message)``
    from any thread when the script has ended.
    """

    experiment: Any
    parent: Any
    run_id: str
    name: str
    script_name: str
    source_directory: str
    arguments: list[str]
    environment: dict[str, str]
    target: str
    runconfig: dict[str, Any] | None
    properties: dict[str, str]
    on_done: Callable[[str, str | None], None]


@dataclass
class StepState:
    """One step while the pipeline runs."""

    entry: dict[str, Any]
    status: str = "waiting"  # waiting, running, completed, failed, skipped
    run_id: str | None = None
    run: Any = None
    reused_from: str | None = None
    reasons: list[str] = field(default_factory=list)
    outputs: dict[str, OutputLocation] = field(default_factory=dict)
    parts: dict[str, Any] | None = None
    key: str | None = None
    error: str | None = None
    inputs: list[Materialized] = field(default_factory=list)
    workdir: str | None = None
    stop_sent: bool = False

    @property
    def name(self) -> str:
        """The step's name."""
        return self.entry["name"]


class PipelineEngine:
    """Runs one pipeline run's graph to its end in a background thread.

    Example:
        >>> PipelineEngine.__name__
        'PipelineEngine'
    """

    def __init__(self, workspace: Any, experiment: Any, pipeline_run: Any,
                 graph: dict[str, Any], parameters: dict[str, Any], regenerate: bool,
                 launcher: Callable[[StepLaunch], Any],
                 continue_on_step_failure: bool = True) -> None:
        self.workspace = workspace
        self.experiment = experiment
        self.run = pipeline_run
        self.graph = graph
        self.parameters = parameters
        self.regenerate = regenerate
        self.launcher = launcher
        self.continue_on_failure = continue_on_step_failure
        self.store = Store.open(workspace.path)
        self.states = {e["id"]: StepState(e) for e in graph["steps"]}
        self.producer = {name: sid for sid, s in self.states.items()
                         for name in s.entry["outputs"]}
        self.cond = threading.Condition()
        self.canceled: str | None = None
        self._thread: threading.Thread | None = None
        self._datastores: dict[str, Any] = {}

    # -- public ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine thread."""
        with _engines_lock:
            _engines[self.run.id] = self
        self._thread = threading.Thread(target=self._main, daemon=True,
                                        name=f"amlhandson-pipeline-{self.run.id[:8]}")
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the engine thread to end."""
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        """Whether the engine thread still runs."""
        return self._thread is not None and self._thread.is_alive()

    def cancel(self, reason: str) -> None:
        """Stop starting steps, cancel the running ones; the pipeline run ends Canceled."""
        with self.cond:
            self.canceled = reason
            running = [s.run for s in self.states.values() if s.status == "running" and s.run]
            self.cond.notify_all()
        for child in running:
            child.cancel(reason)

    # -- the loop --------------------------------------------------------------------------
    def _upstream(self, state: StepState) -> list[StepState]:
        return [self.states[d] for d in state.entry["runAfter"]]

    def _main(self) -> None:
        try:
            self._loop()
            self._finish()
        except BaseException as exc:  # noqa: BLE001 - the pipeline run records it, then re-raised
            if self.run.get_status() not in ("Completed", "Failed", "Canceled"):
                self.run.fail(error_details=f"パイプラインの実行中にエラーが起きました: "
                                            f"{type(exc).__name__}: {exc}")
            raise
        finally:
            with _engines_lock:
                _engines.pop(self.run.id, None)

    def _loop(self) -> None:
        while True:
            with self.cond:
                ready, blocked = [], []
                failed = [s for s in self.states.values() if s.status == "failed"]
                stop, stopping = None, []
                if failed and not self.continue_on_failure:
                    stop = (f"ステップ {failed[0].name!r} が失敗し、continue_on_step_failure=False "
                            "なので、残りのステップは止めました。")
                    for s in self.states.values():
                        if s.status == "running" and s.run is not None and not s.stop_sent:
                            s.stop_sent = True
                            stopping.append(s.run)
                for state in self.states.values():
                    if state.status != "waiting":
                        continue
                    ups = self._upstream(state)
                    if self.canceled is not None or stop is not None:
                        blocked.append((state, self.canceled or stop))
                    elif any(u.status in ("failed", "skipped") for u in ups):
                        bad = next(u for u in ups if u.status in ("failed", "skipped"))
                        blocked.append((state, f"前のステップ {bad.name!r} が"
                                               f"{'失敗した' if bad.status == 'failed' else '実行されなかった'}"
                                               "ので、このステップは実行しませんでした。"))
                    elif all(u.status == "completed" for u in ups):
                        ready.append(state)
                running = any(s.status == "running" for s in self.states.values())
                if not ready and not blocked and not running:
                    return
                for state, _ in blocked:
                    state.status = "skipping"
            if stop is not None:
                for child in stopping:
                    child.cancel(stop)
            for state, reason in blocked:
                self._skip(state, reason)
            for state in ready:
                self._start_step(state)
            with self.cond:
                runnable = any(s.status == "waiting" and all(
                    u.status in ("completed", "failed", "skipped") for u in self._upstream(s))
                    for s in self.states.values())
                running = any(s.status == "running" for s in self.states.values())
                if running and not runnable:
                    self.cond.wait(0.5)  # a step's end (or cancel) notifies at once

    def _finish(self) -> None:
        failed = [s for s in self.states.values() if s.status == "failed"]
        if self.canceled is not None:
            self.run.cancel(self.canceled, "PipelineCanceled")
        elif failed:
            names = ", ".join(repr(s.name) for s in failed)
            detail = "; ".join(f"{s.name}: {s.error}" for s in failed if s.error)
            self.run.fail(error_details=f"ステップ {names} が失敗しました。{detail}",
                          error_code="StepFailed")
        else:
            self.run.complete()

    # -- one step --------------------------------------------------------------------------
    def _datastore(self, name: str | None) -> Any:
        from ...core.datastore import Datastore

        key = name or ""
        if key not in self._datastores:
            self._datastores[key] = Datastore(self.workspace, name)
        return self._datastores[key]

    def _default_datastore(self) -> str:
        return self._datastore(None).name

    def _compute_kind(self, target: str) -> str:
        if target == "local":
            return "local"
        from ._validate import known_compute

        obj = known_compute(self.workspace).get(target)
        return getattr(obj, "type", None) or type(obj).__name__

    def _input_tokens(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        seen, tokens = set(), []
        for token in entry["inputs"] + entry["arguments"]:
            if ("data" in token and token["data"] in entry["outputs"]) or "value" in token \
                    or "param" in token:
                continue
            name = _step_prep.input_name(token)
            if name not in seen:
                seen.add(name)
                tokens.append(token)
        return tokens

    def _key(self, state: StepState) -> tuple[dict[str, Any], str, dict[str, Any]]:
        entry = self.entry_of(state)
        rebuilt: dict[str, Any] = {}
        fingerprints: dict[str, str] = {}
        for token in self._input_tokens(entry):
            name = _step_prep.input_name(token)
            if "data" in token:
                loc = self.states[self.producer[name]].outputs[name]
                fingerprints[name] = _step_prep.location_fingerprint(
                    self._datastore(loc.datastore), loc) or ""
            else:
                obj = _step_prep.rebuild_input(token, self.workspace)
                rebuilt[name] = obj
                target = obj.dataset if hasattr(obj, "dataset") else obj
                fingerprints[name] = target.fingerprint()
        params = {k: (self.parameters[t["param"]] if "param" in t else t["value"])
                  for k, t in entry.get("params", {}).items()}
        parts = _reuse.make_parts(
            script=_reuse.snapshot_files(Path(entry["sourceDirectory"])),
            script_name=entry["scriptName"],
            arguments=_step_prep.render_for_key(entry["arguments"], self.parameters),
            params=params, compute=self._compute_kind(entry["computeTarget"]),
            runconfig=entry.get("runconfig"), inputs=fingerprints, version=entry.get("version"))
        return parts, _reuse.key_of(parts), rebuilt

    @staticmethod
    def entry_of(state: StepState) -> dict[str, Any]:
        """The step's JSON."""
        return state.entry

    def _reusable(self, key: str) -> tuple[Any, list[str]]:
        notes = []
        for result in self.store.pipelines.results_for_key(key):
            intact = True
            for name, out in result.outputs.items():
                loc = OutputLocation(out["datastore"], out["path"])
                if _step_prep.location_fingerprint(self._datastore(loc.datastore), loc) != \
                        out.get("fingerprint"):
                    intact = False
                    notes.append(f"同じ内容の実行 {result.run_id} がありますが、その出力 {name!r}"
                                 " が変わっているか消えているので使えません。")
                    break
            if intact:
                return result, notes
        return None, notes

    def _properties(self, state: StepState, reused: bool) -> dict[str, str]:
        props = {"StepType": state.entry["type"], "azureml.nodeid": state.entry["id"],
                 "amlhandson.step_name": state.name,
                 "amlhandson.reuse": "reused" if reused else "ran",
                 "amlhandson.reuse_reasons": json.dumps(state.reasons, ensure_ascii=False),
                 "amlhandson.reuse_key": state.key or ""}
        if reused and state.reused_from:
            props["azureml.reusedrunid"] = state.reused_from
        return props

    def _child(self, state: StepState, status: str) -> Any:
        from .step_run import StepRun

        with tempfile.TemporaryDirectory() as tmp:
            child = StepRun._create(self.experiment, run_id=state.run_id, name=state.name,
                                    parent=self.run, run_type=STEP_RUN_TYPE,
                                    target=state.entry.get("computeTarget", "local"),
                                    definition={"script": state.entry.get("scriptName"),
                                                "arguments": [],
                                                "computeTarget": state.entry.get("computeTarget")},
                                    outputs=tmp)
            child.add_properties(self._properties(state, status == "reused"))
            if status == "reused":
                child.complete()
            else:
                child.cancel(state.error, "NotRun")
        return child

    def _skip(self, state: StepState, reason: str) -> None:
        state.run_id = str(uuid.uuid4())
        state.error = reason
        state.reasons = [reason]
        state.run = self._child(state, "skipped")
        with self.cond:
            state.status = "skipped"
            self.cond.notify_all()

    def _start_step(self, state: StepState) -> None:
        entry = state.entry
        state.run_id = str(uuid.uuid4())
        try:
            parts, key, rebuilt = self._key(state)
        except Exception as exc:  # noqa: BLE001 - the step fails with the reason, others go on
            self._failed_before_start(state, f"入力を準備できませんでした: {type(exc).__name__}: {exc}")
            return
        state.parts, state.key = parts, key
        previous = self.store.pipelines.last_result(state.name)
        if not entry["allowReuse"]:
            state.reasons = ["allow_reuse=False なので、毎回実行します。"]
        elif self.regenerate:
            state.reasons = ["regenerate_outputs=True で投入されたので、すべてのステップを実行します。"]
        else:
            result, notes = self._reusable(key)
            if result is not None:
                state.reused_from = result.run_id
                state.outputs = {n: OutputLocation(o["datastore"], o["path"])
                                 for n, o in result.outputs.items()}
                state.reasons = [f"再利用: スクリプト・引数・パラメーター・コンピューティングの種類・"
                                 f"入力の内容がすべて実行 {result.run_id} と同じです。"]
                state.run = self._child(state, "reused")
                with self.cond:
                    state.status = "completed"
                    self.cond.notify_all()
                return
            state.reasons = notes or _reuse.explain(parts, previous.parts if previous else None) \
                or ["同じ内容の完了した実行が見つかりませんでした。"]
        default = self._default_datastore()
        for name in entry["outputs"]:
            state.outputs[name] = _step_prep.output_location(self.graph["data"][name],
                                                             state.run_id, default)
        try:
            self._launch(state, rebuilt)
        except Exception as exc:  # noqa: BLE001 - the step fails with the reason, others go on
            self._failed_before_start(state, f"{type(exc).__name__}: {exc}")

    def _failed_before_start(self, state: StepState, message: str) -> None:
        from .step_run import StepRun

        state.error = message
        with tempfile.TemporaryDirectory() as tmp:
            child = StepRun._create(self.experiment, run_id=state.run_id, name=state.name,
                                    parent=self.run, run_type=STEP_RUN_TYPE, outputs=tmp,
                                    target=state.entry.get("computeTarget", "local"))
            child.add_properties(self._properties(state, False))
            child.fail(error_details=message, error_code="StepPreparationFailed")
        state.run = child
        with self.cond:
            state.status = "failed"
            self.cond.notify_all()

    def _launch(self, state: StepState, rebuilt: dict[str, Any]) -> None:
        entry = state.entry
        workdir = tempfile.mkdtemp(prefix="amlhandson-step-")
        state.workdir = workdir
        args: list[Any] = []
        env: dict[str, str] = {}
        for token in entry["arguments"]:
            if "value" in token:
                args.append(str(token["value"]))
            elif "param" in token:
                args.append(str(self.parameters[token["param"]]))
            elif "data" in token:
                name = token["data"]
                loc = state.outputs.get(name) or self.states[self.producer[name]].outputs[name]
                path = str(_step_prep.local_path(self._datastore(loc.datastore), loc))
                args.append(path)
                env[f"AZUREML_DATAREFERENCE_{name}"] = path
            else:
                args.append(rebuilt[_step_prep.input_name(token)])
        extra = [rebuilt[n] for n in rebuilt if not any(a is rebuilt[n] for a in args)]
        final_args, inputs = materialize_arguments(args, Path(workdir), extra_inputs=extra)
        state.inputs = inputs
        env.update(script_environment(inputs, self.workspace))
        for key, token in entry.get("params", {}).items():
            value = self.parameters[token["param"]] if "param" in token else token["value"]
            env[f"AML_PARAMETER_{key}"] = str(value)
        launch = StepLaunch(
            experiment=self.experiment, parent=self.run, run_id=state.run_id, name=state.name,
            script_name=entry["scriptName"], source_directory=entry["sourceDirectory"],
            arguments=final_args, environment=env, target=entry["computeTarget"],
            runconfig=entry.get("runconfig"), properties=self._properties(state, False),
            on_done=lambda status, error: self._done(state, status, error))
        with self.cond:
            state.status = "running"
        state.run = self.launcher(launch)
        record_inputs(self.store, state.run_id, inputs)

    def _done(self, state: StepState, status: str, error: str | None) -> None:
        outcome = "completed" if status == "Completed" else "failed"
        try:
            for item in state.inputs:
                if item.finalize is not None and outcome == "completed":
                    item.finalize()
            if outcome == "completed" and state.key is not None:
                outputs = {}
                for name, loc in state.outputs.items():
                    outputs[name] = {**loc.to_json(), "fingerprint": _step_prep.location_fingerprint(
                        self._datastore(loc.datastore), loc)}
                self.store.pipelines.add_result(state.key, step_name=state.name,
                                                parts=state.parts or {}, run_id=state.run_id or "",
                                                outputs=outputs)
        finally:
            if state.workdir:
                shutil.rmtree(state.workdir, ignore_errors=True)
            with self.cond:
                state.error = error if outcome == "failed" else None
                if outcome == "failed" and not error:
                    state.error = f"ステップは {status} で終わりました。"
                state.status = outcome
                self.cond.notify_all()
