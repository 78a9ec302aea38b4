"""The scoring server's WSGI application: v1's HTTP surface around score.py's ``run()``.

Routes (as the 2019 Azure ML scoring server):

=========================  ===========================================================
``GET /``                  200 ``Healthy``
``POST /score``            200 + the JSON of ``run()``'s return value
``GET /score?k=v``         ``run()`` receives the query arguments as a JSON object
``GET /swagger.json``      the schema's OpenAPI document, or 404 "Swagger not found"
=========================  ===========================================================

What is refused before ``run()`` is called, always with a JSON body
``{"message": ...}`` saying what was wrong: another content type (415), a body
over the size limit (413), an empty body, bytes that are not UTF-8, text that
is not JSON, and, when score.py declares a schema, values that do not fit it
(400); with keys, a missing or wrong ``Authorization: Bearer <key>`` (401).
An exception in ``run()`` is a 500 whose plain-text body names the exception,
with the header ``x-ms-run-function-failed: True``; its traceback goes to the
service log.

``run()`` calls are serialised by a lock (v1 ran one request at a time per
worker), so score.py needs no thread safety; parsing, checking and writing
responses run in parallel on the server's threads.

Example:
    >>> app = ScoringApp("svc", max_body=1024)
    >>> app.load(lambda raw: len(raw))
    >>> status, headers, body = app.call("POST", "/score", b'{"data": 1}')
    >>> status, body
    ('200 OK', b'11')
"""

from __future__ import annotations

import hmac
import inspect
import io
import json
import logging
import os
import threading
import traceback
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .schema import build_swagger, get_schema

__all__ = ["ScoringApp", "KeyFile", "ScoreScriptError", "user_traceback"]

log = logging.getLogger("amlhandson.scoring")

_JSON = "application/json"
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 413: "Request Entity Too Large",
            415: "Unsupported Media Type", 500: "Internal Server Error",
            503: "Service Unavailable"}
_PREVIEW = 120


