"""``Run``: one execution of training code, with metrics, tags, properties and files.

Semantics follow Azure ML v1 (see docs/architecture.md for where we go
further: recorded offline runs, typed round trips, ``complete()`` uploading
``outputs/``, dead processes detected). Logging lives in
:mod:`~amlhandson.core._run_metrics`, files in :mod:`~amlhandson.core._run_files`,
process exit in :mod:`~amlhandson.core._lifecycle`, re-run cells in
:mod:`~amlhandson.core._cells`; storage is :mod:`amlhandson._store`.

Example:
    >>> from amlhandson.core import Workspace, Experiment
    >>> ws = Workspace.create("docs-ws", resource_group="docs-aml", exist_ok=True)  # doctest: +SKIP
    >>> with Experiment(ws, "my-first-experiment").start_logging() as run:  # doctest: +SKIP
    ...     run.log("trial", 1)
    >>> run.get_metrics()  # doctest: +SKIP
    {'trial': 1}
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import _process
from .._filters import matches
from .._store import Store
from .._store.records import RunRecord
from ..exceptions import (
    ActivityFailedException,
    RunNotFoundError,
    RunStateError,
    UserErrorException,
)
from ..studio import links
from . import _artifacts, _catalog, _cells, _lifecycle
from ._metrics import LIMITS
from ._run_files import RunFiles
from ._run_metrics import RunMetrics
from ._status import RunStatus, reconcile
from ._tags import clean_tags
from .experiment import Experiment
from .workspace import Workspace

__all__ = ["Run", "RunStatus", "LIMITS"]


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}Z"


def _check_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or not run_id or run_id in (".", "..") or any(
            ch in run_id for ch in '/\\:*?"<>|\0 ') or len(run_id) > 255:
        raise UserErrorException(
            f"run_id {run_id!r} は使えません。英数字と '-' '_' '.' だけの 255 文字以内の文字列に"
            "してください。"
        )
    _artifacts.check_text(run_id, "run_id")
    return run_id


class Run(RunMetrics, RunFiles):
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
        store = Store.open(experiment.workspace.path)
        record = store.runs.by_id(run_id) if isinstance(run_id, str) else None
        if record is None:
            raise RunNotFoundError(
                f"Run {run_id!r} は experiment {experiment.name!r} にありません。"
                f"experiment.get_runs() で存在する Run を確認してください。"
            )
        if record.experiment_name != experiment.name:
            raise RunNotFoundError(
                f"Run {run_id!r} は experiment {experiment.name!r} ではなく別の experiment "
                f"({record.experiment_name!r}) の Run です。"
            )
        self._setup(experiment, record)

    def _setup(self, experiment: Experiment, record: RunRecord) -> None:
        self._experiment = experiment
        self._store = Store.open(experiment.workspace.path)
        self._rec = record
        self._pk: int = record.pk
        self._kinds: dict[str, int] = {}
        self._tags_cache: dict[str, Any] | None = None
        #: True for the process's Run.get_context() run: completed (or failed) at exit.
        self._context = False

    @classmethod
    def _attach(cls, experiment: Experiment, record: RunRecord) -> Run:
        """A run object for a stored record (no lookup)."""
        run = cls.__new__(cls)
        run._setup(experiment, record)
        return run

    # -- creation ------------------------------------------------------------------------
    @classmethod
    def _create(cls, experiment: Experiment, *, name: str | None = None,
                run_id: str | None = None, parent: Run | None = None,
                outputs: str | os.PathLike[str] | None = None, run_type: str | None = None,
                target: str = "sdk", status: str = RunStatus.RUNNING,
                definition: dict[str, Any] | None = None, id_prefix: str = "",
                tags: dict[str, Any] | None = None) -> Run:
        """Create a run of this class, owned by this process, and return it."""
        run_id = _check_run_id(run_id if run_id is not None else f"{id_prefix}{uuid.uuid4()}")
        if name is not None:
            name = _artifacts.check_text(str(name), "Run の名前")
        if name is None:
            name = f"run_{run_id}"
        if parent is not None:
            name = f"{parent.name}>{name}"
        outputs_dir = str(Path(outputs if outputs is not None else "outputs").resolve())
        store = Store.open(experiment.workspace.path)
        me = _process.current()
        record = store.runs.create(
            run_id=run_id, experiment_pk=store.experiments.ensure(experiment.name).pk,
            name=name, parent_pk=parent.record.pk if parent is not None else None, type=run_type,
            target=target, status=status, definition=definition, outputs_dir=outputs_dir,
            pid=me.pid, host=me.host, proc_started=me.started, tags=clean_tags(tags))
        run = cls._attach(experiment, record)
        if status not in RunStatus.TERMINAL:
            _lifecycle.track(run, store, record.pk)
        if outputs is not None or status == RunStatus.RUNNING:
            Path(outputs_dir).mkdir(parents=True, exist_ok=True)
        return run

    @classmethod
    def start(cls, experiment: Experiment, *, name: str | None = None,
              run_id: str | None = None, outputs: str | None = None) -> Run:
        """Start an interactive run (``experiment.start_logging``).

        In a notebook, a run that an earlier execution of the same cell left open
        is canceled first, with a printed note.
        """
        run = cls._create(experiment, name=name, run_id=run_id, outputs=outputs)
        for other in _cells.claim(run):
            if other.get_status() not in RunStatus.TERMINAL and other.is_running_here:
                other.cancel("同じセルが再実行されたため、完了していなかった Run を閉じました。",
                             "CellRerun")
                print(f"前回このセルで開始した Run {other.id} は完了していなかったので "
                      f"Canceled にしました (記録済みのメトリックは残っています)。")
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
        if os.environ.get("AMLHANDSON_RUN_PIPE"):  # a script submitted to a compute target
            context = _catalog.resolve("script_context")()
            if context is not None:
                cls._context_run = context
                return context
        run_id = os.environ.get("AMLHANDSON_RUN_ID")
        if run_id:  # a script started for an existing run (e.g. by experiment.submit)
            group, _, name = os.environ.get("AMLHANDSON_WORKSPACE", "").partition("/")
            ws = Workspace(None, group, name)
            store = Store.open(ws.path)
            record = store.runs.by_id(run_id)
            if record is None:
                raise RunNotFoundError(
                    f"環境変数 AMLHANDSON_RUN_ID の Run {run_id!r} がワークスペース {ws.name!r} に"
                    "ありません。experiment.submit で実行してください。"
                )
            run = _catalog.run_class(record.type)._attach(
                Experiment(ws, record.experiment_name or "default"), record)
            run._context = True
            _lifecycle.track(run, store, record.pk)
            cls._context_run = run
            return run
        if not allow_offline:
            raise RunStateError(
                "Run.get_context(allow_offline=False): experiment.submit で実行されたスクリプトの"
                "外なので Run がありません。"
            )
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

    @classmethod
    def find(cls, workspace: Workspace, run_id: str) -> Run:
        """The run of ``workspace`` whose id is ``run_id`` or starts with it (any experiment).

        Example:
            >>> Run.find(ws, "3f2a").id  # doctest: +SKIP
            '3f2a9c1e-...'
        """
        records = Store.open(workspace.path).runs.find(run_id)
        if len(records) > 1:
            raise RunNotFoundError(f"{run_id!r} で始まる Run が複数あります。もっと長く指定してください。")
        if not records:
            raise RunNotFoundError(f"Run {run_id!r} はワークスペース {workspace.name!r} にありません。"
                                   "`amlhandson runs list` で確認してください。")
        record = records[0]
        exp = Experiment(workspace, record.experiment_name or "")
        return _catalog.run_class(record.type)._attach(
            exp, reconcile(Store.open(workspace.path), record))

    # -- identity ----------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The run id (a uuid for ``start_logging`` runs)."""
        return self._rec.run_id

    @property
    def number(self) -> int:
        """1, 2, 3, ... per experiment, in order of creation."""
        return self._rec.number

    @property
    def name(self) -> str:
        """The run's name (``run_<id>`` unless given; children ``<parent>><child>``)."""
        return self._rec.name

    @property
    def display_name(self) -> str:
        """The name shown in lists; can be changed."""
        return self._rec.display_name

    @display_name.setter
    def display_name(self, value: str) -> None:
        value = _artifacts.check_text(str(value), "display_name")
        self._store.runs.update(self._pk, display_name=value)
        self._refresh()

    @property
    def type(self) -> str | None:
        """``None`` for ``start_logging`` runs, like v1."""
        return self._rec.type

    @property
    def experiment(self) -> Experiment:
        """The experiment this run belongs to."""
        return self._experiment

    @property
    def parent(self) -> Run | None:
        """The parent run, or ``None``."""
        if self._rec.parent_pk is None:
            return None
        record = self._store.runs.get(self._rec.parent_pk)
        if record is None:
            return None
        return _catalog.run_class(record.type)._attach(self._experiment, record)

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
    def record(self) -> RunRecord:
        """The run's stored record (times, status, process ...), as last read."""
        return self._rec

    @property
    def input_datasets(self) -> dict[str, Any]:
        """The named inputs the run read, as the script got them (a path, or a dataset).

        Example:
            >>> Run.get_context().input_datasets["mnist"]  # doctest: +SKIP
            '/home/me/.amlhandson/.../mnist'
        """
        return _catalog.resolve("input_datasets_of")(self)

    @property
    def is_running_here(self) -> bool:
        """Whether this process runs the run (started it and has not finished it)."""
        return _lifecycle.is_tracked(self._store, self._pk)

    @property
    def local_path(self) -> Path:
        """The folder on this machine that holds the run's files."""
        return self._experiment.workspace.path / "experiments" / self._experiment.name / self.id

    def __repr__(self) -> str:
        return (f"Run(Experiment: {self._experiment.name},\nId: {self.id},\n"
                f"Type: {self.type},\nStatus: {self.get_status()})")

    def _repr_html_(self) -> str:
        import html

        studio = links.StudioLink(links.run_path(self), "Link to AML Studio")
        details = (studio._repr_html_() if studio.server is not None
                   else f"<code>amlhandson runs show {html.escape(self.id)}</code>")
        cells = [self._experiment.name, self.id, str(self.type), self.get_status(), details,
                 '<a href="https://learn.microsoft.com/python/api/azureml-core/azureml.core.run.run'
                 '?view=azure-ml-py" target="_blank">Link to Documentation</a>']
        head = "".join(f"<th>{h}</th>" for h in
                       ("Experiment", "Id", "Type", "Status", "Details Page", "Docs Page"))
        body = "".join(f"<td>{c if c.startswith('<') else html.escape(c)}</td>" for c in cells)
        return f"<table style='width:100%'><tr>{head}</tr><tr>{body}</tr></table>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.id == self.id and \
            other._experiment.workspace == self._experiment.workspace

    def __hash__(self) -> int:
        return hash((self._experiment.workspace, self.id))

    # -- status ------------------------------------------------------------------------------
    def _refresh(self) -> RunRecord:
        record = self._store.runs.get(self._pk)
        if record is None:
            raise RunNotFoundError(f"Run {self.id} はワークスペースから削除されています。")
        self._rec = reconcile(self._store, record)
        if self._rec.is_terminal:
            _lifecycle.untrack(self._store, self._pk)
        return self._rec

    def get_status(self) -> str:
        """The run's status, read from the store (a dead owner process shows as Failed).

        Example:
            >>> run.get_status()  # doctest: +SKIP
            'Running'
        """
        if self._rec.is_terminal:
            return self._rec.status
        return self._refresh().status

    def get_details(self) -> dict[str, Any]:
        """Run details with v1's keys (``runId``, ``status``, ``startTimeUtc`` ...).

        Example:
            >>> run.get_details()["status"]  # doctest: +SKIP
            'Completed'
        """
        self.flush()
        rec = self._refresh()
        details: dict[str, Any] = {
            "runId": rec.run_id,
            "displayName": rec.display_name,
            "target": rec.target,
            "status": rec.status,
            "startTimeUtc": _iso(rec.start_time),
            "properties": self.get_properties(),
            "tags": self.get_tags(),
            "inputDatasets": [
                {"name": i.input_name, "dataset": i.dataset_name, "version": i.dataset_version,
                 "mode": i.mode, "fingerprint": i.fingerprint}
                for i in self._store.datasets.inputs_of(rec.run_id)],
            "outputDatasets": [],
            "logFiles": {n: str(self.local_path / n) for n in self.get_file_names()
                         if n.startswith(("logs/", "azureml-logs/"))},
            "submittedBy": os.environ.get("USER") or os.environ.get("USERNAME") or "local user",
        }
        if rec.end_time is not None:
            details["endTimeUtc"] = _iso(rec.end_time)
        if rec.error:
            details["error"] = {"error": dict(rec.error)}
        if rec.definition:
            details["runDefinition"] = dict(rec.definition)
        return details

    def get_portal_url(self) -> str:
        """The run's page in the local studio when one is running (v1: the Azure portal page).

        Without a running studio it is the URL of the run's folder on this machine;
        ``amlhandson studio`` (or JupyterLab's Launcher card "AML Studio") starts one.

        Example:
            >>> run.get_portal_url()  # doctest: +SKIP
            'http://127.0.0.1:8888/studio/ws/docs-aml/docs-ws/runs/3f2a...'
        """
        return links.run_url(self) or self.local_path.as_uri()

    # -- lifecycle ---------------------------------------------------------------------------
    def _finish(self, status: str, error: dict[str, Any] | None = None,
                upload_outputs: bool = True) -> None:
        current = self.get_status()
        if current in RunStatus.TERMINAL:
            _lifecycle.untrack(self._store, self._pk)
            self._kinds.clear()
            if current == status:
                return
            raise RunStateError(
                f"Run {self.id} はすでに {current} で終わっているので {status} にはできません。"
                "新しい Run を始めるには experiment.start_logging() を使ってください。"
            )
        if upload_outputs:
            error = self._upload_outputs(strict=status == RunStatus.COMPLETED) or error
        self.flush()
        if not self._store.runs.finish(self._pk, status, error=error):
            self._refresh()  # another process finished it first: keep its verdict
        _lifecycle.untrack(self._store, self._pk)
        self._kinds.clear()  # logging to a finished run is refused from now on
        self._refresh()

    def _upload_outputs(self, strict: bool) -> dict[str, Any] | None:
        """Upload ``outputs/``; the run reads Finalizing meanwhile.

        If the upload is interrupted or fails, a completing run (``strict``) stays
        Finalizing with an error saying so, and the exception propagates:
        ``complete()`` can be called again. A failing or canceled run is finished
        anyway, with the upload problem added to its error.
        """
        folder = self._rec.outputs_dir
        if not folder or not Path(folder).is_dir() or not any(Path(folder).iterdir()):
            return None
        self._store.runs.update(self._pk, status=RunStatus.FINALIZING,
                                only_if_status=[self._rec.status])
        try:
            self.upload_folder("outputs", folder)
        except BaseException as exc:
            note = {"message": f"outputs/ のアップロードが中断されました ({type(exc).__name__}: "
                               f"{exc})。アップロード済みのファイルは残っています。"
                               "run.complete() をもう一度呼ぶと、アップロードからやり直します。",
                    "code": "CompletionInterrupted"}
            if strict or not isinstance(exc, Exception):
                self._store.runs.update(self._pk, error=note)
                self._refresh()
                raise
            return note
        return None

    def complete(self, _set_status: bool = True) -> None:
        """Flush metrics, upload the ``outputs/`` folder and mark the run Completed.

        Calling it again on a completed run does nothing; on a run whose completion
        was interrupted (Finalizing) it finishes the job.

        Example:
            >>> run.complete()  # doctest: +SKIP
        """
        self._finish(RunStatus.COMPLETED)

    def fail(self, error_details: Any = None, error_code: str | None = None,
             _set_status: bool = True) -> None:
        """Mark the run Failed, storing the error (an exception or a message).

        Example:
            >>> run.fail(error_details=ValueError("bad data"))  # doctest: +SKIP
        """
        error: dict[str, Any] = {"message": str(error_details) if error_details is not None
                                 else "Run failed", "code": error_code or "UserError"}
        if isinstance(error_details, BaseException):
            error["type"] = type(error_details).__name__
            error["traceback"] = "".join(traceback.format_exception(
                type(error_details), error_details, error_details.__traceback__))
        self._finish(RunStatus.FAILED, error=error)

    def cancel(self, error_details: str | None = None, error_code: str | None = None) -> None:
        """Mark the run Canceled (optionally saying why; v1 took no arguments).

        Example:
            >>> run.cancel()  # doctest: +SKIP
        """
        error = None if error_details is None else {"message": str(error_details),
                                                    "code": error_code or "Canceled"}
        self._finish(RunStatus.CANCELED, error=error, upload_outputs=False)

    def flush(self, timeout_seconds: int = 300) -> None:
        """Write every metric logged so far to the store now.

        Example:
            >>> run.flush()  # doctest: +SKIP
        """
        self._store.flush()

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        """Block until the run ends; return its details. Raises on Failed by default.

        Example:
            >>> run.wait_for_completion()["status"]  # doctest: +SKIP
            'Completed'
        """
        if self.is_running_here:
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

    def _close_at_exit(self, uncaught: BaseException | None) -> None:
        """Called at interpreter exit for a run this process left open."""
        if self._context:
            if uncaught is not None:
                self.fail(error_details=uncaught)
            else:
                self.complete()
            return
        self.cancel("プロセスが run.complete() を呼ばずに終了しました。記録済みのメトリックは"
                    "残っています。", "ProcessExited")

    # -- children ------------------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None,
                  outputs: str | None = None) -> Run:
        """Create and start a child run (usable as a context manager).

        Example:
            >>> with run.child_run("k=3") as child:  # doctest: +SKIP
            ...     child.log("accuracy", 0.97)
        """
        return Run._create(self._experiment, name=name, run_id=run_id, parent=self,
                           outputs=outputs)

    def create_children(self, count: int | None = None, tag_key: str | None = None,
                        tag_values: list[str] | None = None) -> list[Run]:
        """Create up to 100 children at once, by ``count`` or one per tag value.

        Example:
            >>> children = run.create_children(count=3)  # doctest: +SKIP
        """
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
        return [Run._create(self._experiment, parent=self, tags=tag) for tag in tags]

    def get_children(self, recursive: bool = False, tags: Any = None, properties: Any = None,
                     type: str | None = None, status: str | None = None,
                     _rehydrate_runs: bool = True) -> Iterator[Run]:
        """The child runs, oldest first (``recursive=True`` includes grandchildren).

        Example:
            >>> [c.id for c in run.get_children()]  # doctest: +SKIP
        """
        records = self._store.runs.list(parent_pk=self._pk)
        tags_of = self._store.runs.tags_of(r.pk for r in records) if tags is not None else {}
        for record in records:
            record = reconcile(self._store, record)
            child = _catalog.run_class(record.type)._attach(self._experiment, record)
            if (type is None or record.type == type) and \
                    (status is None or record.status == status) and \
                    (tags is None or matches(tags_of[record.pk], tags)) and \
                    (properties is None or matches(child.get_properties(), properties)):
                yield child
            if recursive:
                yield from child.get_children(True, tags, properties, type, status)

    # -- tags and properties ---------------------------------------------------------------
    def tag(self, key: str, value: Any = None) -> None:
        """Set one tag (``value`` may be omitted: the tag then holds ``None``).

        Example:
            >>> run.tag("model", "knn")  # doctest: +SKIP
        """
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set several tags at once (tags are mutable).

        Example:
            >>> run.set_tags({"data": "mnist", "k": 3})  # doctest: +SKIP
        """
        if not isinstance(tags, dict):
            raise UserErrorException("set_tags には {'キー': '値'} の dict を渡してください。")
        self._store.runs.set_tags(self._pk, clean_tags(tags))
        self._tags_cache = None

    def get_tags(self) -> dict[str, Any]:
        """The run's tags as stored.

        Example:
            >>> run.get_tags()  # doctest: +SKIP
            {'model': 'knn'}
        """
        return self._store.runs.tags(self._pk)

    def remove_tags(self, tags: list[str]) -> None:
        """Remove tags by key (missing keys are ignored).

        Example:
            >>> run.remove_tags(["model"])  # doctest: +SKIP
        """
        self._store.runs.remove_tags(self._pk, [tags] if isinstance(tags, str) else list(tags))
        self._tags_cache = None

    def add_properties(self, properties: dict[str, Any]) -> None:
        """Add properties; they are immutable, so a key cannot get another value.

        Example:
            >>> run.add_properties({"data_version": "1"})  # doctest: +SKIP
        """
        if not isinstance(properties, dict):
            raise UserErrorException("add_properties には {'キー': '値'} の dict を渡してください。")
        self._store.runs.add_properties(self._pk, clean_tags(properties, "properties"))

    def get_properties(self) -> dict[str, Any]:
        """The run's properties, with the system keys v1 adds.

        Example:
            >>> run.get_properties()["azureml.runsource"]  # doctest: +SKIP
            'experiment'
        """
        props: dict[str, Any] = {
            "azureml.runsource": "experiment" if self.type is None else str(self.type)}
        props.update(self._store.runs.properties(self._pk))
        return props

    # -- models ----------------------------------------------------------------------------
    def register_model(self, model_name: str, model_path: str | None = None,
                       tags: dict[str, Any] | None = None,
                       properties: dict[str, Any] | None = None,
                       description: str | None = None, **kwargs: Any) -> Any:
        """Register run file(s) ``model_path`` (relative to the run's files) as a model.

        Example:
            >>> model = run.register_model("sklearn_mnist",
            ...                            model_path="outputs/sklearn_mnist_model.pkl")  # doctest: +SKIP
        """
        return _catalog.resolve("register_model_from_run")(
            self, model_name, model_path, tags=tags, properties=properties,
            description=description, **kwargs)
