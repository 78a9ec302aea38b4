"""The studio's JSON API (``<base_url>studio/api/...``), documented in docs/studio.md.

Reads are GET and paginate (``offset``, ``limit`` ≤ 500; replies
``{"total", "offset", "limit", "items"}``). The only writes are the explicit
actions: create a workspace, cancel a run, delete a service, send a test call.
Errors are ``{"message", "reason"}`` with 400 / 404 / 409.

Example (with the server's token)::

    curl -H "Authorization: token $T" http://127.0.0.1:8888/studio/api/workspaces
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tornado import web

from . import _data, _run
from ._web import SEGMENT, WS, ApiHandler
from .pages import run_view_cached

__all__ = ["ROUTES", "INLINE_TYPES"]

A = WS.replace("studio/ws/", "studio/api/ws/", 1)
#: File types shown inline (images); everything else is sent as text or as a download.
INLINE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".gif": "image/gif", ".webp": "image/webp"}
_SCORE_TIMEOUT = 120.0


class _Api(ApiHandler):
    async def workspace(self, rg: str, name: str) -> Any:
        return await self.blocking(_data.open_workspace, rg, name)

    def paging(self, default: int = 50) -> tuple[int, int]:
        return self.arg_int("offset", 0), self.arg_int("limit", default, 1, _data.MAX_LIMIT)


class WorkspacesApi(_Api):
    """GET: every workspace. POST ``{name, subscription_id, resource_group, location}``: create.

    Example::

        GET studio/api/workspaces
    """

    @web.authenticated
    async def get(self) -> None:
        offset, limit = self.paging()
        items = await self.blocking(_data.list_workspaces)
        self.send(_data.page(items, offset, limit))

    @web.authenticated
    async def post(self) -> None:
        form = self.body_json()
        self.send(await self.blocking(_data.create_workspace, form), status=201)


class WorkspaceApi(_Api):
    """GET: the workspace's details and counts.

    Example::

        GET studio/api/ws/docs-aml/docs-ws
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        self.send(await self.blocking(_data.workspace_details, ws))


class ConfigJsonApi(_Api):
    """GET: the workspace's ``config.json`` as a download.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/config.json
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        self.set_header("Content-Disposition", 'attachment; filename="config.json"')
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(_data.config_json(ws), indent=4) + "\n")


class ExperimentsApi(_Api):
    """GET: experiments with run counts, status counts and latest activity.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/experiments
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        offset, limit = self.paging()
        self.send(_data.page(await self.blocking(_data.list_experiments, ws), offset, limit))


class RunsApi(_Api):
    """GET: one page of an experiment's runs (``status``, ``tag``, ``range``, ``sort``, ``desc``,
    ``columns`` as on the runs page).

    Example::

        GET studio/api/ws/docs-aml/docs-ws/experiments/my-first-experiment/runs?limit=20
    """

    @web.authenticated
    async def get(self, rg: str, name: str, experiment: str) -> None:
        ws = await self.workspace(rg, name)
        query = await self.blocking(_data.RunQuery.parse, self.args())
        offset, limit = self.paging()
        self.send(await self.blocking(_data.list_runs, ws, experiment, query, offset, limit))


class RunApi(_Api):
    """GET: one run (status, times, details, metric summaries and charts, files, children).

    ``?charts=0`` leaves the SVG charts out (what the live refresh polls).

    Example::

        GET studio/api/ws/docs-aml/docs-ws/runs/<run id>?charts=0
    """

    @web.authenticated
    async def get(self, rg: str, name: str, run_id: str) -> None:
        ws = await self.workspace(rg, name)
        charts = self.args().get("charts", ["1"])[-1] != "0"
        self.send(await run_view_cached(self, ws, run_id, charts))


class RunVersionApi(_Api):
    """GET: ``{run_id, status, is_terminal, version}``: what a live page polls (cheap).

    Example::

        GET studio/api/ws/docs-aml/docs-ws/runs/<run id>/version
    """

    @web.authenticated
    async def get(self, rg: str, name: str, run_id: str) -> None:
        ws = await self.workspace(rg, name)
        self.send(await self.blocking(_run.run_version, ws, run_id))


class CancelRunApi(_Api):
    """POST: cancel a run that is still running.

    Example::

        POST studio/api/ws/docs-aml/docs-ws/runs/<run id>/cancel
    """

    @web.authenticated
    async def post(self, rg: str, name: str, run_id: str) -> None:
        ws = await self.workspace(rg, name)
        self.send(await self.blocking(_run.cancel_run, ws, run_id))


