"""The tables of the ``core`` component (experiments, runs, metrics, models, services).

Each version is one SQL script run once, forward only. Version 1 is the schema
of the first release (its files still open unchanged).

Example:
    >>> CORE.version >= 3
    True
"""

from __future__ import annotations

import json
import sqlite3

from ._db import Component

__all__ = ["CORE", "numeric"]

_V1 = """
CREATE TABLE IF NOT EXISTS experiments (
    pk INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    pk INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    experiment_pk INTEGER NOT NULL REFERENCES experiments(pk),
    parent_pk INTEGER REFERENCES runs(pk),
    number INTEGER NOT NULL,
    name TEXT,
    display_name TEXT,
    type TEXT,
    target TEXT NOT NULL DEFAULT 'sdk',
    status TEXT NOT NULL,
    created REAL NOT NULL,
    start_time REAL,
    end_time REAL,
    error TEXT,
    definition TEXT,
    outputs_dir TEXT,
    pid INTEGER,
    host TEXT,
    proc_started REAL,
    heartbeat REAL
);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs(experiment_pk, pk);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs(parent_pk);
CREATE TABLE IF NOT EXISTS tags (
    run_pk INTEGER NOT NULL REFERENCES runs(pk),
    key TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (run_pk, key)
);
CREATE TABLE IF NOT EXISTS properties (
    run_pk INTEGER NOT NULL REFERENCES runs(pk),
    key TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (run_pk, key)
);
CREATE TABLE IF NOT EXISTS metric_names (
    run_pk INTEGER NOT NULL REFERENCES runs(pk),
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    description TEXT,
    PRIMARY KEY (run_pk, name)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_pk INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    n INTEGER NOT NULL,
    payload TEXT NOT NULL,
    ts_first REAL NOT NULL,
    ts_last REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics(run_pk, name);
CREATE TABLE IF NOT EXISTS models (
    pk INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    description TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    properties TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    run_id TEXT,
    experiment TEXT,
    UNIQUE (name, version)
);
CREATE TABLE IF NOT EXISTS services (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    pid INTEGER,
    host TEXT,
    port INTEGER,
    created REAL NOT NULL,
    updated REAL NOT NULL
)
"""

# Version 2: the newest runs of an experiment come from an index (100k-run workspaces),
# and the last value of each scalar metric is kept per run, for listings sorted by a metric.
_V2 = """
CREATE INDEX IF NOT EXISTS runs_by_experiment_created
    ON runs(experiment_pk, parent_pk, created);
CREATE TABLE IF NOT EXISTS metric_last (
    run_pk INTEGER NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    num REAL,
    PRIMARY KEY (run_pk, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metric_last_by_name ON metric_last(name, num)
"""


def _v2_backfill(conn: sqlite3.Connection) -> None:
    """Fill ``metric_last`` from the metrics already stored (oldest files)."""
    last: dict[tuple[int, str], object] = {}
    for run_pk, name, payload in conn.execute(
            "SELECT run_pk, name, payload FROM metrics WHERE kind = 0 ORDER BY rowid"):
        try:
            values = json.loads(payload)
        except (ValueError, TypeError):
            continue  # a damaged row: reported when the run's metrics are read
        if values:
            last[(run_pk, name)] = values[-1]
    conn.executemany("INSERT OR REPLACE INTO metric_last(run_pk, name, value, num) "
                     "VALUES (?, ?, ?, ?)",
                     [(pk, name, json.dumps(v), numeric(v)) for (pk, name), v in last.items()])


def numeric(value: object) -> float | None:
    """The value as a float for sorting and range filters, or ``None``.

    Example:
        >>> numeric(3), numeric("a"), numeric(True)
        (3.0, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return None if number != number else number


#: The core tables of every workspace.
CORE = Component("core", (_V1, _V2, _v2_backfill))
