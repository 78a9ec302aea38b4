"""``ScriptRun``: a run made by ``experiment.submit(ScriptRunConfig | Estimator)``.

``submit`` returns at once: the run is ``NotStarted``, and a background thread
takes it through v1's statuses on the chosen compute target (see
:mod:`amlhandson.core.compute._execution`). ``wait_for_completion(show_output=True)``
streams ``azureml-logs/70_driver_log.txt`` (the script's stdout and stderr) as v1
did and returns ``get_details()``; a Failed run raises
``ActivityFailedException`` carrying the script's traceback.

The snapshot of ``source_directory`` is kept once per content in the
workspace (``snapshots/<id>.zip``); the run's ``ContentSnapshotId`` property
names it and :meth:`ScriptRun.restore_snapshot` unpacks it.

Example:
    >>> src = ScriptRunConfig(source_directory="scripts", script="train.py",  # doctest: +SKIP
    ...                       arguments=["--k", 3], compute_target="local")
    >>> run = exp.submit(src)  # doctest: +SKIP
    >>> run.wait_for_completion(show_output=True)["status"]  # doctest: +SKIP
    'Completed'
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from .. import _atomic
from .._display import display_path
from .._store import Store
from ..data._inputs import prepare_script_inputs
from ..exceptions import ActivityFailedException, UserErrorException
from .compute import _execution, _snapshot
from .compute._apply import DRIVER_LOG
from .compute._packages import environment_packages
from .compute.compute import LOCAL, ComputeTarget
from .run import Run, RunStatus

__all__ = ["ScriptRun", "RUN_TYPE", "SNAPSHOT_FOLDER", "web_view"]

RUN_TYPE = "azureml.scriptrun"
SNAPSHOT_FOLDER = "snapshots"


def _store_snapshot(workspace: Any, snap: _snapshot.Snapshot) -> None:
    path = Path(workspace.path) / SNAPSHOT_FOLDER / f"{snap.id}.zip"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic.write_bytes(path, snap.data)


class ScriptRun(Run):
    """A submitted script's run (``run.type == 'azureml.scriptrun'``).

    Example:
        >>> run = exp.submit(ScriptRunConfig(".", "train.py"))  # doctest: +SKIP
        >>> run.get_status()  # doctest: +SKIP
        'Running'
    """

    @classmethod
    def _submit(cls, experiment: Any, config: Any, tags: dict[str, Any] | None = None, *,
                parent: Run | None = None, run_id: str | None = None,
                arguments: list[Any] | None = None, on_metric: Any = None,
                on_done: Any = None, snapshot: _snapshot.Snapshot | None = None,
                quiet: bool = False, run_type: str = RUN_TYPE) -> ScriptRun:
        """Create the run and start it in the background (``exp.submit`` calls this).

        ``run_type`` is the stored ``run.type`` (``'azureml.scriptrun'``; pipeline steps
        pass ``'azureml.StepRun'`` so ``get_runs`` returns them as ``StepRun``).
        ``on_metric(run_id, name, value)`` is called for each metric value the script
        logs, ``on_done(execution)`` once the run has ended. ``quiet`` is accepted for
        callers that never print (nothing is printed here).

        Example:
            >>> run = ScriptRun._submit(exp, src, run_type="azureml.StepRun")  # doctest: +SKIP
        """
        workspace = experiment.workspace
        config._script_path()  # the folder and the script exist
        target = config.target
        runtime = None if target == LOCAL else ComputeTarget(workspace, target)._runtime
        snap = snapshot or _snapshot.make_snapshot(config.source_directory)
        _store_snapshot(workspace, snap)
        # data references and dataset inputs among the arguments arrive as local paths
        prepared = prepare_script_inputs(config.arguments if arguments is None else arguments,
                                         workspace=workspace)
        definition = config._definition(prepared.arguments)
        if run_id is None:
            run_id = f"{experiment.name}_{int(time.time())}_{uuid.uuid4().hex[:8]}"
        outputs = tempfile.mkdtemp(prefix="amlhandson-outputs-")
        run = cls._create(experiment, run_id=run_id, parent=parent, run_type=run_type,
                          target=target, status=RunStatus.NOT_STARTED, definition=definition,
                          outputs=outputs, tags=tags)
        run.add_properties({"ContentSnapshotId": snap.id, "azureml.runsource": run_type,
                            "amlhandson.script": definition["script"]})
        prepared.record(Store.open(workspace.path), run.id)
        on_finalize = None
        if prepared.workdir is not None:
            user_done = on_done

            def on_finalize() -> None:  # as_upload folders reach the datastore before Completed
                prepared.finish(True)

            def on_done(execution: Any) -> None:
                prepared.finish(False)  # drops what is left (after a failure)
                if user_done is not None:
                    user_done(execution)
        env = config.run_config.environment
        spec = {"run_id": run.id, "experiment": experiment.name, "script": definition["script"],
                "arguments": definition["arguments"], "snapshot": snap.data,
                "packages": environment_packages(env),
                "env": {**env.environment_variables, **_forwarded_environ(),
                        **prepared.environment},
                "timeout": config.run_config.max_run_duration_seconds}
        execution = _execution.Execution(run, spec, runtime, on_metric=on_metric,
                                         on_done=on_done, on_finalize=on_finalize)
        execution.start()
        return run

    # -- v1 API ------------------------------------------------------------------------------------
    def get_snapshot_id(self) -> str | None:
        """The id of the run's snapshot (``ContentSnapshotId``)."""
        return self.get_properties().get("ContentSnapshotId")

    def restore_snapshot(self, snapshot_id: str | None = None,
                         path: str | os.PathLike[str] | None = None) -> str:
        """Unpack the snapshot into ``path`` (default: ``./<snapshot id>``); return the folder.

        Example:
            >>> run.restore_snapshot(path="restored")  # doctest: +SKIP
            'restored'
        """
        snap_id = snapshot_id or self.get_snapshot_id()
        source = Path(self.experiment.workspace.path) / SNAPSHOT_FOLDER / f"{snap_id}.zip"
        if not snap_id or not source.is_file():
            raise UserErrorException(f"Run {self.id} のスナップショット {snap_id!r} がありません。")
        folder = Path(path) if path is not None else Path(snap_id)
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(source) as zf:
            zf.extractall(folder)
        return str(folder)

    def cancel(self, error_details: str | None = None, error_code: str | None = None) -> None:
        """Cancel the run; a script running for this process is stopped (its process is killed)."""
        execution = _execution.live(self.id)
        if execution is not None:
            execution.cancel(error_details or "run.cancel() で取り消されました。")
            execution.join(30)
            self._refresh()
            return
        super().cancel(error_details, error_code)

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        """Wait for the end; with ``show_output=True`` stream the script's output meanwhile.

        Example:
            >>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
        """
        log = self.local_path / DRIVER_LOG
        offset = 0
        if show_output:
            print(f"RunId: {self.id}\nWeb View: {web_view(self)}\n")
            print(f"Streaming {DRIVER_LOG}\n{'=' * (10 + len(DRIVER_LOG))}\n")
        while True:
            status = self.get_status()
            if show_output:
                offset = _print_new(log, offset)
            if status in RunStatus.TERMINAL:
                break
            time.sleep(0.2)
        execution = _execution.live(self.id)
        if execution is not None:
            execution.join(30)
        details = self.get_details()
        if show_output:
            _print_new(log, offset)
            print(f"\nExecution Summary\n=================\nRunId: {self.id}\n"
                  f"Web View: {web_view(self)}\n")
        if raise_on_error and details["status"] == RunStatus.FAILED:
            error = details.get("error", {}).get("error", {})
            raise ActivityFailedException(
                f"ActivityFailedException: Run {self.id} は Failed で終わりました。\n"
                f"{error.get('message', '')}")
        return details


def web_view(run: Any) -> str:
    """What "Web View:" shows: the studio page when a studio runs, else the run's folder as ``~/...``.

    Example:
        >>> web_view(run)  # doctest: +SKIP
        '~/.amlhandson/workspaces/docs-aml/docs-ws/experiments/remote-training/...'
    """
    url = run.get_portal_url()
    return display_path(run.local_path) if url.startswith("file:") else url


def _print_new(path: Path, offset: int) -> int:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return offset
    if data:
        sys.stdout.write(data.decode("utf-8", "replace"))
        sys.stdout.flush()
    return offset + len(data)


#: Variables of this process that a script must see even on workers started earlier.
FORWARDED = ("AMLHANDSON_COMPAT",)


def _forwarded_environ() -> dict[str, str]:
    """The settings a script inherits from the notebook (the azureml compatibility layer)."""
    return {name: os.environ[name] for name in FORWARDED if os.environ.get(name)}
