"""``CondaDependencies``: the packages of an environment, kept as a conda ``environment.yml``.

As in Azure ML v1 (``azureml.core.conda_dependencies``). The file format is the
usual conda one::

    name: project_environment
    dependencies:
    - python=3.11
    - scikit-learn
    - pip:
      - joblib
    channels:
    - conda-forge

YAML is read and written with PyYAML (imported on first use).

Differences from v1: ``create()`` does not add ``azureml-defaults`` (the
scoring server of amlhandson needs nothing from it), and the default Python
version is the one running now (v1 pinned 3.6.2).

Example:
    >>> cd = CondaDependencies.create(conda_packages=["scikit-learn"], pip_packages=["joblib"])
    >>> cd.add_conda_package("numpy")
    >>> cd.conda_packages[1:]
    ['scikit-learn', 'numpy', 'pip']
    >>> cd.pip_packages
    ['joblib']
    >>> print(cd.serialize_to_string().splitlines()[-1])
    - conda-forge
"""

from __future__ import annotations

import copy
import os
import re
import sys
from pathlib import Path
from typing import Any

from .. import _atomic
from ..exceptions import UserErrorException

__all__ = ["CondaDependencies", "DEFAULT_CHANNELS"]

#: Channels of a new ``CondaDependencies`` (v1 used anaconda and conda-forge).
DEFAULT_CHANNELS = ["conda-forge"]
_HEADER = (
    "# Conda environment specification. The dependencies defined in this file will\n"
    "# be automatically provisioned for runs with userManagedDependencies=False.\n"
    "\n"
    "# Details about the Conda environment file format:\n"
    "# https://conda.io/docs/user-guide/tasks/manage-environments.html#create-env-file-manually\n"
    "\n"
)
_NAME_END = re.compile(r"[\s=<>!~\[;@]")


def _package_name(spec: str) -> str:
    """The bare, lower-case name of ``spec`` (``conda-forge::numpy=1.2`` -> ``numpy``)."""
    spec = spec.split("::")[-1].strip()
    return _NAME_END.split(spec, maxsplit=1)[0].lower().replace("_", "-")


def _check_spec(spec: Any, what: str) -> str:
    if not isinstance(spec, str) or not spec.strip():
        raise UserErrorException(
            f"{what} には空でないパッケージ名の文字列を渡してください ({spec!r} が渡されました)。"
            "例: 'scikit-learn' や 'numpy>=1.23'"
        )
    return spec.strip()


def _default_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


