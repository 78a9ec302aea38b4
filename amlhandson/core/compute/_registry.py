"""Where compute target definitions are kept: one JSON file per target in the workspace folder.

``<workspace>/compute/<name>.json`` holds ``{"name", "type", "created",
"config"}``; written to a temporary name and renamed, so a reader never sees
half a file. (To move into the store once its component API is available; the
rest of the package only uses these four functions.)

Example:
    >>> save(ws, "cpu", "AmlCompute", {"max_nodes": 2})  # doctest: +SKIP
    >>> load(ws, "cpu")["type"]  # doctest: +SKIP
    'AmlCompute'
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["save", "load", "names", "delete"]


def _folder(workspace: Any) -> Path:
    return Path(workspace.path) / "compute"


def save(workspace: Any, name: str, kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Store (or replace) target ``name``; return the record."""
    folder = _folder(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "type": kind, "created": time.time(), "config": config}
    tmp = folder / f".tmp-{os.getpid()}-{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / f"{name}.json")
    return record


def load(workspace: Any, name: str) -> dict[str, Any] | None:
    """The record of target ``name``, or ``None`` (also for a damaged file)."""
    path = _folder(workspace) / f"{name}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("name") == name else None


def names(workspace: Any) -> list[str]:
    """Names of the stored targets, sorted."""
    folder = _folder(workspace)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if load(workspace, p.stem) is not None)


def delete(workspace: Any, name: str) -> bool:
    """Remove target ``name``; ``True`` if it existed."""
    try:
        (_folder(workspace) / f"{name}.json").unlink()
        return True
    except FileNotFoundError:
        return False
