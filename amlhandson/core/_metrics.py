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

from ..exceptions import MetricError

__all__ = ["SCALAR", "LIST", "ROW", "TABLE", "IMAGE", "KIND_CALL", "LIMITS", "check_name",
           "encode_scalar", "scalar_kind", "merge_rows"]

SCALAR, LIST, ROW, TABLE, IMAGE = 0, 1, 2, 3, 4
KIND_CALL = {SCALAR: "run.log", LIST: "run.log_list", ROW: "run.log_row",
              TABLE: "run.log_table", IMAGE: "run.log_image"}

#: Size limits; values past them are refused with a message, nothing is stored.
LIMITS = {
    "name_length": 255,
    "string_length": 65_536,
    "list_length": 1_000_000,
    "table_cells": 1_000_000,
}


def encode_scalar(value: Any, name: str, call: str = "run.log") -> Any:
    """Return ``value`` as a plain Python scalar, or raise :class:`MetricError`."""
    t = type(value)
    if t is bool or t is int or t is float or value is None:
        return value
    if t is str:
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
            return repr(value) if value.dtype.itemsize > 8 else float(value)
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


def scalar_kind(value: Any) -> str:
    t = type(value)
    if t is bool:
        return "bool"
    if t in (int, float):
        return "number"
    if t is str:
        return "str"
    return "none" if value is None else t.__name__


def merge_rows(parts: list[Any], kind: int) -> dict[str, list[Any]]:
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
    if len(name) > LIMITS["name_length"]:
        raise MetricError(f"{call}: メトリック名が長すぎます ({len(name)} 文字、上限 "
                          f"{LIMITS['name_length']} 文字)。")
