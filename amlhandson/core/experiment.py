"""``Experiment``: a named group of runs in a workspace, as in Azure ML v1.

Example:
    >>> from amlhandson.core import Workspace, Experiment
    >>> ws = Workspace.from_config()  # doctest: +SKIP
    >>> exp = Experiment(workspace=ws, name="my-first-experiment")  # doctest: +SKIP
    >>> run = exp.start_logging()  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .. import _paths
from .._filters import matches
from .._store import Store
from ..exceptions import UserErrorException
from ..studio import links
from . import _catalog
from ._status import reconcile
from .workspace import Workspace

if TYPE_CHECKING:
    from .run import Run

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
        if not isinstance(workspace, Workspace):
            raise UserErrorException(
                "Experiment(workspace, name): 1 つ目の引数には Workspace を渡してください "
                f"({type(workspace).__name__} が渡されました)。例: Experiment(ws, 'my-first-experiment')"
            )
        self._workspace = workspace
        self._name = _paths.check_name(name, "experiment")
        self._store = Store.open(workspace.path)
        self._record = self._store.experiments.ensure(name)

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
        return f"{self._workspace.name}:{self._record.pk}"

    @staticmethod
    def list(workspace: Workspace, experiment_name: str | None = None) -> list[Experiment]:
        """Every experiment of ``workspace`` (or the one named ``experiment_name``)."""
        exps = list(workspace.experiments.values())
        return [e for e in exps if experiment_name is None or e.name == experiment_name]

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name},\nWorkspace: {self._workspace.name})"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("Name", "Workspace", "Report Page", "Docs Page"))
        studio = links.StudioLink(links.experiment_path(self), "Link to AML Studio")
        report = (studio._repr_html_() if studio.server is not None
                  else f"<code>amlhandson runs list -e {html.escape(self.name)}</code>")
        body = (f"<td>{html.escape(self.name)}</td><td>{html.escape(self._workspace.name)}</td>"
                f"<td>{report}</td>"
                '<td><a href="https://learn.microsoft.com/python/api/azureml-core/azureml.core.'
                'experiment.experiment?view=azure-ml-py" target="_blank">'
                "Link to Documentation</a></td>")
        return f"<table style='width:100%'><tr>{head}</tr><tr>{body}</tr></table>"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Experiment) and other.id == self.id
                and other._workspace == self._workspace)

    def __hash__(self) -> int:
        return hash((self._workspace, self.id))

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
        return _catalog.run_class(None).start(self, name=display_name or name, run_id=run_id,
                                              outputs=outputs)

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
        before, page = None, 50
        while True:  # page through the runs: the newest 20 of 100,000 cost one small query
            records = self._store.runs.list(self._record.pk, include_children=include_children,
                                            limit=page, before=before)
            tags_of = self._store.runs.tags_of(r.pk for r in records) if tags is not None else {}
            for record in records:
                if type is not None and record.type != type:
                    continue
                if tags is not None and not matches(tags_of[record.pk], tags):
                    continue
                run = _catalog.run_class(record.type)._attach(self, reconcile(self._store, record))
                if properties is not None and not matches(run.get_properties(), properties):
                    continue
                yield run
            if len(records) < page:
                return
            before = (records[-1].created, records[-1].pk)
            page = min(page * 2, 1000)
