"""``ScriptRunConfig``: a script, its folder and arguments, ready for ``experiment.submit``.

As in Azure ML v1 (``azureml.core.ScriptRunConfig``), both the 2019 form and the
later 1.x keywords::

    src = ScriptRunConfig(source_directory="scripts", script="train.py",
                          arguments=["--k", 3], run_config=rc)            # 2019
    src = ScriptRunConfig("scripts", "train.py", arguments=["--k", 3],
                          compute_target=cluster, environment=env)       # later 1.x
    run = exp.submit(src)

``compute_target=`` / ``environment=`` replace the run configuration's target
and environment (the given ``run_config`` is not changed).

Example:
    >>> src = ScriptRunConfig(".", "train.py", arguments=["--k", 3], compute_target="local")
    >>> src.arguments, src.run_config.target
    (['--k', 3], 'local')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..exceptions import UserErrorException
from .environment import Environment
from .runconfig import RunConfiguration, target_name

__all__ = ["ScriptRunConfig"]


class ScriptRunConfig:
    """What a script run executes: ``python <script> <arguments>`` in a copy of ``source_directory``.

    Example:
        >>> ScriptRunConfig(source_directory=".", script="train.py").script
        'train.py'
    """

    def __init__(self, source_directory: str | os.PathLike[str], script: str | None = None,
                 arguments: list[Any] | None = None, run_config: RunConfiguration | None = None,
                 _telemetry_values: Any = None, compute_target: Any = None,
                 environment: Environment | None = None, distributed_job_config: Any = None,
                 resume_from: Any = None, max_run_duration_seconds: int | None = None,
                 **_: Any) -> None:
        if not isinstance(source_directory, (str, os.PathLike)) or not str(source_directory):
            raise UserErrorException("ScriptRunConfig: source_directory にはスクリプトのあるフォルダーを"
                                     "渡してください (例: '.' や 'scripts')。")
        if run_config is not None and not isinstance(run_config, RunConfiguration):
            raise UserErrorException("ScriptRunConfig: run_config には RunConfiguration を渡してください "
                                     f"({type(run_config).__name__} が渡されました)。")
        if arguments is not None and (isinstance(arguments, (str, bytes, dict))
                                      or not hasattr(arguments, "__iter__")):
            raise UserErrorException("ScriptRunConfig: arguments はリストで渡してください "
                                     "(例: ['--k', 3])。")
        if script is not None and (not isinstance(script, str) or not script.strip()):
            raise UserErrorException("ScriptRunConfig: script には実行するファイル名を渡してください "
                                     "(例: 'train.py')。")
        self.source_directory = str(source_directory)
        self.script = script
        self.arguments = list(arguments) if arguments is not None else []
        self.run_config = run_config.copy() if run_config is not None else RunConfiguration()
        if compute_target is not None:
            self.run_config.target = target_name(compute_target)
        if environment is not None:
            self.run_config.environment = environment
        if max_run_duration_seconds is not None:
            self.run_config.max_run_duration_seconds = max_run_duration_seconds
        self.distributed_job_config = distributed_job_config

    @property
    def target(self) -> str:
        """The compute target's name (from the run configuration)."""
        return self.run_config.target

    def _script_path(self) -> Path:
        """The script's path, checked to exist inside ``source_directory``."""
        folder = Path(self.source_directory).expanduser()
        if not folder.is_dir():
            raise UserErrorException(f"source_directory {self.source_directory!r} というフォルダーが"
                                     "ありません。スクリプトを置いたフォルダーを指定してください。")
        script = self.script or self.run_config.script
        if not script:
            raise UserErrorException("ScriptRunConfig: script (実行するファイル名) を指定してください。")
        path = (folder / script).resolve()
        root = folder.resolve()
        if root not in path.parents:
            raise UserErrorException(f"script {script!r} は source_directory {self.source_directory!r}"
                                     " の中のファイルにしてください (スナップショットされるのはこの"
                                     "フォルダーだけです)。")
        if not path.is_file():
            raise UserErrorException(f"スクリプト {script!r} が source_directory "
                                     f"{self.source_directory!r} にありません。")
        return path

    def _definition(self, arguments: list[Any] | None = None) -> dict[str, Any]:
        """The ``runDefinition`` stored with the run (v1 keys)."""
        definition = self.run_config._to_dict()
        definition["script"] = self.script or self.run_config.script
        definition["arguments"] = [str(a) for a in (self.arguments if arguments is None
                                                    else arguments)]
        definition["sourceDirectory"] = str(Path(self.source_directory).expanduser().resolve())
        return definition

    def _submit(self, experiment: Any, tags: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        from .script_run import ScriptRun

        return ScriptRun._submit(experiment, self, tags=tags)

    def __repr__(self) -> str:
        return (f"ScriptRunConfig(source_directory={self.source_directory!r}, "
                f"script={self.script!r}, arguments={self.arguments!r}, target={self.target!r})")
