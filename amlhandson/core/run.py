"""``Run``: one execution of training code, with metrics, tags, properties and files.

Semantics follow Azure ML v1 (see docs/architecture.md for where we go
further: recorded offline runs, typed round trips, ``complete()`` uploading
``outputs/``, dead processes detected).

Example:
    >>> from amlhandson.core import Workspace, Experiment
    >>> ws = Workspace.create("docs-ws", resource_group="docs-aml", exist_ok=True)  # doctest: +SKIP
    >>> with Experiment(ws, "my-first-experiment").start_logging() as run:  # doctest: +SKIP
    ...     run.log("trial", 1)
    >>> run.get_metrics()  # doctest: +SKIP
    {'trial': 1}
"""

from __future__ import annotations

import atexit
import io
import json
import os
import posixpath
import shutil
import sys
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _ipython
from ..exceptions import (
    ActivityFailedException,
    ArtifactNotFoundError,
    ArtifactPathError,
    MetricError,
    RunNotFoundError,
    RunStateError,
    UserErrorException,
)
from ._metrics import (
    IMAGE,
    KIND_CALL,
    LIMITS,
    LIST,
    ROW,
    SCALAR,
    TABLE,
    check_name,
    encode_scalar,
    merge_rows,
    scalar_kind,
)
from ._status import HOST, RunStatus, process_started, reconcile

if TYPE_CHECKING:
    from .experiment import Experiment

__all__ = ["Run", "RunStatus", "LIMITS"]

_time = time.time

# Metric kinds (column ``kind``).
_RUN_COLUMNS = (
    "pk, run_id, experiment_pk, parent_pk, number, name, display_name, type, target, status, "
    "created, start_time, end_time, error, definition, outputs_dir, pid, host, proc_started, "
    "heartbeat"
)
_FIELDS = [c.strip() for c in _RUN_COLUMNS.split(",")]


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}Z"


# -- runs started by cells, to close the ones a re-run leaves behind --------------------------
_cell_runs: dict[str, list[tuple[int, Run]]] = {}


def _note_cell_run(run: Run) -> None:
    cell = _ipython.current_cell()
    if cell is None:
        return
    key, count = cell
    kept = []
    for other_count, other in _cell_runs.get(key, []):
        if other_count == count:
            kept.append((other_count, other))
            continue
        if other._row["status"] not in RunStatus.TERMINAL and other._pk in other._store.active:
            other._finish(
                RunStatus.CANCELED,
                error={"message": "同じセルが再実行されたため、完了していなかった Run を閉じました。",
                       "code": "CellRerun"},
            )
            print(f"前回このセルで開始した Run {other.id} は完了していなかったので "
                  f"Canceled にしました (記録済みのメトリックは残っています)。")
    kept.append((count, run))
    _cell_runs[key] = kept


