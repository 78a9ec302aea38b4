"""Frames between the scoring server and its score workers (over the worker's stdin/stdout).

A frame is ``!BII`` (the meta's encoding, length of the *meta*, length of a
*body*), then the meta, then the body bytes. The server sends ``{"op": "score",
"id": n, ...}`` with the request body; the worker answers ``{"op": "reply",
"id": n, "status": 200, "headers": [...]}`` with the response body, and
announces itself with ``{"op": "ready", ...}`` or ``{"op": "failed", ...}``
(then exits). Meta is JSON, except for the two frames of nearly every request,
which have a fixed binary form (a plain ``POST /score``; a reply with only a
``Content-Type``), so the hot path never encodes or parses JSON.

Nothing here unpickles or evaluates what it reads: meta is JSON, bodies are bytes.

Example:
    >>> import io
    >>> frame = pack({"op": "score", "id": 1}, b'{"data": [1]}')
    >>> read_frame(io.BytesIO(frame))
    ({'op': 'score', 'id': 1}, b'{"data": [1]}')
    >>> read_frame(io.BytesIO(pack({"op": "score", "id": 2, "method": "POST"}, b"{}")))
    ({'op': 'score', 'id': 2, 'method': 'POST'}, b'{}')
    >>> read_frame(io.BytesIO(b"")) is None
    True
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

__all__ = ["pack", "read_frame", "FrameParser", "ProtocolError", "MAX_META"]

_HEADER = struct.Struct("!BII")
_JSON, _POST, _REPLY = 0, 1, 2
_ID = struct.Struct("!I")
_ID_STATUS = struct.Struct("!IH")
#: Largest meta object accepted (headers of a request, a swagger document ...).
MAX_META = 16 * 1024 * 1024
#: Largest body accepted in a frame (a reply can be bigger than a request).
MAX_BODY = 1 << 31


class ProtocolError(Exception):
    """A frame that cannot be read (the other side is not a worker, or died mid-frame)."""


def pack(meta: dict[str, Any], body: bytes = b"") -> bytes:
    """One frame carrying ``meta`` and ``body``."""
    op = meta.get("op")
    if op == "score" and len(meta) == 3 and meta.get("method") == "POST":
        head, kind = _ID.pack(meta["id"]), _POST
    elif op == "reply" and len(meta) == 4 and len(meta["headers"]) == 1 and \
            meta["headers"][0][0] == "Content-Type":
        head = _ID_STATUS.pack(meta["id"], meta["status"]) + meta["headers"][0][1].encode()
        kind = _REPLY
    else:
        head, kind = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode(), _JSON
    return _HEADER.pack(kind, len(head), len(body)) + head + body


def _check(meta_len: int, body_len: int) -> None:
    if meta_len > MAX_META or body_len > MAX_BODY:
        raise ProtocolError(f"frame too large (meta {meta_len} bytes, body {body_len} bytes)")


def _decode(kind: int, head: bytes) -> dict[str, Any]:
    if kind == _POST:
        return {"op": "score", "id": _ID.unpack(head)[0], "method": "POST"}
    if kind == _REPLY:
        request_id, status = _ID_STATUS.unpack_from(head)
        return {"op": "reply", "id": request_id, "status": status,
                "headers": [("Content-Type", head[_ID_STATUS.size:].decode())]}
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
    kind, meta_len, body_len = _HEADER.unpack(head)
    _check(meta_len, body_len)
    meta = _read_exactly(stream, meta_len) or b""
    body = _read_exactly(stream, body_len) or b""
    return _decode(kind, meta), body


class FrameParser:
    """Frames out of a byte stream that arrives in pieces (the server's side of a worker pipe).

    Example:
        >>> parser = FrameParser()
        >>> frame = pack({"op": "reply", "id": 1}, b"[7]")
        >>> parser.feed(frame[:5]), parser.feed(frame[5:])
        ([], [({'op': 'reply', 'id': 1}, b'[7]')])
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], bytes]]:
        """Add ``data``; return the frames it completed (raises :class:`ProtocolError`)."""
        buffer = self._buffer
        buffer += data
        frames = []
        offset = 0
        while len(buffer) - offset >= _HEADER.size:
            kind, meta_len, body_len = _HEADER.unpack_from(buffer, offset)
            _check(meta_len, body_len)
            end = offset + _HEADER.size + meta_len + body_len
            if len(buffer) < end:
                break
            start = offset + _HEADER.size
            frames.append((_decode(kind, bytes(buffer[start:start + meta_len])),
                           bytes(buffer[start + meta_len:end])))
            offset = end
        if offset:
            del buffer[:offset]
        return frames
