"""The project's own promises: one install, README commands, light import, agreement of files."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> tuple[str, str]:
    match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_agrees_with_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]

    def expand(requirements: list[str]) -> list[str]:  # "amlhandson[compute]" -> its packages
        result = []
        for req in requirements:
            name, spec = _name(req)
            if name == "amlhandson":
                for extra in spec.strip("[]").split(","):
                    result += expand(extras[extra])
            else:
                result.append(req)
        return result

    wanted = project["dependencies"] + expand(extras["course"]) + expand(extras["serve"])
    expected = dict(_name(r) for r in wanted)
    conda: dict[str, str] = {}
    text = (REPO / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        match = re.match(r"^  - ([^#:]+)$", line)
        if match:
            name, spec = _name(match.group(1))
            if name not in ("python", "pip"):
                conda[name] = spec
    assert conda == expected


def test_ci_runs_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    test_commands = [b for b in blocks if "pytest" in b]
    assert len(test_commands) == 1, "README must give exactly one test command"
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert test_commands[0].strip() in [line.strip() for line in ci_lines]
    assert any("amlhandson course" in b for b in blocks)


def test_import_is_light() -> None:
    code = ("import sys, amlhandson, amlhandson.core\n"
            "heavy = [m for m in ('numpy', 'IPython', 'matplotlib', 'sklearn', 'ipywidgets',"
            " 'psutil', 'uvicorn', 'distributed', 'jupyter_server', 'pandas', 'tqdm')"
            " if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""


def test_exception_root_and_builtins() -> None:
    import amlhandson.exceptions as ex

    for name in ex.__all__:
        cls = getattr(ex, name)
        if issubclass(cls, Warning):
            assert issubclass(cls, ex.AmlHandsOnWarning), name
            continue
        assert issubclass(cls, ex.AmlHandsOnError)
        if cls is not ex.AmlHandsOnError:
            builtin_bases = [b for b in cls.__mro__ if b.__module__ == "builtins"
                             and b not in (object, BaseException, Exception)]
            assert builtin_bases, f"{name} should also inherit a natural builtin"


def test_public_api_is_reexported() -> None:
    import amlhandson

    for name in ("Workspace", "Experiment", "Run", "AmlHandsOnError", "VERSION"):
        assert hasattr(amlhandson, name)
    namespace: dict = {}
    exec("from amlhandson.core import *", namespace)
    import amlhandson.core

    assert set(amlhandson.core.__all__) <= set(namespace)
    namespace = {}
    exec("from amlhandson import *", namespace)
    assert set(amlhandson.__all__) <= set(namespace)


def _modules() -> list[str]:
    import pkgutil

    import amlhandson

    skip = {"amlhandson.core.webservice._server"}  # a program entry point
    return sorted(m.name for m in pkgutil.walk_packages(amlhandson.__path__, "amlhandson.")
                  if m.name not in skip and not m.name.endswith("__main__"))


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples(module: str, monkeypatch: pytest.MonkeyPatch,
                            tmp_path: Path) -> None:
    import doctest
    import importlib

    monkeypatch.setenv("AMLHANDSON_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(module), verbose=False)
    assert result.failed == 0
