"""The command line speaks one language (Japanese) and its read-only commands change nothing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from amlhandson.cli import build_parser, main

ENGLISH = ("usage:", "show this help message", "positional arguments", "options:",
           "optional arguments", "error:")


def _commands() -> list[list[str]]:
    """Every command and sub-command of ``amlhandson`` (plus the delegated tools)."""
    found = [[]]
    parser = build_parser()
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append([name])
                for inner in sub._actions:
                    if isinstance(inner, argparse._SubParsersAction):
                        found.extend([name, leaf] for leaf in inner.choices)
    found += [["services", "list"], ["services", "logs"], ["services", "stop"]]
    # "compat run SCRIPT ARGS" hands every argument (--help too) to the user's script.
    return [c for c in found if c != ["compat", "run"]]


def _exit_code(argv: list[str]) -> int:
    """The exit code, whether argparse exits or a delegated tool returns it."""
    try:
        return main(argv)
    except SystemExit as done:
        return int(done.code or 0)


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "amlhandson")
def test_help_is_japanese(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("使い方: ")
    for word in ENGLISH:
        assert word not in out, f"{' '.join(command)} --help: {word!r}"


@pytest.mark.parametrize("argv", [["runs", "lst"], ["runs", "list", "--top"], ["nope"],
                                  ["workspace", "delete"], ["services", "logs"],
                                  ["data", "mnist", "--dir"]])
def test_usage_errors_are_japanese(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert "エラー: " in err and "error:" not in err and "usage:" not in err


def test_argparse_is_left_as_it_was(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    capsys.readouterr()
    assert argparse.ArgumentParser(prog="x").format_usage().startswith("usage: ")


def test_read_only_commands_create_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    course = tmp_path / "course"
    course.mkdir()
    (course / "config.json").write_text(json.dumps({
        "subscription_id": "0", "resource_group": "docs-aml", "workspace_name": "docs-ws"}))
    monkeypatch.setenv("AMLHANDSON_HOME", str(home))
    monkeypatch.chdir(course)
    for argv in (["workspace", "show"], ["workspace", "list"], ["runs", "list"],
                 ["runs", "show", "abc"], ["runs", "list", "-w", "docs-ws", "-g", "docs-aml"],
                 ["services", "list"], ["services", "logs", "svc"], ["doctor"]):
        main(argv)
        assert not home.exists(), f"amlhandson {' '.join(argv)} created {home}"
    assert sorted(p.name for p in course.iterdir()) == ["config.json"]
    assert "docs-ws" in capsys.readouterr().err  # says what it looked for