class Run:
    """One run of an experiment.

    ``Run(experiment, run_id)`` re-attaches to an existing run (from any
    process); new runs come from :meth:`Experiment.start_logging`,
    :meth:`child_run` or :meth:`get_context`.

    Example:
        >>> run = exp.start_logging()  # doctest: +SKIP
        >>> run.log("accuracy", 0.92); run.complete()  # doctest: +SKIP
    """

    _context_run: Run | None = None

    def __init__(self, experiment: Experiment, run_id: str, outputs: str | None = None,
                 **_: Any) -> None:
        rows = experiment.workspace._store.query(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id=?", (run_id,)
        )
        if not rows:
            raise RunNotFoundError(
                f"Run {run_id!r} は experiment {experiment.name!r} にありません。"
                f"experiment.get_runs() で存在する Run を確認してください。"
            )
        self._init(experiment, dict(zip(_FIELDS, rows[0])))
        if self._row["experiment_pk"] != experiment._pk:
            raise RunNotFoundError(
                f"Run {run_id!r} は experiment {experiment.name!r} ではなく別の experiment の Run です。"
            )

    def _init(self, experiment: Experiment, row: dict[str, Any]) -> None:
        self._experiment = experiment
        self._store = experiment.workspace._store
        self._row = row
        self._pk: int = row["pk"]
        self._kinds: dict[str, int] = {}
        self._queue = self._store.queue
        self._tags_cache: dict[str, Any] | None = None
        #: True for the process's Run.get_context() run: completed (or failed) at exit.
        self._context = False

    @classmethod
    def _from_row(cls, experiment: Experiment, row: tuple) -> Run:
        run = cls.__new__(cls)
        run._init(experiment, dict(zip(_FIELDS, row)))
        return run

    # -- creation ------------------------------------------------------------------------
    @classmethod
    def _create(
        cls,
        experiment: Experiment,
        *,
        name: str | None = None,
        run_id: str | None = None,
        parent: Run | None = None,
        outputs: str | os.PathLike[str] | None = None,
        run_type: str | None = None,
        target: str = "sdk",
        status: str = RunStatus.RUNNING,
        definition: dict[str, Any] | None = None,
        id_prefix: str = "",
    ) -> Run:
        run_id = run_id if run_id is not None else f"{id_prefix}{uuid.uuid4()}"
        if not isinstance(run_id, str) or not run_id or any(
            ch in run_id for ch in '/\\:*?"<>|\0 '
        ) or run_id in (".", ".."):
            raise UserErrorException(
                f"run_id {run_id!r} は使えません。英数字と '-' '_' '.' だけの文字列にしてください。"
            )
        store = experiment.workspace._store
        outputs_dir = str(Path(outputs if outputs is not None else "outputs").resolve())
        now = _time()
        pid = os.getpid()
        started = process_started(pid)
        with store.transaction() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone():
                raise UserErrorException(
                    f"run_id {run_id!r} はすでに使われています。別の run_id にするか、"
                    f"既存の Run に戻るには Run(experiment, {run_id!r}) を使ってください。"
                )
            (number,) = conn.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE experiment_pk=?",
                (experiment._pk,),
            ).fetchone()
            if name is None:
                name = f"run_{run_id}"
            if parent is not None:
                name = f"{parent.name}>{name}"
            cur = conn.execute(
                "INSERT INTO runs(run_id, experiment_pk, parent_pk, number, name, display_name, "
                "type, target, status, created, start_time, definition, outputs_dir, pid, host, "
                "proc_started, heartbeat) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, experiment._pk, parent._pk if parent else None, number, name, name,
                 run_type, target, status, now,
                 now if status == RunStatus.RUNNING else None,
                 json.dumps(definition) if definition else None, outputs_dir, pid, HOST,
                 started, now),
            )
            pk = cur.lastrowid
            row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE pk=?", (pk,)).fetchone()
        run = cls._from_row(experiment, row)
        store.active[pk] = run
        store.ensure_flusher()
        if outputs is not None or status == RunStatus.RUNNING:
            Path(outputs_dir).mkdir(parents=True, exist_ok=True)
        return run

    @classmethod
    def get_context(cls, allow_offline: bool = True, **_: Any) -> Run:
        """The run this code belongs to.

        Inside a script submitted with ``experiment.submit`` it is that run. Anywhere
        else it is a local run that really records (v1 only printed), in the
        workspace of ``config.json`` (or a ``local-ws`` workspace when there is
        none) and an experiment named after the script. The same object is
        returned for the whole process; it completes when the process exits.

        Example:
            >>> run = Run.get_context()  # doctest: +SKIP
            >>> run.log("accuracy", 0.9)  # doctest: +SKIP
        """
        if cls._context_run is not None:
            return cls._context_run
        from .experiment import Experiment
        from .workspace import Workspace

        run_id = os.environ.get("AMLHANDSON_RUN_ID")
        if run_id:  # a script started for an existing run (e.g. by experiment.submit)
            group, _, name = os.environ.get("AMLHANDSON_WORKSPACE", "").partition("/")
            ws = Workspace(None, group, name)
            exp = Experiment(ws, os.environ.get("AMLHANDSON_EXPERIMENT", "default"))
            run = cls(exp, run_id)
            run._context = True
            run._store.active[run._pk] = run
            run._store.ensure_flusher()
            cls._context_run = run
            return run
        if not allow_offline:
            raise RunStateError(
                "Run.get_context(allow_offline=False): experiment.submit で実行されたスクリプトの"
                "外なので Run がありません。"
            )
        import contextlib

        with contextlib.redirect_stdout(io.StringIO()):
            try:
                ws = Workspace.from_config()
            except FileNotFoundError:
                ws = Workspace.create("local-ws", resource_group="local", exist_ok=True,
                                      show_output=False)
        exp_name = os.environ.get("AMLHANDSON_EXPERIMENT")
        if not exp_name:
            stem = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else ""
            exp_name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem)
            if not exp_name or not exp_name[0].isalnum() or "ipykernel" in exp_name:
                exp_name = "offline-runs"
        run = cls._create(Experiment(ws, exp_name), id_prefix="OfflineRun_", target="local")
        run._context = True
        cls._context_run = run
        return run

    # -- identity ----------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The run id (a uuid for ``start_logging`` runs)."""
        return self._row["run_id"]

    @property
    def number(self) -> int:
        """1, 2, 3, ... per experiment, in order of creation."""
        return self._row["number"]

    @property
    def name(self) -> str:
        """The run's name (``run_<id>`` unless given; children ``<parent>><child>``)."""
        return self._row["name"]

    @property
    def display_name(self) -> str:
        """The name shown in lists; can be changed."""
        return self._row["display_name"]

    @display_name.setter
    def display_name(self, value: str) -> None:
        self._store.execute("UPDATE runs SET display_name=? WHERE pk=?", (str(value), self._pk))
        self._row["display_name"] = str(value)

    @property
    def type(self) -> str | None:
        """``None`` for ``start_logging`` runs, like v1."""
        return self._row["type"]

    @property
    def experiment(self) -> Experiment:
        """The experiment this run belongs to."""
        return self._experiment

    @property
    def parent(self) -> Run | None:
        """The parent run, or ``None``."""
        if self._row["parent_pk"] is None:
            return None
        rows = self._store.query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE pk=?",
                                 (self._row["parent_pk"],))
        return Run._from_row(self._experiment, rows[0])

    @property
    def status(self) -> str:
        """The current status (same as :meth:`get_status`)."""
        return self.get_status()

    @property
    def tags(self) -> dict[str, Any]:
        """The run's tags (cached; :meth:`get_tags` asks the store)."""
        if self._tags_cache is None:
            self._tags_cache = self.get_tags()
        return dict(self._tags_cache)

    @property
    def properties(self) -> dict[str, Any]:
        """The run's properties."""
        return self.get_properties()

    @property
    def record(self) -> Any:
        """The run's stored record (read-only view: times, status, pid ...)."""
        import types

        return types.SimpleNamespace(**self._row)

    @property
    def local_path(self) -> Path:
        """The folder on this machine that holds the run's files."""
        return self._folder

    @classmethod
    def find(cls, workspace: Any, run_id: str) -> Run:
        """The run of ``workspace`` whose id is ``run_id`` or starts with it (any experiment)."""
        from .experiment import Experiment

        rows = workspace._store.query(
            "SELECT e.name, r.run_id FROM runs r JOIN experiments e ON e.pk = r.experiment_pk "
            "WHERE r.run_id = ? OR r.run_id LIKE ?", (run_id, run_id + "%"))
        exact = [row for row in rows if row[1] == run_id]
        rows = exact or rows
        if len(rows) > 1:
            raise RunNotFoundError(f"{run_id!r} で始まる Run が複数あります。もっと長く指定してください。")
        if not rows:
            raise RunNotFoundError(f"Run {run_id!r} はワークスペース {workspace.name!r} にありません。"
                                   "`amlhandson runs list` で確認してください。")
        exp_name, full_id = rows[0]
        return cls(Experiment(workspace, exp_name), full_id)

    @property
    def _folder(self) -> Path:
        return self._experiment.workspace._root / "experiments" / self._experiment.name / self.id

    def __repr__(self) -> str:
        return (f"Run(Experiment: {self._experiment.name},\nId: {self.id},\n"
                f"Type: {self.type},\nStatus: {self.get_status()})")

    def _repr_html_(self) -> str:
        import html

        cells = [self._experiment.name, self.id, str(self.type), self.get_status(),
                 f"<code>amlhandson runs show {self.id}</code>",
                 '<a href="https://learn.microsoft.com/python/api/azureml-core/azureml.core.run.run'
                 '?view=azure-ml-py" target="_blank">Link to Documentation</a>']
        head = "".join(f"<th>{h}</th>" for h in
                       ("Experiment", "Id", "Type", "Status", "Details Page", "Docs Page"))
        body = "".join(f"<td>{c if c.startswith('<') else html.escape(c)}</td>" for c in cells)
        return f"<table style='width:100%'><tr>{head}</tr><tr>{body}</tr></table>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other._pk == self._pk and other._store is self._store

    def __hash__(self) -> int:
        return hash((self._store.root, self._pk))

    # -- status ------------------------------------------------------------------------------
    def _refresh(self) -> dict[str, Any]:
        rows = self._store.query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE pk=?", (self._pk,))
        self._row = dict(zip(_FIELDS, rows[0]))
        self._row["status"] = reconcile(self._store, self._row)
        return self._row

    def get_status(self) -> str:
        """The run's status, read from the store (a dead owner process shows as Failed).

        Example:
            >>> run.get_status()  # doctest: +SKIP
            'Running'
        """
        if self._row["status"] in RunStatus.TERMINAL:
            return self._row["status"]
        return self._refresh()["status"]

    def get_details(self) -> dict[str, Any]:
        """Run details with v1's keys (``runId``, ``status``, ``startTimeUtc`` ...)."""
        self.flush()
        row = self._refresh()
        details: dict[str, Any] = {
            "runId": row["run_id"],
            "displayName": row["display_name"],
            "target": row["target"],
            "status": row["status"],
            "startTimeUtc": _iso(row["start_time"]),
            "properties": self.get_properties(),
            "tags": self.get_tags(),
            "inputDatasets": [],
            "outputDatasets": [],
            "logFiles": {n: str(self._folder / n) for n in self.get_file_names()
                         if n.startswith(("logs/", "azureml-logs/"))},
            "submittedBy": os.environ.get("USER") or os.environ.get("USERNAME") or "local user",
        }
        if row["end_time"] is not None:
            details["endTimeUtc"] = _iso(row["end_time"])
        if row["error"]:
            details["error"] = {"error": json.loads(row["error"])}
        if row["definition"]:
            details["runDefinition"] = json.loads(row["definition"])
        return details

    def get_portal_url(self) -> str:
        """A URL for the run's files on this machine (v1: the Azure portal page)."""
        return self._folder.as_uri()

    # -- lifecycle ---------------------------------------------------------------------------
    def _finish(self, status: str, error: dict[str, Any] | None = None,
                upload_outputs: bool = True) -> None:
        current = self.get_status()
        if current in RunStatus.TERMINAL:
            self._store.active.pop(self._pk, None)
            if current == status:
                return
            raise RunStateError(
                f"Run {self.id} はすでに {current} で終わっているので {status} にはできません。"
                "新しい Run を始めるには experiment.start_logging() を使ってください。"
            )
        try:
            if upload_outputs:
                self._upload_outputs()
        finally:
            self.flush()
            now = _time()
            with self._store.transaction() as conn:
                conn.execute(
                    "UPDATE runs SET status=?, end_time=?, error=?, heartbeat=? WHERE pk=?",
                    (status, now, json.dumps(error, default=str) if error else None, now,
                     self._pk),
                )
            self._row.update(status=status, end_time=now,
                             error=json.dumps(error, default=str) if error else None)
            self._store.active.pop(self._pk, None)

    def _upload_outputs(self) -> None:
        folder = self._row.get("outputs_dir")
        if folder and Path(folder).is_dir():
            self.upload_folder("outputs", folder)

    def complete(self, _set_status: bool = True) -> None:
        """Flush metrics, upload the ``outputs/`` folder and mark the run Completed.

        Calling it again on a completed run does nothing.
        """
        self._finish(RunStatus.COMPLETED)

    def fail(self, error_details: Any = None, error_code: str | None = None,
             _set_status: bool = True) -> None:
        """Mark the run Failed, storing the error (an exception or a message)."""
        error: dict[str, Any] = {"message": str(error_details) if error_details is not None
                                 else "Run failed", "code": error_code or "UserError"}
        if isinstance(error_details, BaseException):
            error["type"] = type(error_details).__name__
            error["traceback"] = "".join(traceback.format_exception(
                type(error_details), error_details, error_details.__traceback__))
        self._finish(RunStatus.FAILED, error=error)

    def cancel(self) -> None:
        """Mark the run Canceled."""
        self._finish(RunStatus.CANCELED, upload_outputs=False)

    def flush(self, timeout_seconds: int = 300) -> None:
        """Write every metric logged so far to the store now."""
        self._store.flush()

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        """Block until the run ends; return its details. Raises on Failed by default."""
        if self._pk in self._store.active and self._row.get("pid") == os.getpid():
            raise RunStateError(
                f"Run {self.id} はこのプロセスで実行中なので、待っても終わりません。"
                "run.complete() を呼んで完了させてください。"
            )
        while self.get_status() not in RunStatus.TERMINAL:
            time.sleep(0.2)
        details = self.get_details()
        if raise_on_error and details["status"] == RunStatus.FAILED:
            raise ActivityFailedException(
                f"Run {self.id} は Failed で終わりました: "
                f"{details.get('error', {}).get('error', {}).get('message')}"
            )
        return details

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or (isinstance(exc, SystemExit) and exc.code in (0, None)):
            self.complete()
            return isinstance(exc, SystemExit)
        if isinstance(exc, KeyboardInterrupt):
            self.cancel()
            return False
        self.fail(error_details=exc)
        return False

    # -- children ------------------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None,
                  outputs: str | None = None) -> Run:
        """Create and start a child run (usable as a context manager)."""
        return Run._create(self._experiment, name=name, run_id=run_id, parent=self,
                           outputs=outputs)

    def create_children(self, count: int | None = None, tag_key: str | None = None,
                        tag_values: list[str] | None = None) -> list[Run]:
        """Create up to 100 children at once, by ``count`` or one per tag value."""
        if (count is None) == (tag_key is None):
            raise UserErrorException(
                "create_children: count か tag_key + tag_values のどちらか一方だけを指定してください。"
            )
        if tag_key is not None:
            values = list(tag_values or [])
            if not values:
                raise UserErrorException("create_children: tag_values が空です。")
            tags = [{tag_key: v} for v in values]
        else:
            if not isinstance(count, int) or count < 1:
                raise UserErrorException("create_children: count は 1 以上の整数にしてください。")
            tags = [{"azureml.batch_child_number": str(i)} for i in range(count)]
        if len(tags) > 100:
            raise UserErrorException(
                f"create_children: 一度に作れる子 Run は 100 個までです ({len(tags)} 個が指定されました)。"
            )
        children = []
        for tag in tags:
            child = Run._create(self._experiment, parent=self)
            child.set_tags(tag)
            children.append(child)
        return children

    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None,
                     type: str | None = None, status: str | None = None,
                     _rehydrate_runs: bool = True) -> Iterator[Run]:
        """The child runs, oldest first (``recursive=True`` includes grandchildren)."""
        store = self._store
        rows = store.query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE parent_pk=? ORDER BY pk",
                           (self._pk,))
        for row in rows:
            child = Run._from_row(self._experiment, row)
            child._row["status"] = reconcile(store, child._row)
            if _matches(child, tags, properties, type, status):
                yield child
            if recursive:
                yield from child.get_children(True, tags, properties, type, status)

    # -- tags and properties ---------------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        """Set one tag (``value`` may be omitted: the tag then holds ``None``)."""
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set several tags at once (tags are mutable)."""
        if not isinstance(tags, dict):
            raise UserErrorException("set_tags には {'キー': '値'} の dict を渡してください。")
        rows = [(self._pk, _tag_key(k), _tag_value(k, v)) for k, v in tags.items()]
        with self._store.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO tags(run_pk, key, value) VALUES (?,?,?)",
                             rows)
        self._tags_cache = None

    def get_tags(self) -> dict[str, Any]:
        """The run's tags as stored."""
        return dict(self._store.query("SELECT key, value FROM tags WHERE run_pk=? ORDER BY rowid",
                                      (self._pk,)))

    def remove_tags(self, tags: list[str]) -> None:
        """Remove tags by key (missing keys are ignored)."""
        if isinstance(tags, str):
            tags = [tags]
        with self._store.transaction() as conn:
            conn.executemany("DELETE FROM tags WHERE run_pk=? AND key=?",
                             [(self._pk, k) for k in tags])
        self._tags_cache = None

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add properties; they are immutable, so a key cannot get another value."""
        if not isinstance(properties, dict):
            raise UserErrorException("add_properties には {'キー': '値'} の dict を渡してください。")
        new = {_tag_key(k): _tag_value(k, v) for k, v in properties.items()}
        with self._store.transaction() as conn:
            existing = dict(conn.execute("SELECT key, value FROM properties WHERE run_pk=?",
                                         (self._pk,)).fetchall())
            for key, value in new.items():
                if key in existing and existing[key] != value:
                    raise UserErrorException(
                        f"プロパティ {key!r} はすでに {existing[key]!r} です。プロパティは変更できません"
                        "(immutable)。変更したい情報は tag / set_tags で記録してください。"
                    )
            conn.executemany("INSERT OR IGNORE INTO properties(run_pk, key, value) VALUES (?,?,?)",
                             [(self._pk, k, v) for k, v in new.items()])

    def get_properties(self) -> dict[str, Any]:
        """The run's properties, with the system keys v1 adds."""
        props = {"azureml.runsource": "experiment" if self.type is None else str(self.type)}
        props.update(self._store.query(
            "SELECT key, value FROM properties WHERE run_pk=? ORDER BY rowid", (self._pk,)))
        return props

    # -- metrics ---------------------------------------------------------------------------
    def _register(self, name: Any, kind: int, description: str | None) -> None:
        check_name(name, kind)
        call = KIND_CALL[kind]
        known = self._kinds.get(name)
        if known is None:
            with self._store.transaction() as conn:
                conn.execute("INSERT OR IGNORE INTO metric_names(run_pk, name, kind, description)"
                             " VALUES (?,?,?,?)", (self._pk, name, kind, description or None))
                (known,) = conn.execute("SELECT kind FROM metric_names WHERE run_pk=? AND name=?",
                                        (self._pk, name)).fetchone()
            self._kinds[name] = known
        if known != kind:
            raise MetricError(
                f"Conflicting metric types: {name!r} はすでに {KIND_CALL[known]} で記録されているので "
                f"{call} では記録できません。別の名前を使ってください。"
            )

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log one scalar (int, float, str, bool, None, or a numpy scalar).

        Logged k times, ``get_metrics()[name]`` is the value, then a list.

        Example:
            >>> run.log("accuracy", 0.92)  # doctest: +SKIP
        """
        if self._kinds.get(name) != SCALAR:
            self._register(name, SCALAR, description)
        t = type(value)
        if t is not float and t is not int:
            value = encode_scalar(value, name)
        self._queue.append((self._pk, name, SCALAR, value, _time()))

    def log_list(self, name: str, value: Iterable[Any], description: str = "") -> None:
        """Log a list of scalars (any iterable); a later call on the name extends it.

        Example:
            >>> run.log_list("my list", [1, 1, 2, 3, 5, 8])  # doctest: +SKIP
        """
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise MetricError(
                f"run.log_list({name!r}, ...) にはリストなどの繰り返し可能な値を渡してください "
                f"({type(value).__name__} が渡されました)。値 1 つなら run.log を使います。"
            )
        items = list(value)
        if len(items) > LIMITS["list_length"]:
            raise MetricError(f"run.log_list({name!r}, ...): 要素が多すぎます ({len(items):,} 個、"
                              f"上限 {LIMITS['list_length']:,} 個)。ファイルとして保存してください。")
        self._register(name, LIST, description)
        first_kind = None
        clean = []
        for i, item in enumerate(items):
            item = encode_scalar(item, name, "run.log_list")
            kind = scalar_kind(item)
            if kind != "none":
                if first_kind is None:
                    first_kind = (kind, i)
                elif kind != first_kind[0]:
                    raise MetricError(
                        f"Scalars at index {first_kind[1]} and {i} differ in type "
                        f"(run.log_list({name!r}, ...) の要素の型がそろっていません: "
                        f"{type(items[first_kind[1]]).__name__} と {type(items[i]).__name__})。"
                    )
            clean.append(item)
        self._queue.append((self._pk, name, LIST, clean, _time()))

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Log one row of a table; rows with other columns leave ``None`` in the gaps.

        Example:
            >>> run.log_row("k-search", k=3, accuracy=0.95)  # doctest: +SKIP
        """
        if not kwargs:
            raise MetricError(f"run.log_row({name!r}): 列がありません。run.log_row({name!r}, "
                              "x=1, y=2) のように列=値で渡してください。")
        row = {}
        for col, val in kwargs.items():
            if isinstance(val, (list, tuple, dict)) or (
                type(val).__module__ == "numpy" and getattr(val, "ndim", 0) > 0
            ):
                raise MetricError(
                    f"Row metrics cannot contain list values (run.log_row({name!r}, ...) の列 "
                    f"{col!r} にリストが渡されました。1 行に 1 つずつ値を渡してください)。"
                )
            row[col] = encode_scalar(val, name, "run.log_row")
        self._register(name, ROW, description)
        self._queue.append((self._pk, name, ROW, row, _time()))

    def log_table(self, name: str, value: dict[str, list[Any]], description: str = "") -> None:
        """Log a table given as ``{column: [values...]}`` (columns of equal length).

        Example:
            >>> run.log_table("k-search", {"k": [1, 3], "accuracy": [0.96, 0.97]})  # doctest: +SKIP
        """
        if not isinstance(value, dict) or not value:
            raise MetricError(f"run.log_table({name!r}, ...) には {{'列名': [値, ...]}} の dict を"
                              "渡してください。")
        columns: dict[str, list[Any]] = {}
        for col, vals in value.items():
            if isinstance(vals, (str, bytes, dict)) or not hasattr(vals, "__iter__"):
                raise MetricError(f"run.log_table({name!r}, ...): 列 {col!r} の値はリストに"
                                  "してください。")
            columns[str(col)] = [encode_scalar(v, name, "run.log_table") for v in vals]
        lengths = {col: len(vals) for col, vals in columns.items()}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{c}={n}" for c, n in lengths.items())
            raise MetricError(f"run.log_table({name!r}, ...): 列の長さがそろっていません ({detail})。"
                              "すべての列を同じ長さにしてください。")
        if sum(lengths.values()) > LIMITS["table_cells"]:
            raise MetricError(f"run.log_table({name!r}, ...): 表が大きすぎます (上限 "
                              f"{LIMITS['table_cells']:,} セル)。ファイルとして保存してください。")
        self._register(name, TABLE, description)
        self._queue.append((self._pk, name, TABLE, columns, _time()))

    def log_image(self, name: str, path: str | os.PathLike[str] | None = None, plot: Any = None,
                  description: str = "") -> None:
        """Log an image from a file (``path``) or a matplotlib figure / pyplot (``plot``).

        Example:
            >>> run.log_image("digits", plot=fig)  # doctest: +SKIP
        """
        if (path is None) == (plot is None):
            raise MetricError(f"run.log_image({name!r}): path か plot のどちらか一方だけを"
                              "指定してください。")
        self._register(name, IMAGE, description)
        if plot is not None:
            if not hasattr(plot, "savefig"):
                raise MetricError(f"run.log_image({name!r}, plot=...) には matplotlib の Figure か "
                                  "matplotlib.pyplot を渡してください。")
            buf = io.BytesIO()
            plot.savefig(buf, format="png")
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
            artifact = f"{safe}_{int(_time())}.png"
            self.upload_file(artifact, io.BytesIO(buf.getvalue()))
        else:
            src = Path(path)
            if not src.is_file():
                raise ArtifactNotFoundError(f"run.log_image({name!r}, path={str(path)!r}): "
                                            "ファイルがありません。")
            artifact = str(path).replace("\\", "/")
            if Path(artifact).is_absolute() or ".." in artifact.split("/"):
                artifact = src.name
            self.upload_file(artifact, src)
        uri = f"aml://artifactId/ExperimentRun/dcid.{self.id}/{artifact}"
        self._queue.append((self._pk, name, IMAGE, uri, _time()))

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    run_type: str | None = None, populate: bool = False) -> dict[str, Any]:
        """Every metric of the run: ``{name: value or list}``.

        ``recursive=True`` returns ``{run_id: {name: value}}`` for the run and all
        its descendants. ``populate=True`` replaces image references by the PNG
        bytes.

        Example:
            >>> run.get_metrics()  # doctest: +SKIP
            {'loss': [0.9, 0.5, 0.3], 'lr': 0.01, 'fib': [1, 1, 2]}
        """
        self._store.flush()
        if recursive:
            result = {self.id: self._metrics(name, populate)}
            for child in self.get_children(recursive=True):
                if run_type is None or child.type == run_type:
                    result[child.id] = child._metrics(name, populate)
            return result
        return self._metrics(name, populate)

    def _metrics(self, name: str | None, populate: bool) -> dict[str, Any]:
        sql = "SELECT name, kind, payload FROM metrics WHERE run_pk=?"
        params: tuple = (self._pk,)
        if name is not None:
            sql += " AND name=?"
            params = (self._pk, name)
        values: dict[str, tuple[int, list[Any]]] = {}
        for mname, kind, payload in self._store.query(sql + " ORDER BY rowid", params):
            entry = values.get(mname)
            if entry is None:
                entry = values[mname] = (kind, [])
            entry[1].extend(json.loads(payload))
        result: dict[str, Any] = {}
        for mname, (kind, vals) in values.items():
            if kind == SCALAR:
                result[mname] = vals[0] if len(vals) == 1 else vals
            elif kind == LIST:
                result[mname] = vals
            elif kind in (ROW, TABLE):
                result[mname] = merge_rows(vals, kind)
            else:
                if populate:
                    vals = [self._read_image(v) for v in vals]
                result[mname] = vals[0] if len(vals) == 1 else vals
        return result

    def _read_image(self, uri: str) -> bytes:
        prefix = f"aml://artifactId/ExperimentRun/dcid.{self.id}/"
        return (self._folder / uri[len(prefix):]).read_bytes()

    # -- files ---------------------------------------------------------------------------------
    def _artifact(self, name: Any) -> Path:
        if not isinstance(name, str) or not name.strip() or "\0" in name:
            raise ArtifactPathError(f"ファイル名 {name!r} は使えません。'outputs/model.pkl' のような"
                                    "相対パスを指定してください。")
        clean = name.replace("\\", "/")
        if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
            raise ArtifactPathError(
                f"ファイル名 {name!r} は絶対パスです。Run の中での名前は 'outputs/model.pkl' のような"
                "相対パスにしてください。"
            )
        parts = [p for p in clean.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            raise ArtifactPathError(
                f"ファイル名 {name!r} は Run のフォルダーの外を指しています ('..' は使えません)。"
            )
        norm = posixpath.join(*parts)
        root = self._folder.resolve()
        target = root.joinpath(*parts)
        resolved = target.resolve()
        if resolved != root and root not in resolved.parents:
            raise ArtifactPathError(f"ファイル名 {norm!r} は Run のフォルダーの外を指しています。")
        return target

    def upload_file(self, name: str, path_or_stream: Any, datastore_name: Any = None) -> str:
        """Store a file (or a binary stream) as run file ``name``; return ``name``.

        Example:
            >>> run.upload_file("outputs/model.pkl", "model.pkl")  # doctest: +SKIP
        """
        target = self._artifact(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".amlhandson-tmp-{os.getpid()}-{uuid.uuid4().hex}")
        try:
            if hasattr(path_or_stream, "read"):
                with open(tmp, "wb") as out:
                    data = path_or_stream.read()
                    out.write(data.encode("utf-8") if isinstance(data, str) else data)
            else:
                src = Path(path_or_stream)
                if not src.is_file():
                    raise ArtifactNotFoundError(
                        f"upload_file({name!r}, {str(path_or_stream)!r}): アップロードするファイルが"
                        "ありません。パスを確認してください。"
                    )
                shutil.copyfile(src, tmp)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return name.replace("\\", "/")

    def upload_files(self, names: list[str], paths: list[str], return_artifacts: bool = False,
                     timeout_seconds: int | None = None, datastore_name: Any = None) -> list[str]:
        """Upload several files: ``names[i]`` gets the content of ``paths[i]``."""
        if len(names) != len(paths):
            raise UserErrorException(f"upload_files: names ({len(names)} 個) と paths "
                                     f"({len(paths)} 個) の数が違います。")
        return [self.upload_file(n, p) for n, p in zip(names, paths)]

    def upload_folder(self, name: str, path: str | os.PathLike[str],
                      datastore_name: Any = None) -> list[str]:
        """Upload every file below ``path`` as ``name/<relative path>``."""
        folder = Path(path)
        if not folder.is_dir():
            raise ArtifactNotFoundError(f"upload_folder({name!r}, {str(path)!r}): フォルダーが"
                                        "ありません。")
        prefix = name.replace("\\", "/").strip("/")
        uploaded = []
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = file.relative_to(folder).as_posix()
            uploaded.append(self.upload_file(f"{prefix}/{rel}" if prefix else rel, file))
        return uploaded

    def get_file_names(self) -> list[str]:
        """Every run file, as sorted relative names (``outputs/model.pkl`` ...)."""
        root = self._folder
        if not root.is_dir():
            return []
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                      if p.is_file() and not p.name.startswith(".amlhandson-tmp-"))

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None,
                      _validate_checksum: bool = False) -> Path:
        """Copy run file ``name`` to ``output_file_path`` (a file or folder; default: here)."""
        source = self._artifact(name)
        if not source.is_file():
            names = self.get_file_names()
            listing = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "") or "(なし)"
            raise ArtifactNotFoundError(f"Run {self.id} にファイル {name!r} はありません。"
                                        f"ある物: {listing}")
        target = Path(output_file_path) if output_file_path is not None else Path(source.name)
        if target.is_dir():
            target = target / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def download_files(self, prefix: str | None = None,
                       output_directory: str | os.PathLike[str] | None = None,
                       output_paths: list[str] | None = None, batch_size: int = 100,
                       append_prefix: bool = True) -> list[Path]:
        """Copy every run file whose name starts with ``prefix`` into ``output_directory``."""
        names = [n for n in self.get_file_names() if prefix is None or n.startswith(prefix)]
        out = Path(output_directory) if output_directory is not None else Path(".")
        if output_paths is not None and len(output_paths) != len(names):
            raise UserErrorException("download_files: output_paths の数がファイルの数と違います。")
        result = []
        for i, name in enumerate(names):
            if output_paths is not None:
                dest = Path(output_paths[i])
            else:
                rel = name if append_prefix or not prefix else name[len(prefix):].lstrip("/")
                dest = out / rel
            result.append(self.download_file(name, dest))
        return result

    def register_model(self, model_name: str, model_path: str | None = None,
                       tags: dict[str, Any] | None = None,
                       properties: dict[str, Any] | None = None,
                       description: str | None = None, **kwargs: Any) -> Any:
        """Register run file(s) ``model_path`` (relative to the run's files) as a model."""
        from .model import Model

        return Model._register_from_run(self, model_name, model_path, tags=tags,
                                        properties=properties, description=description,
                                        **kwargs)


