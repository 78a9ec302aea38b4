"""Experiments and runs: creating, reading, listing and finishing them; tags and properties.

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson._store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> exp = store.experiments.ensure("demo")
    >>> run = store.runs.create(run_id="r1", experiment_pk=exp.pk, name="run_r1")
    >>> store.runs.by_id("r1").number, store.runs.by_id("r1").status
    (1, 'Running')
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from ..exceptions import UserErrorException
from ._db import Database
from .records import ExperimentRecord, RunRecord

__all__ = ["ExperimentRepo", "RunRepo", "TERMINAL"]

#: Statuses a run never leaves.
TERMINAL = ("Completed", "Failed", "Canceled")

_COLUMNS = ("pk", "run_id", "experiment_pk", "parent_pk", "number", "name", "display_name",
            "type", "target", "status", "created", "start_time", "end_time", "error",
            "definition", "outputs_dir", "pid", "host", "proc_started", "heartbeat")
_SELECT = ("SELECT " + ", ".join(f"r.{c}" for c in _COLUMNS)
           + ", e.name FROM runs r JOIN experiments e ON e.pk = r.experiment_pk")
#: Columns :meth:`RunRepo.update` may change.
_UPDATABLE = frozenset({"status", "start_time", "end_time", "error", "definition", "type",
                        "target", "display_name", "outputs_dir", "pid", "host", "proc_started",
                        "heartbeat"})


def _decode(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {"message": text}
    return value if isinstance(value, dict) else {"message": str(value)}


def _encode(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _record(row: tuple) -> RunRecord:
    values = dict(zip(_COLUMNS, row[:-1]))
    values["error"] = _decode(values["error"])
    values["definition"] = _decode(values["definition"])
    return RunRecord(**values, experiment_name=row[-1])


class ExperimentRepo:
    """Experiments of one workspace.

    Example:
        >>> store.experiments.ensure("demo").name  # doctest: +SKIP
        'demo'
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def ensure(self, name: str) -> ExperimentRecord:
        """The experiment called ``name``, created if it does not exist yet."""
        rows = self._db.read("SELECT pk, name, created FROM experiments WHERE name=?", (name,))
        if not rows:
            with self._db.write() as conn:
                conn.execute("INSERT OR IGNORE INTO experiments(name, created) VALUES (?, ?)",
                             (name, time.time()))
                rows = conn.execute("SELECT pk, name, created FROM experiments WHERE name=?",
                                    (name,)).fetchall()
        return ExperimentRecord(*rows[0])

    def get(self, name: str) -> ExperimentRecord | None:
        """The experiment called ``name``, or ``None``."""
        rows = self._db.read("SELECT pk, name, created FROM experiments WHERE name=?", (name,))
        return ExperimentRecord(*rows[0]) if rows else None

    def list(self) -> list[ExperimentRecord]:
        """Every experiment, by name."""
        return [ExperimentRecord(*r) for r in
                self._db.read("SELECT pk, name, created FROM experiments ORDER BY name")]

    def summaries(self) -> list[dict[str, Any]]:
        """Every experiment with its number of runs and its latest activity (for listings)."""
        rows = self._db.read(
            "SELECT e.name, e.created, COUNT(r.pk), MAX(COALESCE(r.end_time, r.start_time, "
            "r.created)) FROM experiments e LEFT JOIN runs r ON r.experiment_pk = e.pk "
            "GROUP BY e.pk ORDER BY e.name")
        return [{"name": n, "created": c, "runs": k, "latest": latest}
                for n, c, k, latest in rows]


class RunRepo:
    """Runs of one workspace, with their tags and properties.

    Example:
        >>> store.runs.by_id("r1").run_id  # doctest: +SKIP
        'r1'
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- creating ------------------------------------------------------------------------
    def create(self, *, run_id: str, experiment_pk: int, name: str | None = None,
               parent_pk: int | None = None, type: str | None = None, target: str = "sdk",
               status: str = "Running", definition: dict[str, Any] | None = None,
               outputs_dir: str | None = None, pid: int | None = None,
               host: str | None = None, proc_started: float | None = None,
               now: float | None = None, tags: dict[str, str | None] | None = None) -> RunRecord:
        """Insert a run (numbered after the experiment's last one) and return its record.

        Raises :class:`~amlhandson.exceptions.UserErrorException` when the id is taken.
        """
        now = time.time() if now is None else now
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone():
                raise UserErrorException(
                    f"run_id {run_id!r} はすでに使われています。別の run_id にするか、既存の Run に"
                    f"戻るには Run(experiment, {run_id!r}) を使ってください。"
                )
            (number,) = conn.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE experiment_pk=?",
                (experiment_pk,)).fetchone()
            name = name if name is not None else f"run_{run_id}"
            cur = conn.execute(
                "INSERT INTO runs(run_id, experiment_pk, parent_pk, number, name, display_name, "
                "type, target, status, created, start_time, definition, outputs_dir, pid, host, "
                "proc_started, heartbeat) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, experiment_pk, parent_pk, number, name, name, type, target, status,
                 now, now if status == "Running" else None, _encode(definition), outputs_dir,
                 pid, host, proc_started, now))
            if tags:
                conn.executemany("INSERT OR REPLACE INTO tags(run_pk, key, value) VALUES (?,?,?)",
                                 [(cur.lastrowid, k, v) for k, v in tags.items()])
            row = conn.execute(_SELECT + " WHERE r.pk=?", (cur.lastrowid,)).fetchone()
        return _record(row)

    # -- reading -------------------------------------------------------------------------
    def get(self, pk: int) -> RunRecord | None:
        """The run with primary key ``pk``, or ``None``."""
        rows = self._db.read(_SELECT + " WHERE r.pk=?", (pk,))
        return _record(rows[0]) if rows else None

    def by_id(self, run_id: str) -> RunRecord | None:
        """The run with id ``run_id``, or ``None``."""
        rows = self._db.read(_SELECT + " WHERE r.run_id=?", (run_id,))
        return _record(rows[0]) if rows else None

    def find(self, prefix: str, limit: int = 10) -> list[RunRecord]:
        """Runs whose id is ``prefix`` or starts with it (an exact match comes alone)."""
        exact = self.by_id(prefix)
        if exact is not None:
            return [exact]
        rows = self._db.read(_SELECT + " WHERE r.run_id >= ? AND r.run_id < ? ORDER BY r.run_id "
                             "LIMIT ?", (prefix, prefix + "\U0010ffff", limit))
        return [_record(r) for r in rows]

    def list(self, experiment_pk: int | None = None, *, parent_pk: int | None = None,
             include_children: bool = False, limit: int | None = None, offset: int = 0,
             newest_first: bool = True,
             before: tuple[float, int] | None = None) -> list[RunRecord]:
        """Runs of an experiment (top-level unless ``include_children``) or of a parent.

        Newest first by default. ``before=(created, pk)`` of the last record of a page
        gives the next page (stable while new runs arrive).

        Example:
            >>> [r.run_id for r in store.runs.list(exp.pk, limit=20)]  # doctest: +SKIP
            ['r1']
        """
        where, params = [], []
        if experiment_pk is not None:
            where.append("r.experiment_pk=?")
            params.append(experiment_pk)
        if parent_pk is not None:
            where.append("r.parent_pk=?")
            params.append(parent_pk)
        elif not include_children:
            where.append("r.parent_pk IS NULL")
        if before is not None:
            where.append("(r.created < ? OR (r.created = ? AND r.pk < ?))")
            params += [before[0], before[0], before[1]]
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        if parent_pk is not None:
            sql += " ORDER BY r.pk"
        else:
            order = "DESC" if newest_first else "ASC"
            sql += f" ORDER BY r.created {order}, r.pk {order}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [_record(r) for r in self._db.read(sql, params)]

    def search(self, experiment_pk: int, *, status: str | None = None,
               tags: Iterable[tuple[str, str | None]] = (),
               ranges: dict[str, tuple[float | None, float | None]] | None = None,
               sort: str = "number", sort_key: str | None = None, desc: bool = True,
               limit: int = 50, offset: int = 0,
               now: float | None = None) -> tuple[int, list[RunRecord]]:
        """One page of an experiment's top-level runs, filtered and sorted in the database.

        ``tags``: ``(key, None)`` has the tag, ``(key, value)`` has it with that value.
        ``ranges``: ``{metric: (low, high)}`` on the last value of a scalar metric
        (``None``: no bound). ``sort``: ``number``, ``created``, ``status``,
        ``duration``, ``display_name``, ``metric`` or ``tag`` (the last two name
        ``sort_key``); runs without the sorted value come last. Returns
        ``(total matching, records of the page)``.

        Example:
            >>> total, page = store.runs.search(exp.pk, tags=[("model", "knn")],
            ...                                 sort="metric", sort_key="accuracy")  # doctest: +SKIP
        """
        where = ["r.experiment_pk=?", "r.parent_pk IS NULL"]
        params: list[Any] = [experiment_pk]
        if status:
            where.append("r.status=?")
            params.append(status)
        for key, value in tags:
            if value is None:
                where.append("EXISTS (SELECT 1 FROM tags t WHERE t.run_pk=r.pk AND t.key=?)")
                params.append(key)
            else:
                where.append("EXISTS (SELECT 1 FROM tags t WHERE t.run_pk=r.pk AND t.key=? "
                             "AND t.value=?)")
                params += [key, value]
        for name, (low, high) in (ranges or {}).items():
            cond = "m.run_pk=r.pk AND m.name=? AND m.num IS NOT NULL"
            params.append(name)
            if low is not None:
                cond += " AND m.num>=?"
                params.append(float(low))
            if high is not None:
                cond += " AND m.num<=?"
                params.append(float(high))
            where.append(f"EXISTS (SELECT 1 FROM metric_last m WHERE {cond})")
        condition = " WHERE " + " AND ".join(where)
        total = int(self._db.read("SELECT COUNT(*) FROM runs r" + condition, params)[0][0])
        direction = "DESC" if desc else "ASC"
        join, join_params, order_params = "", [], []
        if sort == "metric" and sort_key is not None:
            join = " LEFT JOIN metric_last s ON s.run_pk=r.pk AND s.name=?"
            join_params = [sort_key]
            order = f"(s.value IS NULL), (s.num IS NULL), s.num {direction}, s.value {direction}"
        elif sort == "tag" and sort_key is not None:
            join = " LEFT JOIN tags s ON s.run_pk=r.pk AND s.key=?"
            join_params = [sort_key]
            order = f"(s.value IS NULL), s.value {direction}"
        elif sort == "duration":
            order = f"(r.start_time IS NULL), (COALESCE(r.end_time, ?) - r.start_time) {direction}"
            order_params = [time.time() if now is None else now]
        elif sort in ("created", "status", "display_name"):
            order = f"r.{sort} {direction}"
        else:
            order = f"r.number {direction}"
        sql = _SELECT + join + condition + f" ORDER BY {order}, r.pk {direction} LIMIT ? OFFSET ?"
        rows = self._db.read(sql, [*join_params, *params, *order_params, limit, offset])
        return total, [_record(r) for r in rows]

    def tag_keys(self, experiment_pk: int) -> list[str]:
        """Every tag key used by the experiment's top-level runs, sorted."""
        return [k for (k,) in self._db.read(
            "SELECT DISTINCT t.key FROM tags t JOIN runs r ON r.pk=t.run_pk "
            "WHERE r.experiment_pk=? AND r.parent_pk IS NULL ORDER BY t.key", (experiment_pk,))]

    def status_counts(self) -> dict[int, dict[str, int]]:
        """``{experiment_pk: {status: number of top-level runs}}`` for every experiment."""
        result: dict[int, dict[str, int]] = {}
        for exp_pk, status, count in self._db.read(
                "SELECT experiment_pk, status, COUNT(*) FROM runs WHERE parent_pk IS NULL "
                "GROUP BY experiment_pk, status"):
            result.setdefault(exp_pk, {})[status] = int(count)
        return result

    def count(self, experiment_pk: int | None = None, *, top_level: bool = False) -> int:
        """How many runs (of one experiment, optionally top-level only) there are."""
        where, params = [], []
        if experiment_pk is not None:
            where.append("experiment_pk=?")
            params.append(experiment_pk)
        if top_level:
            where.append("parent_pk IS NULL")
        sql = "SELECT COUNT(*) FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        return int(self._db.read(sql, params)[0][0])

    def unfinished(self, pks: Iterable[int] | None = None) -> list[RunRecord]:
        """Runs not yet terminal (all of them, or among ``pks``)."""
        sql = _SELECT + " WHERE r.status NOT IN (?,?,?)"
        params: list[Any] = list(TERMINAL)
        if pks is not None:
            pks = list(pks)
            if not pks:
                return []
            sql += f" AND r.pk IN ({','.join('?' * len(pks))})"
            params += pks
        return [_record(r) for r in self._db.read(sql, params)]

    # -- changing ------------------------------------------------------------------------
    def update(self, pk: int, *, only_if_status: Iterable[str] | None = None,
               **fields: Any) -> bool:
        """Change some columns of a run in one transaction; return whether it changed.

        ``only_if_status`` makes the change conditional on the stored status, so two
        processes cannot both finish a run. ``error`` and ``definition`` are dicts.
        """
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"RunRepo.update: unknown fields {sorted(unknown)}")
        if not fields:
            return False
        values = [(_encode(v) if k in ("error", "definition") else v) for k, v in fields.items()]
        sql = "UPDATE runs SET " + ", ".join(f"{k}=?" for k in fields) + " WHERE pk=?"
        params = [*values, pk]
        if only_if_status is not None:
            statuses = list(only_if_status)
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            params += statuses
        with self._db.write() as conn:
            return conn.execute(sql, params).rowcount > 0

    def finish(self, pk: int, status: str, *, error: dict[str, Any] | None = None,
               now: float | None = None) -> bool:
        """Move a run that is not terminal yet to ``status`` (terminal); False if it already was."""
        now = time.time() if now is None else now
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE runs SET status=?, end_time=?, error=?, heartbeat=? "
                "WHERE pk=? AND status NOT IN (?,?,?)",
                (status, now, _encode(error), now, pk, *TERMINAL))
            return cur.rowcount > 0

    def heartbeat(self, pks: Iterable[int], now: float | None = None) -> None:
        """Record that the runs ``pks`` are alive."""
        now = time.time() if now is None else now
        rows = [(now, pk) for pk in pks]
        if rows:
            with self._db.write() as conn:
                conn.executemany("UPDATE runs SET heartbeat=? WHERE pk=?", rows)

    # -- tags and properties ---------------------------------------------------------------
    def set_tags(self, pk: int, tags: dict[str, str | None]) -> None:
        """Set (add or overwrite) tags in one transaction."""
        with self._db.write() as conn:
            conn.executemany("INSERT OR REPLACE INTO tags(run_pk, key, value) VALUES (?,?,?)",
                             [(pk, k, v) for k, v in tags.items()])

    def remove_tags(self, pk: int, keys: Iterable[str]) -> None:
        """Remove tags by key (missing keys are ignored)."""
        with self._db.write() as conn:
            conn.executemany("DELETE FROM tags WHERE run_pk=? AND key=?", [(pk, k) for k in keys])

    def tags(self, pk: int) -> dict[str, str | None]:
        """The run's tags, in the order they were first set."""
        return dict(self._db.read("SELECT key, value FROM tags WHERE run_pk=? ORDER BY rowid",
                                  (pk,)))

    def tags_of(self, pks: Iterable[int]) -> dict[int, dict[str, str | None]]:
        """The tags of several runs at once: ``{pk: {key: value}}``."""
        pks = list(pks)
        result: dict[int, dict[str, str | None]] = {pk: {} for pk in pks}
        for start in range(0, len(pks), 500):
            chunk = pks[start:start + 500]
            for run_pk, key, value in self._db.read(
                    f"SELECT run_pk, key, value FROM tags WHERE run_pk IN "
                    f"({','.join('?' * len(chunk))}) ORDER BY rowid", chunk):
                result[run_pk][key] = value
        return result

    def add_properties(self, pk: int, properties: dict[str, str | None]) -> None:
        """Add properties; an existing key may not get another value (one transaction)."""
        with self._db.write() as conn:
            existing = dict(conn.execute("SELECT key, value FROM properties WHERE run_pk=?",
                                         (pk,)).fetchall())
            for key, value in properties.items():
                if key in existing and existing[key] != value:
                    raise UserErrorException(
                        f"プロパティ {key!r} はすでに {existing[key]!r} です。プロパティは変更できません"
                        "(immutable)。変更したい情報は tag / set_tags で記録してください。"
                    )
            conn.executemany("INSERT OR IGNORE INTO properties(run_pk, key, value) VALUES (?,?,?)",
                             [(pk, k, v) for k, v in properties.items()])

    def properties(self, pk: int) -> dict[str, str | None]:
        """The run's properties."""
        return dict(self._db.read(
            "SELECT key, value FROM properties WHERE run_pk=? ORDER BY rowid", (pk,)))
