"""Fixtures of the compatibility suite: the layer in this process, v1 samples in child processes.

The samples under ``samples/`` are v1 code written the way 2019 samples wrote it;
:func:`run_sample` copies a sample's files to a scratch folder (with a
``config.json``) and runs them unmodified with ``python -m amlhandson.compat``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).resolve().parent / "samples"
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
CONFIG = {"subscription_id": "12345678-aaaa-bbbb-cccc-1234567890ab",
          "resource_group": "aml-2019", "workspace_name": "aml-workspace"}


def module_exists(name: str) -> bool:
    """Whether amlhandson has module ``name`` (for cases that wait for another module)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


@pytest.fixture
def layer() -> Iterator[object]:
    """The layer installed in this process for one test, always uninstalled afterwards."""
    import amlhandson.compat as compat
    from amlhandson.compat import _errors

    assert not compat.is_installed()
    _errors.reset_notes()
    compat.install()
    try:
        yield compat
    finally:
        compat.uninstall()
        _errors.reset_notes()


@pytest.fixture
def v1_folder(tmp_path: Path, aml_home: Path) -> Path:
    """A scratch folder holding the config.json of a 2019 workspace."""
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    return folder


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment of a child Python using ``home``, with the repository importable."""
    env = dict(os.environ, AMLHANDSON_HOME=str(home), MPLBACKEND="Agg")
    env.pop("AMLHANDSON_COMPAT", None)
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture
def run_sample(v1_folder: Path, aml_home: Path) -> Callable[..., subprocess.CompletedProcess]:
    """Run ``samples/<name>`` (a file or a folder's files) unmodified through the layer."""

    def run(name: str, *args: str, script: str | None = None, timeout: float = 240,
            check: bool = True) -> subprocess.CompletedProcess:
        source = SAMPLES / name
        if source.is_dir():
            shutil.copytree(source, v1_folder, dirs_exist_ok=True)
        else:
            shutil.copy(source, v1_folder / source.name)
        entry = script or (source.name if source.is_file() else "main.py")
        proc = subprocess.run([sys.executable, "-m", "amlhandson.compat", entry, *args],
                              cwd=v1_folder, env=child_env(aml_home), capture_output=True,
                              text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
        return proc

    return run


@pytest.fixture
def v1_workspace(aml_home: Path) -> Callable[[], object]:
    """Open (after a sample ran) the workspace the samples' config.json names."""

    def open_it() -> object:
        from amlhandson.core import Workspace

        return Workspace(CONFIG["subscription_id"], CONFIG["resource_group"],
                         CONFIG["workspace_name"])

    return open_it
