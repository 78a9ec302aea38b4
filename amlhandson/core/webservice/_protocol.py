"""Frames between the scoring server and its score workers (over the worker's stdin/stdout).

A frame is ``!II`` (length of a JSON *meta* object, length of a *body*), then
the meta, then the body bytes. The server sends ``{"op": "score", "id": n,
...}`` with the request body; the worker answers ``{"op": "reply", "id": n,
"status": 200, "headers": [...]}`` with the response body, and announces itself
with ``{"op": "ready", ...}`` or ``{"op": "failed", ...}`` (then exits).

Nothing here unpickles or evaluates what it reads: meta is JSON, bodies are bytes.

Example:
    >>> import io
    >>> frame = pack({"op": "score", "id": 1}, b'{"data": [1]}')
    >>> read_frame(io.BytesIO(frame))
    ({'op': 'score', 'id': 1}, b'{"data": [1]}')
    >>> read_frame(io.BytesIO(b"")) is None
    True
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any, BinaryIO

__all__ = ["pack", "read_frame", "read_frame_async", "ProtocolError", "MAX_META"]

_HEADER = struct.Struct("!II")
#: Largest meta object accepted (headers of a request, a swagger document ...).
MAX_META = 16 * 1024 * 1024
#: Largest body accepted in a frame (a reply can be bigger than a request).
MAX_BODY = 1 << 31


class ProtocolError(Exception):
    """A frame that cannot be read (the other side is not a worker, or died mid-frame)."""


def pack(meta: dict[str, Any], body: bytes = b"") -> bytes:
    """One frame carrying ``meta`` and ``body``."""
    head = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _HEADER.pack(len(head), len(body)) + head + body


def _check(meta_len: int, body_len: int) -> None:
    if meta_len > MAX_META or body_len > MAX_BODY:
        raise ProtocolError(f"frame too large (meta {meta_len} bytes, body {body_len} bytes)")


def _decode(head: bytes) -> dict[str, Any]:
    try:
        meta = json.loads(head)
    except ValueError as exc:
        raise ProtocolError(f"frame meta is not JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise ProtocolError("frame meta is not an object")
    return meta


def _read_exactly(stream: BinaryIO, n: int) -> bytes | None:
    data = stream.read(n)
    if not data and n:
        return None
    while len(data) < n:
        more = stream.read(n - len(data))
        if not more:
            raise ProtocolError("stream ended inside a frame")
        data += more
    return data


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame (blocking); ``None`` at the end of the stream."""
    head = _read_exactly(stream, _HEADER.size)
    if head is None:
        return None
    meta_len, body_len = _HEADER.unpack(head)
    _check(meta_len, body_len)
    meta = _read_exactly(stream, meta_len) or b""
    body = _read_exactly(stream, body_len) or b""
    return _decode(meta), body


async def read_frame_async(reader: asyncio.StreamReader) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame from an asyncio stream; ``None`` at the end of the stream."""
    try:
        head = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise ProtocolError("stream ended inside a frame") from exc
    meta_len, body_len = _HEADER.unpack(head)
    _check(meta_len, body_len)
    try:
        data = await reader.readexactly(meta_len + body_len)
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError("stream ended inside a frame") from exc
    return _decode(data[:meta_len]), data[meta_len:]
