"""``RunConfiguration``: where and with which environment a submitted script runs.

As in Azure ML v1 (``azureml.core.runconfig``)::

    rc = RunConfiguration()
    rc.target = "local"                              # or a ComputeTarget / its name
    rc.environment.python.user_managed_dependencies = True
    rc.environment.docker.enabled = True             # recorded (see docs/compute.md)
    src = ScriptRunConfig(source_directory=".", script="train.py", run_config=rc)

Locally every script runs with the Python that runs the worker (v1's
"user-managed" mode). When the environment lists packages, they are checked on
the worker before the script starts (``user_managed_dependencies=True`` skips the
check); Docker settings are recorded in the run's definition only.

Example:
    >>> rc = RunConfiguration()
    >>> rc.target, rc.framework, rc.node_count
    ('local', 'Python', 1)
    >>> rc.environment.python.user_managed_dependencies = True
    >>> rc._to_dict()["environment"]["python"]["userManagedDependencies"]
    True
"""

from __future__ import annotations

import copy
from typing import Any

from ..exceptions import UserErrorException
from .conda_dependencies import CondaDependencies
from .environment import DEFAULT_CPU_IMAGE, Environment

__all__ = ["RunConfiguration", "DEFAULT_CPU_IMAGE", "target_name"]

_FRAMEWORKS = ("Python", "PySpark", "CNTK", "TensorFlow", "PyTorch")


def target_name(target: Any) -> str:
    """The name of a compute target given as a name or as a ``ComputeTarget``.

    Example:
        >>> target_name("local"), target_name(None)
        ('local', 'local')
    """
    if target is None:
        return "local"
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


class RunConfiguration:
    """The run's target, environment and a few v1 settings (framework, node count ...).

    Example:
        >>> rc = RunConfiguration(conda_dependencies=CondaDependencies.create(pip_packages=["scikit-learn"]))
        >>> rc.environment.python.conda_dependencies.pip_packages
        ['scikit-learn']
    """

    def __init__(self, script: str | None = None, arguments: list[Any] | None = None,
                 framework: str | None = None, communicator: str | None = None,
                 conda_dependencies: CondaDependencies | None = None, **_: Any) -> None:
        self.script = script
        self.arguments = list(arguments) if arguments else []
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.node_count = 1
        self.max_run_duration_seconds: int | None = None
        self.history = _History()
        self.data_references: dict[str, Any] = {}
        self._target = "local"
        self._environment = Environment("default-environment")
        if conda_dependencies is not None:
            self._environment.python.conda_dependencies = conda_dependencies

    @property
    def target(self) -> str:
        """The compute target's name (``'local'`` by default); a ``ComputeTarget`` may be assigned."""
        return self._target

    @target.setter
    def target(self, value: Any) -> None:
        self._target = target_name(value)

    @property
    def environment(self) -> Environment:
        """The run's :class:`~amlhandson.core.environment.Environment`."""
        return self._environment

    @environment.setter
    def environment(self, value: Environment) -> None:
        if not isinstance(value, Environment):
            raise UserErrorException("run_config.environment には Environment を設定してください "
                                     f"({type(value).__name__} が渡されました)。")
        self._environment = value

    def _to_dict(self) -> dict[str, Any]:
        if self.framework not in _FRAMEWORKS:
            raise UserErrorException(f"framework {self.framework!r} は使えません "
                                     f"({', '.join(_FRAMEWORKS)} のどれか)。")
        return {
            "script": self.script,
            "arguments": [str(a) for a in self.arguments],
            "target": self._target,
            "framework": self.framework,
            "communicator": self.communicator,
            "nodeCount": self.node_count,
            "maxRunDurationSeconds": self.max_run_duration_seconds,
            "environment": self._environment._to_dict(),
            "history": {"outputCollection": self.history.output_collection,
                        "snapshotProject": self.history.snapshot_project},
        }

    def copy(self) -> RunConfiguration:
        """An independent copy (the environment is copied too)."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return (f"RunConfiguration(target={self._target!r}, framework={self.framework!r}, "
                f"environment={self._environment.name!r})")


class _History:
    """``run_config.history``: v1's output collection switches (recorded)."""

    def __init__(self) -> None:
        self.output_collection = True
        self.snapshot_project = True
