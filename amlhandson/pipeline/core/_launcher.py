"""Starting one step's script on its compute target, through the script runs of ``amlhandson.core``.

A step is a script run (v1 ran a ``PythonScriptStep`` as a script run too): the
same snapshot, environment check, logs and statuses, on ``'local'`` (a
subprocess) or on a cluster's workers (Dask), as a child of the pipeline run.

Example:
    >>> script_launcher(launch)  # doctest: +SKIP
    <StepRun ...>
"""

from __future__ import annotations

from typing import Any

from ...core import _catalog
from ...exceptions import UserErrorException
from ._engine import StepLaunch

__all__ = ["script_launcher"]


def script_launcher(launch: StepLaunch) -> Any:
    """Submit ``launch`` as a script run (child of the pipeline run) and return the run.

    Example:
        >>> run = script_launcher(launch)  # doctest: +SKIP
    """
    if "ScriptRun" not in _catalog.WHERE:
        raise UserErrorException(
            "パイプラインのステップを実行するにはスクリプト実行 (ScriptRun) が必要ですが、この "
            "amlhandson にはまだありません。"
        )
    script_run = _catalog.resolve("ScriptRun")
    config_class = _catalog.resolve("ScriptRunConfig")
    rc_class = _catalog.resolve("RunConfiguration")
    runconfig = rc_class()
    runconfig.target = launch.target
    runconfig.environment.environment_variables.update(launch.environment)
    config = config_class(source_directory=launch.source_directory, script=launch.script_name,
                          arguments=launch.arguments, run_config=runconfig)

    def done(execution: Any) -> None:
        run = execution.run
        status = run.get_status()
        error = (run.record.error or {}).get("message") if status != "Completed" else None
        launch.on_done(status, error)

    run = script_run._submit(launch.experiment, config, parent=launch.parent,
                             run_id=launch.run_id, arguments=launch.arguments, on_done=done,
                             quiet=True)
    run.add_properties(launch.properties)
    return run
