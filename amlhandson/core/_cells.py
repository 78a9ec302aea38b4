"""Which notebook cell started which run, so that re-running a cell closes its old run.

Example:
    >>> claim(object())   # outside IPython nothing is recorded
    []
"""

from __future__ import annotations

from typing import Any

from .. import _ipython

__all__ = ["claim"]

_cell_runs: dict[str, list[tuple[int, Any]]] = {}


def claim(run: Any) -> list[Any]:
    """Record that the running cell started ``run``; return the runs its *earlier*
    executions started (the caller closes those that are still open).

    Example:
        >>> claim(run)  # doctest: +SKIP
        []
    """
    cell = _ipython.current_cell()
    if cell is None:
        return []
    key, count = cell
    earlier = [other for other_count, other in _cell_runs.get(key, []) if other_count != count]
    kept = [(c, r) for c, r in _cell_runs.get(key, []) if c == count]
    kept.append((count, run))
    _cell_runs[key] = kept
    return earlier
