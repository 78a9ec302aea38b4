"""The published pipelines' REST endpoint as an ASGI application (no processes, no workspace here).

Routes (v1's shapes):

=====================================================================  ==============================
``GET /``                                                              200 ``Healthy`` (no key needed)
``POST <prefix>/PipelineRuns/PipelineSubmit/<published pipeline id>``  starts a run, 200 + ``{"Id": ...}``
=====================================================================  ==============================

``<prefix>`` is ``/pipelines/v1.0/subscriptions/<sub>/resourceGroups/<rg>/providers/
Microsoft.MachineLearningServices/workspaces/<ws>`` of the workspace this server
serves. The body is v1's ``{"ExperimentName": "...", "ParameterAssignments":
{...}}`` (``Tags`` and ``Description`` are accepted too).

Checked here, in this order, each refusal a JSON ``{"error": {"code", "message"}}``:
route (404) and method (405), the ``Authorization: Bearer <key>`` header (401,
before the body is read), ``Content-Type: application/json`` (415), body size
(413, from ``Content-Length`` before reading), JSON and fields (400). The
``submit`` callable given to the app does the rest and raises
:class:`SubmitRefused` with a status for a refusal it knows (404 unknown
pipeline, 409 disabled, 400 bad parameters); anything else is a 500 with the
error's type and message.

Example:
    >>> app = EndpointApp("/pipelines/v1.0/x", check_key=lambda v: True, submit=None)
    >>> app.route("/pipelines/v1.0/x/PipelineRuns/PipelineSubmit/abc")
    'abc'
    >>> app.route("/elsewhere") is None
    True
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from ...core.webservice._http import answer_lifespan

__all__ = ["EndpointApp", "SubmitRefused", "MAX_BODY"]

log = logging.getLogger("amlhandson.pipeline_endpoint")

#: Largest request body accepted (a submission is a few hundred bytes).
MAX_BODY = 1024 * 1024
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


class SubmitRefused(Exception):
    """A submission refused for a known reason: ``status`` (HTTP) and a message for the caller."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _TooBig(Exception):
    pass


class EndpointApp:
    """ASGI app: v1's pipeline submission route for one workspace (see the module docs).

    ``check_key(header_value)`` says whether an ``Authorization`` header is valid;
    ``submit(pipeline_id, experiment_name, parameter_assignments, tags)`` starts the
    run (it may block: it is called in a worker thread) and returns the run's JSON.

    Example:
        >>> EndpointApp("/p", check_key=bool, submit=None).max_body == MAX_BODY
        True
    """

    def __init__(self, prefix: str, *, check_key: Callable[[bytes | None], bool],
                 submit: Callable[[str, str, dict[str, Any], dict[str, Any]], dict[str, Any]] | None,
                 max_body: int = MAX_BODY) -> None:
        self.prefix = prefix.rstrip("/")
        self.check_key = check_key
        self.submit = submit
        self.max_body = max_body

    def route(self, path: str) -> str | None:
        """The published pipeline id in a submission path of this workspace, else ``None``."""
        head = f"{self.prefix}/PipelineRuns/PipelineSubmit/"
        if not path.startswith(head):
            return None
        pipeline_id = path[len(head):].rstrip("/")
        return pipeline_id if _ID.match(pipeline_id) else None

    # -- responses --------------------------------------------------------------------------------
    @staticmethod
    async def _send(send: Send, status: int, data: Any, content_type: bytes = b"application/json",
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
        body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type),
                                (b"content-length", str(len(body)).encode())] + (extra or [])})
        await send({"type": "http.response.body", "body": body})

    async def _error(self, send: Send, status: int, code: str, message: str,
                     extra: list[tuple[bytes, bytes]] | None = None) -> None:
        log.warning("%d %s: %s", status, code, message)
        await self._send(send, status, {"error": {"code": code, "message": message}}, extra=extra)

    # -- ASGI -----------------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Answer one request (``lifespan`` events are acknowledged)."""
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            await self._dispatch(scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - the server answers whatever happens
            log.exception("unexpected error")
            try:
                await self._error(send, 500, "InternalError", f"{type(exc).__name__}: {exc}")
            except RuntimeError:
                pass  # the response had started; the server closes the connection

    async def _dispatch(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/":
            if method in ("GET", "HEAD"):
                await self._send(send, 200, b"Healthy", b"text/plain; charset=utf-8")
            else:
                await self._error(send, 405, "MethodNotAllowed", f"{method} / はできません。",
                                  [(b"allow", b"GET")])
            return
        pipeline_id = self.route(path)
        if pipeline_id is None:
            await self._error(send, 404, "NotFound",
                              f"{path[:200]!r} はありません。公開したパイプラインの endpoint "
                              "(published_pipeline.endpoint) に POST してください。")
            return
        if method != "POST":
            await self._error(send, 405, "MethodNotAllowed",
                              f"{method} はできません。POST で {{\"ExperimentName\": ...}} を送って"
                              "ください。", [(b"allow", b"POST")])
            return
        headers = dict(scope["headers"])
        if not self.check_key(headers.get(b"authorization")):
            why = ("Authorization ヘッダーがありません" if not headers.get(b"authorization")
                   else "Authorization ヘッダーのキーが違います")
            await self._error(send, 401, "Unauthorized",
                              f"{why}。InteractiveLoginAuthentication().get_authentication_header()"
                              " のヘッダーを付けて送ってください。", [(b"www-authenticate", b"Bearer")])
            return
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype != b"application/json":
            await self._error(send, 415, "UnsupportedMediaType",
                              "Content-Type: application/json で JSON を送ってください。")
            return
        try:
            body = await self._read_body(headers, receive)
        except _TooBig:
            await self._error(send, 413, "PayloadTooLarge",
                              f"本文が大きすぎます (上限 {self.max_body // 1024} KB)。")
            return
        except ConnectionResetError:
            return
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            await self._error(send, 400, "BadRequest", f"本文が JSON ではありません: {exc}")
            return
        problem = _check_request(request)
        if problem is not None:
            await self._error(send, 400, "BadRequest", problem)
            return
        assert self.submit is not None
        try:
            answer = await asyncio.to_thread(
                self.submit, pipeline_id, request["ExperimentName"],
                request.get("ParameterAssignments") or {}, request.get("Tags") or {})
        except SubmitRefused as exc:
            await self._error(send, exc.status, exc.code, exc.message)
            return
        await self._send(send, 200, answer)

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise _TooBig()
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionResetError("client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooBig()
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def _check_request(request: Any) -> str | None:
    """What is wrong with a submission body, or ``None``."""
    if not isinstance(request, dict):
        return "本文は {\"ExperimentName\": \"...\", \"ParameterAssignments\": {...}} の形の JSON にしてください。"
    name = request.get("ExperimentName")
    if not isinstance(name, str) or not name:
        return "ExperimentName (実験の名前) がありません。{\"ExperimentName\": \"pipelines\"} のように送ってください。"
    for key in ("ParameterAssignments", "Tags"):
        value = request.get(key)
        if value is not None and not isinstance(value, dict):
            return f"{key} は {{\"名前\": 値}} のオブジェクトにしてください。"
    tags = request.get("Tags") or {}
    if any(not isinstance(v, (str, int, float, bool)) for v in tags.values()):
        return "Tags の値は文字列か数値にしてください。"
    return None
