"""Calling a service over HTTP from the SDK (``service.run``): encode, send, decode, explain.

Example:
    >>> encode({"data": [[1, 2]]})
    b'{"data": [[1, 2]]}'
    >>> decode(b'[7]'), decode(b"not json")
    ([7], 'not json')
    >>> status_hint(413)[:10]
    'データが大きすぎます'
"""

from __future__ import annotations

import http.client
import json
from typing import Any

from ...exceptions import UserErrorException

__all__ = ["encode", "decode", "request", "status_hint", "client_host", "SCORING_TIMEOUT"]

#: Seconds the client waits for an answer beyond the service's own scoring timeout.
SCORING_TIMEOUT = 120.0


def client_host(host: str) -> str:
    """The address to call for a server bound to ``host`` (``0.0.0.0`` → ``127.0.0.1``).

    Example:
        >>> client_host("0.0.0.0"), client_host("::")
        ('127.0.0.1', '::1')
    """
    if host in ("0.0.0.0", "", "*"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def encode(input_data: Any) -> bytes:
    """The request body for ``input_data`` (a JSON string, bytes, or a JSON-able object)."""
    if isinstance(input_data, bytes):
        return input_data
    if isinstance(input_data, str):
        return input_data.encode("utf-8")
    from ._scoring import dumps

    try:
        return dumps(input_data)
    except (TypeError, ValueError) as exc:
        raise UserErrorException(
            f"run(input_data): {type(input_data).__name__} を JSON にできません ({exc})。"
            'json.dumps({"data": ...}) の文字列を渡してください。') from exc


def decode(content: bytes) -> Any:
    """The JSON value of an answer, or its text when it is not JSON."""
    text = content.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def request(host: str, port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None,
            timeout: float = SCORING_TIMEOUT) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request; raises ``OSError`` when the service cannot be reached."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def status_hint(status: int) -> str:
    """What to do about an HTTP error status, in one sentence."""
    return {
        400: "送ったデータがサービスの期待する形ではありません (本文の message を読んでください)。",
        401: "キーがないか違います。service.get_keys() のキーを 'Authorization: Bearer <key>' で"
             "送ってください。",
        413: "データが大きすぎます。何回かに分けて送ってください。",
        415: "Content-Type を application/json にしてください。",
        500: "score.py の run() で例外が起きました。service.get_logs() で traceback を確認して"
             "ください。",
        502: "処理中に score.py のプロセスが終了しました (自動で起動し直します)。"
             "service.get_logs() で理由を確認してください。",
        503: "サービスが混んでいるか、score.py のプロセスを起動し直しています。少し待ってから"
             "送り直してください。",
        504: "run() が scoring_timeout_ms 以内に終わりませんでした。run() を速くするか、"
             "deploy_configuration(scoring_timeout_ms=...) を長くしてください。",
    }.get(status, "service.get_logs() でログを確認してください。")
