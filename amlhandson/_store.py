"""The embedded store of one workspace: a SQLite database plus a folder of files.

One workspace is one folder (see :mod:`amlhandson._paths`). Inside it,
``workspace.db`` holds experiments, runs, tags, properties, metrics and the
model registry; run files (artifacts) and model files live beside it as plain
files. The schema is versioned (``meta.schema_version``) and migrated forward
on open.

Design points (see docs/architecture.md):

* WAL journal + ``synchronous=NORMAL``: a killed process never corrupts the
  database, and readers never block writers.
* ``busy_timeout`` of 30 s so many processes (a workshop room on one shared
  folder, or ``multiprocessing`` workers) can write at once.
* Metrics are appended to an in-memory queue and written in batches by a
  background thread every :data:`FLUSH_INTERVAL` seconds, so ``run.log`` costs
  about a microsecond and what was logged more than a second before a crash is
  on disk. A batch stores the values of one metric as one JSON array (one row
  per metric per flush, not one per value): JSON keeps int, float, bool, str,
  None, NaN and big ints apart, so values come back with their types.

Example:
    >>> import tempfile, pathlib
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()))
    >>> store.schema_version() == SCHEMA_VERSION
    True
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .exceptions import StoreError

__all__ = ["Store", "SCHEMA_VERSION", "FLUSH_INTERVAL", "HEARTBEAT_INTERVAL"]

#: Current schema version written by this release.
SCHEMA_VERSION = 1
#: Seconds between two background flushes of buffered metrics.
FLUSH_INTERVAL = 0.2
#: Seconds between two heartbeats of a running run.
HEARTBEAT_INTERVAL = 5.0
#: Metric rows written per transaction by the background flusher.
_BATCH = 50_000

_MIGRATIONS: list[str] = [
    # version 1
    """
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
    );
    """,
]
assert len(_MIGRATIONS) == SCHEMA_VERSION

_INSERT_METRIC = (
    "INSERT INTO metrics(run_pk, name, kind, n, payload, ts_first, ts_last) VALUES (?,?,?,?,?,?,?)"
)
#: Metric kind whose queued value is a list to extend with (``run.log_list``).
_EXTEND_KIND = 1


class Store:
    """The database and file area of one workspace folder.

    One ``Store`` per folder and process is shared by every object of that
    workspace (see :meth:`open`). All access goes through one connection guarded
    by a lock; a forked child process opens its own connection.

    Example:
        >>> import tempfile, pathlib
        >>> s = Store.open(pathlib.Path(tempfile.mkdtemp()))
        >>> s is Store.open(s.root)
        True
    """

    _instances: dict[Path, Store] = {}
    _instances_lock = threading.Lock()

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.db_path = self.root / "workspace.db"
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        # Metric values waiting to be written: (run_pk, name, kind, value, ts).
        self.queue: collections.deque[tuple] = collections.deque()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = False
        #: Runs started by this process and not finished: run_pk -> Run.
        self.active: dict[int, Any] = {}
        self.root.mkdir(parents=True, exist_ok=True)
        self._connect()

    # -- opening ---------------------------------------------------------------
    @classmethod
    def open(cls, root: Path) -> Store:
        """The shared store for ``root`` in this process (created on first use)."""
        key = Path(root).resolve()
        with cls._instances_lock:
            store = cls._instances.get(key)
            if store is None:
                store = cls(key)
                cls._instances[key] = store
            return store

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._pid != -1 and self._pid != os.getpid():
            # Forked child: the parent's connection, queue and thread are not ours.
            self.queue = collections.deque()
            self.active = {}
            self._thread = None
            self._lock = threading.RLock()
            self._flush_lock = threading.Lock()
        try:
            conn = sqlite3.connect(
                str(self.db_path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"ワークスペースのデータベース {self.db_path} を開けませんでした ({exc})。"
                "ファイルが壊れているか、別のプログラムが使用中です。"
                "中身が不要ならワークスペースのフォルダーごと削除すると作り直せます。"
            ) from exc
        self._conn = conn
        self._pid = os.getpid()
        self._migrate(conn)
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        current = self._read_version(conn)
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.db_path} は新しい amlhandson (スキーマ {current}) で作られています。"
                f"このバージョンはスキーマ {SCHEMA_VERSION} までしか読めません。"
                "`pip install -U amlhandson` で更新してください。"
            )
        if current == SCHEMA_VERSION:
            return
        with self._write(conn):
            current = self._read_version(conn)  # another process may have migrated
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[version - 1].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(version),),
                )

    @staticmethod
    def _read_version(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    def schema_version(self) -> int:
        """The schema version of the database file."""
        with self._lock:
            return self._read_version(self._connect())

    # -- transactions ----------------------------------------------------------
    @contextlib.contextmanager
    def _write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``) on the shared connection.

        Example:
            >>> import tempfile, pathlib
            >>> s = Store(pathlib.Path(tempfile.mkdtemp()))
            >>> with s.transaction() as c:
            ...     _ = c.execute("INSERT INTO experiments(name, created) VALUES ('e', 0)")
        """
        with self._lock:
            conn = self._connect()
            try:
                with self._write(conn):
                    yield conn
            except sqlite3.DatabaseError as exc:
                raise self._error(exc) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one read statement and return all rows."""
        with self._lock:
            try:
                return self._connect().execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self._error(exc) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement in its own transaction; return the row count."""
        with self.transaction() as conn:
            return conn.execute(sql, params).rowcount

    def _error(self, exc: sqlite3.DatabaseError) -> StoreError:
        if "locked" in str(exc) or "busy" in str(exc):
            return StoreError(
                f"ワークスペースのデータベース {self.db_path} が 30 秒以上ロックされています ({exc})。"
                "ほかのプロセスが書き込み中です。少し待ってからもう一度実行してください。"
            )
        return StoreError(f"ワークスペースのデータベース {self.db_path} でエラー: {exc}")

    # -- metrics queue -----------------------------------------------------------
    def ensure_flusher(self) -> None:
        """Start the background thread that writes queued metrics and heartbeats."""
        self._connect()
        if self._thread is not None and self._thread.is_alive():
            return
        with self._instances_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            thread = threading.Thread(
                target=self._flusher_loop, name="amlhandson-flusher", daemon=True
            )
            self._thread = thread
            thread.start()

    def _flusher_loop(self) -> None:
        last_beat = 0.0
        while not self._stopping:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            try:
                self.flush()
                now = time.time()
                if now - last_beat >= HEARTBEAT_INTERVAL and len(self.active):
                    last_beat = now
                    self.heartbeat(now)
            except Exception:  # noqa: BLE001 - keep the thread alive; errors surface on flush()
                time.sleep(FLUSH_INTERVAL)

    def flush(self) -> int:
        """Write every queued metric value now; return how many were written."""
        written = 0
        with self._flush_lock:
            queue = self.queue
            while queue:
                n = min(len(queue), _BATCH)
                pop = queue.popleft
                items = [pop() for _ in range(n)]
                groups: dict[tuple[int, str, int], list] = {}
                for pk, name, kind, value, ts in items:
                    group = groups.get((pk, name, kind))
                    if group is None:
                        group = groups[(pk, name, kind)] = [ts, ts, []]
                    if kind == _EXTEND_KIND:
                        group[2].extend(value)
                    else:
                        group[2].append(value)
                    group[1] = ts
                rows = [(pk, name, kind, len(vals), json.dumps(vals), first, last)
                        for (pk, name, kind), (first, last, vals) in groups.items()]
                try:
                    with self.transaction() as conn:
                        conn.executemany(_INSERT_METRIC, rows)
                except BaseException:
                    queue.extendleft(reversed(items))  # keep them for the next flush
                    raise
                written += n
        return written

    def heartbeat(self, now: float | None = None) -> None:
        """Record that this process's active runs are alive."""
        pks = list(self.active.keys())
        if not pks:
            return
        with self.transaction() as conn:
            conn.executemany(
                "UPDATE runs SET heartbeat=? WHERE pk=?", [(now or time.time(), pk) for pk in pks]
            )

    def close(self) -> None:
        """Flush, stop the background thread and close the connection."""
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(Exception):
            self.flush()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


def _close_all() -> None:
    for store in list(Store._instances.values()):
        with contextlib.suppress(Exception):
            store.flush()


atexit.register(_close_all)
