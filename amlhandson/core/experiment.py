"""``Experiment``: a named group of runs in a workspace, as in Azure ML v1.

Example:
    >>> from amlhandson.core import Workspace, Experiment
    >>> ws = Workspace.from_config()  # doctest: +SKIP
    >>> exp = Experiment(workspace=ws, name="my-first-experiment")  # doctest: +SKIP
    >>> run = exp.start_logging()  # doctest: +SKIP
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .. import _paths
from ..exceptions import UserErrorException
from ._status import reconcile
from .run import _RUN_COLUMNS, Run, _matches, _note_cell_run

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["Experiment"]


class Experiment:
    """A named collection of runs.

    Example:
        >>> exp = Experiment(ws, "my-first-experiment")  # doctest: +SKIP
        >>> exp  # doctest: +SKIP
        Experiment(Name: my-first-experiment,
        Workspace: docs-ws)
    """

    def __init__(self, workspace: Workspace, name: str, **_: Any) -> None:
        from .workspace import Workspace

        if not isinstance(workspace, Workspace):
            raise UserErrorException(
                "Experiment(workspace, name): 1 つ目の引数には Workspace を渡してください "
                f"({type(workspace).__name__} が渡されました)。例: Experiment(ws, 'my-first-experiment')"
            )
        self._workspace = workspace
        self._name = _paths.check_name(name, "experiment")
        store = workspace._store
        rows = store.query("SELECT pk FROM experiments WHERE name=?", (name,))
        if not rows:
            with store.transaction() as conn:
                conn.execute("INSERT OR IGNORE INTO experiments(name, created) VALUES (?, ?)",
                             (name, time.time()))
                rows = conn.execute("SELECT pk FROM experiments WHERE name=?", (name,)).fetchall()
        self._pk: int = rows[0][0]

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self._name

    @property
    def workspace(self) -> Workspace:
        """The workspace the experiment belongs to."""
        return self._workspace

    @property
    def id(self) -> str:
        """A stable id for the experiment within its workspace."""
        return f"{self._workspace.name}:{self._pk}"

    @staticmethod
    def list(workspace: Workspace, experiment_name: str | None = None) -> list[Experiment]:
        """Every experiment of ``workspace`` (or the one named ``experiment_name``)."""
        exps = list(workspace.experiments.values())
        return [e for e in exps if experiment_name is None or e.name == experiment_name]

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name},\nWorkspace: {self._workspace.name})"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("Name", "Workspace", "Report Page", "Docs Page"))
        body = (f"<td>{html.escape(self.name)}</td><td>{html.escape(self._workspace.name)}</td>"
                f"<td><code>amlhandson runs list -e {html.escape(self.name)}</code></td>"
                '<td><a href="https://learn.microsoft.com/python/api/azureml-core/azureml.core.'
                'experiment.experiment?view=azure-ml-py" target="_blank">'
                "Link to Documentation</a></td>")
        return f"<table style='width:100%'><tr>{head}</tr><tr>{body}</tr></table>"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Experiment) and other._pk == self._pk
                and other._workspace == self._workspace)

    def __hash__(self) -> int:
        return hash((self._workspace, self._pk))

    def start_logging(self, *args: Any, name: str | None = None, run_id: str | None = None,
                      outputs: str | None = None, snapshot_directory: str | None = ".",
                      display_name: str | None = None, **kwargs: Any) -> Run:
        """Start an interactive run (status Running) and return it.

        Use it as a context manager to complete it (or fail it on an exception).
        Re-running a notebook cell closes the run the cell's earlier execution
        left open.

        Example:
            >>> with exp.start_logging() as run:  # doctest: +SKIP
            ...     run.log("trial", 1)
        """
        run = Run._create(self, name=display_name or name, run_id=run_id, outputs=outputs)
        _note_cell_run(run)
        return run

    def submit(self, config: Any, tags: dict[str, Any] | None = None, **kwargs: Any) -> Run:
        """Submit a run configuration (``ScriptRunConfig``, HyperDrive, Pipeline ...)."""
        submit = getattr(config, "_submit", None)
        if submit is None:
            raise UserErrorException(
                f"experiment.submit: {type(config).__name__} は submit できません。"
                "ScriptRunConfig などの実行構成を渡してください。"
            )
        return submit(self, tags=tags, **kwargs)

    def get_runs(self, type: str | None = None, tags: Any = None, properties: Any = None,
                 include_children: bool = False) -> Iterator[Run]:
        """The experiment's runs, newest first (top-level only unless ``include_children``).

        ``tags`` / ``properties`` filter by key (``"k"``, ``["k1", "k2"]``) or by
        key and value (``{"k": "v"}``).

        Example:
            >>> latest = next(exp.get_runs())  # doctest: +SKIP
        """
        store = self._workspace._store
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE experiment_pk=?"
        if not include_children:
            sql += " AND parent_pk IS NULL"
        for row in store.query(sql + " ORDER BY created DESC, pk DESC", (self._pk,)):
            run = Run._from_row(self, row)
            run._row["status"] = reconcile(store, run._row)
            if _matches(run, tags, properties, type, None):
                yield run