def _tag_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise UserErrorException(f"タグ / プロパティのキー {key!r} は空でない文字列にしてください。")
    return key


def _tag_value(key: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return str(value)
    raise UserErrorException(f"タグ / プロパティ {key!r} の値は文字列にしてください "
                             f"({type(value).__name__} が渡されました)。")


def _matches(run: Run, tags: Any, properties: Any, type_: str | None, status: str | None) -> bool:
    if type_ is not None and run.type != type_:
        return False
    if status is not None and run._row["status"] != status:
        return False
    for wanted, have in ((tags, run.get_tags), (properties, run.get_properties)):
        if wanted is None:
            continue
        actual = have()
        if isinstance(wanted, str):
            if wanted not in actual:
                return False
        elif isinstance(wanted, dict):
            if any(actual.get(k, object()) != v for k, v in wanted.items()):
                return False
        else:
            if any(k not in actual for k in wanted):
                return False
    return True


# -- process exit ------------------------------------------------------------------------
_uncaught: list[BaseException] = []
_previous_hook = sys.excepthook


def _excepthook(exc_type: Any, exc: BaseException, tb: Any) -> None:
    _uncaught.append(exc)
    _previous_hook(exc_type, exc, tb)


sys.excepthook = _excepthook


def _close_runs_at_exit() -> None:
    from .._store import Store

    for store in list(Store._instances.values()):
        for run in list(store.active.values()):
            try:
                if run._context:
                    if _uncaught:
                        run.fail(error_details=_uncaught[-1])
                    else:
                        run.complete()
                else:
                    run._finish(
                        RunStatus.CANCELED, upload_outputs=False,
                        error={"message": "プロセスが run.complete() を呼ばずに終了しました。"
                                          "記録済みのメトリックは残っています。",
                               "code": "ProcessExited"},
                    )
            except Exception:  # noqa: BLE001 - never block interpreter exit
                pass


atexit.register(_close_runs_at_exit)
