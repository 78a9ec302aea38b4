"""The model registry: versions per name, tags, properties, content hashes.

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson._store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> rec = store.models.register("m", file_name="m.pkl", sha256="0" * 64, size=1)
    >>> rec.version, store.models.register("m", file_name="m.pkl", sha256="0" * 64, size=1).version
    (1, 2)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ._db import Database
from .records import ModelRecord

__all__ = ["ModelRepo"]

_COLUMNS = ("pk, name, version, description, tags, properties, created, file_name, sha256, "
            "size, run_id, experiment")


def _record(row: tuple) -> ModelRecord:
    values = list(row)
    for i in (4, 5):  # tags, properties
        try:
            values[i] = json.loads(values[i]) if values[i] else {}
        except ValueError:
            values[i] = {}
    return ModelRecord(*values)


class ModelRepo:
    """Registered models of one workspace.

    Example:
        >>> store.models.latest("m").version  # doctest: +SKIP
        2
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def register(self, name: str, *, file_name: str, sha256: str, size: int,
                 description: str | None = None, tags: dict[str, Any] | None = None,
                 properties: dict[str, Any] | None = None, run_id: str | None = None,
                 experiment: str | None = None,
                 place: Callable[[int], Callable[[], None] | None] | None = None) -> ModelRecord:
        """Add the next version of ``name`` and return it.

        ``place(version)`` runs inside the transaction, once the version is known
        (it moves the files into their version folder) and may return an undo
        function that runs if the insert fails.
        """
        with self._db.write() as conn:
            (latest,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM models WHERE name=?",
                                     (name,)).fetchone()
            version = latest + 1
            undo = place(version) if place is not None else None
            try:
                cur = conn.execute(
                    "INSERT INTO models(name, version, description, tags, properties, created, "
                    "file_name, sha256, size, run_id, experiment) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (name, version, description, json.dumps(tags or {}, ensure_ascii=False),
                     json.dumps(properties or {}, ensure_ascii=False), time.time(), file_name,
                     sha256, size, run_id, experiment))
            except BaseException:
                if undo is not None:
                    undo()
                raise
            row = conn.execute(f"SELECT {_COLUMNS} FROM models WHERE pk=?",  # noqa: S608
                               (cur.lastrowid,)).fetchone()
        return _record(row)

    def list(self, name: str | None = None, *, version: int | None = None,
             run_id: str | None = None) -> list[ModelRecord]:
        """Models by name, newest version first (optionally one name, version or run)."""
        where, params = [], []
        for column, value in (("name", name), ("version", version), ("run_id", run_id)):
            if value is not None:
                where.append(f"{column}=?")
                params.append(value)
        sql = f"SELECT {_COLUMNS} FROM models"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_record(r) for r in self._db.read(sql + " ORDER BY name, version DESC", params)]

    def get(self, pk: int) -> ModelRecord | None:
        """The model version with primary key ``pk``, or ``None``."""
        rows = self._db.read(f"SELECT {_COLUMNS} FROM models WHERE pk=?", (pk,))  # noqa: S608
        return _record(rows[0]) if rows else None

    def names(self) -> list[str]:
        """Every registered model name."""
        return [r[0] for r in self._db.read("SELECT DISTINCT name FROM models ORDER BY name")]

    def versions(self, name: str) -> list[int]:
        """The versions of ``name``, oldest first."""
        return [r[0] for r in self._db.read(
            "SELECT version FROM models WHERE name=? ORDER BY version", (name,))]

    def set_tags(self, pk: int, tags: dict[str, Any]) -> None:
        """Replace the tags of one model version."""
        with self._db.write() as conn:
            conn.execute("UPDATE models SET tags=? WHERE pk=?",
                         (json.dumps(tags, ensure_ascii=False), pk))

    def set_properties(self, pk: int, properties: dict[str, Any]) -> None:
        """Replace the properties of one model version (the caller checks immutability)."""
        with self._db.write() as conn:
            conn.execute("UPDATE models SET properties=? WHERE pk=?",
                         (json.dumps(properties, ensure_ascii=False), pk))

    def delete(self, pk: int) -> None:
        """Remove one model version from the registry."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM models WHERE pk=?", (pk,))