class MetricApi(_Api):
    """GET: exact values of one metric, paged; ``?format=csv`` or ``json`` downloads them all.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/runs/<run id>/metrics/loss?format=csv
    """

    @web.authenticated
    async def get(self, rg: str, name: str, run_id: str, metric: str) -> None:
        ws = await self.workspace(rg, name)
        fmt = self.args().get("format", [""])[-1]
        if fmt not in ("", "csv", "json"):
            raise web.HTTPError(400, "format は csv か json です。")
        if not fmt:
            offset, limit = self.paging(100)
            self.send(await self.blocking(_run.metric_values, ws, run_id, metric, offset, limit))
            return
        data = await self.blocking(_run.metric_values, ws, run_id, metric, 0, None)
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in metric) or "metric"
        self.set_header("Content-Disposition", f'attachment; filename="{safe}.{fmt}"')
        if fmt == "json":
            self.send(data)
            return
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["index", *data["columns"]])
        for i, item in enumerate(data["items"]):
            cells = [item[c] for c in data["columns"]] if isinstance(item, dict) else [item]
            writer.writerow([i, *cells])
        self.set_header("Content-Type", "text/csv; charset=UTF-8")
        self.finish(buf.getvalue())


class MetricChartApi(_Api):
    """GET ``?start=&end=`` (0-based, end excluded): ``{svg, start, end, count}``, a zoomed chart.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/runs/<run id>/metrics/loss/chart?start=1000&end=2000
    """

    @web.authenticated
    async def get(self, rg: str, name: str, run_id: str, metric: str) -> None:
        ws = await self.workspace(rg, name)
        args = self.args()
        start = self.arg_int("start", 0) if args.get("start") else None
        end = self.arg_int("end", 0) if args.get("end") else None
        self.send(await self.blocking(_run.metric_chart, ws, run_id, metric, start, end))


class FilesApi(_Api):
    """GET: the run's file names (paged).

    Example::

        GET studio/api/ws/docs-aml/docs-ws/runs/<run id>/files
    """

    @web.authenticated
    async def get(self, rg: str, name: str, run_id: str) -> None:
        ws = await self.workspace(rg, name)
        run = await self.blocking(_run.find_run, ws, run_id)
        offset, limit = self.paging(200)
        self.send(_data.page(await self.blocking(run.get_file_names), offset, limit))


class FileApi(_Api):
    """GET: one run file. Images inline; anything else as plain text, or ``?download=1``.

    Never served as HTML or SVG from the server's origin: ``nosniff`` and a
    sandbox CSP stop a run file from running script in the studio.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/runs/<run id>/files/outputs%2Fmodel.pkl?download=1
    """

    @web.authenticated
    async def get(self, rg: str, name: str, run_id: str, file_name: str) -> None:
        ws = await self.workspace(rg, name)
        path = await self.blocking(_run.run_file, ws, run_id, file_name)
        download = self.args().get("download", ["0"])[-1] not in ("0", "")
        await self.send_file(path, Path(file_name).name, download)

    async def send_file(self, path: Path, filename: str, download: bool) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        kind = INLINE_TYPES.get(path.suffix.lower())
        ascii_name = "".join(ch if 32 < ord(ch) < 127 and ch not in '"\\;' else "_"
                             for ch in filename)
        if download:
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", f'attachment; filename="{ascii_name}"')
        elif kind is not None:
            self.set_header("Content-Type", kind)
        else:
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
        with open(path, "rb") as fh:
            while chunk := fh.read(256 * 1024):
                self.write(chunk)
                await self.flush()
        self.finish()


class CompareApi(_Api):
    """GET ``?runs=a,b,...``: the runs' last values, series and tags side by side.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/compare?runs=<id>,<id>
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        run_ids = [r for v in self.args().get("runs", []) for r in v.split(",") if r.strip()]
        if not run_ids or len(run_ids) > 50:
            raise web.HTTPError(400, "runs=ID,ID,... で 1〜50 個の Run を指定してください。")
        self.send(await self.blocking(_run.compare_runs, ws, run_ids))


ROUTES = [
    (r"/studio/api/workspaces/?", WorkspacesApi),
    (rf"/{A}/?", WorkspaceApi),
    (rf"/{A}/config\.json", ConfigJsonApi),
    (rf"/{A}/experiments/?", ExperimentsApi),
    (rf"/{A}/experiments/{SEGMENT}/runs/?", RunsApi),
    (rf"/{A}/runs/{SEGMENT}/?", RunApi),
    (rf"/{A}/runs/{SEGMENT}/version", RunVersionApi),
    (rf"/{A}/runs/{SEGMENT}/cancel", CancelRunApi),
    (rf"/{A}/runs/{SEGMENT}/metrics/{SEGMENT}", MetricApi),
    (rf"/{A}/runs/{SEGMENT}/metrics/{SEGMENT}/chart", MetricChartApi),
    (rf"/{A}/runs/{SEGMENT}/files/?", FilesApi),
    (rf"/{A}/runs/{SEGMENT}/files/(.+)", FileApi),
    (rf"/{A}/compare/?", CompareApi),
]
