"""Which packages of a run's environment this Python lacks (checked before a script starts).

v1 built a Docker image or a conda environment from the run's
``CondaDependencies``; amlhandson runs every script with the worker's Python,
so it only checks that the named packages are installed there and stops with a
clear list when they are not. Azure ML SDK packages (``azureml-*``) and
``python``/``pip`` themselves are not checked: amlhandson stands in for the SDK.
Version pins are checked when ``packaging`` is importable.

Example:
    >>> missing_packages({"conda": ["python=3.11", "pip"], "pip": ["azureml-defaults"]})
    []
    >>> missing_packages({"pip": ["surely-not-installed-pkg-xyz"]})
    ['surely-not-installed-pkg-xyz']
"""

from __future__ import annotations

import re
from importlib import metadata
from typing import Any

__all__ = ["missing_packages", "CONDA_TO_PIP"]

#: conda package names whose pip distribution has another name.
CONDA_TO_PIP = {"pytorch": "torch", "py-xgboost": "xgboost", "tensorflow-gpu": "tensorflow",
                "pytables": "tables", "msgpack-python": "msgpack", "matplotlib-base": "matplotlib"}
_SKIP = {"python", "pip", "setuptools", "wheel", "conda", "nomkl", "mkl"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)")


def _requirement(spec: str, conda: bool) -> tuple[str, str] | None:
    spec = spec.split("::")[-1].strip()
    if not spec or spec.startswith(("-", "git+", "http:", "https:", "file:")):
        return None
    match = _NAME.match(spec)
    if not match:
        return None
    name = match.group(1).lower().replace("_", "-")
    rest = spec[match.end():].strip()
    if conda and rest.startswith("=") and not rest.startswith("=="):
        version = rest[1:].split("=")[0].rstrip(".*")  # conda "=1.9" means 1.9.*
        rest = f"=={version}.*"
    if conda:
        name = CONDA_TO_PIP.get(name, name)
    if name in _SKIP or name.startswith("azureml") or name == "amlhandson":
        return None
    return name, rest


def _version_ok(name: str, version: str, rest: str) -> bool:
    if not rest:
        return True
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:
        return True
    try:
        return SpecifierSet(rest.split(";")[0].strip().replace(" ", "")).contains(
            version, prereleases=True)
    except InvalidSpecifier:
        return True


def missing_packages(packages: dict[str, list[str]] | None) -> list[str]:
    """The specs of ``{"conda": [...], "pip": [...]}`` that this Python does not satisfy."""
    if not packages:
        return []
    missing: list[str] = []
    for kind in ("conda", "pip"):
        for spec in packages.get(kind) or []:
            req = _requirement(str(spec), conda=kind == "conda")
            if req is None:
                continue
            name, rest = req
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                missing.append(str(spec).split("::")[-1].strip())
                continue
            if not _version_ok(name, version, rest):
                missing.append(f"{str(spec).strip()} (入っているのは {version})")
    return missing


def environment_packages(environment: Any) -> dict[str, list[str]] | None:
    """The packages to check for a run's ``Environment`` (``None`` when user-managed)."""
    if environment is None or environment.python.user_managed_dependencies:
        return None
    cd = environment.python.conda_dependencies
    return {"conda": list(cd.conda_packages), "pip": list(cd.pip_packages)}
