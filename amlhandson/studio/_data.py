"""Everything the studio reads from or does to a workspace, as plain JSON-friendly data.

This module (workspaces, experiments, run listings), :mod:`._run` (one run),
:mod:`._runkinds`, :mod:`._infra` and :mod:`._registry` are the studio's only way
into workspace data: the pages and the JSON API call these functions and nothing else. Single objects come from the public
entity API (``Workspace``, ``Run``, ``Model``, ``Webservice``); the heavy
listings (10,000 runs) are paginated, filtered and sorted by store operations
(``store.runs.search``, ``store.metrics.last_values`` ...), one page at a time.

Listings take ``offset`` / ``limit`` and return ``{"total", "offset", "limit",
"items"}``.

Example:
    >>> page = list_runs(ws, "my-first-experiment", limit=20)  # doctest: +SKIP
    >>> page["total"], page["items"][0]["status"]  # doctest: +SKIP
    (12, 'Completed')
"""

from __future__ import annotations

import time
from typing import Any

from .._store import Store
from ..core._status import reconcile
from ..exceptions import RunNotFoundError, UserErrorException

__all__ = [
    "IMAGE_PREFIX", "MAX_LIMIT", "page", "list_workspaces", "open_workspace", "create_workspace",
    "workspace_details", "config_json", "list_experiments", "list_runs", "RunQuery",
]

#: How an image metric refers to its file (v1's artifact URI).
IMAGE_PREFIX = "aml://artifactId/ExperimentRun/dcid."
#: The largest page a listing returns.
MAX_LIMIT = 500
_TERMINAL = frozenset({"Completed", "Failed", "Canceled"})


def page(items: list[Any], offset: int = 0, limit: int | None = 50) -> dict[str, Any]:
    """One page of ``items`` in the API's listing shape (``limit=None``: all of them, for downloads).

    Example:
        >>> page(list(range(5)), offset=2, limit=2)
        {'total': 5, 'offset': 2, 'limit': 2, 'items': [2, 3]}
    """
    if limit is None:
        return {"total": len(items), "offset": 0, "limit": len(items), "items": items}
    offset, limit = max(0, int(offset)), max(1, min(int(limit), MAX_LIMIT))
    return {"total": len(items), "offset": offset, "limit": limit,
            "items": items[offset:offset + limit]}


def _ts(value: float | None) -> float | None:
    return float(value) if value is not None else None


# -- workspaces ---------------------------------------------------------------------------------
def list_workspaces() -> list[dict[str, Any]]:
    """Every workspace on this machine (name, resource group, location, creation time).

    Example:
        >>> [w["name"] for w in list_workspaces()]  # doctest: +SKIP
        ["docs-ws"]
    """
    from ..core.workspace import Workspace

    items = []
    for group in Workspace.list().values():
        for ws in group:
            details = ws.get_details()
            items.append({"name": ws.name, "resource_group": ws.resource_group,
                          "subscription_id": ws.subscription_id, "location": ws.location,
                          "created": details.get("creationTime"),
                          "run_count": details.get("runCount")})
    return sorted(items, key=lambda w: (w["resource_group"], w["name"]))


def open_workspace(resource_group: str, name: str) -> Any:
    """The existing workspace ``resource_group/name`` (never creates one).

    Example:
        >>> open_workspace("docs-aml", "docs-ws").name  # doctest: +SKIP
        'docs-ws'
    """
    from ..core.workspace import Workspace

    return Workspace(None, resource_group, name)


