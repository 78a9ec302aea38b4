"""``Environment``: the Python packages (and Docker settings) a script or a service needs.

As in Azure ML v1 (``azureml.core.Environment``)::

    env = Environment("sklearn-env")
    env.python.conda_dependencies = CondaDependencies.create(conda_packages=["scikit-learn"])
    env = Environment.from_conda_specification("sklearn-env", "myenv.yml")

Locally, runs and web services use the Python that is running now (v1's
"user-managed" mode); the environment's packages are what a Docker image built
by ``Model.package`` installs. ``env.register(ws)`` keeps a versioned copy in
the workspace folder (``environments/<name>/<version>.json``) so that
``Environment.get(ws, name)`` finds it again; registering an unchanged
environment keeps its version, like v1.

Example:
    >>> from amlhandson.core.conda_dependencies import CondaDependencies
    >>> env = Environment("sklearn-env")
    >>> env.python.conda_dependencies = CondaDependencies.create(pip_packages=["scikit-learn"])
    >>> env.python.conda_dependencies.pip_packages
    ['scikit-learn']
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _atomic, _paths
from ..exceptions import UserErrorException
from .conda_dependencies import CondaDependencies

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["Environment", "PythonSection", "DockerSection", "DEFAULT_CPU_IMAGE"]

#: v1's default base image (recorded only; ``Model.package`` uses its own base image).
DEFAULT_CPU_IMAGE = "mcr.microsoft.com/azureml/base:intelmpi2018.3-ubuntu16.04"


class PythonSection:
    """``env.python``: where the packages come from.

    ``conda_dependencies`` is a :class:`CondaDependencies` (a new, Python-only
    one until you set it). ``user_managed_dependencies=True`` means "use the
    Python as it is" (that is what amlhandson always does locally).
    """

    def __init__(self) -> None:
        self.user_managed_dependencies = False
        self.interpreter_path = "python"
        self.conda_dependencies_file: str | None = None
        self._conda: CondaDependencies | None = None

    @property
    def conda_dependencies(self) -> CondaDependencies:
        """The environment's packages."""
        if self._conda is None:
            self._conda = CondaDependencies()
        return self._conda

    @conda_dependencies.setter
    def conda_dependencies(self, value: CondaDependencies) -> None:
        if not isinstance(value, CondaDependencies):
            raise UserErrorException(
                "env.python.conda_dependencies には CondaDependencies を設定してください "
                f"({type(value).__name__} が渡されました)。例: "
                "CondaDependencies.create(conda_packages=['scikit-learn'])"
            )
        self._conda = value


class DockerSection:
    """``env.docker``: Docker settings (recorded; used by ``Model.package``)."""

    def __init__(self) -> None:
        self.enabled = False
        self.base_image: str | None = DEFAULT_CPU_IMAGE
        self.base_dockerfile: str | None = None
        self.gpu_support = False
        self.shm_size = "2g"


