"""Bounds on what a request may contain: JSON nesting, integer digits, non-finite numbers.

:func:`parse_json` is what the score worker runs on a request body before
``run()`` sees it: a body that is not JSON, nests deeper than the limit, holds
an integer with more digits than the limit, or a number that is not finite
(``NaN``, ``Infinity``, ``1e999``) raises :class:`BadRequest` with a message for
the client (a 400), never an exception that would become a 500.

The checks cost almost nothing for ordinary bodies: nesting is only examined
when the body has more brackets than the depth limit, overflowing exponents
only when the body has an exponent of three digits or more.

Example:
    >>> parse_json('{"data": [[1, 2.5]]}')
    {'data': [[1, 2.5]]}
    >>> try:
    ...     parse_json("[" * 200 + "]" * 200)
    ... except BadRequest as exc:
    ...     print(exc)
    リクエストの JSON の入れ子が深すぎます (上限 100 段)。
    >>> preview("x" * 500, 10)
    "'xxxxxxxxxx'... (500 文字)"
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["BadRequest", "parse_json", "precheck", "preview", "MAX_DEPTH", "MAX_INT_DIGITS"]

MAX_DEPTH = 100
MAX_INT_DIGITS = 4300
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BIG_EXPONENT = re.compile(r"[eE][+-]?\d{3,}")
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_PLAIN = b"0123456789.,-+ \t\r\n"
# Two patterns that start with a literal: the regex engine jumps from one "e" to the next.
_BIG_EXPONENTS = ((b"e", re.compile(rb"e[+-]?\d{3}")), (b"E", re.compile(rb"E[+-]?\d{3}")))


class BadRequest(ValueError):
    """A request the server refuses with 400 (the message is for the client)."""


def preview(text: str | bytes, limit: int = 120) -> str:
    """The first ``limit`` characters of ``text`` for a message or a log line.

    Example:
        >>> preview(b"abc")
        "'abc'"
    """
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", "replace")
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} 文字)"


def _too_deep(text: str, limit: int) -> bool:
    """Whether arrays/objects in ``text`` nest deeper than ``limit`` (strings ignored)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    if '"' in text:
        text = _STRINGS.sub('""', text)
    shape = _NOT_BRACKETS.sub("", text)
    for _level in range(limit):
        shorter = shape.replace("[]", "").replace("{}", "")
        if not shorter or shorter == shape:
            return False  # fully reduced, or unbalanced (json.loads will say where)
        shape = shorter
    return bool(shape)


def _checked_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"JSON の数値 {preview(text, 40)} は大きすぎて有限の数になりません。"
                         "倍精度浮動小数点数の範囲 (約 1.8e308 まで) にしてください。")
    return value


def _reject_constant(name: str) -> Any:
    raise BadRequest(f"JSON に {name} があります。NaN / Infinity は JSON の値ではないので送れません "
                     "(欠損値は null などにしてください)。")


def precheck(body: str | bytes, *, max_depth: int = MAX_DEPTH,
             max_int_digits: int = MAX_INT_DIGITS) -> None:
    """Enforce the limits on a body that ``run()`` will parse itself, at C speed.

    Only a body that *might* break a limit (more brackets than the depth limit,
    ``NaN`` / ``Infinity`` somewhere, an exponent of three digits, a digit run
    longer than the limit) is parsed here, by :func:`parse_json`; an ordinary
    body costs one byte translation and a few searches in what is left (about
    8 µs for a 14 KB MNIST image, 40 µs when its 784 numbers all have
    exponents). Integers longer than the interpreter's own limit
    (``sys.get_int_max_str_digits``, 4300) make ``run()``'s own ``json.loads``
    fail anyway; the server then explains it (see ``_scoring``).

    Example:
        >>> precheck('{"data": [[0.5, 1.0]]}')
        >>> precheck(b'{"data": [[1e-05]]}')
        >>> try:
        ...     precheck('{"data": [NaN]}')
        ... except BadRequest as exc:
        ...     print(str(exc)[:13])
        JSON に NaN があ
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    # What is left without digits, signs, separators and blanks: brackets, keys, strings, "e".
    rest = data.translate(None, _PLAIN)
    suspicious = rest.count(b"[") + rest.count(b"{") > max_depth or \
        b"NaN" in rest or b"Infinity" in rest
    if not suspicious:  # an exponent of 3 digits or more, searched from each "e" / "E"
        suspicious = any(e in rest and big.search(data) for e, big in _BIG_EXPONENTS)
    if not suspicious and max_int_digits < 4300 and len(data) > max_int_digits:
        suspicious = re.search(rb"\d{%d}" % (max_int_digits + 1), data) is not None
    if suspicious:
        text = body if isinstance(body, str) else body.decode("utf-8", "replace")
        parse_json(text, max_depth=max_depth, max_int_digits=max_int_digits)


def parse_json(text: str, *, max_depth: int = MAX_DEPTH,
               max_int_digits: int = MAX_INT_DIGITS) -> Any:
    """Parse a request body, enforcing the limits; raise :class:`BadRequest` otherwise."""
    if max_depth and _too_deep(text, max_depth):
        raise BadRequest(f"リクエストの JSON の入れ子が深すぎます (上限 {max_depth} 段)。")

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > max_int_digits:
            raise BadRequest(f"JSON の整数が長すぎます ({len(digits)} 桁, 上限 {max_int_digits} 桁)。"
                             "大きな数は文字列にするか、桁を減らしてください。")
        return int(digits)

    parse_float = _checked_float if ("e" in text or "E" in text) and \
        _BIG_EXPONENT.search(text) else float
    try:
        return json.loads(text, parse_int=bounded_int, parse_float=parse_float,
                          parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"リクエストの本文が正しい JSON ではありません (行 {exc.lineno}, 列 "
                         f"{exc.colno}: {exc.msg}; 先頭: {preview(text)})。") from None
    except RecursionError:
        raise BadRequest(f"リクエストの JSON の入れ子が深すぎます (上限 {max_depth} 段)。") from None
