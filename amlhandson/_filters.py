"""The one filter rule for tags and properties (runs, models, services).

v1 filters by key (``"k"``), by several keys (``["k1", "k2"]``), by key and
value (``{"k": "v"}``) or by ``[key, value]`` pairs (``[["k", "v"]]``, as
``Model.list`` takes them). Values compare as strings, since tags are strings.

Example:
    >>> tags = {"model": "knn", "k": "3"}
    >>> matches(tags, "model"), matches(tags, {"k": 3}), matches(tags, [["model", "lr"]])
    (True, True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["matches"]

_MISSING = object()


def _same(have: Any, want: Any) -> bool:
    if have is _MISSING:
        return False
    if want is None or have is None:
        return have is want
    return str(have) == str(want)


def matches(actual: Mapping[str, Any], wanted: Any) -> bool:
    """Whether ``actual`` (a tag or property dict) satisfies the v1 filter ``wanted``.

    Example:
        >>> matches({"a": "1"}, None), matches({"a": "1"}, ["a", "b"])
        (True, False)
    """
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return wanted in actual
    if isinstance(wanted, Mapping):
        return all(_same(actual.get(k, _MISSING), v) for k, v in wanted.items())
    for item in wanted:
        if isinstance(item, str):
            if item not in actual:
                return False
        else:
            key, value = item
            if not _same(actual.get(key, _MISSING), value):
                return False
    return True