class Environment:
    """A named set of packages for runs and deployments.

    Example:
        >>> env = Environment.from_conda_specification("sklearn-env", "myenv.yml")  # doctest: +SKIP
        >>> env.register(ws).version  # doctest: +SKIP
        '1'
    """

    def __init__(self, name: str, **_: Any) -> None:
        self.name = _paths.check_name(name, "environment")
        self.version: str | None = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables: dict[str, str] = {}
        self.inferencing_stack_version: str | None = None

    # -- construction ------------------------------------------------------------------------
    @staticmethod
    def from_conda_specification(name: str, file_path: str | os.PathLike[str]) -> Environment:
        """An environment whose packages are those of a conda ``environment.yml``.

        Example:
            >>> env = Environment.from_conda_specification("env", "myenv.yml")  # doctest: +SKIP
        """
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @staticmethod
    def from_pip_requirements(name: str, file_path: str | os.PathLike[str]) -> Environment:
        """An environment whose pip packages are the lines of a ``requirements.txt``."""
        path = Path(file_path)
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except OSError as exc:
            raise UserErrorException(f"requirements ファイル {path} を読めませんでした: {exc}") from exc
        env = Environment(name)
        cd = CondaDependencies()
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if line.startswith("-"):
                cd.set_pip_option(line)
            elif line:
                cd.add_pip_package(line)
        env.python.conda_dependencies = cd
        return env

    # -- (de)serialisation -----------------------------------------------------------------------
    def _to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "python": {
                "userManagedDependencies": self.python.user_managed_dependencies,
                "interpreterPath": self.python.interpreter_path,
                "condaDependencies": self.python.conda_dependencies._as_dict(),
            },
            "docker": {
                "enabled": self.docker.enabled,
                "baseImage": self.docker.base_image,
                "baseDockerfile": self.docker.base_dockerfile,
                "gpuSupport": self.docker.gpu_support,
                "shmSize": self.docker.shm_size,
            },
            "environmentVariables": dict(self.environment_variables),
            "inferencingStackVersion": self.inferencing_stack_version,
        }

    @staticmethod
    def _from_dict(data: dict[str, Any]) -> Environment:
        env = Environment(data["name"])
        env.version = data.get("version")
        python = data.get("python") or {}
        env.python.user_managed_dependencies = bool(python.get("userManagedDependencies"))
        env.python.interpreter_path = python.get("interpreterPath") or "python"
        env.python.conda_dependencies = CondaDependencies(
            _underlying_structure=python.get("condaDependencies") or {})
        docker = data.get("docker") or {}
        env.docker.enabled = bool(docker.get("enabled"))
        env.docker.base_image = docker.get("baseImage")
        env.docker.base_dockerfile = docker.get("baseDockerfile")
        env.docker.gpu_support = bool(docker.get("gpuSupport"))
        env.docker.shm_size = docker.get("shmSize") or "2g"
        env.environment_variables = dict(data.get("environmentVariables") or {})
        env.inferencing_stack_version = data.get("inferencingStackVersion")
        return env

    def __repr__(self) -> str:
        return json.dumps(self._to_dict(), indent=4, ensure_ascii=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Environment):
            return False
        mine, theirs = self._to_dict(), other._to_dict()
        mine.pop("version")
        theirs.pop("version")
        return mine == theirs

    # -- registry ----------------------------------------------------------------------------------
    @staticmethod
    def _folder(workspace: Workspace, name: str) -> Path:
        return workspace.path / "environments" / name

    @staticmethod
    def _versions(folder: Path) -> list[int]:
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())

    def register(self, workspace: Workspace) -> Environment:
        """Keep this definition in the workspace; return it with its ``version``.

        Registering a definition equal to the latest version returns that
        version instead of adding a new one.

        Example:
            >>> env.register(ws).version  # doctest: +SKIP
            '1'
        """
        folder = self._folder(workspace, self.name)
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            versions = self._versions(folder)
            if versions:
                latest = Environment._load(folder / f"{versions[-1]}.json")
                if latest == self:
                    self.version = latest.version
                    return self
            version = (versions[-1] if versions else 0) + 1
            data = self._to_dict()
            data["version"] = str(version)
            # created whole or not at all: two processes never write the same version, and
            # one never reads the other's half-written file
            if not _atomic.create_text(folder / f"{version}.json",
                                       json.dumps(data, indent=2, ensure_ascii=False)):
                continue
            self.version = str(version)
            return self

    @staticmethod
    def _load(path: Path) -> Environment:
        try:
            return Environment._from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise UserErrorException(
                f"登録された環境のファイル {path} を読めませんでした ({exc})。"
                "env.register(ws) でもう一度登録してください。"
            ) from exc

    @staticmethod
    def get(workspace: Workspace, name: str, version: str | int | None = None) -> Environment:
        """A registered environment (the latest version unless ``version`` is given).

        Example:
            >>> Environment.get(ws, "sklearn-env").version  # doctest: +SKIP
            '1'
        """
        folder = Environment._folder(workspace, _paths.check_name(name, "environment"))
        versions = Environment._versions(folder)
        if version is None and versions:
            version = versions[-1]
        if version is None or not (folder / f"{version}.json").is_file():
            known = ", ".join(str(v) for v in versions) or "なし"
            raise UserErrorException(
                f"Environment {name!r} (version {version}) は登録されていません "
                f"(登録済みの version: {known})。env.register(ws) で登録してください。"
            )
        return Environment._load(folder / f"{version}.json")

    @staticmethod
    def list(workspace: Workspace) -> dict[str, Environment]:
        """The latest version of every registered environment, as ``{name: Environment}``."""
        root = workspace.path / "environments"
        result: dict[str, Environment] = {}
        if root.is_dir():
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                if Environment._versions(folder):
                    result[folder.name] = Environment.get(workspace, folder.name)
        return result
