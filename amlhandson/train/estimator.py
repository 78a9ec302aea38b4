"""``Estimator``: the 2019 way to describe a training script and its packages.

As in Azure ML v1 (``azureml.train.estimator.Estimator``)::

    est = Estimator(source_directory="scripts", entry_script="train.py",
                    script_params={"--data-folder": "data", "--regularization": 0.5},
                    compute_target=cluster, conda_packages=["scikit-learn"])
    run = exp.submit(est)

An estimator is turned into a :class:`~amlhandson.core.script_run_config.ScriptRunConfig`
(``script_params`` become the arguments, in order; a ``None`` value gives a bare
flag). The packages are checked on the worker before the script starts (v1 built a
Docker image with them; see docs/compute.md). Docker options are recorded only.

Example:
    >>> est = Estimator(".", entry_script="train.py", script_params={"--k": 3, "--verbose": None},
    ...                 pip_packages=["scikit-learn"])
    >>> est.arguments
    ['--k', '3', '--verbose']
    >>> est.run_config.environment.python.conda_dependencies.pip_packages
    ['scikit-learn']
"""

from __future__ import annotations

import os
from typing import Any

from ..core.conda_dependencies import CondaDependencies
from ..core.environment import Environment
from ..core.runconfig import RunConfiguration, target_name
from ..core.script_run_config import ScriptRunConfig
from ..exceptions import UserErrorException

__all__ = ["Estimator", "MMLBaseEstimator"]


def _arguments(script_params: dict[str, Any] | None) -> list[str]:
    if script_params is None:
        return []
    if not isinstance(script_params, dict):
        raise UserErrorException("script_params には {'--引数名': 値} の dict を渡してください "
                                 f"({type(script_params).__name__} が渡されました)。")
    args: list[str] = []
    for key, value in script_params.items():
        if not isinstance(key, str) or not key.strip():
            raise UserErrorException(f"script_params のキー {key!r} は '--k' のような引数名にしてください。")
        args.append(key)
        if value is not None and value != "":
            args.append(str(value))
    return args


class MMLBaseEstimator:
    """Base of the estimators: a :class:`ScriptRunConfig` built from estimator arguments."""

    _DEFAULT_PIP: tuple[str, ...] = ()

    def __init__(self, source_directory: str | os.PathLike[str], *, compute_target: Any = None,
                 vm_size: str | None = None, vm_priority: str | None = None,
                 entry_script: str | None = None, script_params: dict[str, Any] | None = None,
                 node_count: int = 1, use_docker: bool = True,
                 custom_docker_image: str | None = None, user_managed: bool = False,
                 conda_packages: list[str] | None = None, pip_packages: list[str] | None = None,
                 conda_dependencies_file: str | None = None,
                 pip_requirements_file: str | None = None,
                 environment_variables: dict[str, str] | None = None,
                 environment_definition: Environment | None = None, inputs: Any = None,
                 max_run_duration_seconds: int | None = None, framework_version: str | None = None,
                 **kwargs: Any) -> None:
        if entry_script is None:
            raise UserErrorException(f"{type(self).__name__}: entry_script (実行するスクリプトの "
                                     "ファイル名、例: 'train.py') を指定してください。")
        if node_count != 1:
            raise UserErrorException(f"{type(self).__name__}: node_count は 1 だけが使えます "
                                     "(分散学習は amlhandson では扱いません)。")
        self._arguments = _arguments(script_params)
        self._script_params = dict(script_params or {})
        self.source_directory = str(source_directory)
        self.entry_script = entry_script
        self.framework_version = framework_version
        self._compute_target = target_name(compute_target)
        self._vm_size = vm_size
        self._vm_priority = vm_priority
        if environment_definition is not None:
            if any(x is not None for x in (conda_packages, pip_packages, conda_dependencies_file,
                                           pip_requirements_file, custom_docker_image)):
                raise UserErrorException(
                    "environment_definition と conda_packages / pip_packages などは同時に指定できません"
                    "(v1 と同じ)。パッケージは Environment の中で指定してください。")
            env = environment_definition
        else:
            env = self._environment(conda_packages, pip_packages, conda_dependencies_file,
                                    pip_requirements_file, user_managed, use_docker,
                                    custom_docker_image, environment_variables)
        rc = RunConfiguration(framework="Python")
        rc.target = self._compute_target
        rc.environment = env
        rc.max_run_duration_seconds = max_run_duration_seconds
        self._run_config = rc

    def _environment(self, conda_packages: list[str] | None, pip_packages: list[str] | None,
                     conda_file: str | None, pip_file: str | None, user_managed: bool,
                     use_docker: bool, docker_image: str | None,
                     variables: dict[str, str] | None) -> Environment:
        if conda_file is not None:
            env = Environment.from_conda_specification(f"{type(self).__name__}-env", conda_file)
        elif pip_file is not None:
            env = Environment.from_pip_requirements(f"{type(self).__name__}-env", pip_file)
        else:
            env = Environment(f"{type(self).__name__}-env")
            env.python.conda_dependencies = CondaDependencies()
        cd = env.python.conda_dependencies
        for spec in conda_packages or []:
            cd.add_conda_package(spec)
        for spec in list(self._DEFAULT_PIP) + list(pip_packages or []):
            cd.add_pip_package(spec)
        env.python.user_managed_dependencies = bool(user_managed)
        env.docker.enabled = bool(use_docker)
        if docker_image:
            env.docker.base_image = docker_image
        env.environment_variables = dict(variables or {})
        return env

    @property
    def run_config(self) -> RunConfiguration:
        """The run configuration the estimator built (target, environment)."""
        return self._run_config

    @property
    def conda_dependencies(self) -> CondaDependencies:
        """The packages of the estimator's environment."""
        return self._run_config.environment.python.conda_dependencies

    @property
    def script_params(self) -> dict[str, Any]:
        """The script parameters as given."""
        return dict(self._script_params)

    @property
    def arguments(self) -> list[str]:
        """``script_params`` as a command line."""
        return list(self._arguments)

    def _get_script_run_config(self) -> ScriptRunConfig:
        return ScriptRunConfig(self.source_directory, script=self.entry_script,
                               arguments=self._arguments, run_config=self._run_config)

    def _submit(self, experiment: Any, tags: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self._get_script_run_config()._submit(experiment, tags=tags, **kwargs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(source_directory={self.source_directory!r}, "
                f"entry_script={self.entry_script!r}, script_params={self._script_params!r}, "
                f"compute_target={self._compute_target!r})")


class Estimator(MMLBaseEstimator):
    """A generic estimator: any script with the packages you list.

    Example:
        >>> est = Estimator(source_directory="scripts", entry_script="train.py",  # doctest: +SKIP
        ...                 compute_target=cluster, conda_packages=["scikit-learn"])
    """

    def __init__(self, source_directory: str | os.PathLike[str], *, compute_target: Any = None,
                 entry_script: str | None = None, script_params: dict[str, Any] | None = None,
                 conda_packages: list[str] | None = None, pip_packages: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(source_directory, compute_target=compute_target,
                         entry_script=entry_script, script_params=script_params,
                         conda_packages=conda_packages, pip_packages=pip_packages, **kwargs)
