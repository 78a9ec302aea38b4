"""Pipelines (published ones and the graphs of submitted ones) and step results for reuse.

``pipelines`` holds a pipeline's serialised graph (a JSON object that can be
submitted again from another process: the REST endpoint, the scheduler), its
name, version and status. ``step_results`` holds, for every step run that
completed, its reuse key, the parts the key was made of (to explain later why
a step was or was not reused) and where its outputs are.

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson._store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> p = store.pipelines.create(graph={"steps": []}, name="train", published=True)
    >>> store.pipelines.get(p.id).status
    'Active'
    >>> _ = store.pipelines.add_result("k1", step_name="prep", parts={"script": "a"},
    ...                                run_id="r1", outputs={"out": "azureml/r1/out"})
    >>> store.pipelines.find_result("k1").run_id
    'r1'
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ._db import Component, Database

__all__ = ["COMPONENT", "PipelineRecord", "StepResultRecord", "PipelineRepo"]

_V1 = """
CREATE TABLE IF NOT EXISTS pipelines (
    id TEXT PRIMARY KEY,
    published INTEGER NOT NULL DEFAULT 0,
    name TEXT,
    description TEXT,
    version TEXT,
    graph TEXT NOT NULL,
    status TEXT NOT NULL,
    source_run_id TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS step_results (
    pk INTEGER PRIMARY KEY,
    reuse_key TEXT NOT NULL,
    step_name TEXT NOT NULL,
    parts TEXT NOT NULL,
    run_id TEXT NOT NULL,
    outputs TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS step_results_by_key ON step_results(reuse_key, pk);
CREATE INDEX IF NOT EXISTS step_results_by_name ON step_results(step_name, pk)
"""

#: The pipeline tables.
COMPONENT = Component("pipelines", (_V1,))
_COLUMNS = ("id, published, name, description, version, graph, status, source_run_id, "
            "created, updated")
_RESULT_COLUMNS = "pk, reuse_key, step_name, parts, run_id, outputs, created"


@dataclass(frozen=True)
class PipelineRecord:
    """One stored pipeline (published or the graph of a submitted run).

    Example:
        >>> PipelineRecord("id", True, "p", None, None, {}, "Active", None, 0.0, 0.0).published
        True
    """

    id: str
    published: bool
    name: str | None
    description: str | None
    version: str | None
    graph: dict[str, Any]
    status: str
    source_run_id: str | None
    created: float
    updated: float


@dataclass(frozen=True)
class StepResultRecord:
    """A completed step run whose outputs a later step with the same key may reuse.

    Example:
        >>> StepResultRecord(1, "k", "prep", {}, "r1", {}, 0.0).run_id
        'r1'
    """

    pk: int
    reuse_key: str
    step_name: str
    parts: dict[str, Any]
    run_id: str
    outputs: dict[str, Any]
    created: float


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _record(row: tuple) -> PipelineRecord:
    values = list(row)
    values[1] = bool(values[1])
    values[5] = _json(values[5])
    return PipelineRecord(*values)


def _result(row: tuple) -> StepResultRecord:
    return StepResultRecord(row[0], row[1], row[2], _json(row[3]), row[4], _json(row[5]), row[6])


class PipelineRepo:
    """Pipelines and step results of one workspace.

    Example:
        >>> [p.name for p in store.pipelines.list(published=True)]  # doctest: +SKIP
        ['train']
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- pipelines ----------------------------------------------------------------------
    def create(self, *, graph: dict[str, Any], name: str | None = None,
               description: str | None = None, version: str | None = None,
               published: bool = False, source_run_id: str | None = None,
               pipeline_id: str | None = None) -> PipelineRecord:
        """Store a pipeline graph and return it (status ``Active``)."""
        now = time.time()
        pid = pipeline_id or str(uuid.uuid4())
        with self._db.write() as conn:
            conn.execute(f"INSERT INTO pipelines({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                         (pid, int(published), name, description, version,
                          json.dumps(graph, ensure_ascii=False, sort_keys=True), "Active",
                          source_run_id, now, now))
            row = conn.execute(f"SELECT {_COLUMNS} FROM pipelines WHERE id=?", (pid,)).fetchone()  # noqa: S608
        return _record(row)

    def get(self, pipeline_id: str) -> PipelineRecord | None:
        """The pipeline with id ``pipeline_id``, or ``None``."""
        rows = self._db.read(f"SELECT {_COLUMNS} FROM pipelines WHERE id=?", (pipeline_id,))  # noqa: S608
        return _record(rows[0]) if rows else None

    def list(self, *, published: bool | None = None,
             status: str | None = None) -> list[PipelineRecord]:
        """Pipelines, newest first (only published ones / one status when asked)."""
        where, params = [], []
        if published is not None:
            where.append("published=?")
            params.append(int(published))
        if status is not None:
            where.append("status=?")
            params.append(status)
        sql = f"SELECT {_COLUMNS} FROM pipelines"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_record(r) for r in self._db.read(sql + " ORDER BY created DESC", params)]

    def set_status(self, pipeline_id: str, status: str) -> PipelineRecord | None:
        """Set a pipeline's status (``Active``/``Disabled``); ``None`` if it does not exist."""
        with self._db.write() as conn:
            conn.execute("UPDATE pipelines SET status=?, updated=? WHERE id=?",
                         (status, time.time(), pipeline_id))
            row = conn.execute(f"SELECT {_COLUMNS} FROM pipelines WHERE id=?",  # noqa: S608
                               (pipeline_id,)).fetchone()
        return _record(row) if row else None

    # -- step results (reuse) -------------------------------------------------------------
    def add_result(self, reuse_key: str, *, step_name: str, parts: dict[str, Any],
                   run_id: str, outputs: dict[str, Any]) -> StepResultRecord:
        """Record a completed step run under its reuse key."""
        with self._db.write() as conn:
            cur = conn.execute(
                f"INSERT INTO step_results({_RESULT_COLUMNS}) VALUES (NULL,?,?,?,?,?,?)",  # noqa: S608
                (reuse_key, step_name, json.dumps(parts, ensure_ascii=False, sort_keys=True),
                 run_id, json.dumps(outputs, ensure_ascii=False, sort_keys=True), time.time()))
            row = conn.execute(f"SELECT {_RESULT_COLUMNS} FROM step_results WHERE pk=?",  # noqa: S608
                               (cur.lastrowid,)).fetchone()
        return _result(row)

    def find_result(self, reuse_key: str) -> StepResultRecord | None:
        """The newest completed step run with this reuse key, or ``None``."""
        rows = self._db.read(f"SELECT {_RESULT_COLUMNS} FROM step_results WHERE reuse_key=? "  # noqa: S608
                             "ORDER BY pk DESC LIMIT 1", (reuse_key,))
        return _result(rows[0]) if rows else None

    def results_for_key(self, reuse_key: str) -> list[StepResultRecord]:
        """Every completed step run with this reuse key, newest first."""
        return [_result(r) for r in self._db.read(
            f"SELECT {_RESULT_COLUMNS} FROM step_results WHERE reuse_key=? "  # noqa: S608
            "ORDER BY pk DESC", (reuse_key,))]

    def last_result(self, step_name: str) -> StepResultRecord | None:
        """The newest completed run of a step called ``step_name`` (to explain a new key)."""
        rows = self._db.read(f"SELECT {_RESULT_COLUMNS} FROM step_results WHERE step_name=? "  # noqa: S608
                             "ORDER BY pk DESC LIMIT 1", (step_name,))
        return _result(rows[0]) if rows else None

    def forget_result(self, pk: int) -> None:
        """Drop a step result whose outputs are gone (it can no longer be reused)."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM step_results WHERE pk=?", (pk,))
