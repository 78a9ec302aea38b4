"""What every studio handler shares: login, URLs, errors as status codes, blocking work off the loop.

Every handler method is decorated with ``@web.authenticated`` (the Jupyter
server's token / cookie login; the server's default lets undecorated methods
through). Writes (POST / DELETE) also need the XSRF header or the token, which
the Jupyter server checks before a handler runs.

Example:
    >>> studio_path("studio", "ws", "docs aml", "docs-ws", "runs", "a/b")
    'studio/ws/docs%20aml/docs-ws/runs/a%2Fb'
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerJinjaMixin, ExtensionHandlerMixin
from tornado import web

from .. import exceptions as ex

__all__ = ["studio_path", "status_for", "PageHandler", "ApiHandler", "SEGMENT", "WS"]

T = TypeVar("T")

#: One URL path segment (a name or an id).
SEGMENT = r"([^/]+)"
#: The workspace part of a URL: ``ws/<resource group>/<name>``.
WS = rf"studio/ws/{SEGMENT}/{SEGMENT}"

# Reads run in a few threads so one slow listing does not stall the server's loop.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="amlhandson-studio")


def studio_path(*segments: Any) -> str:
    """A path below the server's base URL, each segment quoted (``/`` too).

    Example:
        >>> studio_path("studio", "api", "workspaces")
        'studio/api/workspaces'
    """
    return "/".join(quote(str(s), safe="") for s in segments)


def status_for(exc: BaseException) -> int | None:
    """The HTTP status for an error amlhandson raised on purpose (``None``: not ours).

    Example:
        >>> status_for(ex.RunNotFoundError("x")), status_for(ex.UserErrorException("x"))
        (404, 400)
    """
    if isinstance(exc, (ex.WorkspaceNotFoundError, ex.RunNotFoundError, ex.ModelNotFoundError,
                        ex.ArtifactNotFoundError)):
        return 404
    if isinstance(exc, ex.WebserviceException):
        # v1's literal "WebserviceNotFound: ..." starts the message of a missing service
        return 404 if str(exc).startswith("WebserviceNotFound") else 409
    if isinstance(exc, ex.RunStateError):
        return 409
    if isinstance(exc, ex.UserErrorException):
        return 400
    if isinstance(exc, ex.AmlHandsOnError):
        return 500 if isinstance(exc, ex.StoreError) else 400
    return None


class _Common:
    """Mixed into both handler kinds."""

    request: Any
    base_url: str

    def url(self, *segments: Any, query: str = "") -> str:
        """Absolute path (with the server's base URL) of a studio page or API call."""
        path = self.base_url.rstrip("/") + "/" + studio_path("studio", *segments)
        return path + (f"?{query}" if query else "")

    def args(self) -> dict[str, list[str]]:
        """The query arguments, decoded as text."""
        return {k: [v.decode("utf-8", "replace") for v in vals]
                for k, vals in self.request.query_arguments.items()}

    def arg_int(self, name: str, default: int, low: int = 0, high: int = 10**9) -> int:
        """An integer query argument, clamped; a non-number is a 400."""
        raw = self.args().get(name, [""])[-1].strip()
        if not raw:
            return default
        try:
            return max(low, min(high, int(raw)))
        except ValueError:
            raise web.HTTPError(400, f"{name} は整数で指定してください ({raw!r})。") from None

    async def blocking(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``func`` in the studio's thread pool; amlhandson's own errors become HTTP errors."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(_pool, lambda: func(*args, **kwargs))
        except Exception as exc:
            status = status_for(exc)
            if status is None:
                raise
            raise web.HTTPError(status, "%s", str(exc), reason=type(exc).__name__) from exc


class PageHandler(_Common, ExtensionHandlerJinjaMixin, ExtensionHandlerMixin, JupyterHandler):
    """A studio HTML page (rendered on the server from the same data as the API).

    Example:
        >>> PageHandler.page  # used as self.page("runs.html", result=...)  # doctest: +SKIP
    """

    def page(self, template: str, **context: Any) -> None:
        """Render ``template`` with the studio's common context and finish the response."""
        self.xsrf_token  # noqa: B018 - sets the _xsrf cookie the page's scripts send back
        context.setdefault("title", "AML Studio")
        self.set_header("Cache-Control", "no-store")
        self.finish(self.render_template(template, url=self.url, **context))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors as a studio page that says what went wrong (escaped)."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = ""
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        try:
            body = self.render_template("error.html", url=self.url, status_code=status_code,
                                        message=message, title=f"エラー {status_code}")
        except Exception:  # noqa: BLE001 - the error page itself must not fail
            body = f"<h1>{status_code}</h1>"
        self.finish(body)


class ApiHandler(_Common, ExtensionHandlerMixin, APIHandler):
    """A studio JSON API call: JSON in, JSON out, errors as ``{"message", "reason"}``.

    Example:
        >>> ApiHandler.send  # used as self.send({"total": 0, "items": []})  # doctest: +SKIP
    """

    def send(self, data: Any, status: int = 200) -> None:
        """Finish with ``data`` as JSON (NaN and infinities become null)."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(_clean(data), ensure_ascii=False, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """``{"message": ..., "reason": ...}`` with the message of amlhandson's error."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        reply: dict[str, Any] = {"message": self._reason or "error", "reason": None}
        if isinstance(exc, web.HTTPError):
            if exc.log_message:
                reply["message"] = exc.log_message % exc.args if exc.args else exc.log_message
            reply["reason"] = exc.reason
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(reply, ensure_ascii=False))

    def body_json(self) -> dict[str, Any]:
        """The request body as a JSON object (400 when it is not one)."""
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise web.HTTPError(400, "本文が JSON ではありません。") from None
        if not isinstance(data, dict):
            raise web.HTTPError(400, "本文は JSON オブジェクト ({...}) にしてください。")
        return data


def _clean(value: Any) -> Any:
    """Replace NaN / infinities (not valid JSON) by ``None``, recursively."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value
