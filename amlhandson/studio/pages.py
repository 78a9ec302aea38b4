"""The studio's HTML pages (Japanese UI), rendered on the server from :mod:`._data`.

Every page is a plain HTML document with one small script (``studio.js``) for
the explicit actions (create a workspace, test call, delete, cancel), the
compare selection and the live refresh of a running run.

Example (URLs below the server's base URL)::

    studio/                                   workspaces, create form
    studio/ws/<rg>/<ws>/                      workspace: details, experiments
    studio/ws/<rg>/<ws>/experiments/<exp>     runs table
    studio/ws/<rg>/<ws>/runs/<run id>         one run
    studio/ws/<rg>/<ws>/compare?runs=a,b      runs side by side
    studio/ws/<rg>/<ws>/compute               compute targets
    studio/ws/<rg>/<ws>/data                  datastores and datasets
    studio/ws/<rg>/<ws>/models                models
    studio/ws/<rg>/<ws>/endpoints[/<name>]    web services, test form
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode

from tornado import web

from . import _data, _infra, _registry, _render, _run
from ._web import SEGMENT, WS, PageHandler

__all__ = ["ROUTES"]

_HELPERS = {"fmt_time": _render.fmt_time, "fmt_duration": _render.fmt_duration,
            "fmt_value": _render.fmt_value, "status_class": _render.STATUS_CLASS}
#: Runs per page of the runs table.
PAGE_SIZE = 50


_views: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_views_lock = threading.Lock()


async def run_view_cached(handler: Any, ws: Any, run_id: str, charts: bool = True) -> dict:
    """The run page's data, rendered once per change of the run however many browsers poll it.

    Example:
        >>> view = await run_view_cached(self, ws, run_id)  # doctest: +SKIP
    """
    version = await handler.blocking(_run.run_version, ws, run_id)
    key = (str(ws.path), run_id, version["version"], charts)
    with _views_lock:
        view = _views.get(key)
    if view is None:
        detail = await handler.blocking(_run.run_detail, ws, run_id)
        view = await handler.blocking(_render.run_view, detail, charts=charts)
        with _views_lock:
            _views[key] = view
            while len(_views) > 16:
                _views.popitem(last=False)
    return view


class _Page(PageHandler):
    def show(self, template: str, **context: Any) -> None:
        context.update(_HELPERS)
        self.page(template, **context)

    async def workspace(self, rg: str, name: str) -> Any:
        return await self.blocking(_data.open_workspace, rg, name)

    def crumbs(self, ws: Any, *more: tuple[str, str | None]) -> list[tuple[str, str | None]]:
        return [("ワークスペース", self.url()),
                (ws.name, self.url("ws", ws.resource_group, ws.name, "")), *more]


class HomePage(_Page):
    """Workspaces on this machine, and the form to create one.

    Example::

        GET studio/
    """

    @web.authenticated
    async def get(self) -> None:
        items = await self.blocking(_data.list_workspaces)
        self.show("workspaces.html", workspaces=items, crumbs=[("ワークスペース", None)],
                  title="ワークスペース - AML Studio")


class WorkspacePage(_Page):
    """One workspace: details, config.json, experiments, links to models and endpoints.

    Example::

        GET studio/ws/docs-aml/docs-ws/
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        details = await self.blocking(_data.workspace_details, ws)
        experiments = await self.blocking(_data.list_experiments, ws)
        self.show("workspace.html", ws=ws, details=details, experiments=experiments,
                  crumbs=self.crumbs(ws), title=f"{ws.name} - AML Studio")


class RunsPage(_Page):
    """The runs of one experiment: filter, sort, pick metric columns, tick runs to compare them.

    Example::

        GET studio/ws/docs-aml/docs-ws/experiments/my-first-experiment?sort=metric:accuracy
    """

    @web.authenticated
    async def get(self, rg: str, name: str, experiment: str) -> None:
        ws = await self.workspace(rg, name)
        args = self.args()
        query = await self.blocking(_data.RunQuery.parse, args)
        offset = self.arg_int("offset", 0)
        limit = self.arg_int("limit", PAGE_SIZE, 1, _data.MAX_LIMIT)
        result = await self.blocking(_data.list_runs, ws, experiment, query, offset, limit)
        keep = {k: v for k, v in args.items() if k not in ("offset", "sort", "desc")}

        def link(**changes: Any) -> str:
            params = {k: list(v) for k, v in keep.items()}
            params.update({k: [str(v)] for k, v in changes.items()})
            return "?" + urlencode(params, doseq=True)

        self.show("runs.html", ws=ws, experiment=experiment, result=result, query=query,
                  link=link, args=args,
                  crumbs=self.crumbs(ws, ("実験", self.url("ws", rg, name, "experiments")),
                                     (experiment, None)),
                  title=f"{experiment} - AML Studio")


class ExperimentsPage(_Page):
    """Every experiment of a workspace with run counts and latest activity.

    Example::

        GET studio/ws/docs-aml/docs-ws/experiments
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        experiments = await self.blocking(_data.list_experiments, ws)
        self.show("experiments.html", ws=ws, experiments=experiments,
                  crumbs=self.crumbs(ws, ("実験", None)), title=f"実験 - {ws.name}")


class RunPage(_Page):
    """One run; ``?partial=live`` renders only the part that live refresh replaces.

    Example::

        GET studio/ws/docs-aml/docs-ws/runs/<run id>
    """

    @web.authenticated
    async def get(self, rg: str, name: str, run_id: str) -> None:
        ws = await self.workspace(rg, name)
        view = detail = await run_view_cached(self, ws, run_id)
        template = "run_live.html" if self.args().get("partial") == ["live"] else "run.html"
        crumbs = self.crumbs(ws, ("実験", self.url("ws", rg, name, "experiments")),
                             (detail["experiment"],
                              self.url("ws", rg, name, "experiments", detail["experiment"])),
                             (f"Run {detail['number']}", None))
        self.show(template, ws=ws, run=view, crumbs=crumbs,
                  title=f"Run {detail['number']} - {detail['experiment']}")


class FilePage(_Page):
    """A run file shown as text (escaped), with a download link.

    Example::

        GET studio/ws/docs-aml/docs-ws/runs/<run id>/files/outputs%2Fmodel.pkl
    """

    MAX_BYTES = 512_000

    @web.authenticated
    async def get(self, rg: str, name: str, run_id: str, file_name: str) -> None:
        ws = await self.workspace(rg, name)
        path = await self.blocking(_run.run_file, ws, run_id, file_name)

        def read() -> tuple[str, bool, int]:
            size = path.stat().st_size
            with open(path, "rb") as fh:
                data = fh.read(self.MAX_BYTES)
            binary = b"\0" in data[:4096]
            return ("" if binary else data.decode("utf-8", "replace")), binary, size

        text, binary, size = await self.blocking(read)
        detail = {"run_id": run_id}
        self.show("file.html", ws=ws, run=detail, file_name=file_name, text=text,
                  binary=binary, size=size, truncated=size > self.MAX_BYTES,
                  crumbs=self.crumbs(ws, ("Run", self.url("ws", rg, name, "runs", run_id)),
                                     (file_name, None)),
                  title=f"{file_name} - AML Studio")


class ComparePage(_Page):
    """Selected runs side by side: metrics table, overlaid series, a parameter/metric scatter.

    Example::

        GET studio/ws/docs-aml/docs-ws/compare?runs=<id>,<id>
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        args = self.args()
        run_ids = [r for v in args.get("runs", []) for r in v.split(",") if r.strip()]
        if not run_ids:
            raise web.HTTPError(400, "比較する Run を選んでください (runs=ID,ID)。")
        if len(run_ids) > 50:
            raise web.HTTPError(400, "一度に比較できる Run は 50 個までです。")
        data = await self.blocking(_run.compare_runs, ws, run_ids)
        x_param = (args.get("x") or [""])[-1] or None
        y_metric = (args.get("y") or [""])[-1] or None
        params = [f"tag:{t}" for t in data["tag_keys"]] + \
            [f"metric:{m}" for m in data["metric_names"]]
        if x_param is None and params:
            x_param = params[0]
        if y_metric is None and data["metric_names"]:
            y_metric = data["metric_names"][0]
        view = await self.blocking(_render.compare_view, data, x_param, y_metric)
        self.show("compare.html", ws=ws, data=data, view=view, params=params, x_param=x_param,
                  y_metric=y_metric, run_ids=",".join(run_ids),
                  crumbs=self.crumbs(ws, ("比較", None)), title="Run の比較 - AML Studio")


class ModelsPage(_Page):
    """Registered models: versions, tags, hashes, the producing run, download.

    Example::

        GET studio/ws/docs-aml/docs-ws/models
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        models = await self.blocking(_registry.list_models, ws)
        self.show("models.html", ws=ws, models=models, crumbs=self.crumbs(ws, ("モデル", None)),
                  title=f"モデル - {ws.name}")


class EndpointsPage(_Page):
    """Deployed web services with state and scoring URI.

    Example::

        GET studio/ws/docs-aml/docs-ws/endpoints
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        services = await self.blocking(_registry.list_services, ws)
        self.show("endpoints.html", ws=ws, services=services,
                  crumbs=self.crumbs(ws, ("エンドポイント", None)),
                  title=f"エンドポイント - {ws.name}")


class EndpointPage(_Page):
    """One service: details, swagger link, logs, the test form, delete.

    Example::

        GET studio/ws/docs-aml/docs-ws/endpoints/sklearn-mnist-svc
    """

    @web.authenticated
    async def get(self, rg: str, name: str, service: str) -> None:
        ws = await self.workspace(rg, name)
        detail = await self.blocking(_registry.service_detail, ws, service)
        self.show("endpoint.html", ws=ws, service=detail,
                  crumbs=self.crumbs(ws, ("エンドポイント", self.url("ws", rg, name, "endpoints")),
                                     (service, None)),
                  title=f"{service} - AML Studio")


class ComputePage(_Page):
    """Compute targets ('local', AmlCompute clusters, attached Dask) with their state.

    Example::

        GET studio/ws/docs-aml/docs-ws/compute
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        targets = await self.blocking(_infra.list_compute, ws)
        self.show("compute.html", ws=ws, targets=targets,
                  crumbs=self.crumbs(ws, ("コンピューティング", None)),
                  title=f"コンピューティング - {ws.name}")


class DataPage(_Page):
    """Datastores and registered datasets (every version).

    Example::

        GET studio/ws/docs-aml/docs-ws/data
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        datastores = await self.blocking(_infra.list_datastores, ws)
        datasets = await self.blocking(_infra.list_datasets, ws)
        self.show("data.html", ws=ws, datastores=datastores, datasets=datasets,
                  crumbs=self.crumbs(ws, ("データ", None)), title=f"データ - {ws.name}")


ROUTES = [
    (r"/studio/?", HomePage),
    (rf"/{WS}/?", WorkspacePage),
    (rf"/{WS}/experiments/?", ExperimentsPage),
    (rf"/{WS}/experiments/{SEGMENT}/?", RunsPage),
    (rf"/{WS}/runs/{SEGMENT}/?", RunPage),
    (rf"/{WS}/runs/{SEGMENT}/files/(.+)", FilePage),
    (rf"/{WS}/compare/?", ComparePage),
    (rf"/{WS}/compute/?", ComputePage),
    (rf"/{WS}/data/?", DataPage),
    (rf"/{WS}/models/?", ModelsPage),
    (rf"/{WS}/endpoints/?", EndpointsPage),
    (rf"/{WS}/endpoints/{SEGMENT}/?", EndpointPage),
]
