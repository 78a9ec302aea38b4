"""``PublishedPipeline``: a pipeline frozen under a name and id, submittable from the SDK and over HTTP.

As in v1, publishing freezes the pipeline: the graph *and* each step's scripts
(a copy of each source folder, with the snapshot's ignore rules, is kept in the
workspace under ``pipelines/<id>/``), so editing a script afterwards changes
later submissions of the ``Pipeline`` object, not the published one.

``published.endpoint`` is a REST URL served on this machine (loopback only by
default; see :mod:`._detached`): a ``POST`` with
``InteractiveLoginAuthentication().get_authentication_header()`` and
``{"ExperimentName": ..., "ParameterAssignments": {...}}`` starts a run and
answers its ``Id``.

Example:
    >>> published = pipeline.publish(name="mnist-train", description="MNIST", version="1.0")  # doctest: +SKIP
    >>> run = published.submit(ws, "pipelines", pipeline_parameters={"k": 5})  # doctest: +SKIP
    >>> requests.post(published.endpoint, headers=auth.get_authentication_header(),  # doctest: +SKIP
    ...               json={"ExperimentName": "pipelines"}).json()["Id"]
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

from ..._paths import check_name
from ..._store import Store
from ..._store.pipelines import PipelineRecord
from ...core.compute._snapshot import make_snapshot
from ...exceptions import UserErrorException
from . import _detached
from .graph import PipelineParameter
from .pipeline_run import PipelineRun, submit_graph

__all__ = ["PublishedPipeline", "check_assignments", "PIPELINES_FOLDER"]

#: Where published pipelines keep their scripts, under the workspace's folder.
PIPELINES_FOLDER = "pipelines"


class PipelineNotFound(UserErrorException, LookupError):
    """No published pipeline with that id in this workspace."""


def check_assignments(graph: dict[str, Any], assignments: Any) -> dict[str, Any]:
    """Every parameter's value for a submission of ``graph``: checked, defaults filled in.

    Example:
        >>> check_assignments({"parameters": {"k": 3, "rate": 0.5}}, {"rate": 1})
        {'k': 3, 'rate': 1.0}
        >>> check_assignments({"parameters": {"k": 3}}, {"x": 1})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        amlhandson.exceptions.UserErrorException: ParameterAssignments の ['x'] は...
    """
    defaults = dict(graph.get("parameters") or {})
    if assignments is None:
        assignments = {}
    if not isinstance(assignments, dict):
        raise UserErrorException("ParameterAssignments (pipeline_parameters) は {\"名前\": 値} の"
                                 f"オブジェクトにしてください ({type(assignments).__name__} が渡されました)。")
    unknown = sorted(set(assignments) - set(defaults))
    if unknown:
        raise UserErrorException(
            f"ParameterAssignments の {unknown} はこのパイプラインのパラメーターではありません "
            f"(あるもの: {sorted(defaults) or 'なし'})。")
    return {name: PipelineParameter(name, default).resolve(assignments)
            for name, default in defaults.items()}


def _freeze_sources(workspace: Any, pipeline_id: str, graph: dict[str, Any],
                    snapshots: dict[str, str]) -> dict[str, Any]:
    """Copy each step's scripts into the workspace; the graph then points at the copies."""
    root = Path(workspace.path) / PIPELINES_FOLDER / pipeline_id
    frozen = dict(graph)
    steps = []
    try:
        for step in graph.get("steps", []):
            step = dict(step)
            if step.get("sourceDirectory"):
                folder = root / step["id"]
                folder.mkdir(parents=True, exist_ok=True)
                stored = snapshots.get(step["name"])
                if stored is not None and Path(stored).is_file():
                    with zipfile.ZipFile(stored) as zf:
                        zf.extractall(folder)
                else:
                    snap = make_snapshot(step["sourceDirectory"])
                    with zipfile.ZipFile(_BytesReader(snap.data)) as zf:
                        zf.extractall(folder)
                step["publishedFrom"] = step["sourceDirectory"]
                step["sourceDirectory"] = str(folder)
            steps.append(step)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    frozen["steps"] = steps
    return frozen


