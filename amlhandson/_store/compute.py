"""Compute targets of a workspace (``AmlCompute``, attached ``DaskCompute``): name, type, settings.

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson._store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> store.compute.save("cpu", "AmlCompute", {"max_nodes": 2})["config"]
    {'max_nodes': 2}
    >>> store.compute.names(), store.compute.delete("cpu"), store.compute.get("cpu")
    (['cpu'], True, None)
"""

from __future__ import annotations

import json
import time
from typing import Any

from ._db import Component, Database

__all__ = ["ComputeRepo", "COMPONENT"]

COMPONENT = Component("compute", (
    "CREATE TABLE compute_targets (name TEXT PRIMARY KEY, type TEXT NOT NULL, "
    "config TEXT NOT NULL, created REAL NOT NULL)",
))


def _record(row: tuple) -> dict[str, Any]:
    name, kind, config, created = row
    try:
        data = json.loads(config)
    except ValueError:
        data = {}
    return {"name": name, "type": kind, "config": data if isinstance(data, dict) else {},
            "created": created}


class ComputeRepo:
    """The compute targets of one workspace (``{"name", "type", "config", "created"}`` dicts)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, name: str, kind: str, config: dict[str, Any]) -> dict[str, Any]:
        """Store target ``name`` unless it exists; return the stored record (the first one wins)."""
        with self._db.write() as conn:
            conn.execute("INSERT OR IGNORE INTO compute_targets(name, type, config, created) "
                         "VALUES (?,?,?,?)", (name, kind, json.dumps(config), time.time()))
            row = conn.execute("SELECT name, type, config, created FROM compute_targets "
                               "WHERE name=?", (name,)).fetchone()
        return _record(row)

    def get(self, name: str) -> dict[str, Any] | None:
        """The record of target ``name``, or ``None``."""
        rows = self._db.read("SELECT name, type, config, created FROM compute_targets "
                             "WHERE name=?", (name,))
        return _record(rows[0]) if rows else None

    def names(self) -> list[str]:
        """Every target's name, sorted."""
        return [r[0] for r in self._db.read("SELECT name FROM compute_targets ORDER BY name")]

    def delete(self, name: str) -> bool:
        """Remove target ``name``; ``True`` if it existed."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM compute_targets WHERE name=?", (name,)).rowcount > 0