class ScoreScriptError(Exception):
    """score.py's ``run()`` cannot be called the way the server needs."""


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without the server's own frames, app files relative to the app.

    (v1 showed ``/var/azureml-app/score.py``; a relative name keeps machine paths
    out of logs shown in notebooks.)
    """
    tbe = traceback.TracebackException.from_exception(exc)
    ours = {os.path.abspath(__file__), os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "_server.py")}
    app = os.getcwd() + os.sep
    seen: set[int] = set()
    todo = [tbe]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        frames = [f for f in current.stack if os.path.abspath(f.filename) not in ours]
        for frame in frames:
            if os.path.abspath(frame.filename).startswith(app):
                frame.filename = os.path.relpath(frame.filename)
        current.stack = traceback.StackSummary.from_list(frames)
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return "".join(tbe.format())


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, default=_json_default, ensure_ascii=False).encode("utf-8")


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonFinite(name)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def _preview(data: bytes) -> str:
    text = data[:_PREVIEW].decode("utf-8", "replace")
    return repr(text) + ("..." if len(data) > _PREVIEW else "")


class KeyFile:
    """The service's keys, re-read whenever ``keys.json`` changes (so ``regen_key`` applies at once).

    Example:
        >>> import tempfile, pathlib, json
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "keys.json"
        >>> _ = f.write_text(json.dumps({"primaryKey": "a", "secondaryKey": "b"}))
        >>> KeyFile(f).check("Bearer b")
        True
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int, int] | None = None
        self._keys: tuple[bytes, ...] = ()
        self._lock = threading.Lock()

    def _current(self) -> tuple[bytes, ...]:
        try:
            st = os.stat(self.path)
        except OSError:
            return ()  # no file: nobody gets in
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        if stamp != self._stamp:
            with self._lock:
                try:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    keys = tuple(str(data[k]).encode() for k in ("primaryKey", "secondaryKey")
                                 if data.get(k))
                except (OSError, ValueError):
                    return self._keys
                self._keys, self._stamp = keys, stamp
        return self._keys

    def check(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries one of the keys."""
        if not header:
            return False
        scheme, _sep, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        given = token.strip().encode()
        ok = False
        for key in self._current():
            ok |= hmac.compare_digest(given, key)
        return ok


class ScoringApp:
    """WSGI application serving one score.py.

    Call :meth:`load` with the ``run`` function once ``init()`` has succeeded;
    until then ``POST /score`` answers 503.
    """

    def __init__(self, name: str, *, max_body: int = 10 * 1024 * 1024,
                 keys: KeyFile | None = None) -> None:
        self.name = name
        self.max_body = max_body
        self.keys = keys
        self._run: Callable[..., Any] | None = None
        self._schema: dict[str, Any] | None = None
        self._params: Any = {}
        self._swagger: bytes | None = None
        self._takes_headers = False
        self._lock = threading.Lock()

    # -- setup -------------------------------------------------------------------------------------
    def load(self, run: Callable[..., Any]) -> None:
        """Check ``run``'s signature and start serving it (raises :class:`ScoreScriptError`)."""
        if not callable(run):
            raise ScoreScriptError("score.py の run が関数ではありません。"
                                   "def run(raw_data): ... を定義してください。")
        try:
            params = list(inspect.signature(run).parameters.values())
        except (TypeError, ValueError) as exc:
            raise ScoreScriptError(f"run() の引数を調べられませんでした: {exc}") from exc
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        var_args = any(p.kind is p.VAR_POSITIONAL for p in params)
        names = [p.name for p in params]
        schema = get_schema(run)
        if schema is None:
            required = [p for p in positional if p.default is p.empty]
            if not positional and not var_args:
                raise ScoreScriptError(
                    "score.py の run() に引数がありません。リクエストの本文を受け取る引数を 1 つ "
                    "付けてください: def run(raw_data): ..."
                )
            if len(required) > 2:
                raise ScoreScriptError(
                    f"score.py の run() の引数が多すぎます ({names})。run(raw_data) か "
                    "run(raw_data, request_headers) の形にしてください。"
                )
            self._takes_headers = len(positional) >= 2 or "request_headers" in names
        else:
            self._takes_headers = "request_headers" in names
        self._schema = schema
        self._params = inspect.signature(run).parameters
        swagger = build_swagger(self.name, run)
        self._swagger = None if swagger is None else _dumps(swagger)
        self._run = run

    # -- WSGI ----------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            status, headers, body = self._dispatch(environ)
        except Exception:  # noqa: BLE001 - the server must answer whatever happens
            tb = traceback.format_exc()
            log.error("Unexpected error while handling %s %s\n%s", environ.get("REQUEST_METHOD"),
                      environ.get("PATH_INFO"), tb)
            status, headers, body = self._text(
                500, "An unexpected internal error occurred. Encountered Exception: " + tb)
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def call(self, method: str, path: str, body: bytes = b"",
             headers: dict[str, str] | None = None) -> tuple[str, dict[str, str], bytes]:
        """Call the app without a server (for tests and examples)."""
        path, _sep, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
            "CONTENT_TYPE": _JSON,
        }
        for key, value in (headers or {}).items():
            if key.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + key.upper().replace("-", "_")] = value
        result: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            result["status"], result["headers"] = status, dict(response_headers)

        out = b"".join(self(environ, start_response))
        return result["status"], result["headers"], out

    # -- responses -------------------------------------------------------------------------------------
    @staticmethod
    def _status(code: int) -> str:
        return f"{code} {_REASONS.get(code, 'Error')}"

    def _error(self, code: int, message: str, environ: dict[str, Any] | None = None,
               extra: list[tuple[str, str]] | None = None) -> tuple[str, list, bytes]:
        if environ is not None:
            log.warning("%d %s %s: %s", code, environ.get("REQUEST_METHOD"),
                        environ.get("PATH_INFO"), message)
        return (self._status(code), [("Content-Type", _JSON), *(extra or [])],
                _dumps({"message": message}))

    def _text(self, code: int, text: str,
              extra: list[tuple[str, str]] | None = None) -> tuple[str, list, bytes]:
        return (self._status(code), [("Content-Type", "text/plain; charset=utf-8"),
                                     *(extra or [])], text.encode("utf-8"))

    # -- routing ----------------------------------------------------------------------------------------
    def _dispatch(self, environ: dict[str, Any]) -> tuple[str, list, bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        if path in ("/score", "/score/"):
            if method == "POST":
                return self._score(environ, post=True)
            if method == "GET":
                return self._score(environ, post=False)
            return self._error(405, f"{method} /score はできません。POST で JSON を送ってください。",
                               environ, [("Allow", "GET, POST")])
        if path == "/":
            if method in ("GET", "HEAD"):
                return self._text(200, "Healthy")
            return self._error(405, f"{method} / はできません (GET だけです)。", environ,
                               [("Allow", "GET")])
        if path == "/swagger.json":
            if self._swagger is None:
                return self._error(
                    404, "Swagger not found. score.py の run() にスキーマ (@input_schema / "
                         "@output_schema) がないので swagger.json はありません。", environ)
            return self._status(200), [("Content-Type", _JSON)], self._swagger
        return self._error(404, f"{path} はありません。使えるのは POST /score, GET /, "
                                "GET /swagger.json です。", environ)

    def _read_body(self, environ: dict[str, Any]) -> bytes | tuple[str, list, bytes]:
        length_text = environ.get("CONTENT_LENGTH") or ""

        def too_big(sent: int | None) -> tuple[str, list, bytes]:
            size = f"{_size(sent)} > " if sent is not None else ""
            return self._error(413, f"リクエストの本文が大きすぎます ({size}上限 {_size(self.max_body)})。"
                                    "データを分けて、何回かに分けて送ってください。", environ)

        try:
            length = int(length_text) if length_text else -1
        except ValueError:
            return self._error(400, f"Content-Length ヘッダーが数値ではありません ({length_text!r})。",
                               environ)
        if length > self.max_body:
            return too_big(length)
        stream = environ["wsgi.input"]
        data = stream.read(length) if length >= 0 else stream.read(self.max_body + 1)
        if len(data) > self.max_body:
            return too_big(None)
        return data

    def _score(self, environ: dict[str, Any], post: bool) -> tuple[str, list, bytes]:
        if self.keys is not None and not self.keys.check(environ.get("HTTP_AUTHORIZATION")):
            given = environ.get("HTTP_AUTHORIZATION")
            why = ("Authorization ヘッダーがありません" if not given else
                   "Authorization ヘッダーのキーが違います")
            return self._error(
                401, f"{why}。このサービスはキー認証が有効です。'Authorization: Bearer <key>' を"
                     "付けてください (キーは service.get_keys() で取得できます)。", environ,
                [("WWW-Authenticate", "Bearer")])
        if self._run is None:
            return self._error(503, "サービスはまだ起動中です (init() の実行中)。少し待ってから"
                                    "もう一度送ってください。", environ)
        if post:
            ctype = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
            if ctype != _JSON:
                return self._error(
                    415, f"Expects Content-Type to be application/json. 送られた Content-Type は "
                         f"{ctype or '(なし)'} です。ヘッダー 'Content-Type: application/json' を"
                         "付けて JSON を送ってください。", environ)
            data = self._read_body(environ)
            if isinstance(data, tuple):
                return data
            if not data.strip():
                return self._error(400, 'リクエストの本文が空です。{"data": [[...]]} のような JSON '
                                        "を送ってください。", environ)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                return self._error(
                    400, f"リクエストの本文が UTF-8 の文字列ではありません ({exc.start} バイト目; "
                         f"先頭: {_preview(data)})。バイナリではなく JSON の文字列を送ってください。",
                    environ)
        else:
            query = urllib.parse.parse_qsl(environ.get("QUERY_STRING") or "",
                                           keep_blank_values=True)
            text = json.dumps(dict(query), ensure_ascii=False)
            data = text.encode("utf-8")
        try:
            parsed = json.loads(text, parse_constant=_reject_constant)
        except _NonFinite as exc:
            return self._error(400, f"JSON に {exc} があります。NaN / Infinity は JSON の値ではないので"
                                    "送れません (欠損値は null などにしてください)。", environ)
        except json.JSONDecodeError as exc:
            return self._error(
                400, f"リクエストの本文が正しい JSON ではありません (行 {exc.lineno}, 列 {exc.colno}: "
                     f"{exc.msg}; 先頭: {_preview(data)})。", environ)
        except RecursionError:
            return self._error(400, "リクエストの JSON の入れ子が深すぎます。", environ)
        if self._schema is not None:
            prepared = self._schema_args(parsed, environ)
            if isinstance(prepared, tuple):
                return prepared
            args: tuple[Any, ...] = ()
            kwargs = prepared
            if self._takes_headers:
                kwargs["request_headers"] = _headers(environ)
        else:
            kwargs = {}
            args = (text, _headers(environ)) if self._takes_headers else (text,)
        return self._invoke(args, kwargs, environ)

    def _schema_args(self, parsed: Any,
                     environ: dict[str, Any]) -> dict[str, Any] | tuple[str, list, bytes]:
        assert self._schema is not None and self._run is not None
        inputs: dict[str, Any] = self._schema["input"]
        example = "{" + ", ".join(f'"{k}": ...' for k in inputs) + "}"
        if not isinstance(parsed, dict):
            return self._error(400, f"JSON オブジェクト {example} を送ってください "
                                    f"({type(parsed).__name__} が送られました)。", environ)
        params = self._params
        accepted = {n for n in params if n != "request_headers"}
        unknown = [k for k in parsed if k not in accepted]
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return self._error(400, f"知らないキー {unknown} が送られました。使えるキー: "
                                    f"{sorted(accepted)}。", environ)
        missing = [n for n, p in params.items() if n not in parsed and n != "request_headers"
                   and p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        if missing:
            return self._error(400, f"キー {missing} がありません。{example} の形で送ってください。",
                               environ)
        kwargs: dict[str, Any] = {}
        for key, value in parsed.items():
            if key in inputs:
                try:
                    value = inputs[key].deserialize_input(value)
                except ValueError as exc:
                    return self._error(400, f"'{key}' の値がスキーマに合いません: {exc}", environ)
            kwargs[key] = value
        return kwargs

    def _invoke(self, args: tuple[Any, ...], kwargs: dict[str, Any],
                environ: dict[str, Any]) -> tuple[str, list, bytes]:
        assert self._run is not None
        try:
            with self._lock:
                result = self._run(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - report run()'s failure to the client
            log.error("Encountered Exception in run():\n%s", user_traceback(exc))
            what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return self._text(
                500, f"{what}\n\nscore.py の run() で例外が発生しました。traceback は "
                     "service.get_logs() で確認できます。",
                [("x-ms-run-function-failed", "True")])
        headers = [("Content-Type", _JSON)]
        if isinstance(result, dict) and "aml_response_body" in result:
            extra = result.get("aml_response_headers") or {}
            body = result["aml_response_body"]
            if isinstance(body, str):
                body, ctype = body.encode("utf-8"), "text/plain; charset=utf-8"
            elif isinstance(body, bytes):
                ctype = "application/octet-stream"
            else:
                body, ctype = _dumps(body), _JSON
            headers = [("Content-Type", str(extra.get("Content-Type", ctype)))]
            headers += [(str(k), str(v)) for k, v in extra.items() if k != "Content-Type"]
            return self._status(200), headers, body
        try:
            return self._status(200), headers, _dumps(result)
        except (TypeError, ValueError) as exc:
            log.error("run() returned a value that is not JSON serializable: %s", exc)
            return self._text(
                500, f"run() の戻り値を JSON にできません ({exc})。list / dict / 数値 / 文字列 "
                     "(numpy 配列なら .tolist()) を返してください。",
                [("x-ms-run-function-failed", "True")])


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items()
               if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers
