"""The logic behind the IPython magics: tracked cell runs, ``%aml_log``, run tables.

Everything here is a plain function or class; :mod:`amlhandson.magics` only
parses arguments and calls these. Nothing here imports IPython at module level.

A ``%%aml_run`` cell becomes one run (see :func:`run_tracked_cell`):

* the run is created in the experiment ``-e`` (default: ``$AMLHANDSON_EXPERIMENT``
  or ``notebook-runs``) of the workspace of ``config.json``;
* the cell's source is saved as the run file ``cell_source.py`` (with the
  ``%%aml_run`` line as a comment on top);
* what the cell prints (stdout and stderr) still shows in the notebook and is
  also written, as it happens, to ``azureml-logs/70_driver_log.txt`` (v1's
  name for a run's output log);
* ``run`` in the notebook's namespace is the run (and stays bound to it, finished,
  after the cell); ``Run.get_context()`` inside the cell returns it too;
* when the cell ends the run is Completed; an exception marks it Failed (the
  traceback goes to the log) and is raised again; Ctrl-C / interrupt marks it
  Canceled. The run is always finished before the cell returns, so re-running
  the cell starts a new run and never leaves one open.

Example:
    >>> parse_value("0.95"), parse_value("True"), parse_value("adam")
    (0.95, True, 'adam')
    >>> parse_tags(["lr=0.1", "model=knn"])
    {'lr': '0.1', 'model': 'knn'}
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._store import Store
from ._tables import html_table, text_table
from .core import _artifacts
from .exceptions import AmlHandsOnError, ConfigNotFoundError, RunStateError, UserErrorException
from .widgets._summary import DRIVER_LOG, RunSummary, format_duration, format_value

__all__ = [
    "CELL_SOURCE",
    "CellSyntaxError",
    "DEFAULT_EXPERIMENT",
    "DRIVER_LOG",
    "CellRun",
    "RunsTable",
    "WorkspaceInfo",
    "active_cell_run",
    "default_experiment_name",
    "display_path",
    "load_workspace",
    "log_to_active_run",
    "parse_tags",
    "parse_value",
    "run_tracked_cell",
    "runs_table",
    "workspace_info",
]

#: Experiment used by ``%%aml_run`` when ``-e`` is not given and ``AMLHANDSON_EXPERIMENT`` is unset.
DEFAULT_EXPERIMENT = "notebook-runs"
#: Run file holding a tracked cell's source.
CELL_SOURCE = "cell_source.py"

_active: list[CellRun] = []
_last_experiment: list[str] = []


# -- small parsers ------------------------------------------------------------------------
def default_experiment_name() -> str:
    """``$AMLHANDSON_EXPERIMENT`` if set, else ``notebook-runs``.

    Example:
        >>> default_experiment_name() == os.environ.get("AMLHANDSON_EXPERIMENT", "notebook-runs")
        True
    """
    return os.environ.get("AMLHANDSON_EXPERIMENT") or DEFAULT_EXPERIMENT


def last_experiment_name() -> str:
    """The experiment of the latest ``%%aml_run`` in this process, else the default.

    Example:
        >>> last_experiment_name()  # doctest: +SKIP
        'notebook-runs'
    """
    return _last_experiment[-1] if _last_experiment else default_experiment_name()


def parse_value(text: str) -> Any:
    """Read ``%aml_log``'s VALUE: a Python literal if it is one, else the text itself.

    Example:
        >>> parse_value("3"), parse_value("-0.5"), parse_value("'a b'"), parse_value("None")
        (3, -0.5, 'a b', None)
        >>> parse_value("[1, 2, 3]")
        [1, 2, 3]
    """
    text = text.strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_tags(items: list[str] | list[list[str]] | None) -> dict[str, str]:
    """Turn ``-t KEY=VALUE`` arguments into a dict (nested lists from argparse are flattened).

    Example:
        >>> parse_tags([["a=1", "b=x=y"], ["c="]])
        {'a': '1', 'b': 'x=y', 'c': ''}
    """
    flat: list[str] = []
    for item in items or []:
        flat.extend(item if isinstance(item, list) else [item])
    tags: dict[str, str] = {}
    for item in flat:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserErrorException(
                f"タグ {item!r} は KEY=VALUE の形で指定してください (例: -t model=knn lr=0.1)。")
        tags[key.strip()] = value
    return tags


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` without machine-specific parts: ``~/...`` or ``$AMLHANDSON_HOME/...``.

    Example:
        >>> from pathlib import Path
        >>> display_path(Path.home() / ".amlhandson" / "workspaces")
        '~/.amlhandson/workspaces'
    """
    target = Path(path).expanduser().resolve()
    with contextlib.suppress(ValueError):
        return "~/" + target.relative_to(Path.home().resolve()).as_posix()
    env = os.environ.get("AMLHANDSON_HOME")
    if env:
        with contextlib.suppress(ValueError):
            return "$AMLHANDSON_HOME/" + target.relative_to(Path(env).expanduser().resolve()).as_posix()
    return str(target)


def load_workspace(path: str | os.PathLike[str] | None = None) -> Any:
    """``Workspace.from_config()`` without its printout, with a message saying what to do.

    Example:
        >>> ws = load_workspace()  # doctest: +SKIP
    """
    from .core.workspace import Workspace

    with contextlib.redirect_stdout(io.StringIO()):
        try:
            return Workspace.from_config(path)
        except ConfigNotFoundError as exc:
            raise ConfigNotFoundError(
                f"{exc} -- %%aml_run などのマジックは config.json のワークスペースに記録します。"
                "先に 01-workspace ノートブックを実行するか、Workspace.create(...) のあと "
                "ws.write_config(path='.') で config.json を作ってください。"
            ) from exc


# -- stdout / stderr tee ------------------------------------------------------------------
class _LogFile:
    """The run's output log, written as the cell prints (thread-safe, never raises)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO | None = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            if self._fh is None:
                return
            try:
                self._fh.write(text)
                self._fh.flush()
            except (OSError, ValueError):
                self._fh = None

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                with contextlib.suppress(OSError):
                    self._fh.close()
            self._fh = None


class _Tee:
    """Stands in for ``sys.stdout`` / ``sys.stderr``: writes go to the stream *and* the log."""

    def __init__(self, stream: Any, log: _LogFile) -> None:
        self._stream = stream
        self._log = log

    def write(self, text: str) -> int:
        result = self._stream.write(text)
        if isinstance(text, str):
            self._log.write(text)
        return result

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Capture:
    """Context manager: tee stdout and stderr into the log, make ``run`` the context run."""

    def __init__(self, cell_run: CellRun) -> None:
        self._cell_run = cell_run
        self._saved: tuple[Any, Any, Any] | None = None

    def __enter__(self) -> _Capture:
        from .core.run import Run

        log = self._cell_run._log
        out, err = sys.stdout, sys.stderr
        self._saved = (out, err, Run._context_run)
        self._tees = (_Tee(out, log), _Tee(err, log))
        sys.stdout, sys.stderr = self._tees
        Run._context_run = self._cell_run.run
        return self

    def __exit__(self, *exc: Any) -> bool:
        from .core.run import Run

        assert self._saved is not None
        out, err, context = self._saved
        if sys.stdout is self._tees[0]:
            sys.stdout = out
        if sys.stderr is self._tees[1]:
            sys.stderr = err
        if Run._context_run is self._cell_run.run:
            Run._context_run = context
        return False


# -- cell runs -------------------------------------------------------------------------------
class CellRun:
    """One execution of a ``%%aml_run`` cell: its run, its source and its output log.

    Example:
        >>> cell = CellRun.start("print(1)", workspace=ws)  # doctest: +SKIP
        >>> with cell.capture():  # doctest: +SKIP
        ...     print(1)
        >>> cell.finish()  # doctest: +SKIP
        'Completed'
    """

    def __init__(self, run: Any, source: str) -> None:
        self.run = run
        self.source = source
        self._log = _LogFile(_artifacts.resolve(run.local_path, DRIVER_LOG)[1])
        self.finished = False

    @classmethod
    def start(cls, source: str, *, workspace: Any, experiment: str | None = None,
              name: str | None = None, tags: dict[str, str] | None = None,
              magic_line: str = "") -> CellRun:
        """Start the run, save the source as ``cell_source.py``; the run becomes active."""
        from .core.experiment import Experiment

        exp_name = experiment or default_experiment_name()
        exp = Experiment(workspace, exp_name)
        run = exp.start_logging(display_name=name) if name else exp.start_logging()
        try:
            if tags:
                run.set_tags(tags)
            run.add_properties({"amlhandson.source": "%%aml_run"})
            header = f"# %%aml_run {magic_line}".rstrip() + "\n"
            run.upload_file(CELL_SOURCE, io.BytesIO((header + source).encode("utf-8")))
            cell_run = cls(run, source)
        except BaseException as exc:
            run.fail(error_details=exc)
            raise
        _active.append(cell_run)
        _last_experiment[:] = [exp_name]
        return cell_run

    def capture(self) -> _Capture:
        """Tee stdout/stderr into the run's log for the ``with`` block."""
        return _Capture(self)

    def finish(self, error: BaseException | None = None) -> str:
        """End the run: Completed, Failed (``error``) or Canceled (``KeyboardInterrupt``).

        A run the cell already finished itself (``run.complete()`` ...) keeps its
        status. Returns the final status.
        """
        from .core import RunStatus

        if self in _active:
            _active.remove(self)
        if self.finished:
            return self.run.get_status()
        self.finished = True
        try:
            if error is not None and not _is_success(error):
                self._log.write(_format_error(error))
        finally:
            self._log.close()
        if self.run.get_status() in RunStatus.TERMINAL:
            return self.run.get_status()
        if error is None or _is_success(error):
            self.run.complete()
        elif isinstance(error, KeyboardInterrupt):
            self.run.cancel(error_details="KeyboardInterrupt: セルの実行が中断されたので Run を "
                                          "Canceled にしました。記録済みのメトリックは残っています。",
                            error_code="KeyboardInterrupt")
        else:
            self.run.fail(error_details=error)
        return self.run.get_status()


def _format_error(error: BaseException) -> str:
    """The traceback as text, starting at the user's code (our own frames are dropped)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_locals.get("__tracebackhide__"):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def _is_success(error: BaseException) -> bool:
    return isinstance(error, SystemExit) and error.code in (0, None)


def active_cell_run() -> CellRun | None:
    """The innermost ``%%aml_run`` cell that is executing, or ``None``."""
    return _active[-1] if _active else None


def log_to_active_run(name: str, value_text: str) -> tuple[Any, Any]:
    """``%aml_log NAME VALUE``: log into the executing ``%%aml_run`` cell's run.

    A list or tuple value is logged with ``run.log_list``, anything else with
    ``run.log``. Returns ``(run, value)``.

    Example:
        >>> log_to_active_run("accuracy", "0.95")  # doctest: +SKIP
    """
    cell = active_cell_run()
    if cell is None:
        raise RunStateError(
            f"%aml_log {name}: 記録先の Run がありません。%aml_log は %%aml_run で始まるセルの中で"
            "使います (例: 1 行目に %%aml_run、その下に %aml_log accuracy 0.95)。"
            "%%aml_run の外では run.log(name, value) を使ってください。"
        )
    value = parse_value(value_text)
    if isinstance(value, (list, tuple)):
        cell.run.log_list(name, list(value))
    else:
        cell.run.log(name, value)
    return cell.run, value


# -- executing a cell --------------------------------------------------------------------
class CellSyntaxError(UserErrorException):
    """The body of a ``%%aml_run`` cell does not parse; nothing was run or recorded."""

    def _render_traceback_(self) -> list[str]:  # IPython: one line instead of a traceback
        return [f"{type(self).__name__}: {self}"]


@dataclass
class CompiledCell:
    """A cell body compiled the way IPython would: statements, then the last expression."""

    body: Any
    last: Any = None

    def execute(self, namespace: dict[str, Any]) -> None:
        """Run it in ``namespace``; the last expression goes to ``sys.displayhook`` (``Out[n]``)."""
        __tracebackhide__ = True  # noqa: F841 - hides this frame in IPython tracebacks
        exec(self.body, namespace)  # noqa: S102 - executing the user's cell is the point
        if self.last is not None:
            exec(self.last, namespace)  # noqa: S102


def compile_cell(shell: Any, cell: str, magic_line: str = "") -> CompiledCell:
    """Transform (``%`` syntax ...) and compile a cell body with ``shell``'s compiler.

    The first line of the compiled code is a comment holding the ``%%aml_run``
    line, so traceback line numbers match the notebook cell. A syntax error is shown
    and :class:`CellSyntaxError` raised here, before any run starts.

    Example:
        >>> compile_cell(get_ipython(), "x = 1; x + 1").execute(get_ipython().user_ns)  # doctest: +SKIP
        2
    """
    number = max(int(getattr(shell, "execution_count", 1)) - 1, 0)
    code = f"# %%aml_run {magic_line}".rstrip() + "\n" + shell.transform_cell(cell)
    # raw_code differs from the notebook cell's own source, so the two never share a cache entry.
    filename = shell.compile.cache(code, number, raw_code=code)
    try:
        tree = shell.compile.ast_parse(code, filename=filename)
        tree = shell.transform_ast(tree)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last_node = tree.body.pop()
            last = shell.compile(ast.Interactive([last_node]), filename, "single")
        body = shell.compile(tree, filename, "exec")
    except SyntaxError as exc:
        # Show it the way IPython shows a syntax error in a plain cell (no internal frames),
        # then fail the cell with one short line. Python 3.13 raises a private subclass
        # (_IncompleteInputError) for unfinished code: learners see a plain SyntaxError.
        if type(exc) is not SyntaxError and type(exc).__name__.startswith("_"):
            try:
                raise SyntaxError(exc.msg, (exc.filename, exc.lineno, exc.offset, exc.text,
                                            exc.end_lineno, exc.end_offset)) from None
            except SyntaxError:
                shell.showsyntaxerror(filename)
        else:
            shell.showsyntaxerror(filename)
        hint = (" %%aml_run のセルでは top-level の await は使えません。"
                if "await" in str(exc.msg) else "")
        raise CellSyntaxError(
            "%%aml_run: セルに構文エラー (SyntaxError) があるので実行しませんでした "
            f"(Run は作っていません)。上に示された行を直して、もう一度実行してください。{hint}"
        ) from None
    return CompiledCell(body, last)


def run_tracked_cell(shell: Any, cell: str, *, workspace: Any, magic_line: str = "",
                     experiment: str | None = None, name: str | None = None,
                     tags: dict[str, str] | None = None, show: bool = True) -> Any:
    """Run ``cell`` in ``shell`` as one tracked run; return the (finished) run.

    See the module docstring for what is recorded. Exceptions from the cell are
    raised again after the run is marked Failed (or Canceled for
    ``KeyboardInterrupt``), so the notebook cell fails as it should.

    Example:
        >>> run = run_tracked_cell(get_ipython(), "run.log('a', 1)", workspace=ws)  # doctest: +SKIP
    """
    __tracebackhide__ = True  # noqa: F841
    compiled = compile_cell(shell, cell, magic_line)
    cell_run = CellRun.start(cell, workspace=workspace, experiment=experiment, name=name,
                             tags=tags, magic_line=magic_line)
    shell.user_ns["run"] = cell_run.run
    error: BaseException | None = None
    try:
        with cell_run.capture():
            compiled.execute(shell.user_ns)
    except BaseException as exc:
        error = exc
        raise
    finally:
        cell_run.finish(error)
        if show:
            _show_summary(cell_run.run)
    return cell_run.run


def _show_summary(run: Any) -> None:
    from IPython.display import display

    with contextlib.suppress(AmlHandsOnError):
        display(RunSummary.of(run))


# -- tables for %aml_runs / %aml_workspace ----------------------------------------------------


@dataclass
class RunsTable:
    """The latest runs of an experiment, as plain rows (HTML and text renderings).

    Example:
        >>> table = runs_table(ws, "notebook-runs", top=5)  # doctest: +SKIP
        >>> table.rows[0]["status"]  # doctest: +SKIP
        'Completed'
    """

    experiment: str
    total: int
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    _BASE = ("number", "id", "name", "status", "duration")

    def cells(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows as text cells: Run, Id, Name, Status, Duration, Tags?, Parameters?, metrics...

        A HyperDrive parent is followed by its trials (``└ …_<n>``) with their parameters.
        """
        has_tags = any(r["tags"] for r in self.rows)
        has_params = any(r.get("parameters") for r in self.rows)
        head = ["Run", "Id", "Name", "Status", "Duration"] + (["Tags"] if has_tags else [])
        head += (["Parameters"] if has_params else []) + self.columns
        body = []
        for r in self.rows:
            short = f"└ …{r['id'][r['id'].rfind('_'):]}" if r.get("trial") else r["id"][:8] + "…"
            cells = [str(r["number"]), short, r["name"], r["status"],
                     format_duration(r["duration_seconds"])]
            if has_tags:
                cells.append(", ".join(f"{k}={v}" for k, v in r["tags"].items()))
            if has_params:
                cells.append(", ".join(f"{k.lstrip('-')}={format_value(v, 12)}"
                                       for k, v in (r.get("parameters") or {}).items()))
            cells += [format_value(r["metrics"][c], 16) if c in r["metrics"] else ""
                      for c in self.columns]
            body.append(cells)
        return head, body

    def _caption(self) -> str:
        shown = sum(not r.get("trial") for r in self.rows)
        more = f" (新しい順に {shown} 件を表示)" if self.total > shown else ""
        return f"Experiment {self.experiment}: {self.total} runs{more}"

    def __str__(self) -> str:
        if not self.rows:
            return f"Experiment {self.experiment}: まだ Run がありません。"
        head, body = self.cells()
        return self._caption() + "\n" + text_table(head, body)

    __repr__ = __str__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        import html

        if not self.rows:
            return f"<div>{html.escape(str(self))}</div>"
        head, body = self.cells()
        return html_table(head, body, caption=self._caption())


def _experiment_names(workspace: Any) -> list[str]:
    return [rec.name for rec in Store.open(workspace.path).experiments.list()]


#: A HyperDrive parent's configuration tags (not shown in the runs table).
_HYPERDRIVE_TAGS = ("generator_config", "policy_config", "primary_metric_config", "max_total_jobs",
                    "max_concurrent_jobs", "max_duration_minutes")
#: Trials listed under a HyperDrive parent in the runs table.
MAX_TRIALS_SHOWN = 50


def runs_table(workspace: Any, experiment: str | None = None, top: int = 10) -> RunsTable:
    """The ``top`` latest top-level runs of ``experiment`` with the last value of each scalar metric.

    A HyperDrive parent is followed by its trials (up to :data:`MAX_TRIALS_SHOWN`), each
    with its hyperparameters in a ``Parameters`` column.

    Example:
        >>> print(runs_table(ws, "notebook-runs"))  # doctest: +SKIP
    """
    import itertools

    from .core._metrics import LIST, SCALAR
    from .core.experiment import Experiment

    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise UserErrorException(f"--top には 1 以上の整数を指定してください ({top!r})。")
    name = experiment or last_experiment_name()
    names = _experiment_names(workspace)
    if name not in names:
        known = ", ".join(names) if names else "(まだありません)"
        raise UserErrorException(
            f"Experiment {name!r} はワークスペース {workspace.name!r} にありません。"
            f"ある experiment: {known}")
    exp = Experiment(workspace, name)
    store = Store.open(workspace.path)
    experiment_record = store.experiments.ensure(name)
    total = store.runs.count(experiment_record.pk, top_level=True)
    rows: list[dict[str, Any]] = []
    columns: list[str] = []
    now = time.time()
    def row(run: Any, **extra: Any) -> dict[str, Any]:
        kinds = store.metrics.kinds(run.record.pk)
        values = run.get_metrics()
        metrics: dict[str, Any] = {}
        for metric, kind in kinds.items():
            if kind in (SCALAR, LIST) and metric in values:
                value = values[metric]
                if isinstance(value, list):
                    if not value:
                        continue
                    value = value[-1]
                metrics[metric] = value
                if metric not in columns:
                    columns.append(metric)
        start, end = run.record.start_time, run.record.end_time
        display = run.display_name
        return {"number": run.number, "id": run.id,
                "name": "" if display == f"run_{run.id}" else display,
                "status": run.get_status(),
                "duration_seconds": None if start is None else (end if end is not None else now) - start,
                "tags": run.get_tags(), "metrics": metrics, **extra}

    for run in itertools.islice(exp.get_runs(), top):
        if run.type != "hyperdrive":
            rows.append(row(run))
            continue
        params = run.get_hyperparameters()
        parent = row(run)
        parent["tags"] = {k: v for k, v in parent["tags"].items()
                          if k not in _HYPERDRIVE_TAGS and not k.startswith(f"{run.id}_")}
        rows.append(parent)
        for child in itertools.islice(run.get_children(), MAX_TRIALS_SHOWN):
            rows.append(row(child, parameters=params.get(child.id, {}), trial=True, tags={},
                            name=""))
    return RunsTable(experiment=name, total=total, columns=columns, rows=rows)


