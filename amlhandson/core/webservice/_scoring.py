"""Calling score.py's ``run()`` for one request: v1's contract, inside a score worker.

The scoring server (:mod:`._front`) checks what HTTP can check (route, key,
content type, body size) and hands the request to a worker process, which
calls :meth:`ScoreHandler.handle`. Here the body is decoded and checked
(:mod:`._limits`), given to ``run()`` (as the UTF-8 string, or, with a schema,
as keyword arguments), and ``run()``'s value is encoded as JSON.

What is refused with a JSON body ``{"message": ...}`` (400): an empty body,
bytes that are not UTF-8, nesting or integers beyond the limits and non-finite
numbers (checked before ``run()``), and text that is not JSON. Without a
schema, ``run()`` parses the body itself (v1's contract), so the server does not
parse it a second time: when ``run()`` raises, the body is checked then, and a
body that is not JSON is answered 400 with the position of the error instead of
a 500. With a schema, the body is parsed first and values that do not fit it
are a 400. An exception in ``run()`` on valid JSON is a 500 whose plain-text
body names the exception, with the header ``x-ms-run-function-failed: True``;
its traceback goes to the service log.

Example:
    >>> handler = ScoreHandler("svc")
    >>> handler.load(lambda raw: len(raw))
    >>> handler.handle("POST", b'{"data": 1}')
    (200, [('Content-Type', 'application/json')], b'11')
    >>> handler.handle("POST", b"")[0]
    400
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import traceback
from collections.abc import Callable
from typing import Any

from ._limits import MAX_DEPTH, MAX_INT_DIGITS, BadRequest, parse_json, precheck, preview
from .schema import build_swagger, get_schema

__all__ = ["ScoreHandler", "ScoreScriptError", "user_traceback", "dumps"]

log = logging.getLogger("amlhandson.scoring")

_JSON = "application/json"
Reply = tuple[int, list[tuple[str, str]], bytes]


class ScoreScriptError(Exception):
    """score.py's ``run()`` cannot be called the way the server needs."""


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without the server's own frames, app files relative to the app.

    (v1 showed ``/var/azureml-app/score.py``; a relative name keeps machine paths
    out of logs shown in notebooks.)
    """
    tbe = traceback.TracebackException.from_exception(exc)
    here = os.path.dirname(os.path.abspath(__file__))
    ours = {os.path.join(here, name) for name in ("_scoring.py", "_worker.py", "_server.py")}
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


def dumps(value: Any) -> bytes:
    """JSON bytes of ``value`` (numpy arrays and scalars converted with ``tolist()``).

    Example:
        >>> dumps({"a": {1, 2}})
        b'{"a": [1, 2]}'
    """
    return json.dumps(value, default=_json_default, ensure_ascii=False).encode("utf-8")


def _error(code: int, message: str) -> Reply:
    return code, [("Content-Type", _JSON)], dumps({"message": message})


def _text(code: int, text: str, extra: list[tuple[str, str]] | None = None) -> Reply:
    return code, [("Content-Type", "text/plain; charset=utf-8"), *(extra or [])], \
        text.encode("utf-8")


class ScoreHandler:
    """score.py's ``run()`` behind v1's request contract (one per worker process).

    Call :meth:`load` with the ``run`` function once ``init()`` has succeeded.
    """

    def __init__(self, name: str, *, max_depth: int = MAX_DEPTH,
                 max_int_digits: int = MAX_INT_DIGITS) -> None:
        self.name = name
        self.max_depth = max_depth
        self.max_int_digits = max_int_digits
        self.takes_headers = False
        self.swagger: Any = None
        self._run: Callable[..., Any] | None = None
        self._schema: dict[str, Any] | None = None
        self._params: Any = {}

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
            self.takes_headers = len(positional) >= 2 or "request_headers" in names
        else:
            self.takes_headers = "request_headers" in names
        self._schema = schema
        self._params = inspect.signature(run).parameters
        self.swagger = build_swagger(self.name, run)
        self._run = run

    # -- one request ---------------------------------------------------------------------------------
    def handle(self, method: str, body: bytes, *, query: dict[str, str] | None = None,
               headers: dict[str, str] | None = None) -> Reply:
        """Answer one request: ``(status, headers, body)``; never raises for bad input."""
        if self._run is None:
            return _error(503, "サービスはまだ起動中です (init() の実行中)。少し待ってから"
                               "もう一度送ってください。")
        if method == "POST":
            if not body.strip():
                return _error(400, 'リクエストの本文が空です。{"data": [[...]]} のような JSON '
                                   "を送ってください。")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _error(400, f"リクエストの本文が UTF-8 の文字列ではありません ({exc.start} "
                                   f"バイト目; 先頭: {preview(body)})。バイナリではなく JSON の"
                                   "文字列を送ってください。")
        else:
            text = json.dumps(query or {}, ensure_ascii=False)
        limits = {"max_depth": self.max_depth, "max_int_digits": self.max_int_digits}
        try:
            if self._schema is None:
                precheck(body if method == "POST" else text, **limits)  # run() parses it
            else:
                parsed = parse_json(text, **limits)
        except BadRequest as exc:
            return _error(400, str(exc))
        if self._schema is not None:
            prepared = self._schema_args(parsed)
            if not isinstance(prepared, dict):
                return prepared
            if self.takes_headers:
                prepared["request_headers"] = dict(headers or {})
            return self._invoke((), prepared, text)
        args = (text, dict(headers or {})) if self.takes_headers else (text,)
        return self._invoke(args, {}, text)

    def _schema_args(self, parsed: Any) -> dict[str, Any] | Reply:
        assert self._schema is not None
        inputs: dict[str, Any] = self._schema["input"]
        example = "{" + ", ".join(f'"{k}": ...' for k in inputs) + "}"
        if not isinstance(parsed, dict):
            return _error(400, f"JSON オブジェクト {example} を送ってください "
                               f"({type(parsed).__name__} が送られました)。")
        params = self._params
        accepted = {n for n in params if n != "request_headers"}
        unknown = [k for k in parsed if k not in accepted]
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return _error(400, f"知らないキー {preview(str(unknown))} が送られました。使えるキー: "
                               f"{sorted(accepted)}。")
        missing = [n for n, p in params.items() if n not in parsed and n != "request_headers"
                   and p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        if missing:
            return _error(400, f"キー {missing} がありません。{example} の形で送ってください。")
        kwargs: dict[str, Any] = {}
        for key, value in parsed.items():
            if key in inputs:
                try:
                    value = inputs[key].deserialize_input(value)
                except ValueError as exc:
                    return _error(400, f"'{key}' の値がスキーマに合いません: {exc}")
            kwargs[key] = value
        return kwargs

    def _invoke(self, args: tuple[Any, ...], kwargs: dict[str, Any], text: str) -> Reply:
        assert self._run is not None
        try:
            result = self._run(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - report run()'s failure to the client
            if self._schema is None:  # was it the client's JSON that run() choked on?
                try:
                    parse_json(text, max_depth=self.max_depth,
                               max_int_digits=self.max_int_digits)
                except BadRequest as bad:
                    log.warning("400 POST /score: %s (run() raised %s)", bad,
                                type(exc).__name__)
                    return _error(400, str(bad))
            log.error("Encountered Exception in run():\n%s", user_traceback(exc))
            what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return _text(500, f"{what}\n\nscore.py の run() で例外が発生しました。traceback は "
                              "service.get_logs() で確認できます。",
                         [("x-ms-run-function-failed", "True")])
        if isinstance(result, dict) and "aml_response_body" in result:
            return self._custom(result)
        try:
            return 200, [("Content-Type", _JSON)], dumps(result)
        except (TypeError, ValueError) as exc:
            log.error("run() returned a value that is not JSON serializable: %s", exc)
            return _text(500, f"run() の戻り値を JSON にできません ({exc})。list / dict / 数値 / "
                              "文字列 (numpy 配列なら .tolist()) を返してください。",
                         [("x-ms-run-function-failed", "True")])

    @staticmethod
    def _custom(result: dict[str, Any]) -> Reply:
        extra = result.get("aml_response_headers") or {}
        body = result["aml_response_body"]
        if isinstance(body, str):
            body, ctype = body.encode("utf-8"), "text/plain; charset=utf-8"
        elif isinstance(body, bytes):
            ctype = "application/octet-stream"
        else:
            body, ctype = dumps(body), _JSON
        headers = [("Content-Type", str(extra.get("Content-Type", ctype)))]
        headers += [(str(k), str(v)) for k, v in extra.items() if k != "Content-Type"]
        return 200, headers, body
