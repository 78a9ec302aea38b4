"""Where compute target definitions are kept: the workspace store's ``compute`` component.

Example:
    >>> save(ws, "cpu", "AmlCompute", {"max_nodes": 2})  # doctest: +SKIP
    >>> load(ws, "cpu")["type"]  # doctest: +SKIP
    'AmlCompute'
"""

from __future__ import annotations

from typing import Any

from ..._store import Store

__all__ = ["save", "load", "names", "delete"]


def save(workspace: Any, name: str, kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Store target ``name`` (an existing one is kept); return the stored record."""
    return Store.open(workspace.path).compute.save(name, kind, config)


def load(workspace: Any, name: str) -> dict[str, Any] | None:
    """The record of target ``name``, or ``None``."""
    return Store.open(workspace.path).compute.get(name)


def names(workspace: Any) -> list[str]:
    """Names of the stored targets, sorted."""
    return Store.open(workspace.path).compute.names()


def delete(workspace: Any, name: str) -> bool:
    """Remove target ``name``; ``True`` if it existed."""
    return Store.open(workspace.path).compute.delete(name)
