"""Workspace: create, get, config.json search and its errors, details, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amlhandson import Workspace
from amlhandson.exceptions import (
    AmlHandsOnError,
    ConfigError,
    ConfigNotFoundError,
    UserErrorException,
    WorkspaceNotFoundError,
)


def test_create_get_and_details(aml_home: Path) -> None:
    ws = Workspace.create("docs-ws", subscription_id="sub-1", resource_group="docs-aml",
                          location="japaneast", show_output=False)
    assert (ws.name, ws.resource_group, ws.subscription_id, ws.location) == (
        "docs-ws", "docs-aml", "sub-1", "japaneast")
    assert ws.path == aml_home / "workspaces" / "docs-aml" / "docs-ws"
    details = ws.get_details()
    assert details["name"] == "docs-ws" and details["localPath"] == str(ws.path)
    assert Workspace.get("docs-ws") == ws
    assert Workspace.get("docs-ws", resource_group="docs-aml") == ws
    assert Workspace("sub-1", "docs-aml", "docs-ws") == ws
    assert "docs-ws" in Workspace.list()
    assert repr(ws).startswith("Workspace.create(name='docs-ws'")


def test_create_twice_needs_exist_ok(aml_home: Path) -> None:
    Workspace.create("docs-ws", resource_group="docs-aml", show_output=False)
    with pytest.raises(UserErrorException, match="already exists"):
        Workspace.create("docs-ws", resource_group="docs-aml", show_output=False)
    again = Workspace.create("docs-ws", resource_group="docs-aml", exist_ok=True)
    assert again.name == "docs-ws"


def test_create_prints_like_v1(aml_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Workspace.create("docs-ws", resource_group="docs-aml")
    assert "docs-ws" in capsys.readouterr().out


def test_missing_resource_group_without_create(aml_home: Path) -> None:
    with pytest.raises(UserErrorException, match="Resource group"):
        Workspace.create("w", resource_group="nope", create_resource_group=False,
                         show_output=False)


@pytest.mark.parametrize("name", ["", "has space", "-dash", "a/b", "..", "x" * 300])
def test_bad_names_are_refused(aml_home: Path, name: str) -> None:
    with pytest.raises(UserErrorException, match="名前"):
        Workspace.create(name, resource_group="docs-aml", show_output=False)


def test_get_unknown_workspace(aml_home: Path) -> None:
    with pytest.raises(WorkspaceNotFoundError, match="Workspace.create"):
        Workspace.get("missing")
    with pytest.raises(LookupError):
        Workspace.get("missing", resource_group="rg")


def test_get_ambiguous_name(aml_home: Path) -> None:
    Workspace.create("ws", resource_group="a", show_output=False)
    Workspace.create("ws", resource_group="b", show_output=False)
    with pytest.raises(UserErrorException, match="resource_group"):
        Workspace.get("ws")


def test_write_and_find_config_in_parents(aml_home: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace.create("docs-ws", resource_group="docs-aml", show_output=False)
    project = tmp_path / "project"
    written = ws.write_config(path=project)
    assert written == project / "config.json"
    assert json.loads(written.read_text()) == {
        "subscription_id": ws.subscription_id, "resource_group": "docs-aml",
        "workspace_name": "docs-ws"}
    deep = project / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert Workspace.from_config() == ws
    out = capsys.readouterr().out
    assert "Found the config file in:" in out and str(tmp_path) not in out


def test_default_write_config_goes_to_dot_azureml(scratch: Path) -> None:
    (scratch / "config.json").unlink()
    ws = Workspace.create("docs-ws", resource_group="docs-aml", show_output=False)
    path = ws.write_config()
    assert path == Path(".azureml") / "config.json"
    sub = scratch / "sub"
    sub.mkdir()
    assert Workspace.from_config(path=sub) == ws


def test_from_config_creates_missing_workspace(scratch: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace.from_config()
    assert ws.name == "docs-ws" and ws.path.is_dir()
    assert "作成しました" in capsys.readouterr().out


def test_missing_config_names_the_notebook(tmp_path: Path, aml_home: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    with pytest.raises(ConfigNotFoundError) as info:
        Workspace.from_config()
    message = str(info.value)
    assert message.startswith("We could not find config.json in:")
    assert "01-workspace" in message and "write_config" in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, AmlHandsOnError)
    with pytest.raises(ConfigNotFoundError, match="ありません"):
        Workspace.from_config(path=tmp_path / "does-not-exist")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "正しい JSON ではありません"),
        ("[1, 2]", "JSON オブジェクト"),
        ('{"workspace_name": "w"}', "subscription_id, resource_group"),
        ('{"subscription_id": "s", "resource_group": "", "workspace_name": "w"}', "resource_group"),
    ],
)
def test_malformed_config(scratch: Path, content: str, expected: str) -> None:
    (scratch / "config.json").write_text(content)
    with pytest.raises(ConfigError) as info:
        Workspace.from_config()
    assert expected in str(info.value)
    assert "config.json" in str(info.value) and "01-workspace" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_config_line_number_is_reported(scratch: Path) -> None:
    (scratch / "config.json").write_text('{\n  "subscription_id": "s",\n  "resource_group" "x"\n}')
    with pytest.raises(ConfigError, match="行 3"):
        Workspace.from_config()


def test_delete_removes_everything(ws: Workspace) -> None:
    from amlhandson import Experiment

    with Experiment(ws, "e").start_logging() as run:
        run.log("a", 1)
    folder = ws.path
    ws.delete()
    assert not folder.exists()
    with pytest.raises(WorkspaceNotFoundError):
        Workspace.get("docs-ws", resource_group="docs-aml")


def test_experiments_property(ws: Workspace) -> None:
    from amlhandson import Experiment

    Experiment(ws, "b")
    Experiment(ws, "a")
    assert list(ws.experiments) == ["a", "b"]
