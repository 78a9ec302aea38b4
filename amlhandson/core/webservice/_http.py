"""HTTP for the scoring server: uvicorn (httptools), with limits that idle or slow clients hit.

uvicorn gives an asyncio HTTP/1.1 server with a C parser (httptools), keep-alive
timeouts and a connection limit (``limit_concurrency``: beyond it new requests
get 503). On an event loop an idle connection costs a few kilobytes, not a
thread, so ``max_connections`` can be large. What uvicorn does not bound, the
protocol subclass :func:`guarded_protocol` adds:

* ``request_timeout_s``: from the moment a connection opens (or a new request
  on it begins) until the whole request, headers and body, has arrived; a
  connection that opens and says nothing, or drips a byte at a time, is closed;
* a request target (path and query) over 64 KiB, or a request head over
  1 MiB, is answered 431 and the connection closed;
* on Linux, an answer is corked (``TCP_CORK``) until it is complete, so its
  head and body leave in one segment and the client wakes up once;
* after an early answer (413 for a body over the limit), the rest of the body is
  read and thrown away, so the client sees the 413 instead of a reset
  connection, up to four times the limit (at least 256 MiB, within
  ``request_timeout_s``), then the connection is closed.

Example:
    >>> sock = bind("127.0.0.1", 0)
    >>> sock.getsockname()[1] > 0
    True
    >>> sock.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

from ._settings import ServerSettings

__all__ = ["bind", "raise_fd_limit", "guarded_protocol", "make_server", "answer_lifespan",
           "MAX_HEAD"]

log = logging.getLogger("amlhandson.scoring")

#: Linux's TCP_CORK: the status line, headers and body of an answer leave in one segment.
_CORK = getattr(socket, "TCP_CORK", 0)
#: Longest request target (path and query) accepted.
MAX_HEAD = 64 * 1024
#: Most bytes read while a request's head is incomplete (request line and headers).
MAX_HEAD_TOTAL = 1024 * 1024
#: Bytes of an already-refused body read and dropped, at least (so the client sees the 413).
DRAIN_AT_LEAST = 256 * 1024 * 1024


async def answer_lifespan(receive: Any, send: Any) -> None:
    """Acknowledge an ASGI ``lifespan`` scope's startup and shutdown (nothing to set up).

    Example:
        >>> await answer_lifespan(receive, send)  # doctest: +SKIP
    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: a free port), not inherited."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    family, _type, _proto, _canon, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        elif hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.set_inheritable(False)
    except OSError:
        sock.close()
        raise
    return sock


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (POSIX); return what it is.

    Example:
        >>> raise_fd_limit(64) >= 64
        True
    """
    try:
        import resource
    except ImportError:  # Windows: no such limit for sockets
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return wanted if soft == resource.RLIM_INFINITY else soft


def guarded_protocol(settings: ServerSettings) -> type:
    """uvicorn's httptools protocol with the request deadline, head cap and body draining."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    request_timeout = settings.request_timeout_s
    drain_cap = max(settings.max_request_body_bytes * 4, DRAIN_AT_LEAST)

    class GuardedProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _in_head = False
        _head_bytes = 0
        _url_bytes = 0
        _discarded = 0

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(request_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._sock = transport.get_extra_info("socket") if _CORK else None
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_head = True
            self._head_bytes = self._url_bytes = self._discarded = 0
            self._arm()

        def _too_large(self) -> None:
            if not self.transport.is_closing():
                self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                     b"content-length: 0\r\nconnection: close\r\n\r\n")
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            if self._in_head:  # counted per read, not per header: cheap
                self._head_bytes += len(data)
                if self._head_bytes > MAX_HEAD_TOTAL:
                    self._too_large()
                    return
            super().data_received(data)

        def on_url(self, url: bytes) -> None:
            self._url_bytes += len(url)
            if self._url_bytes > MAX_HEAD:
                self._too_large()
            elif not self.transport.is_closing():
                super().on_url(url)

        def on_headers_complete(self) -> None:
            self._in_head = False
            if not self.transport.is_closing():
                if _CORK and self._sock is not None:
                    self._sock.setsockopt(socket.IPPROTO_TCP, _CORK, 1)
                super().on_headers_complete()

        def on_response_complete(self) -> None:
            if _CORK and self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.setsockopt(socket.IPPROTO_TCP, _CORK, 0)
            super().on_response_complete()

        def on_body(self, body: bytes) -> None:
            if self.cycle is not None and self.cycle.response_complete:
                self._discarded += len(body)  # answered early (413): drain, within limits
                if self._discarded > drain_cap:
                    self.transport.close()
                return
            super().on_body(body)

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

    return GuardedProtocol


def make_server(app: Any, settings: ServerSettings) -> Any:
    """A ``uvicorn.Server`` for ``app`` with the settings' limits (serve it with ``sockets=``)."""
    import uvicorn

    config = uvicorn.Config(
        app, http=guarded_protocol(settings), ws="none", lifespan="off", log_config=None,
        access_log=False, proxy_headers=False, limit_concurrency=settings.max_connections,
        timeout_keep_alive=settings.keep_alive_s, timeout_graceful_shutdown=2,
        server_header=False, date_header=False, backlog=2048)
    return uvicorn.Server(config)