@dataclass
class WorkspaceInfo:
    """What ``%aml_workspace`` shows: the workspace, where its data lives, how much it holds."""

    name: str
    resource_group: str
    subscription_id: str
    location: str
    data_path: str
    config_path: str | None
    experiments: int
    runs: int
    models: int

    def items(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs in display order."""
        return [
            ("Workspace", self.name),
            ("Resource group", self.resource_group),
            ("Subscription", self.subscription_id),
            ("Location", self.location),
            ("Data folder", self.data_path),
            ("config.json", self.config_path or "-"),
            ("Experiments", str(self.experiments)),
            ("Runs", str(self.runs)),
            ("Models", str(self.models)),
        ]

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.items())
        return "\n".join(f"{k.ljust(width)} : {v}" for k, v in self.items())

    __repr__ = __str__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        import html

        cell = "border:1px solid #ddd;padding:2px 8px;text-align:left"
        rows = "".join(f'<tr><th style="{cell};background:#f3f2f1">{html.escape(k)}</th>'
                       f'<td style="{cell}"><code>{html.escape(v)}</code></td></tr>'
                       for k, v in self.items())
        return f'<table style="border-collapse:collapse;font-size:13px">{rows}</table>'


def workspace_info(workspace: Any, config_path: str | os.PathLike[str] | None = None) -> WorkspaceInfo:
    """Collect :class:`WorkspaceInfo` for ``workspace`` (counts read from its store).

    Example:
        >>> print(workspace_info(ws))  # doctest: +SKIP
        Workspace      : docs-ws
        ...
    """
    store = Store.open(workspace.path)
    config = _rel_config(Path(config_path)) if config_path is not None else None
    return WorkspaceInfo(
        name=workspace.name,
        resource_group=workspace.resource_group,
        subscription_id=workspace.subscription_id,
        location=workspace.location,
        data_path=display_path(workspace.path),
        config_path=config,
        experiments=len(store.experiments.list()),
        runs=store.runs.count(),
        models=len(store.models.list()),
    )


def _rel_config(path: Path) -> str:
    try:
        rel = os.path.relpath(path.resolve())
    except ValueError:
        return display_path(path)
    return rel if not rel.startswith(".." + os.sep + "..") else display_path(path)


def find_config() -> Path | None:
    """The ``config.json`` that ``Workspace.from_config()`` would use, or ``None``.

    Example:
        >>> find_config()  # doctest: +SKIP
        PosixPath('/home/me/course/config.json')
    """
    from .core.workspace import find_config

    try:
        return find_config(None, None)
    except ConfigNotFoundError:
        return None
