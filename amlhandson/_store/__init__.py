"""The store of one workspace: the only code in amlhandson that speaks SQL.

One workspace is one folder (see :mod:`amlhandson._paths`); its ``workspace.db``
(SQLite, WAL) holds experiments, runs, tags, properties, metrics, models and
services. Entities (``Run``, ``Model``, ``Webservice`` ...), the CLI, the magics
and the widgets call the operations below and get typed records back
(:mod:`amlhandson._store.records`); none of them sees SQL or a row.

=================  ============================================================
``store.experiments``  :class:`~amlhandson._store.runs.ExperimentRepo`
``store.runs``         :class:`~amlhandson._store.runs.RunRepo` (tags, properties too)
``store.metrics``      :class:`~amlhandson._store.metrics.MetricRepo`
``store.models``       :class:`~amlhandson._store.models.ModelRepo`
``store.services``     :class:`~amlhandson._store.services.ServiceRepo`
``store.compute``      :class:`~amlhandson._store.compute.ComputeRepo` (compute targets)
``store.queue``        :class:`~amlhandson._store.queue.MetricQueue` (``run.log``'s buffer)
``store.datastores``   :class:`~amlhandson._store.datastores.DatastoreRepo`
``store.datasets``     :class:`~amlhandson._store.datasets.DatasetRepo` (and what runs read)
``store.pipelines``    :class:`~amlhandson._store.pipelines.PipelineRepo` (and step results)
``store.schedules``    :class:`~amlhandson._store.schedules.ScheduleRepo`
=================  ============================================================

Each group of tables is a :class:`~amlhandson._store._db.Component` with its own
migration list; :data:`COMPONENTS` lists them. A new persistent concept adds a
module here with its component and repository, and one line to each list below.

Example:
    >>> import tempfile, pathlib
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()))
    >>> store is Store.open(store.root)
    True
    >>> store.versions()["core"] == CORE.version
    True
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..exceptions import StoreCorruptError
from . import datasets as _datasets
from . import datastores as _datastores
from . import pipelines as _pipelines
from . import schedules as _schedules
from ._db import Component, Database
from ._schema import CORE
from .compute import COMPONENT as COMPUTE
from .compute import ComputeRepo
from .metrics import EXTEND_KINDS, IMAGE, LIST, ROW, SCALAR, TABLE, MetricRepo
from .models import ModelRepo
from .queue import FLUSH_INTERVAL, HEARTBEAT_INTERVAL, MetricQueue
from .runs import TERMINAL, ExperimentRepo, RunRepo
from .services import ServiceRepo

__all__ = ["Store", "COMPONENTS", "CORE", "Component", "FLUSH_INTERVAL", "HEARTBEAT_INTERVAL",
           "TERMINAL", "SCALAR", "LIST", "ROW", "TABLE", "IMAGE", "EXTEND_KINDS", "DB_FILE"]

#: Every component's tables, created or migrated when a workspace is opened.
COMPONENTS: tuple[Component, ...] = (CORE, _datastores.COMPONENT, _datasets.COMPONENT,
                                     _pipelines.COMPONENT, _schedules.COMPONENT, COMPUTE)
#: The database file inside a workspace folder.
DB_FILE = "workspace.db"


class Store:
    """The database and file area of one workspace folder (one per folder and process).

    Example:
        >>> store.runs.count()  # doctest: +SKIP
        0
    """

    _instances: dict[Path, Store] = {}
    _instances_lock = threading.Lock()

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.db_path = self.root / DB_FILE
        self.db = Database(self.db_path, COMPONENTS)
        self.experiments = ExperimentRepo(self.db)
        self.runs = RunRepo(self.db)
        self.metrics = MetricRepo(self.db)
        self.models = ModelRepo(self.db)
        self.services = ServiceRepo(self.db)
        self.datastores = _datastores.DatastoreRepo(self.db)
        self.datasets = _datasets.DatasetRepo(self.db)
        self.pipelines = _pipelines.PipelineRepo(self.db)
        self.schedules = _schedules.ScheduleRepo(self.db)
        self.compute = ComputeRepo(self.db)
        self.queue = MetricQueue(self.metrics.write, name=f"-{self.root.name}")

    @classmethod
    def open(cls, root: Path) -> Store:
        """The shared store of the workspace folder ``root`` in this process.

        Refuses a workspace whose database vanished while its run folders remain
        (opening it would show an empty workspace).
        """
        key = Path(root).resolve()
        with cls._instances_lock:
            store = cls._instances.get(key)
            if store is None:
                db = key / DB_FILE
                if not db.exists() and any((key / "experiments").glob("*/*")):
                    raise StoreCorruptError(
                        f"ワークスペース {key} のデータベース {DB_FILE} がありません (Run の"
                        "フォルダーは残っています)。空のワークスペースとして開くと記録が失われた"
                        f"ように見えるため、開くのをやめました。{key / 'backups'} にバックアップが"
                        "あれば、それを workspace.db としてコピーしてください。"
                    )
                store = cls(key)
                cls._instances[key] = store
            return store

    @classmethod
    def forget(cls, root: Path) -> None:
        """Close and drop the shared store of ``root`` (before deleting the folder)."""
        with cls._instances_lock:
            store = cls._instances.pop(Path(root).resolve(), None)
        if store is not None:
            store.close()

    @classmethod
    def all_open(cls) -> list[Store]:
        """Every store opened by this process."""
        with cls._instances_lock:
            return list(cls._instances.values())

    def versions(self) -> dict[str, int]:
        """Schema version per component (opens, and migrates, the database)."""
        return self.db.versions()

    def flush(self) -> int:
        """Write every queued metric value now; return how many were written."""
        return self.queue.flush()

    def close(self) -> None:
        """Write what is queued, stop the background thread, close the connection."""
        try:
            self.queue.stop()
        finally:
            self.db.close()

    def check(self) -> list[str]:
        """Problems found in the database file (empty when healthy)."""
        return self.db.check()

    def repair(self) -> tuple[Path, dict[str, int]]:
        """Move every readable row into a fresh file; return the damaged file's new name."""
        self.queue.stop()
        return self.db.repair()
