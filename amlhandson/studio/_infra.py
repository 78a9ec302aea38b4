"""Compute targets, datastores and datasets of a workspace, for the studio's pages and API.

Plain data from the entities' public API (``ws.compute_targets``,
``Datastore.list``, ``Dataset.get_all`` / ``list_versions``).

Example:
    >>> [t["name"] for t in list_compute(ws)]  # doctest: +SKIP
    ['local', 'cpu-cluster']
"""

from __future__ import annotations

from typing import Any

__all__ = ["list_compute", "list_datastores", "list_datasets"]


def list_compute(ws: Any) -> list[dict[str, Any]]:
    """Every compute target with its settings and current status ('local' included).

    Example:
        >>> list_compute(ws)[0]["type"]  # doctest: +SKIP
        'local'
    """
    items = []
    for name, target in sorted(ws.compute_targets.items()):
        serialized = target.serialize() if hasattr(target, "serialize") else {}
        status = target.get_status().serialize() if hasattr(target, "get_status") else {}
        items.append({"name": name, "type": getattr(target, "type", type(target).__name__),
                      "state": serialized.get("provisioningState")
                      or status.get("provisioningState"),
                      "properties": serialized.get("properties") or {},
                      "created": serialized.get("created"), "status": status})
    return items


def list_datastores(ws: Any) -> list[dict[str, Any]]:
    """Every datastore: name, type, default or not, where its files are.

    Example:
        >>> list_datastores(ws)[0]["name"]  # doctest: +SKIP
        'workspaceblobstore'
    """
    from ..core.datastore import Datastore

    items = []
    for store in Datastore.list(ws):
        folder = store.local_folder
        items.append({"name": store.name, "type": store.datastore_type,
                      "default": bool(store.is_default), "account": store.account_name,
                      "container": store.container_name,
                      "local_folder": str(folder) if folder is not None else None})
    return sorted(items, key=lambda s: (not s["default"], s["name"]))


def list_datasets(ws: Any) -> list[dict[str, Any]]:
    """Every registered dataset version (newest first per name).

    Example:
        >>> list_datasets(ws)[0]["kind"]  # doctest: +SKIP
        'FileDataset'
    """
    from ..core.dataset import Dataset

    items = []
    for name in sorted(Dataset.get_all(ws)):
        for ds in sorted(Dataset.list_versions(ws, name), key=lambda d: -(d.version or 0)):
            items.append({"name": ds.name, "version": ds.version, "id": ds.id,
                          "kind": type(ds).__name__, "description": ds.description,
                          "tags": dict(ds.tags or {}),
                          "fingerprint": ds.registered_fingerprint})
    return items
