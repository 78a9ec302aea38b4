"""Registered datasets (versions per name, definition, content fingerprint) and what runs read.

A dataset version stores its *definition* (which datastore paths or URLs, which
transformations: a JSON object) and the *fingerprint* of the content it pointed
at when it was registered. ``run_inputs`` records, for each run, which dataset
versions it read and the fingerprint of what it actually saw.

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson._store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> v1 = store.datasets.register("mnist", kind="file", definition={"paths": ["a"]},
    ...                              fingerprint="f1")
    >>> v2 = store.datasets.register("mnist", kind="file", definition={"paths": ["a"]},
    ...                              fingerprint="f2", create_new_version=True)
    >>> v1.version, v2.version, store.datasets.get("mnist").version
    (1, 2, 2)
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..exceptions import UserErrorException
from ._db import Component, Database

__all__ = ["COMPONENT", "DatasetRecord", "RunInputRecord", "DatasetRepo"]

_V1 = """
CREATE TABLE IF NOT EXISTS datasets (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    definition TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    description TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    UNIQUE (name, version)
);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id TEXT NOT NULL,
    input_name TEXT NOT NULL,
    dataset_id TEXT,
    dataset_name TEXT,
    dataset_version INTEGER,
    mode TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    definition TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (run_id, input_name)
)
"""

#: The datasets tables.
COMPONENT = Component("datasets", (_V1,))
_COLUMNS = "pk, id, name, version, kind, definition, fingerprint, description, tags, created"
_INPUT_COLUMNS = ("run_id, input_name, dataset_id, dataset_name, dataset_version, mode, "
                  "fingerprint, definition, created")


@dataclass(frozen=True)
class DatasetRecord:
    """One registered dataset version.

    Example:
        >>> DatasetRecord(1, "id", "mnist", 1, "file", {}, "f", None, {}, 0.0).version
        1
    """

    pk: int
    id: str
    name: str
    version: int
    kind: str
    definition: dict[str, Any]
    fingerprint: str
    description: str | None
    tags: dict[str, Any]
    created: float


@dataclass(frozen=True)
class RunInputRecord:
    """One dataset (or datastore path) a run read, with the fingerprint of what it saw.

    Example:
        >>> RunInputRecord("r", "mnist", None, None, None, "download", "f", {}, 0.0).mode
        'download'
    """

    run_id: str
    input_name: str
    dataset_id: str | None
    dataset_name: str | None
    dataset_version: int | None
    mode: str
    fingerprint: str
    definition: dict[str, Any]
    created: float


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _record(row: tuple) -> DatasetRecord:
    values = list(row)
    values[5] = _json(values[5])
    values[8] = _json(values[8])
    return DatasetRecord(*values)


def _same(definition: dict[str, Any], other: dict[str, Any]) -> bool:
    return json.dumps(definition, sort_keys=True) == json.dumps(other, sort_keys=True)


class DatasetRepo:
    """The dataset registry of one workspace.

    Example:
        >>> store.datasets.names()  # doctest: +SKIP
        ['mnist']
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def register(self, name: str, *, kind: str, definition: dict[str, Any], fingerprint: str,
                 description: str | None = None, tags: dict[str, Any] | None = None,
                 create_new_version: bool = False) -> DatasetRecord:
        """Register ``name`` and return the version that holds this definition.

        Registering what the latest version already holds (same definition and
        content) returns that version. A different definition needs
        ``create_new_version=True`` (v1's rule and message).
        """
        text = json.dumps(definition, ensure_ascii=False, sort_keys=True)
        with self._db.write() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM datasets WHERE name=? "  # noqa: S608
                               "ORDER BY version DESC LIMIT 1", (name,)).fetchone()
            latest = _record(row) if row else None
            if latest is not None:
                unchanged = _same(latest.definition, definition) and \
                    latest.kind == kind and latest.fingerprint == fingerprint
                if unchanged:
                    return latest
                if not create_new_version:
                    raise UserErrorException(
                        f'There is already a dataset registered under name "{name}". Specify '
                        "`create_new_version=True` to register the dataset as a new version. "
                        f"(同じ名前のデータセットがすでにあります (バージョン {latest.version})。"
                        "中身や定義を変えて登録するには create_new_version=True を付けてください。)"
                    )
            version = (latest.version if latest else 0) + 1
            conn.execute(
                f"INSERT INTO datasets({_COLUMNS}) VALUES (NULL,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                (str(uuid.uuid4()), name, version, kind, text, fingerprint, description,
                 json.dumps(tags or {}, ensure_ascii=False), time.time()))
            row = conn.execute(f"SELECT {_COLUMNS} FROM datasets WHERE name=? AND version=?",  # noqa: S608
                               (name, version)).fetchone()
        return _record(row)

    def get(self, name: str, version: int | None = None) -> DatasetRecord | None:
        """Version ``version`` of ``name`` (the latest when ``None``), or ``None``."""
        if version is None:
            rows = self._db.read(f"SELECT {_COLUMNS} FROM datasets WHERE name=? "  # noqa: S608
                                 "ORDER BY version DESC LIMIT 1", (name,))
        else:
            rows = self._db.read(f"SELECT {_COLUMNS} FROM datasets WHERE name=? "  # noqa: S608
                                 "AND version=?", (name, version))
        return _record(rows[0]) if rows else None

    def by_id(self, dataset_id: str) -> DatasetRecord | None:
        """The dataset version with id ``dataset_id``, or ``None``."""
        rows = self._db.read(f"SELECT {_COLUMNS} FROM datasets WHERE id=?", (dataset_id,))  # noqa: S608
        return _record(rows[0]) if rows else None

    def list(self, name: str | None = None) -> list[DatasetRecord]:
        """Every version (of ``name``), by name then newest version first."""
        sql = f"SELECT {_COLUMNS} FROM datasets"  # noqa: S608
        params: tuple[Any, ...] = ()
        if name is not None:
            sql += " WHERE name=?"
            params = (name,)
        return [_record(r) for r in self._db.read(sql + " ORDER BY name, version DESC", params)]

    def names(self) -> list[str]:
        """Every registered dataset name."""
        return [r[0] for r in self._db.read("SELECT DISTINCT name FROM datasets ORDER BY name")]

    def update(self, pk: int, *, description: str | None = None,
               tags: dict[str, Any] | None = None) -> DatasetRecord:
        """Change the description and/or tags of one version (the content never changes)."""
        with self._db.write() as conn:
            if description is not None:
                conn.execute("UPDATE datasets SET description=? WHERE pk=?", (description, pk))
            if tags is not None:
                conn.execute("UPDATE datasets SET tags=? WHERE pk=?",
                             (json.dumps(tags, ensure_ascii=False), pk))
            row = conn.execute(f"SELECT {_COLUMNS} FROM datasets WHERE pk=?", (pk,)).fetchone()  # noqa: S608
        return _record(row)

    def unregister(self, name: str) -> int:
        """Remove every version of ``name``; return how many were removed."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM datasets WHERE name=?", (name,)).rowcount

    # -- what runs read ---------------------------------------------------------------
    def record_input(self, run_id: str, input_name: str, *, mode: str, fingerprint: str,
                     definition: dict[str, Any], dataset: DatasetRecord | None = None) -> None:
        """Note that run ``run_id`` read ``input_name`` (a dataset version or a path)."""
        with self._db.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO run_inputs({_INPUT_COLUMNS}) "  # noqa: S608
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (run_id, input_name, dataset.id if dataset else None,
                 dataset.name if dataset else None, dataset.version if dataset else None, mode,
                 fingerprint, json.dumps(definition, ensure_ascii=False, sort_keys=True),
                 time.time()))

    def inputs_of(self, run_id: str) -> list[RunInputRecord]:
        """What run ``run_id`` read, by input name."""
        rows = self._db.read(f"SELECT {_INPUT_COLUMNS} FROM run_inputs WHERE run_id=? "  # noqa: S608
                             "ORDER BY input_name", (run_id,))
        return [RunInputRecord(*r[:7], _json(r[7]), r[8]) for r in rows]

    def runs_reading(self, name: str, version: int | None = None) -> list[str]:
        """Ids of the runs that read dataset ``name`` (``version``), oldest first."""
        sql = "SELECT run_id FROM run_inputs WHERE dataset_name=?"
        params: tuple[Any, ...] = (name,)
        if version is not None:
            sql += " AND dataset_version=?"
            params = (name, version)
        return [r[0] for r in self._db.read(sql + " ORDER BY created", params)]
