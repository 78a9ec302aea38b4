"""Metric kinds, value validation and the shapes ``get_metrics`` returns.

Pure functions, no storage: :mod:`amlhandson.core.run` calls them before queueing
a value and after reading values back.

Example:
    >>> encode_scalar(True, "flag")
    True
    >>> merge_rows([{"x": 1}, {"x": 2, "y": "a"}], ROW)
    {'x': [1, 2], 'y': [None, 'a']}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._store import IMAGE, LIST, ROW, SCALAR, TABLE
from ..exceptions import MetricError

__all__ = ["SCALAR", "LIST", "ROW", "TABLE", "IMAGE", "KIND_CALL", "LIMITS", "check_name",
           "encode_scalar", "scalar_kind", "merge_rows", "INT_LIMIT", "big_int"]

#: Integers must stay strictly between -INT_LIMIT and INT_LIMIT (they are stored as JSON
#: text, and Python refuses to turn ints of more than 4,300 digits into text).
INT_LIMIT = 10**4000
KIND_CALL = {SCALAR: "run.log", LIST: "run.log_list", ROW: "run.log_row",
              TABLE: "run.log_table", IMAGE: "run.log_image"}

#: Size limits; values past them are refused with a message, nothing is stored.
LIMITS = {
    "name_length": 255,
    "string_length": 65_536,
    "list_length": 1_000_000,
    "table_cells": 1_000_000,
}


def big_int(value: int, name: str, call: str = "run.log") -> MetricError:
    """The error for an integer too large to store.

    Example:
        >>> "桁" in str(big_int(10**5000, "n"))
        True
    """
    digits = len(str(abs(value))) if abs(value) < 10**4300 else "4,300 以上の"
    return MetricError(
        f"{call}({name!r}, ...): 整数が大きすぎて記録できません ({digits} 桁、上限 4,000 桁)。"
        "float に変換するか、文字列 (str) にして記録してください。"
    )


def encode_scalar(value: Any, name: str, call: str = "run.log") -> Any:
    """Return ``value`` as a plain Python scalar, or raise :class:`MetricError`.

    Example:
        >>> encode_scalar(3, "k")
        3
    """
    t = type(value)
    if t is int:
        if -INT_LIMIT < value < INT_LIMIT:
            return value
        raise big_int(value, name, call)
    if t is bool or t is float or value is None:
        return value
    if t is str:
        _check_text(value, name, call)
        if len(value) > LIMITS["string_length"]:
            raise MetricError(
                f"{call}({name!r}, ...): 文字列が長すぎます ({len(value):,} 文字)。"
                f"メトリックの文字列は {LIMITS['string_length']:,} 文字までです。"
                "長い文章やデータは run.upload_file でファイルとして保存してください。"
            )
        return value
    module = getattr(t, "__module__", "")
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray):
            if value.ndim == 0:
                return encode_scalar(value.item(), name, call)
        elif isinstance(value, np.bool_):
            return bool(value)
        elif isinstance(value, np.integer):
            return int(value)
        elif isinstance(value, np.floating):
            number = float(value)  # np.longdouble too: a float keeps it a number
            if number in (float("inf"), float("-inf")) and np.isfinite(value):
                raise MetricError(
                    f"{call}({name!r}, ...): {value!r} は float の範囲を超えるので記録できません。"
                )
            return number
        elif isinstance(value, np.str_):
            return encode_scalar(str(value), name, call)
    for base in (bool, int, float, str):  # subclasses such as IntEnum
        if isinstance(value, base):
            return encode_scalar(base(value), name, call)
    if isinstance(value, (list, tuple, range, set, frozenset, Iterator)) or module == "numpy":
        raise MetricError(
            f"run.log does not support list type. Use run.log_list instead. "
            f"({call}({name!r}, ...) には値を 1 つだけ渡してください。リストや配列は "
            f"run.log_list({name!r}, 値のリスト) で記録します。)"
        )
    if isinstance(value, dict):
        raise MetricError(
            f"{call}({name!r}, ...) に dict は渡せません。表なら run.log_table({name!r}, "
            "{'列名': [値, ...]}) か run.log_row を使ってください。"
        )
    raise MetricError(
        f"{call}({name!r}, ...): {t.__name__} 型の値は記録できません。int, float, str, bool, "
        "None (または numpy の数値) を渡してください。"
    )


def _check_text(value: str, name: str, call: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MetricError(
            f"{call}({name!r}, ...): 文字列に保存できない文字 (対になっていないサロゲート "
            f"{value[exc.start]!r}) があります。"
        ) from None


def scalar_kind(value: Any) -> str:
    """``"bool"``, ``"number"``, ``"str"``, ``"none"`` (types that may mix in a list).

    Example:
        >>> scalar_kind(1.5), scalar_kind(None)
        ('number', 'none')
    """
    t = type(value)
    if t is bool:
        return "bool"
    if t in (int, float):
        return "number"
    if t is str:
        return "str"
    return "none" if value is None else t.__name__


def merge_rows(parts: list[Any], kind: int) -> dict[str, list[Any]]:
    """Rows (``ROW``) or tables (``TABLE``) joined into one table; gaps become ``None``.

    Example:
        >>> merge_rows([{"a": [1]}, {"b": [2]}], TABLE)
        {'a': [1, None], 'b': [None, 2]}
    """
    columns: dict[str, list[Any]] = {}
    count = 0
    for part in parts:
        if kind == ROW:
            part = {k: [v] for k, v in part.items()}
        n = len(next(iter(part.values()))) if part else 0
        for col in part:
            if col not in columns:
                columns[col] = [None] * count
        for col, vals in columns.items():
            vals.extend(part.get(col, [None] * n))
        count += n
    return columns


def check_name(name: Any, kind: int) -> None:
    """Refuse a metric name that is not a clean, non-empty string of reasonable length."""
    call = KIND_CALL[kind]
    if not isinstance(name, str):
        raise MetricError(f"{call}: メトリック名は文字列にしてください ({name!r} が渡されました)。")
    if not name.strip():
        raise MetricError(f"{call}: メトリック名が空です。'accuracy' のような名前を付けてください。")
    if name != name.strip():
        raise MetricError(
            f"{call}: メトリック名 {name!r} の前後に空白があります。v1 ではこれが読み出し時の"
            f"'Malformed metric value' エラーの原因でした。{name.strip()!r} にしてください。"
        )
    _check_text(name, name.encode("utf-8", "replace").decode(), call)
    if len(name) > LIMITS["name_length"]:
        raise MetricError(f"{call}: メトリック名が長すぎます ({len(name)} 文字、上限 "
                          f"{LIMITS['name_length']} 文字)。")
