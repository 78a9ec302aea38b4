"""Deployed web services: their spec, state and process, changed in single transactions.

Example:
    >>> import tempfile, pathlib
    >>> from amlhandson._store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> store.services.create("svc", spec={"models": ["m:1"]}, state="deploying").state
    'deploying'
    >>> store.services.update("svc", state="running", spec={"port": 5001}).spec
    {'models': ['m:1'], 'port': 5001}
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..exceptions import WebserviceException
from ._db import Database
from .records import ServiceRecord

__all__ = ["ServiceRepo"]

_COLUMNS = "name, spec, state, pid, host, port, created, updated"
_PLAIN = frozenset({"state", "pid", "host", "port"})


def _record(row: tuple) -> ServiceRecord:
    values = list(row)
    try:
        values[1] = json.loads(values[1]) if values[1] else {}
    except ValueError:
        values[1] = {}
    return ServiceRecord(*values)


class ServiceRepo:
    """The web services of one workspace.

    Example:
        >>> [s.name for s in store.services.list()]  # doctest: +SKIP
        ['svc']
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, *, spec: dict[str, Any], state: str,
               pid: int | None = None, host: str | None = None,
               port: int | None = None) -> ServiceRecord:
        """Insert a service; raises :class:`WebserviceException` if the name is taken."""
        now = time.time()
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM services WHERE name=?", (name,)).fetchone():
                raise WebserviceException(
                    f"Error, there is already a service with name {name} found in workspace. "
                    "同じ名前のサービスがすでにあります (別のプロセスが同時にデプロイしたかも"
                    "しれません)。overwrite=True を付けるか、別の名前にしてください。"
                )
            conn.execute(f"INSERT INTO services({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                         (name, json.dumps(spec, ensure_ascii=False), state, pid, host, port,
                          now, now))
            row = conn.execute(f"SELECT {_COLUMNS} FROM services WHERE name=?",  # noqa: S608
                               (name,)).fetchone()
        return _record(row)

    def get(self, name: str) -> ServiceRecord | None:
        """The service called ``name``, or ``None``."""
        rows = self._db.read(f"SELECT {_COLUMNS} FROM services WHERE name=?", (name,))  # noqa: S608
        return _record(rows[0]) if rows else None

    def list(self) -> list[ServiceRecord]:
        """Every service, by name."""
        return [_record(r) for r in
                self._db.read(f"SELECT {_COLUMNS} FROM services ORDER BY name")]  # noqa: S608

    def names(self) -> list[str]:
        """Every service name."""
        return [r[0] for r in self._db.read("SELECT name FROM services ORDER BY name")]

    def update(self, name: str, *, spec: dict[str, Any] | None = None,
               nested: dict[str, dict[str, Any]] | None = None,
               drop: tuple[str, ...] = (), expect_state: str | None = None,
               **fields: Any) -> ServiceRecord | None:
        """Change a service in one transaction and return it as stored (``None`` if gone).

        ``spec`` is *merged* into the stored spec and ``drop`` removes keys, so
        concurrent updates of different keys do not overwrite each other;
        ``nested`` merges one level deeper (``{"deployment": {"tags": ...}}``
        changes only ``tags`` inside ``deployment``).
        ``expect_state`` makes the change conditional on the stored state (the
        record comes back unchanged otherwise).
        """
        unknown = set(fields) - _PLAIN
        if unknown:
            raise ValueError(f"ServiceRepo.update: unknown fields {sorted(unknown)}")
        with self._db.write() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM services WHERE name=?",  # noqa: S608
                               (name,)).fetchone()
            if row is None:
                return None
            current = _record(row)
            if expect_state is not None and current.state != expect_state:
                return current
            merged = {**current.spec, **(spec or {})}
            for key, inner in (nested or {}).items():
                base = merged.get(key)
                merged[key] = {**(base if isinstance(base, dict) else {}), **inner}
            for key in drop:
                merged.pop(key, None)
            sets = ", ".join(f"{k}=?" for k in fields)
            conn.execute(f"UPDATE services SET spec=?, updated=?{', ' + sets if sets else ''} "  # noqa: S608
                         "WHERE name=?",
                         (json.dumps(merged, ensure_ascii=False), time.time(), *fields.values(),
                          name))
            row = conn.execute(f"SELECT {_COLUMNS} FROM services WHERE name=?",  # noqa: S608
                               (name,)).fetchone()
        return _record(row)

    def delete(self, name: str) -> bool:
        """Remove a service's record; False if there was none."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM services WHERE name=?", (name,)).rowcount > 0

    def using_model(self, model_id: str) -> list[str]:
        """Names of the services whose spec lists ``model_id`` (``name:version``)."""
        return [s.name for s in self.list() if model_id in s.spec.get("models", [])]