class CondaDependencies:
    """The conda and pip packages of an environment.

    ``CondaDependencies()`` is an environment with only Python;
    ``CondaDependencies("myenv.yml")`` reads a conda environment file.

    Example:
        >>> cd = CondaDependencies()
        >>> cd.add_pip_package("scikit-learn==1.4.2")
        >>> cd.add_pip_package("scikit-learn")  # the same package: replaces the pin
        >>> cd.pip_packages
        ['scikit-learn']
    """

    DEFAULT_NAME = "project_environment"

    def __init__(self, conda_dependencies_file_path: str | os.PathLike[str] | None = None,
                 _underlying_structure: dict[str, Any] | None = None) -> None:
        if conda_dependencies_file_path is not None:
            data = _read_file(Path(conda_dependencies_file_path))
        elif _underlying_structure is not None:
            data = _validate(copy.deepcopy(_underlying_structure), "conda の定義")
        else:
            data = {"name": self.DEFAULT_NAME, "dependencies": [f"python={_default_python()}"],
                    "channels": list(DEFAULT_CHANNELS)}
        self._data: dict[str, Any] = data

    # -- construction ------------------------------------------------------------------------
    @staticmethod
    def create(pip_packages: list[str] | None = None, conda_packages: list[str] | None = None,
               python_version: str | None = None, pin_sdk_version: bool = True,
               pip_indexurl: str | None = None) -> CondaDependencies:
        """A new environment with these packages (and Python ``python_version``).

        Example:
            >>> cd = CondaDependencies.create(conda_packages=["scikit-learn"], python_version="3.11")
            >>> cd.conda_packages
            ['python=3.11', 'scikit-learn']
        """
        cd = CondaDependencies()
        if python_version is not None:
            cd.set_python_version(python_version)
        for spec in conda_packages or []:
            cd.add_conda_package(spec)
        for spec in pip_packages or []:
            cd.add_pip_package(spec)
        if pip_indexurl:
            cd.set_pip_option(f"--index-url {pip_indexurl}")
        return cd

    # -- reading -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The environment's ``name:`` in the file."""
        return str(self._data.get("name") or self.DEFAULT_NAME)

    @property
    def conda_packages(self) -> list[str]:
        """Conda package specs, in file order (``python=...`` included)."""
        return [d for d in self._data["dependencies"] if isinstance(d, str)]

    @property
    def pip_packages(self) -> list[str]:
        """Pip package specs (options such as ``--index-url`` left out)."""
        return [p for p in self._pip_list(create=False) if not p.startswith("-")]

    @property
    def pip_options(self) -> list[str]:
        """Pip options such as ``--index-url ...``."""
        return [p for p in self._pip_list(create=False) if p.startswith("-")]

    @property
    def conda_channels(self) -> list[str]:
        """The channels conda searches, in order."""
        return list(self._data.get("channels") or [])

    def get_python_version(self) -> str | None:
        """The Python version pinned by ``python=X.Y``, or ``None``."""
        for spec in self.conda_packages:
            if _package_name(spec) == "python":
                rest = spec.split("::")[-1][len("python"):].lstrip("=<>!~ ")
                return rest or None
        return None

    # -- editing -------------------------------------------------------------------------------
    def _pip_list(self, create: bool) -> list[str]:
        deps = self._data["dependencies"]
        for item in deps:
            if isinstance(item, dict) and "pip" in item:
                return item["pip"]
        if not create:
            return []
        pip_list: list[str] = []
        if not any(isinstance(d, str) and _package_name(d) == "pip" for d in deps):
            deps.append("pip")
        deps.append({"pip": pip_list})
        return pip_list

    @staticmethod
    def _put(items: list[Any], spec: str) -> None:
        name = _package_name(spec)
        for i, item in enumerate(items):
            if isinstance(item, str) and _package_name(item) == name:
                items[i] = spec
                return
        items.append(spec)

    def add_conda_package(self, conda_package: str) -> None:
        """Add a conda package (a package already listed under that name is replaced)."""
        spec = _check_spec(conda_package, "add_conda_package")
        deps = self._data["dependencies"]
        name = _package_name(spec)
        for i, item in enumerate(deps):
            if isinstance(item, str) and _package_name(item) == name:
                deps[i] = spec
                return
        # Keep 'pip' and the pip list last, as conda files usually have them.
        pip_at = next((i for i, d in enumerate(deps) if isinstance(d, dict) or (
            name != "pip" and isinstance(d, str) and _package_name(d) == "pip")), len(deps))
        deps.insert(pip_at, spec)

    def remove_conda_package(self, conda_package: str) -> None:
        """Remove a conda package by name (nothing happens if it is not listed)."""
        name = _package_name(_check_spec(conda_package, "remove_conda_package"))
        self._data["dependencies"] = [
            d for d in self._data["dependencies"]
            if not (isinstance(d, str) and _package_name(d) == name)
        ]

    def add_pip_package(self, pip_package: str) -> None:
        """Add a pip package (a package already listed under that name is replaced)."""
        self._put(self._pip_list(create=True), _check_spec(pip_package, "add_pip_package"))

    def remove_pip_package(self, pip_package: str) -> None:
        """Remove a pip package by name (nothing happens if it is not listed)."""
        name = _package_name(_check_spec(pip_package, "remove_pip_package"))
        pip_list = self._pip_list(create=False)
        pip_list[:] = [p for p in pip_list if p.startswith("-") or _package_name(p) != name]

    def set_pip_option(self, pip_option: str) -> None:
        """Add a pip option line such as ``--index-url URL`` (replaces the same option)."""
        option = _check_spec(pip_option, "set_pip_option")
        pip_list = self._pip_list(create=True)
        key = option.split()[0]
        pip_list[:] = [p for p in pip_list if not (p.startswith("-") and p.split()[0] == key)]
        pip_list.insert(0, option)

    def add_channel(self, channel: str) -> None:
        """Add a conda channel (kept once)."""
        channel = _check_spec(channel, "add_channel")
        channels = self._data.setdefault("channels", [])
        if channel not in channels:
            channels.append(channel)

    def remove_channel(self, channel: str) -> None:
        """Remove a conda channel."""
        self._data["channels"] = [c for c in self.conda_channels if c != channel]

    def set_python_version(self, version: str) -> None:
        """Pin Python, e.g. ``set_python_version("3.11")``."""
        version = _check_spec(version, "set_python_version")
        if not re.fullmatch(r"\d+(\.\d+){0,2}", version):
            raise UserErrorException(
                f"set_python_version: {version!r} は Python のバージョンではありません。"
                "'3.11' のように指定してください。"
            )
        self.add_conda_package(f"python={version}")

    # -- writing -------------------------------------------------------------------------------
    def _as_dict(self) -> dict[str, Any]:
        """A deep copy of the file's structure."""
        return copy.deepcopy(self._data)

    def serialize_to_string(self) -> str:
        """The conda environment file as text.

        Example:
            >>> print(CondaDependencies.create(python_version="3.11").serialize_to_string()
            ...       .split("\\n\\n")[-1], end="")
            name: project_environment
            dependencies:
            - python=3.11
            channels:
            - conda-forge
        """
        import yaml

        data = {"name": self.name, "dependencies": self._data["dependencies"],
                "channels": self.conda_channels}
        for key, value in self._data.items():
            if key not in data:
                data[key] = value
        return _HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False,
                                        allow_unicode=True)

    def save(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the file to ``path`` (default ``./myenv.yml``); return the path written.

        Example:
            >>> CondaDependencies.create(pip_packages=["joblib"]).save("myenv.yml")  # doctest: +SKIP
            'myenv.yml'
        """
        target = Path(path) if path is not None else Path("myenv.yml")
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic.write_text(target, self.serialize_to_string())
        return str(path) if path is not None else str(target)

    def save_to_file(self, base_directory: str | os.PathLike[str],
                     conda_file_path: str | None = None) -> str:
        """v1's form: write to ``base_directory/conda_file_path`` (default ``myenv.yml``)."""
        return self.save(Path(base_directory) / (conda_file_path or "myenv.yml"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CondaDependencies) and other._data == self._data

    def __repr__(self) -> str:
        return (f"CondaDependencies(conda_packages={self.conda_packages!r}, "
                f"pip_packages={self.pip_packages!r})")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise UserErrorException(
            f"conda の環境ファイル {path} がありません。パスを確認するか、"
            "CondaDependencies.create(...).save(...) で作成してください。"
        ) from exc
    except OSError as exc:
        raise UserErrorException(f"conda の環境ファイル {path} を読めませんでした: {exc}") from exc
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (行 {mark.line + 1}, 列 {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UserErrorException(
            f"{path} は正しい YAML ではありません{where}: {problem}。インデント (字下げ) と "
            "'- ' の位置を確認してください。"
        ) from exc
    return _validate(data, str(path))


def _validate(data: Any, where: str) -> dict[str, Any]:
    example = "name: myenv / dependencies: [python=3.11, scikit-learn, {pip: [joblib]}]"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserErrorException(
            f"{where} の中身は 'name:' や 'dependencies:' を持つ YAML のマッピングでなければ"
            f"なりません ({type(data).__name__} でした)。例: {example}"
        )
    deps = data.get("dependencies") or []
    if not isinstance(deps, list):
        raise UserErrorException(f"{where}: 'dependencies:' はリスト ('- パッケージ名' の並び) に"
                                 f"してください。例: {example}")
    clean: list[Any] = []
    for item in deps:
        if isinstance(item, dict):
            if set(item) != {"pip"} or not isinstance(item["pip"], list) or not all(
                    isinstance(p, str) for p in item["pip"]):
                raise UserErrorException(
                    f"{where}: dependencies の中の {item!r} は使えません。pip のパッケージは "
                    "'- pip:' の下に文字列のリストで書いてください。"
                )
            clean.append({"pip": [p.strip() for p in item["pip"]]})
        elif isinstance(item, (str, int, float)) and str(item).strip():
            clean.append(str(item).strip())
        else:
            raise UserErrorException(f"{where}: dependencies の中の {item!r} はパッケージ名では"
                                     "ありません。")
    channels = data.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise UserErrorException(f"{where}: 'channels:' は文字列のリストにしてください。")
    result = dict(data)
    result["name"] = str(data.get("name") or CondaDependencies.DEFAULT_NAME)
    result["dependencies"] = clean
    result["channels"] = list(channels)
    return result
