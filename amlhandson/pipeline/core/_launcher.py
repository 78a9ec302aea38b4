"""Starting one step's script on its compute target, through the script runs of ``amlhandson.core``.

A step is a script run (v1 ran a ``PythonScriptStep`` as a script run too): the
same snapshot, environment check, driver log and statuses, on ``'local'`` (a
subprocess started from a thread of this process), on an ``AmlCompute`` (a task
on the local Dask cluster's workers) or on an attached ``DaskCompute``, as a
child of the pipeline run. :func:`script_launcher` returns at once, so the
engine starts independent steps together and they run in parallel on the
target's workers.

Example:
    >>> script_launcher(launch)  # doctest: +SKIP
    <ScriptRun ...>
"""

from __future__ import annotations

from typing import Any

from ...core.environment import Environment
from ...core.runconfig import RunConfiguration
from ...core.script_run import ScriptRun
from ...core.script_run_config import ScriptRunConfig
from ._engine import STEP_RUN_TYPE, StepLaunch

__all__ = ["script_launcher", "runconfig_from"]


def runconfig_from(data: dict[str, Any] | None, target: str) -> RunConfiguration:
    """A :class:`RunConfiguration` from a step's stored ``runconfig`` (JSON), on ``target``.

    Example:
        >>> runconfig_from(None, "local").target
        'local'
        >>> runconfig_from({"maxRunDurationSeconds": 60}, "cpu").max_run_duration_seconds
        60
    """
    runconfig = RunConfiguration()
    data = data or {}
    if data.get("environment"):
        runconfig.environment = Environment._from_dict(data["environment"])
    runconfig.framework = data.get("framework") or runconfig.framework
    runconfig.communicator = data.get("communicator") or runconfig.communicator
    runconfig.node_count = int(data.get("nodeCount") or 1)
    runconfig.max_run_duration_seconds = data.get("maxRunDurationSeconds")
    runconfig.target = target
    return runconfig


def script_launcher(launch: StepLaunch) -> Any:
    """Submit ``launch`` as a script run (child of the pipeline run); return the run at once.

    ``launch.on_done(status, error)`` is called from the run's thread when the
    script has ended and its run is Completed, Failed or Canceled.

    Example:
        >>> run = script_launcher(launch)  # doctest: +SKIP
    """
    runconfig = runconfig_from(launch.runconfig, launch.target)
    # a copy: the step's environment object is shared by every run of the step
    runconfig.environment.environment_variables = {
        **runconfig.environment.environment_variables, **launch.environment}
    config = ScriptRunConfig(source_directory=launch.source_directory, script=launch.script_name,
                             arguments=launch.arguments, run_config=runconfig)

    def done(execution: Any) -> None:
        run = execution.run
        status = run.get_status()
        error = None
        if status != "Completed":
            error = (run.record.error or {}).get("message") or f"ステップは {status} で終わりました。"
        launch.on_done(status, error)

    run = ScriptRun._submit(launch.experiment, config, parent=launch.parent,
                            run_id=launch.run_id, arguments=launch.arguments, on_done=done,
                            quiet=True, run_type=STEP_RUN_TYPE)
    run.add_properties(launch.properties)
    run.display_name = launch.name  # lists show the step, as v1's portal did
    return run