def _BytesReader(data: bytes) -> Any:  # noqa: N802 - reads like the class it returns
    import io

    return io.BytesIO(data)


class PublishedPipeline:
    """A published pipeline of a workspace (v1 ``azureml.pipeline.core.PublishedPipeline``).

    Example:
        >>> published = PublishedPipeline.get(ws, id=published_id)  # doctest: +SKIP
        >>> published.status  # doctest: +SKIP
        'Active'
    """

    def __init__(self, workspace: Any, record: PipelineRecord) -> None:
        self._workspace = workspace
        self._record = record

    # -- creation ----------------------------------------------------------------------------
    @classmethod
    def _publish(cls, workspace: Any, graph: dict[str, Any], name: str,
                 description: str | None = None, version: str | None = None,
                 continue_on_step_failure: bool | None = None, source_run_id: str | None = None,
                 snapshots: dict[str, str] | None = None) -> PublishedPipeline:
        """Store ``graph`` (with copies of its scripts) as a published pipeline."""
        check_name(name, "公開するパイプライン")
        if version is not None and not isinstance(version, str):
            raise UserErrorException(f"version は文字列にしてください (例: '1.0')。{version!r} が"
                                     "渡されました。")
        import uuid

        pipeline_id = str(uuid.uuid4())
        graph = dict(graph)
        if continue_on_step_failure is not None:
            graph["continueOnStepFailure"] = bool(continue_on_step_failure)
        frozen = _freeze_sources(workspace, pipeline_id, graph, snapshots or {})
        record = Store.open(workspace.path).pipelines.create(
            graph=frozen, name=name, description=description, version=version, published=True,
            source_run_id=source_run_id, pipeline_id=pipeline_id)
        return cls(workspace, record)

    # -- v1 look-ups -------------------------------------------------------------------------
    @staticmethod
    def get(workspace: Any, id: str, _workflow_provider: Any = None,
            _service_endpoint: Any = None) -> PublishedPipeline:
        """The published pipeline ``id`` (raises if there is none).

        Example:
            >>> PublishedPipeline.get(ws, id="0f1c...")  # doctest: +SKIP
        """
        record = Store.open(workspace.path).pipelines.get(str(id)) if id else None
        if record is None or not record.published:
            raise PipelineNotFound(f"PublishedPipeline {id!r} はワークスペース {workspace.name!r} "
                                   "にありません。PublishedPipeline.list(ws) で一覧を見られます。")
        return PublishedPipeline(workspace, record)

    @staticmethod
    def list(workspace: Any, active_only: bool = True,
             _service_endpoint: Any = None) -> list[PublishedPipeline]:
        """The workspace's published pipelines, newest first (only Active ones by default).

        Example:
            >>> [p.name for p in PublishedPipeline.list(ws)]  # doctest: +SKIP
            ['mnist-train']
        """
        records = Store.open(workspace.path).pipelines.list(
            published=True, status="Active" if active_only else None)
        return [PublishedPipeline(workspace, r) for r in records]

    get_all = list

    # -- properties --------------------------------------------------------------------------
    id = property(lambda self: self._record.id, doc="The published pipeline's id.")
    name = property(lambda self: self._record.name, doc="Its name.")
    description = property(lambda self: self._record.description, doc="Its description.")
    version = property(lambda self: self._record.version, doc="Its version text.")

    @property
    def status(self) -> str:
        """``Active`` or ``Disabled`` (read again from the workspace)."""
        self._refresh()
        return self._record.status

    @property
    def graph(self) -> dict[str, Any]:
        """The frozen graph (steps, data, parameters)."""
        return dict(self._record.graph)

    @property
    def workspace(self) -> Any:
        """The workspace it belongs to."""
        return self._workspace

    @property
    def total_run_steps(self) -> int:
        """How many steps a run of it has."""
        return len(self._record.graph.get("steps", []))

    @property
    def continue_on_step_failure(self) -> bool:
        """Whether independent steps go on after a step failed (the default, as in v1)."""
        return bool(self._record.graph.get("continueOnStepFailure", True))

    @property
    def parameters(self) -> dict[str, Any]:
        """The pipeline parameters and their default values."""
        return dict(self._record.graph.get("parameters") or {})

    @property
    def endpoint(self) -> str:
        """The REST URL that starts a run (the endpoint server is started if it is not running).

        Example:
            >>> published.endpoint  # doctest: +SKIP
            'http://127.0.0.1:53127/pipelines/v1.0/subscriptions/.../PipelineSubmit/0f1c...'
        """
        base = _detached.ensure_endpoint(self._workspace)
        return base + endpoint_path(self._workspace, self.id)

    def _refresh(self) -> None:
        record = Store.open(self._workspace.path).pipelines.get(self.id)
        if record is not None:
            self._record = record

    # -- v1 actions --------------------------------------------------------------------------
    def disable(self) -> None:
        """Stop accepting submissions (SDK, endpoint and schedules); :meth:`enable` undoes it.

        Example:
            >>> published.disable()  # doctest: +SKIP
        """
        self._record = Store.open(self._workspace.path).pipelines.set_status(
            self.id, "Disabled") or self._record

    def enable(self) -> None:
        """Accept submissions again.

        Example:
            >>> published.enable()  # doctest: +SKIP
        """
        self._record = Store.open(self._workspace.path).pipelines.set_status(
            self.id, "Active") or self._record

    def submit(self, workspace: Any, experiment_name: str,
               pipeline_parameters: dict[str, Any] | None = None, _workflow_provider: Any = None,
               _service_endpoint: Any = None, parent_run_id: str | None = None,
               continue_on_step_failure: bool | None = None,
               tags: dict[str, Any] | None = None) -> PipelineRun:
        """Start a run of the published pipeline in this process; returns the ``PipelineRun``.

        Example:
            >>> run = published.submit(ws, "pipelines", {"k": 5})  # doctest: +SKIP
            >>> run.wait_for_completion()  # doctest: +SKIP
        """
        from ...core import _catalog

        self._refresh()
        if self._record.status != "Active":
            raise UserErrorException(
                f"PublishedPipeline {self.name!r} ({self.id}) は {self._record.status} なので実行"
                "できません。published_pipeline.enable() で有効にしてから submit してください。")
        parameters = check_assignments(self._record.graph, pipeline_parameters)
        experiment = _catalog.resolve("Experiment")(workspace or self._workspace,
                                                    experiment_name)
        return submit_graph(experiment, self._record.graph, parameters, tags=tags,
                            pipeline_id=self.id)

    def __repr__(self) -> str:
        return (f"PublishedPipeline(Name: {self.name},\nId: {self.id},\nStatus: "
                f"{self._record.status},\nVersion: {self.version})")

    def _repr_html_(self) -> str:
        from ..._tables import html_table

        return html_table(["Name", "Id", "Status", "Version", "Description"],
                          [[self.name, self.id, self._record.status, self.version or "",
                            self.description or ""]])


def endpoint_path(workspace: Any, pipeline_id: str) -> str:
    """The path part of a published pipeline's endpoint (v1's shape).

    Example:
        >>> class W: subscription_id, resource_group, name = "sub", "rg", "ws"
        >>> endpoint_path(W(), "p1")
        '/pipelines/v1.0/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/PipelineRuns/PipelineSubmit/p1'
    """
    return (f"/pipelines/v1.0/subscriptions/{workspace.subscription_id}/resourceGroups/"
            f"{workspace.resource_group}/providers/Microsoft.MachineLearningServices/workspaces/"
            f"{workspace.name}/PipelineRuns/PipelineSubmit/{pipeline_id}")
