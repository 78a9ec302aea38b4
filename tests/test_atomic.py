"""amlhandson._atomic.create_text: exclusive, complete, nothing left behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from amlhandson import _atomic


def test_create_text_once(tmp_path: Path) -> None:
    target = tmp_path / "1.json"
    assert _atomic.create_text(target, "first é") is True
    assert _atomic.create_text(target, "second") is False
    assert target.read_text(encoding="utf-8") == "first é"
    assert [p.name for p in tmp_path.iterdir()] == ["1.json"]  # no temporary file left


def test_create_text_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "1.json"
    assert _atomic.create_text(target, "a") is True
    assert _atomic.create_text(target, "b") is False
    assert target.read_text() == "a" and [p.name for p in tmp_path.iterdir()] == ["1.json"]


def test_create_text_other_errors_are_not_hidden(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", disk_full)
    with pytest.raises(OSError, match="No space"):
        _atomic.create_text(tmp_path / "1.json", "a")
    assert list(tmp_path.iterdir()) == []
