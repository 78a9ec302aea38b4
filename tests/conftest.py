"""Fixtures for the unit tests: an isolated home, a scratch folder, a workspace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from amlhandson._store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture
def aml_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``AMLHANDSON_HOME`` for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("AMLHANDSON_HOME", str(home))
    return home


@pytest.fixture
def scratch(tmp_path: Path, aml_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A learner's scratch folder as the current directory, with a config.json."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "resource_group": "docs-aml",
        "workspace_name": "docs-ws",
    }))
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def ws(scratch: Path) -> Iterator[object]:
    """The ``docs-ws`` workspace of the scratch folder."""
    from amlhandson import Workspace

    workspace = Workspace.create("docs-ws", resource_group="docs-aml", exist_ok=True,
                                 show_output=False)
    yield workspace
    Store.open(workspace.path).flush()


@pytest.fixture
def exp(ws: object) -> object:
    """An experiment named like the hands-on's."""
    from amlhandson import Experiment

    return Experiment(ws, "my-first-experiment")
