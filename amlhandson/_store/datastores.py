"""Registered datastores of a workspace: name, kind, where the files are, the default.

A datastore's ``spec`` is a JSON object: ``{"folder": ...}`` for a folder on this
machine (absolute, or relative to the workspace folder), ``{"url": ...}`` for an
fsspec URL, plus what v1's register call was given (container, account ...).

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson._store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> store.datastores.register("mine", kind="LocalFolder", spec={"folder": "/data"}).kind
    'LocalFolder'
    >>> store.datastores.set_default("mine"); store.datastores.default().name
    'mine'
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from ..exceptions import UserErrorException
from ._db import Component, Database

__all__ = ["COMPONENT", "DatastoreRecord", "DatastoreRepo"]

_V1 = """
CREATE TABLE IF NOT EXISTS datastores (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL DEFAULT '{}',
    is_default INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
)
"""

#: The datastores table.
COMPONENT = Component("datastores", (_V1,))
_COLUMNS = "name, kind, spec, is_default, created"


@dataclass(frozen=True)
class DatastoreRecord:
    """One registered datastore.

    Example:
        >>> DatastoreRecord("workspaceblobstore", "AzureBlob", {}, True, 0.0).is_default
        True
    """

    name: str
    kind: str
    spec: dict[str, Any]
    is_default: bool
    created: float


def _record(row: tuple) -> DatastoreRecord:
    try:
        spec = json.loads(row[2]) if row[2] else {}
    except ValueError:
        spec = {}
    return DatastoreRecord(row[0], row[1], spec if isinstance(spec, dict) else {},
                           bool(row[3]), row[4])


class DatastoreRepo:
    """The datastores of one workspace.

    Example:
        >>> [d.name for d in store.datastores.list()]  # doctest: +SKIP
        ['mine']
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def ensure(self, name: str, *, kind: str, spec: dict[str, Any],
               default: bool = False) -> DatastoreRecord:
        """The datastore ``name``, inserted with ``kind``/``spec`` if it does not exist yet.

        ``default=True`` makes a new one the default when no default exists.
        """
        found = self.get(name)
        if found is not None:
            return found
        with self._db.write() as conn:
            conn.execute("INSERT OR IGNORE INTO datastores(name, kind, spec, is_default, created) "
                         "VALUES (?,?,?,?,?)",
                         (name, kind, json.dumps(spec, ensure_ascii=False), 0, time.time()))
            if default and conn.execute(
                    "SELECT COUNT(*) FROM datastores WHERE is_default=1").fetchone()[0] == 0:
                conn.execute("UPDATE datastores SET is_default=1 WHERE name=?", (name,))
            row = conn.execute(f"SELECT {_COLUMNS} FROM datastores WHERE name=?",  # noqa: S608
                               (name,)).fetchone()
        return _record(row)

    def register(self, name: str, *, kind: str, spec: dict[str, Any],
                 overwrite: bool = False) -> DatastoreRecord:
        """Register ``name``; an existing one is replaced only with ``overwrite=True``.

        Re-registering the same kind and spec is a no-op (v1 returned the existing one).
        """
        text = json.dumps(spec, ensure_ascii=False, sort_keys=True)
        with self._db.write() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM datastores WHERE name=?",  # noqa: S608
                               (name,)).fetchone()
            if row is not None:
                old = _record(row)
                same = old.kind == kind and json.dumps(old.spec, ensure_ascii=False,
                                                       sort_keys=True) == text
                if not same and not overwrite:
                    raise UserErrorException(
                        f"Datastore {name!r} はすでに別の設定で登録されています "
                        f"(種類 {old.kind})。置き換えるには overwrite=True を付けてください。"
                    )
                if not same:
                    conn.execute("UPDATE datastores SET kind=?, spec=? WHERE name=?",
                                 (kind, text, name))
            else:
                conn.execute("INSERT INTO datastores(name, kind, spec, is_default, created) "
                             "VALUES (?,?,?,?,?)", (name, kind, text, 0, time.time()))
            row = conn.execute(f"SELECT {_COLUMNS} FROM datastores WHERE name=?",  # noqa: S608
                               (name,)).fetchone()
        return _record(row)

    def get(self, name: str) -> DatastoreRecord | None:
        """The datastore called ``name``, or ``None``."""
        rows = self._db.read(f"SELECT {_COLUMNS} FROM datastores WHERE name=?", (name,))  # noqa: S608
        return _record(rows[0]) if rows else None

    def list(self) -> list[DatastoreRecord]:
        """Every datastore, by name."""
        return [_record(r) for r in
                self._db.read(f"SELECT {_COLUMNS} FROM datastores ORDER BY name")]  # noqa: S608

    def default(self) -> DatastoreRecord | None:
        """The workspace's default datastore, or ``None``."""
        rows = self._db.read(f"SELECT {_COLUMNS} FROM datastores WHERE is_default=1")  # noqa: S608
        return _record(rows[0]) if rows else None

    def set_default(self, name: str) -> None:
        """Make ``name`` the default datastore (in one transaction)."""
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM datastores WHERE name=?", (name,)).fetchone() is None:
                raise UserErrorException(f"Datastore {name!r} は登録されていません。")
            conn.execute("UPDATE datastores SET is_default = (name = ?)", (name,))

    def delete(self, name: str) -> bool:
        """Unregister ``name``; False if it was not registered."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM datastores WHERE name=?", (name,)).rowcount > 0
