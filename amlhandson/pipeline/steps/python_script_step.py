"""``PythonScriptStep``: one script of a pipeline, as in v1 (``azureml.pipeline.steps``).

Example:
    >>> from amlhandson.pipeline.core import PipelineData
    >>> prepared = PipelineData("prepared")
    >>> step = PythonScriptStep("prep.py", name="prepare", arguments=["--out", prepared],
    ...                         outputs=[prepared], source_directory="scripts")
    >>> step.name, step.compute_target_name, step.allow_reuse
    ('prepare', 'local', True)
"""

from __future__ import annotations

import os
from typing import Any

from ...exceptions import UserErrorException
from ..core.graph import PipelineParameter, PipelineStep, check_identifier

__all__ = ["PythonScriptStep"]


def _target_name(target: Any, runconfig: Any) -> str:
    if target is None:
        target = getattr(runconfig, "target", None) or "local"
    if isinstance(target, str):
        if not target.strip():
            raise UserErrorException("compute_target の名前が空です。'local' か、作成した "
                                     "ComputeTarget (またはその名前) を指定してください。")
        return target
    name = getattr(target, "name", None)
    if isinstance(name, str) and name:
        return name
    raise UserErrorException(f"compute_target には ComputeTarget かその名前を指定してください "
                             f"({type(target).__name__} が渡されました)。")


class PythonScriptStep(PipelineStep):
    """Run ``python <script_name> <arguments>`` from ``source_directory`` as one step.

    ``params`` become environment variables ``AML_PARAMETER_<name>`` in the
    script, as in v1. ``allow_reuse=False`` runs the step every time.

    Example:
        >>> PythonScriptStep("train.py", arguments=["--k", 3]).name
        'train.py'
    """

    def __init__(self, script_name: str, name: str | None = None,
                 arguments: list[Any] | None = None, compute_target: Any = None,
                 runconfig: Any = None, runconfig_pipeline_params: Any = None,
                 inputs: list[Any] | None = None, outputs: list[Any] | None = None,
                 params: dict[str, Any] | None = None,
                 source_directory: str | os.PathLike[str] | None = None,
                 allow_reuse: bool = True, version: str | None = None,
                 hash_paths: list[str] | None = None) -> None:
        if not isinstance(script_name, str) or not script_name.strip():
            raise UserErrorException("PythonScriptStep: script_name に実行するファイル名を"
                                     "指定してください (例: 'train.py')。")
        super().__init__(name if name is not None else script_name, inputs=inputs,
                         outputs=outputs, arguments=arguments, allow_reuse=allow_reuse)
        if params is not None and not isinstance(params, dict):
            raise UserErrorException("PythonScriptStep: params は {'名前': 値} の dict にして"
                                     "ください。")
        for key, value in (params or {}).items():
            check_identifier(key, "params の名前")
            if not isinstance(value, (str, int, float, bool, PipelineParameter)):
                raise UserErrorException(
                    f"params[{key!r}] には str, int, float, bool か PipelineParameter を"
                    f"指定してください ({type(value).__name__} が渡されました)。")
        self.script_name = script_name
        self.runconfig = runconfig
        self.compute_target = compute_target
        self.compute_target_name = _target_name(compute_target, runconfig)
        self.params = dict(params or {})
        self.source_directory = (os.fspath(source_directory) if source_directory is not None
                                 else None)
        self.version = version
        self.hash_paths = list(hash_paths or [])