def create_workspace(form: dict[str, Any]) -> dict[str, Any]:
    """Create a workspace from the portal's form, with ``Workspace.create``'s own validation.

    ``form`` has ``name``, ``subscription_id``, ``resource_group``, ``location``
    (strings; empty means the default). An existing name is refused.

    Example:
        >>> create_workspace({"name": "portal-ws", "location": "japaneast"})["location"]  # doctest: +SKIP
        'japaneast'
    """
    from ..core.workspace import Workspace

    def text(key: str) -> str | None:
        value = form.get(key)
        if value is not None and not isinstance(value, str):
            raise UserErrorException(f"{key} は文字列で指定してください。")
        value = (value or "").strip()
        return value or None

    name = text("name")
    if not name:
        raise UserErrorException("ワークスペース名 (name) を入力してください (例: docs-ws)。")
    ws = Workspace.create(name, subscription_id=text("subscription_id"),
                          resource_group=text("resource_group"), location=text("location"),
                          exist_ok=False, show_output=False)
    return workspace_details(ws)


def workspace_details(ws: Any) -> dict[str, Any]:
    """The workspace's details (v1's keys) plus counts of experiments, models and services.

    Example:
        >>> workspace_details(ws)["experimentCount"]  # doctest: +SKIP
        2
    """
    details = ws.get_details()
    details["experimentCount"] = len(ws.experiments)
    details["modelCount"] = len(ws.models)
    details["serviceCount"] = len(ws.webservices)
    return details


def config_json(ws: Any) -> dict[str, str]:
    """The ``config.json`` that names ``ws`` (what ``ws.write_config()`` writes).

    Example:
        >>> config_json(ws)["workspace_name"]  # doctest: +SKIP
        'docs-ws'
    """
    return {"subscription_id": ws.subscription_id, "resource_group": ws.resource_group,
            "workspace_name": ws.name}


# -- experiments and runs -------------------------------------------------------------------------
def _store(ws: Any) -> Store:
    return Store.open(ws.path)


def _experiment(ws: Any, name: str) -> Any:
    record = _store(ws).experiments.get(name)
    if record is None:
        raise RunNotFoundError(f"experiment {name!r} はワークスペース {ws.name!r} にありません。")
    return record


def _reconcile_unfinished(store: Store) -> None:
    """Mark runs whose process died as Failed before listing (as every read of a run does)."""
    for record in store.runs.unfinished():
        reconcile(store, record)


def list_experiments(ws: Any) -> list[dict[str, Any]]:
    """Every experiment with its top-level run count, status counts and latest activity.

    Example:
        >>> list_experiments(ws)[0]["run_count"]  # doctest: +SKIP
        3
    """
    store = _store(ws)
    _reconcile_unfinished(store)
    pks = {r.name: r.pk for r in store.experiments.list()}
    statuses = store.runs.status_counts()
    items = []
    for summary in store.experiments.summaries():
        counts = statuses.get(pks.get(summary["name"], -1), {})
        items.append({"name": summary["name"], "run_count": sum(counts.values()),
                      "latest": summary["latest"], "statuses": counts})
    return items


def _duration(record: Any) -> float | None:
    if not record.start_time:
        return None
    return (record.end_time or time.time()) - record.start_time


def _rows(store: Store, records: list[Any], names: list[str] | None = None) -> list[dict]:
    """Table rows for run records: identity, status, times, tags, last metric values."""
    pks = [r.pk for r in records]
    tags = store.runs.tags_of(pks)
    last = store.metrics.last_values(pks, names)
    return [{"run_id": r.run_id, "number": r.number, "display_name": r.display_name,
             "status": r.status, "created": _ts(r.created), "start_time": _ts(r.start_time),
             "end_time": _ts(r.end_time), "duration": _duration(r), "tags": tags[r.pk],
             "metrics": last[r.pk], "type": r.type} for r in records]


