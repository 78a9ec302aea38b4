"""The SQLite file of one workspace: opening, schema migrations, transactions, errors.

Only this package speaks SQL. This module owns the connection (one per process,
renewed in a forked child), the per-component schema versions, the write
transaction, and the translation of SQLite's failures into errors a learner can
act on: a full disk, a damaged file, a database locked for too long.

Example:
    >>> import tempfile, pathlib
    >>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "workspace.db", [])
    >>> with db.write() as conn:
    ...     _ = conn.execute("CREATE TABLE t (x)")
    >>> db.read("SELECT COUNT(*) FROM t")
    [(0,)]
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import DiskFullError, StoreCorruptError, StoreError

__all__ = ["Component", "Database", "BUSY_TIMEOUT", "translate"]

#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT = 30.0
#: Folder (inside the workspace) holding copies of the database made before migrations.
BACKUP_DIR = "backups"
_databases: weakref.WeakSet[Database] = weakref.WeakSet()
#: Connections inherited from a parent process: never used, never closed (closing
#: another process's SQLite connection could touch its WAL files).
_inherited: list[sqlite3.Connection] = []
_fork_hook_installed = False


def _after_fork_in_child() -> None:
    for db in list(_databases):
        db._forked()


_REPAIR_HINT = ("`amlhandson workspace check` で状態を確認し、`amlhandson workspace repair` で"
                "読める部分を新しいファイルに移せます (元のファイルは残ります)。")


@dataclass(frozen=True)
class Component:
    """A named group of tables with its own migration list.

    Each version is one SQL script (statements separated by ``;``) or a function
    taking the connection, for data changes that SQL cannot express.

    Example:
        >>> Component("demo", ("CREATE TABLE demo (x)",)).version
        1
    """

    name: str
    migrations: tuple[str | Callable[[sqlite3.Connection], None], ...]

    @property
    def version(self) -> int:
        """The schema version this release writes."""
        return len(self.migrations)


def translate(exc: BaseException, path: Path) -> StoreError:
    """The amlhandson error for a failure of SQLite (or of the file system) on ``path``.

    Example:
        >>> isinstance(translate(sqlite3.OperationalError("database or disk is full"),
        ...                      Path("w.db")), DiskFullError)
        True
    """
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        text = "disk is full"
    if "disk i/o error" in text.lower() and _out_of_space(path):
        text = f"disk is full ({text})"
    lowered = text.lower()
    if "disk is full" in lowered or "disk full" in lowered or "file too large" in lowered:
        return DiskFullError(
            f"ディスクがいっぱいで {path} に書き込めませんでした ({text})。それまでに記録された"
            "内容はそのまま残っています。不要なファイルを削除して空きを作ってから、もう一度実行"
            "してください。"
        )
    if "locked" in lowered or "busy" in lowered:
        return StoreError(
            f"ワークスペースのデータベース {path} が {BUSY_TIMEOUT:g} 秒以上ほかのプロセスに"
            f"使われています ({text})。少し待ってからもう一度実行してください。"
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return StoreCorruptError(
            f"ワークスペースのデータベース {path} が壊れています ({text})。{_REPAIR_HINT}"
        )
    if "readonly" in lowered or "read-only" in lowered or "permission" in lowered:
        return StoreError(
            f"ワークスペースのデータベース {path} に書き込めません ({text})。フォルダーの"
            "書き込み権限を確認してください。"
        )
    return StoreError(f"ワークスペースのデータベース {path} でエラーが起きました: {text}")


def _out_of_space(path: Path) -> bool:
    """Whether a write error on ``path`` is explained by a full disk or a file-size limit."""
    folder = path.parent
    try:
        if shutil.disk_usage(folder).free < 4 * 1024 * 1024:
            return True
    except OSError:
        return False
    try:
        import resource
    except ImportError:  # Windows
        return False
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft == resource.RLIM_INFINITY:
        return False
    sizes = [p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()]
    return any(size + 65536 >= soft for size in sizes)


class Database:
    """One workspace database file, shared by the threads of a process.

    Every statement runs under one lock on one connection per process; a forked
    child opens its own connection on first use. Writes run in ``BEGIN
    IMMEDIATE`` transactions so concurrent processes queue instead of failing.

    Example:
        >>> import tempfile, pathlib
        >>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "w.db", [Component("t", ("CREATE TABLE t (x)",))])
        >>> db.versions()["t"]
        1
    """

    def __init__(self, path: Path, components: Sequence[Component]) -> None:
        self.path = Path(path)
        self.components = tuple(components)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        global _fork_hook_installed
        _databases.add(self)
        if not _fork_hook_installed and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _fork_hook_installed = True

    def _forked(self) -> None:
        """In a forked child: forget the parent's connection and lock state."""
        if self._conn is not None:
            _inherited.append(self._conn)
        self._conn, self._pid = None, -1
        self._lock = threading.RLock()

    # -- connection -----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._conn is not None:  # a child made without the fork hook (should not happen)
            _inherited.append(self._conn)
            self._conn = None
        self._check_file()
        try:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
            self._set_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._migrate(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise translate(exc, self.path) from exc
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _check_file(self) -> None:
        """Refuse a database file that exists but cannot be one (empty or truncated)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == 0:
            raise StoreCorruptError(
                f"ワークスペースのデータベース {self.path} が空 (0 バイト) です。ファイルが"
                "壊れたか、途中で切り詰められました。空のワークスペースとして開くと記録が"
                f"すべて失われたように見えるため、開くのをやめました。{_REPAIR_HINT}"
                f"バックアップは {self.path.parent / BACKUP_DIR} にあるかもしれません。"
            )
        with open(self.path, "rb") as fh:
            header = fh.read(16)
        if header != b"SQLite format 3\x00":
            raise StoreCorruptError(
                f"ワークスペースのデータベース {self.path} は SQLite のファイルではありません "
                f"(先頭が壊れています)。{_REPAIR_HINT}"
            )

    @staticmethod
    def _set_wal(conn: sqlite3.Connection) -> None:
        # Switching to WAL needs an exclusive lock and does not wait on busy_timeout:
        # several processes opening a fresh file at once get "database is locked". Retry.
        deadline = time.monotonic() + BUSY_TIMEOUT
        delay = 0.005
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    # -- migrations -------------------------------------------------------------------
    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        current = self._read_versions(conn)
        pending = []
        for comp in self.components:
            have = current.get(comp.name, 0)
            if have > comp.version:
                raise StoreError(
                    f"{self.path} は新しい amlhandson で作られています ({comp.name} のスキーマ "
                    f"{have}、このバージョンが読めるのは {comp.version} まで)。"
                    "`pip install -U amlhandson` で更新してください。ファイルは変更していません。"
                )
            if have < comp.version:
                pending.append(comp)
        if not pending:
            return
        if any(current.get(c.name, 0) > 0 for c in pending):
            self._backup(conn, current)
        with self._transaction(conn):
            current = self._read_versions(conn)  # another process may have migrated meanwhile
            for comp in pending:
                for version in range(current.get(comp.name, 0) + 1, comp.version + 1):
                    step = comp.migrations[version - 1]
                    if callable(step):
                        step(conn)
                    else:
                        for statement in step.split(";"):
                            if statement.strip():
                                conn.execute(statement)
                    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                 (_version_key(comp.name), str(version)))

    @staticmethod
    def _read_versions(conn: sqlite3.Connection) -> dict[str, int]:
        rows = conn.execute("SELECT key, value FROM meta WHERE key = 'schema_version' "
                            "OR key LIKE 'schema:%'").fetchall()
        return {("core" if key == "schema_version" else key[len("schema:"):]): int(value)
                for key, value in rows}

    def _backup(self, conn: sqlite3.Connection, versions: dict[str, int]) -> None:
        """Copy the database aside before changing its schema."""
        folder = self.path.parent / BACKUP_DIR
        folder.mkdir(exist_ok=True)
        label = "-".join(f"{k}{v}" for k, v in sorted(versions.items()))
        target = folder / f"workspace-{time.strftime('%Y%m%d-%H%M%S')}-{label}.db"
        if target.exists():
            return
        copy = sqlite3.connect(str(target))
        try:
            conn.backup(copy)
        finally:
            copy.close()

    def versions(self) -> dict[str, int]:
        """The schema version of every component in the file.

        Example:
            >>> db.versions()  # doctest: +SKIP
            {'core': 2}
        """
        with self._lock:
            try:
                return self._read_versions(self._connect())
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc

    # -- statements -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite already rolled back after e.g. a full disk
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) on the shared connection.

        Everything inside commits together or not at all.

        Example:
            >>> with db.write() as conn:  # doctest: +SKIP
            ...     conn.execute("INSERT INTO t VALUES (1)")
        """
        with self._lock:
            try:
                conn = self._connect()
                with self._transaction(conn):
                    yield conn
            except (sqlite3.Error, OSError) as exc:
                if isinstance(exc, StoreError):
                    raise
                raise translate(exc, self.path) from exc

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one read statement and return all rows.

        Example:
            >>> db.read("SELECT 1")  # doctest: +SKIP
            [(1,)]
        """
        with self._lock:
            try:
                return self._connect().execute(sql, params).fetchall()
            except (sqlite3.Error, OSError) as exc:
                if isinstance(exc, StoreError):
                    raise
                raise translate(exc, self.path) from exc

    def close(self) -> None:
        """Close this process's connection (a later call reopens it)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
            self._pid = -1

    # -- health -------------------------------------------------------------------------
    def check(self) -> list[str]:
        """Problems SQLite finds in the file (an empty list when it is healthy).

        Example:
            >>> db.check()  # doctest: +SKIP
            []
        """
        try:
            self._check_file()
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT)
        except (StoreCorruptError, sqlite3.Error) as exc:
            return [str(exc)]
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.Error as exc:
            return [str(exc)]
        finally:
            conn.close()
        return [] if rows == [("ok",)] else [str(r[0]) for r in rows]

    def repair(self) -> tuple[Path, dict[str, int]]:
        """Copy every readable row into a fresh file and put it in place of the damaged one.

        The damaged file is kept beside it as ``workspace.db.damaged-<time>``.
        Returns that path and the number of rows saved per table.

        Example:
            >>> saved_as, counts = db.repair()  # doctest: +SKIP
        """
        with self._lock:
            self.close()
            stamp = time.strftime("%Y%m%d-%H%M%S")
            damaged = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
            fresh_path = self.path.with_name(f".{self.path.name}.repair-{os.getpid()}")
            fresh_path.unlink(missing_ok=True)
            fresh = Database(fresh_path, self.components)
            counts: dict[str, int] = {}
            out = fresh._connect()
            out.execute("PRAGMA foreign_keys=OFF")  # rows whose parent was lost are kept too
            with fresh._transaction(out):
                tables = [r[0] for r in out.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name != 'meta'")]
                for table in tables:
                    counts[table] = _copy_readable(self.path, out, table)
            fresh.close()
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    shutil.move(str(src), str(damaged) + suffix)
            os.replace(fresh_path, self.path)
            return damaged, counts


def _version_key(component: str) -> str:
    return "schema_version" if component == "core" else f"schema:{component}"


def _copy_readable(source: Path, out: sqlite3.Connection, table: str) -> int:
    """Copy the rows of ``table`` that can still be read, skipping damaged pages."""
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error:
        return 0
    copied = 0
    try:
        columns = [r[1] for r in out.execute(f"PRAGMA table_info({table})")]  # noqa: S608
        try:
            have = {r[1] for r in src.execute(f"PRAGMA table_info({table})")}  # noqa: S608
        except sqlite3.Error:
            return 0
        cols = [c for c in columns if c in have]
        if not cols:
            return 0
        names = ", ".join(cols)
        marks = ", ".join("?" * len(cols))
        insert = f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
        select = f"SELECT rowid, {names} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 500"  # noqa: S608
        single = f"SELECT rowid, {names} FROM {table} WHERE rowid = ?"  # noqa: S608
        try:
            (top,) = src.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()  # noqa: S608
        except sqlite3.DatabaseError:
            top = None
        last = 0
        while True:  # walk by rowid so that a damaged page loses only its own rows
            try:
                rows = src.execute(select, (last,)).fetchall()
            except sqlite3.DatabaseError:
                rows = []
                for rowid in range(last + 1, last + 501):  # probe one row at a time
                    with contextlib.suppress(sqlite3.DatabaseError):
                        rows += src.execute(single, (rowid,)).fetchall()
                if rows:
                    out.executemany(insert, [r[1:] for r in rows])
                    copied += len(rows)
                last += 500
                if top is None or last >= top:
                    break
                continue
            if not rows:
                break
            out.executemany(insert, [r[1:] for r in rows])
            copied += len(rows)
            last = rows[-1][0]
    finally:
        src.close()
    return copied
