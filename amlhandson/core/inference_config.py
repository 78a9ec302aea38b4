"""``InferenceConfig``: how to serve a model (the entry script and its environment), as in v1.

``from azureml.core.model import InferenceConfig`` still works as
``from amlhandson.core.model import InferenceConfig``.

Example:
    >>> from amlhandson.core.inference_config import InferenceConfig
    >>> inference_config = InferenceConfig(entry_script="score.py")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..exceptions import UserErrorException
from .environment import Environment

__all__ = ["InferenceConfig"]


class InferenceConfig:
    """How to serve a model: the entry script (score.py) and its environment.

    ``entry_script`` is relative to ``source_directory`` when that is given
    (the whole folder is copied into the service), else to the current folder
    (only the script is copied). Give ``environment`` or the separate fields
    (``runtime``, ``conda_file`` ...), not both, as in v1.

    Example:
        >>> inference_config = InferenceConfig(entry_script="score.py",
        ...                                    environment=env)  # doctest: +SKIP
    """

    def __init__(self, entry_script: str | os.PathLike[str], runtime: str | None = None,
                 conda_file: str | os.PathLike[str] | None = None,
                 extra_docker_file_steps: str | os.PathLike[str] | None = None,
                 source_directory: str | os.PathLike[str] | None = None,
                 enable_gpu: bool | None = None, description: str | None = None,
                 base_image: str | None = None, base_image_registry: Any = None,
                 cuda_version: str | None = None, environment: Environment | None = None) -> None:
        self.entry_script = str(entry_script)
        self.runtime = runtime
        self.conda_file = None if conda_file is None else str(conda_file)
        self.extra_docker_file_steps = (None if extra_docker_file_steps is None
                                        else str(extra_docker_file_steps))
        self.source_directory = None if source_directory is None else str(source_directory)
        self.enable_gpu = enable_gpu
        self.description = description
        self.base_image = base_image
        self.base_image_registry = base_image_registry
        self.cuda_version = cuda_version
        self.environment = environment
        self.validate_configuration()

    def validate_configuration(self) -> None:
        """Check the settings; raise ``UserErrorException`` with what to fix.

        Example:
            >>> InferenceConfig("missing.py")  # doctest: +SKIP
            Traceback (most recent call last):
            UserErrorException: Error, provided entry_script file "missing.py" not found. ...
        """
        separate = {k: v for k, v in (("runtime", self.runtime), ("conda_file", self.conda_file),
                                      ("extra_docker_file_steps", self.extra_docker_file_steps),
                                      ("enable_gpu", self.enable_gpu),
                                      ("base_image", self.base_image),
                                      ("cuda_version", self.cuda_version)) if v is not None}
        if self.environment is not None:
            if separate:
                raise UserErrorException(
                    f"InferenceConfig: environment と {sorted(separate)} は同時に指定できません。"
                    "パッケージは environment (Environment) の中で指定してください。"
                )
            if not isinstance(self.environment, Environment):
                raise UserErrorException("InferenceConfig の environment= には Environment を"
                                         f"渡してください ({type(self.environment).__name__})。")
        if self.runtime is not None and self.runtime.lower() != "python":
            raise UserErrorException(f"InferenceConfig: runtime は 'python' だけが使えます "
                                     f"({self.runtime!r} が渡されました)。")
        if self.source_directory is not None and not Path(self.source_directory).is_dir():
            raise UserErrorException(
                f"InferenceConfig: source_directory {self.source_directory!r} というフォルダーが"
                f"ありません (いまのフォルダー: {Path.cwd().name})。"
            )
        script = self._entry_path()
        if not script.is_file():
            base = (f"source_directory {self.source_directory!r} から見て"
                    if self.source_directory else f"いまのフォルダー ({Path.cwd().name}) から見て")
            raise UserErrorException(
                f"Error, provided entry_script file \"{self.entry_script}\" not found. "
                f"{base} {self.entry_script!r} がありません。score.py を書いたか、パスが合っているか"
                "確認してください。"
            )
        if script.suffix != ".py":
            raise UserErrorException(f"InferenceConfig: entry_script は .py ファイルにしてください "
                                     f"({self.entry_script!r})。")
        if self.source_directory is not None:
            root = Path(self.source_directory).resolve()
            if root != script.resolve().parent and root not in script.resolve().parents:
                raise UserErrorException(f"entry_script {self.entry_script!r} は source_directory "
                                         "の中にあるファイルにしてください。")
        for what, value in (("conda_file", self.conda_file),
                            ("extra_docker_file_steps", self.extra_docker_file_steps)):
            if value is not None and not self._relative(value).is_file():
                raise UserErrorException(f"InferenceConfig: {what} {value!r} がありません。")

    def _relative(self, value: str) -> Path:
        base = Path(self.source_directory) if self.source_directory else Path(".")
        return (base / value).resolve()

    def _entry_path(self) -> Path:
        return self._relative(self.entry_script)

    def _environment(self) -> Environment:
        """The environment to build, from ``environment`` or ``conda_file``."""
        if self.environment is not None:
            return self.environment
        if self.conda_file is not None:
            return Environment.from_conda_specification("inference-env",
                                                        self._relative(self.conda_file))
        return Environment("inference-env")

    def _to_spec(self) -> dict[str, Any]:
        """What a service needs to rebuild itself later (absolute paths)."""
        return {
            "entry_script": str(self._entry_path()),
            "source_directory": (str(Path(self.source_directory).resolve())
                                 if self.source_directory else None),
            "environment": self._environment()._to_dict(),
            "extra_docker_file_steps": (str(self._relative(self.extra_docker_file_steps))
                                        if self.extra_docker_file_steps else None),
            "base_image": self.base_image,
            "description": self.description,
        }

    def __repr__(self) -> str:
        return (f"InferenceConfig(entry_script={self.entry_script!r}, "
                f"source_directory={self.source_directory!r}, "
                f"environment={None if self.environment is None else self.environment.name!r})")
