"""amlhandson._atomic.create_text: exclusive, complete, nothing left behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from amlhandson import _atomic
from amlhandson.exceptions import AmlHandsOnError, DiskFullError


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
    def io_error(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "link", io_error)
    with pytest.raises(OSError, match="Input/output") as info:
        _atomic.create_text(tmp_path / "1.json", "a")
    assert not isinstance(info.value, DiskFullError)
    assert list(tmp_path.iterdir()) == []


def _full(*args: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", ["fsync", "link"])
def test_create_text_on_a_full_disk_says_so_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    monkeypatch.setattr(os, where, _full)
    with pytest.raises(DiskFullError, match="ディスクがいっぱい.*1.json.*No space") as info:
        _atomic.create_text(tmp_path / "1.json", "a")
    assert isinstance(info.value, OSError) and isinstance(info.value, AmlHandsOnError)
    assert list(tmp_path.iterdir()) == []


def test_create_text_without_hard_links_on_a_full_disk_leaves_no_half_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    monkeypatch.setattr(os, "link", lambda src, dst: (_ for _ in ()).throw(
        OSError(errno.EPERM, "Operation not permitted")))
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh: object) -> None:
            self.fh = fh

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()  # type: ignore[attr-defined]

        def write(self, data: bytes) -> int:
            real_write(self.fh.fileno(), data[:1])  # type: ignore[attr-defined]
            _full()
            return 0

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r": Full(real_fdopen(fd, mode)))
    with pytest.raises(DiskFullError):
        _atomic.create_text(tmp_path / "1.json", "abc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("how", ["write_text", "copy_file"])
def test_replacing_on_a_full_disk_keeps_the_old_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    target = tmp_path / "config.json"
    target.write_text("old")
    source = tmp_path.parent / f"{tmp_path.name}-source.bin"
    source.write_bytes(b"new" * 1000)
    monkeypatch.setattr(os, "fsync", _full)
    with pytest.raises(DiskFullError, match="config.json は書き込む前のまま"):
        if how == "write_text":
            _atomic.write_text(target, "new")
        else:
            _atomic.copy_file(source, target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temporary file left
