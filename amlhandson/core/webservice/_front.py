"""The scoring server's HTTP surface (an ASGI app): v1's routes, answered without blocking.

Routes (as the 2019 Azure ML scoring server):

=========================  ===========================================================
``GET /``                  200 ``Healthy`` while a score worker is up (503 otherwise);
                           answered here, never by a worker, so a stuck ``run()``
                           cannot make the service look dead
``POST /score``            200 + the JSON of ``run()``'s return value
``GET /score?k=v``         ``run()`` receives the query arguments as a JSON object
``GET /swagger.json``      the schema's OpenAPI document, or 404 "Swagger not found"
=========================  ===========================================================

Checked here before a worker is involved, each with a JSON body
``{"message": ...}``: the key (401), the route and method (404/405), the
content type (415) and the body size (413, answered from ``Content-Length``
before the body is read). A worker checks the JSON itself (400, see
:mod:`._scoring`). No free worker in time: 503; ``run()`` too slow: 504; the
worker died: 502. An unexpected error answers its type and message (500); the
traceback goes only to the log.

Example:
    >>> app = ScoringFront("svc", pool=None, keys=None, max_body=1024)
    >>> app.path_preview("/" + "a" * 500)[:12]
    "'/aaaaaaaaaa"
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from ._http import answer_lifespan
from ._keys import KeyFile
from ._limits import preview
from ._pool import PoolBusy, ScoringTimeout, WorkerDied, WorkerPool

__all__ = ["ScoringFront"]

log = logging.getLogger("amlhandson.scoring")

_JSON = b"application/json"
_BAD_HEADER = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


class _TooBig(Exception):
    pass


class ScoringFront:
    """The ASGI application of one service: routing, keys, limits, then a worker.

    Example:
        >>> ScoringFront("svc", pool=None, keys=None, max_body=10).max_body
        10
    """

    def __init__(self, name: str, *, pool: WorkerPool | None, keys: KeyFile | None,
                 max_body: int) -> None:
        self.name = name
        self.pool = pool
        self.keys = keys
        self.max_body = max_body
        self._swagger: bytes | None = None

    @staticmethod
    def path_preview(path: str) -> str:
        """A path cut for a log line (a 200 KB path must not become a 200 KB line)."""
        return preview(path, 80)

    # -- responses -------------------------------------------------------------------------------------
    @staticmethod
    async def _send(send: Send, status: int, body: bytes, ctype: bytes = _JSON,
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status,
                    "headers": headers + (extra or [])})
        await send({"type": "http.response.body", "body": body})

    async def _error(self, send: Send, scope: dict[str, Any], status: int, message: str,
                     extra: list[tuple[bytes, bytes]] | None = None) -> None:
        log.warning("%d %s %s: %s", status, scope.get("method"),
                    self.path_preview(scope.get("path", "")), message)
        body = json.dumps({"message": message}, ensure_ascii=False).encode("utf-8")
        await self._send(send, status, body, _JSON, extra)

    # -- ASGI ----------------------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Answer one HTTP request (``lifespan`` events are acknowledged)."""
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            await self._dispatch(scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - the server must answer whatever happens
            log.error("Unexpected error while handling %s %s\n%s", scope.get("method"),
                      self.path_preview(scope.get("path", "")), traceback.format_exc())
            text = (f"An unexpected internal error occurred. {type(exc).__name__}: {exc} "
                    "(traceback は service.get_logs() にあります)")
            try:
                await self._send(send, 500, text.encode("utf-8"), b"text/plain; charset=utf-8")
            except RuntimeError:
                pass  # the response had started already; the server closes the connection

    async def _dispatch(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        method = scope["method"]
        path = scope["path"]
        if path in ("/score", "/score/"):
            if method not in ("POST", "GET"):
                await self._error(send, scope, 405, f"{method} /score はできません。POST で JSON を"
                                                    "送ってください。", [(b"allow", b"GET, POST")])
                return
            await self._score(scope, receive, send)
        elif path == "/":
            if method not in ("GET", "HEAD"):
                await self._error(send, scope, 405, f"{method} / はできません (GET だけです)。",
                                  [(b"allow", b"GET")])
            elif self.pool is not None and self.pool.ready_count == 0:
                await self._send(send, 503, "Unhealthy: score.py のプロセスを起動し直しています。"
                                 "service.get_logs() で理由を確認できます。".encode(),
                                 b"text/plain; charset=utf-8")
            else:
                await self._send(send, 200, b"Healthy", b"text/plain; charset=utf-8")
        elif path == "/swagger.json":
            swagger = self.pool.swagger if self.pool is not None else None
            if swagger is None:
                await self._error(send, scope, 404, "Swagger not found. score.py の run() に"
                                  "スキーマ (@input_schema / @output_schema) がないので "
                                  "swagger.json はありません。")
            else:
                if self._swagger is None:
                    self._swagger = json.dumps(swagger, ensure_ascii=False).encode("utf-8")
                await self._send(send, 200, self._swagger)
        else:
            await self._error(send, scope, 404, f"{self.path_preview(path)} はありません。使えるのは "
                                                "POST /score, GET /, GET /swagger.json です。")

    async def _read_body(self, scope: dict[str, Any], receive: Receive) -> bytes:
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value)  # httptools has checked that it is a number
                break
        if declared is not None and declared > self.max_body:
            raise _TooBig(declared)
        chunks = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ConnectionResetError("client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooBig(None)
            chunks.append(chunk)
            more = message.get("more_body", False)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _score(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        if self.keys is not None:
            given = next((v for k, v in headers if k == b"authorization"), None)
            if not self.keys.check(given):
                why = ("Authorization ヘッダーがありません" if not given else
                       "Authorization ヘッダーのキーが違います")
                await self._error(send, scope, 401,
                                  f"{why}。このサービスはキー認証が有効です。'Authorization: Bearer "
                                  "<key>' を付けてください (キーは service.get_keys() で取得できます)。",
                                  [(b"www-authenticate", b"Bearer")])
                return
        meta: dict[str, Any] = {"method": scope["method"]}
        body = b""
        if scope["method"] == "POST":
            ctype = next((v for k, v in headers if k == b"content-type"), b"")
            ctype = ctype.split(b";")[0].strip().lower()
            if ctype != _JSON:
                shown = preview(ctype.decode("latin-1"), 60) if ctype else "(なし)"
                await self._error(send, scope, 415,
                                  f"Expects Content-Type to be application/json. 送られた "
                                  f"Content-Type は {shown} です。ヘッダー 'Content-Type: "
                                  "application/json' を付けて JSON を送ってください。")
                return
            try:
                body = await self._read_body(scope, receive)
            except _TooBig as exc:
                sent = f"{_size(exc.args[0])} > " if exc.args[0] is not None else ""
                await self._error(send, scope, 413,
                                  f"リクエストの本文が大きすぎます ({sent}上限 {_size(self.max_body)})。"
                                  "データを分けて、何回かに分けて送ってください。")
                return
        else:
            query = scope.get("query_string", b"").decode("latin-1")
            meta["query"] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        assert self.pool is not None
        if self.pool.takes_headers:
            meta["headers"] = _header_dict(headers)
        try:
            status, out_headers, content = await self.pool.submit(meta, body)
        except PoolBusy:
            await self._error(send, scope, 503,
                              "サービスが混んでいます: 空いている score.py のプロセスが "
                              f"{self.pool.settings.max_request_wait_time_ms / 1000:g} 秒 "
                              "(max_request_wait_time_ms) 待っても空きませんでした。少し待ってから"
                              "送り直してください。", [(b"retry-after", b"1")])
            return
        except ScoringTimeout as exc:
            await self._error(send, scope, 504,
                              f"run() が {exc.args[0]:g} 秒 (scoring_timeout_ms) 以内に答えなかった"
                              "ので打ち切りました。そのプロセスは止めて、新しいプロセスを起動して"
                              "います。score.py の run() が遅すぎないか確認してください。")
            return
        except WorkerDied as exc:
            await self._error(send, scope, 502,
                              f"このリクエストの処理中に score.py のプロセスが終了しました "
                              f"({exc.args[0]})。プロセスは自動で起動し直します。理由は "
                              "service.get_logs() で確認してください。")
            return
        await self._reply(send, status, out_headers, content)

    async def _reply(self, send: Send, status: int, headers: list[tuple[str, str]],
                     content: bytes) -> None:
        if len(headers) == 1 and headers[0] == ("Content-Type", "application/json"):
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", _JSON), (b"content-length", str(len(content)).encode())]})
            await send({"type": "http.response.body", "body": content})
            return
        out = []
        for name, value in headers:
            if not _HEADER_NAME.match(name) or _BAD_HEADER.search(value) or \
                    name.lower() in ("content-length", "transfer-encoding", "connection"):
                log.warning("run() returned a header that cannot be sent: %s", preview(name, 60))
                continue
            out.append((name.lower().encode("latin-1", "replace"),
                        value.encode("latin-1", "replace")))
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": content})


def _header_dict(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers:
        key = name.decode("latin-1").title()
        if key == "Authorization":
            continue  # keys never leave the server process
        result[key] = value.decode("latin-1")
    return result