class RunQuery:
    """Filters and order of the runs table, parsed from the page's query arguments.

    ``status``: one status or ``""``. ``tags``: ``key`` (has the tag) or
    ``key=value``. ``ranges``: ``{metric: (low or None, high or None)}`` on the
    last value. ``sort``: ``number``, ``created``, ``status``, ``duration``,
    ``display_name``, ``metric:<name>`` or ``tag:<key>``.

    Example:
        >>> q = RunQuery.parse({"status": ["Completed"], "tag": ["model=knn"],
        ...                     "range": ["accuracy:0.9:"], "sort": ["metric:accuracy"]})
        >>> q.status, q.tags, q.ranges, q.sort, q.desc
        ('Completed', [('model', 'knn')], {'accuracy': (0.9, None)}, 'metric:accuracy', True)
    """

    def __init__(self) -> None:
        self.status = ""
        self.tags: list[tuple[str, str | None]] = []
        self.ranges: dict[str, tuple[float | None, float | None]] = {}
        self.sort = "number"
        self.desc = True
        self.columns: list[str] | None = None

    @classmethod
    def parse(cls, args: dict[str, list[str]]) -> RunQuery:
        """Build a query from ``{name: [values]}`` (the request's query arguments, decoded)."""
        q = cls()
        q.status = (args.get("status") or [""])[-1]
        for tag in args.get("tag", []):
            if tag.strip():
                key, sep, value = tag.partition("=")
                q.tags.append((key.strip(), value.strip() if sep else None))
        for spec in args.get("range", []):
            if spec.strip():
                name, bounds = _split_range(spec)
                q.ranges[name] = bounds
        q.sort = (args.get("sort") or ["number"])[-1] or "number"
        if q.sort.partition(":")[0] not in ("number", "created", "status", "duration",
                                            "display_name", "metric", "tag"):
            raise UserErrorException(f"sort={q.sort!r} では並べられません (number, created, status, "
                                     "duration, display_name, metric:<名前>, tag:<キー>)。")
        q.desc = (args.get("desc") or ["1"])[-1] not in ("0", "false", "")
        if args.get("columns"):
            q.columns = [c for c in ",".join(args["columns"]).split(",") if c.strip()]
        return q


def _split_range(spec: str) -> tuple[str, tuple[float | None, float | None]]:
    """``"acc:0.9:1"`` -> ``("acc", (0.9, 1.0))``; the name may itself contain ``:``."""
    head, _, high = spec.rpartition(":")
    name, _, low = head.rpartition(":")
    if not name:
        raise UserErrorException(f"範囲の指定 {spec!r} は 'メトリック名:下限:上限' の形にしてください "
                                 "(どちらかは空でかまいません。例: accuracy:0.9:)。")

    def bound(text: str) -> float | None:
        if not text.strip():
            return None
        try:
            return float(text)
        except ValueError:
            raise UserErrorException(f"範囲の指定 {spec!r}: {text!r} は数値ではありません。") from None

    return name, (bound(low), bound(high))


def list_runs(ws: Any, experiment: str, query: RunQuery | None = None, offset: int = 0,
              limit: int = 50) -> dict[str, Any]:
    """One page of an experiment's top-level runs, filtered and sorted by ``query`` in the store.

    Besides the page, returns ``metric_names`` and ``tag_keys`` seen in the
    experiment (for column and filter choices) and ``columns``, the metric
    columns to show (the first eight unless chosen).

    Example:
        >>> list_runs(ws, "my-first-experiment", RunQuery.parse({"sort": ["metric:accuracy"]}))["total"]  # doctest: +SKIP
        3
    """
    query = query or RunQuery()
    store = _store(ws)
    exp = _experiment(ws, experiment)
    _reconcile_unfinished(store)
    offset, limit = max(0, int(offset)), max(1, min(int(limit), MAX_LIMIT))
    sort, _, key = query.sort.partition(":")
    total, records = store.runs.search(exp.pk, status=query.status or None, tags=query.tags,
                                       ranges=query.ranges, sort=sort, sort_key=key or None,
                                       desc=query.desc, limit=limit, offset=offset)
    metric_names = store.metrics.names_in_experiment(exp.pk)
    columns = [c for c in query.columns if c in metric_names] \
        if query.columns is not None else metric_names[:8]
    return {"total": total, "offset": offset, "limit": limit, "items": _rows(store, records),
            "metric_names": metric_names, "tag_keys": store.runs.tag_keys(exp.pk),
            "columns": columns}

