"""The studio's JSON API for models, endpoints, compute targets and data (see :mod:`.api`).

Example (with the server's token)::

    curl -H "Authorization: token $T" http://127.0.0.1:8888/studio/api/ws/docs-aml/docs-ws/models
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from . import _data, _infra, _registry
from ._web import SEGMENT
from .api import A, FileApi, _Api

__all__ = ["ROUTES"]

_SCORE_TIMEOUT = 120.0


class ModelsApi(_Api):
    """GET: registered model versions (``?name=`` for one model).

    Example::

        GET studio/api/ws/docs-aml/docs-ws/models
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        offset, limit = self.paging()
        model = self.args().get("name", [None])[-1]
        self.send(_data.page(await self.blocking(_registry.list_models, ws, model), offset, limit))


class ModelDownloadApi(FileApi):
    """GET: the model's registered file (a folder comes as a zip), hash-checked.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/models/sklearn_mnist/1/download
    """

    @web.authenticated
    async def get(self, rg: str, name: str, model: str, version: str) -> None:  # type: ignore[override]
        ws = await self.workspace(rg, name)
        if not version.isdigit():
            raise web.HTTPError(400, "version は整数です。")
        tmp = Path(tempfile.mkdtemp(prefix="amlhandson-studio-"))
        try:
            path = await self.blocking(_registry.model_file, ws, model, int(version), tmp)
            if path.is_dir():
                archive = await self.blocking(shutil.make_archive, str(tmp / path.name), "zip",
                                              root_dir=path)
                path = Path(archive)
            await self.send_file(path, path.name, True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class EndpointsApi(_Api):
    """GET: deployed web services with state and URIs.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/endpoints
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        offset, limit = self.paging()
        self.send(_data.page(await self.blocking(_registry.list_services, ws), offset, limit))


class EndpointApi(_Api):
    """GET: one service with the end of its log. DELETE: stop and remove it.

    Example::

        DELETE studio/api/ws/docs-aml/docs-ws/endpoints/sklearn-mnist-svc
    """

    @web.authenticated
    async def get(self, rg: str, name: str, service: str) -> None:
        ws = await self.workspace(rg, name)
        lines = self.arg_int("lines", 200, 0, 5000)
        self.send(await self.blocking(_registry.service_detail, ws, service, lines))

    @web.authenticated
    async def delete(self, rg: str, name: str, service: str) -> None:
        ws = await self.workspace(rg, name)
        self.send(await self.blocking(_registry.delete_service, ws, service))


class SwaggerApi(_Api):
    """GET: the service's ``swagger.json`` (404 with the service's message when it has none).

    Example::

        GET studio/api/ws/docs-aml/docs-ws/endpoints/sklearn-mnist-svc/swagger
    """

    @web.authenticated
    async def get(self, rg: str, name: str, service: str) -> None:
        ws = await self.workspace(rg, name)
        uri = await self.blocking(_registry.swagger_uri, ws, service)
        if uri is None:
            raise web.HTTPError(409, "サービスはまだ起動していません。")
        try:
            response = await AsyncHTTPClient().fetch(uri, request_timeout=30, raise_error=False)
        except OSError as exc:
            raise web.HTTPError(502, "サービスに接続できません: %s", exc) from exc
        if response.code != 200:
            raise web.HTTPError(404 if response.code == 404 else 502, "%s",
                                (response.body or b"").decode("utf-8", "replace")[:500]
                                or "swagger.json がありません。")
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(response.body)


class ScoreApi(_Api):
    """POST a JSON body: sent as is to the service's ``/score``; the reply is reported.

    Answer: ``{"status", "body", "json", "elapsed_ms"}`` (``json`` is the parsed
    body or ``null``), whatever status the service gave.

    Example::

        POST studio/api/ws/docs-aml/docs-ws/endpoints/sklearn-mnist-svc/score  {"data": [[...]]}
    """

    @web.authenticated
    async def post(self, rg: str, name: str, service: str) -> None:
        ws = await self.workspace(rg, name)
        body = self.request.body or b""
        try:
            json.loads(body)
        except ValueError:
            raise web.HTTPError(400, "送る本文が JSON ではありません。例: {\"data\": [[1, 2, 3]]}") \
                from None
        uri, headers = await self.blocking(_registry.scoring_target, ws, service)
        start = time.perf_counter()
        try:
            response = await AsyncHTTPClient().fetch(HTTPRequest(
                uri, method="POST", body=body, headers=headers, request_timeout=_SCORE_TIMEOUT,
                follow_redirects=False), raise_error=False)
        except (OSError, HTTPClientError) as exc:
            raise web.HTTPError(502, "サービスに接続できません: %s", exc) from exc
        elapsed = (time.perf_counter() - start) * 1000
        text = (response.body or b"").decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if response.code == 599:
            raise web.HTTPError(502, "サービスに接続できません: %s", response.error)
        self.send({"status": response.code, "body": text, "json": parsed,
                   "elapsed_ms": round(elapsed, 1)})


class ComputeApi(_Api):
    """GET: compute targets with settings and status.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/compute
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        offset, limit = self.paging()
        self.send(_data.page(await self.blocking(_infra.list_compute, ws), offset, limit))


class DatastoresApi(_Api):
    """GET: datastores.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/datastores
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        offset, limit = self.paging()
        self.send(_data.page(await self.blocking(_infra.list_datastores, ws), offset, limit))


class DatasetsApi(_Api):
    """GET: registered dataset versions.

    Example::

        GET studio/api/ws/docs-aml/docs-ws/datasets
    """

    @web.authenticated
    async def get(self, rg: str, name: str) -> None:
        ws = await self.workspace(rg, name)
        offset, limit = self.paging()
        self.send(_data.page(await self.blocking(_infra.list_datasets, ws), offset, limit))


ROUTES = [
    (rf"/{A}/compute/?", ComputeApi),
    (rf"/{A}/datastores/?", DatastoresApi),
    (rf"/{A}/datasets/?", DatasetsApi),
    (rf"/{A}/models/?", ModelsApi),
    (rf"/{A}/models/{SEGMENT}/{SEGMENT}/download", ModelDownloadApi),
    (rf"/{A}/endpoints/?", EndpointsApi),
    (rf"/{A}/endpoints/{SEGMENT}/?", EndpointApi),
    (rf"/{A}/endpoints/{SEGMENT}/swagger", SwaggerApi),
    (rf"/{A}/endpoints/{SEGMENT}/score", ScoreApi),
]
