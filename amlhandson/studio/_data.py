"""Everything the studio reads from or does to a workspace, as plain JSON-friendly data.

This is the studio's only way into workspace data: the pages and the JSON API
call these functions and nothing else. Single objects come from the public
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

import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._store import IMAGE, LIST, ROW, SCALAR, TABLE, Store
from ..core._status import reconcile
from ..exceptions import ArtifactNotFoundError, RunNotFoundError, RunStateError, UserErrorException
from . import _runkinds

__all__ = [
    "IMAGE_PREFIX", "MAX_LIMIT", "page", "list_workspaces", "open_workspace", "create_workspace",
    "workspace_details", "config_json", "list_experiments", "list_runs", "RunQuery",
    "find_run", "run_detail", "run_version", "metric_values", "classify_metric", "run_file", "cancel_run",
    "compare_runs",
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


_KIND_NAMES = {SCALAR: "log", LIST: "log_list", ROW: "log_row", TABLE: "log_table",
               IMAGE: "log_image"}


def classify_metric(name: str, value: Any, kind: int = SCALAR) -> dict[str, Any]:
    """Describe one metric for the views: ``scalar`` (logged once), ``series``, ``table``, ``image``.

    ``kind`` is the stored kind (``run.log``, ``log_list``, ``log_row`` ...).

    Example:
        >>> classify_metric("loss", [0.9, 0.5])["kind"], classify_metric("lr", 0.1)["kind"]
        ('series', 'scalar')
    """
    how = _KIND_NAMES.get(kind, "log")
    if kind == IMAGE:
        uris = value if isinstance(value, list) else [value]
        files = [u.split("/", 5)[-1] if isinstance(u, str) and u.startswith(IMAGE_PREFIX)
                 else str(u) for u in uris]
        return {"name": name, "kind": "image", "files": files, "count": len(files), "how": how}
    if kind in (ROW, TABLE) or isinstance(value, dict):
        columns = {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}
        rows = max((len(v) for v in columns.values()), default=0)
        return {"name": name, "kind": "table", "columns": columns, "rows": rows, "how": how}
    if kind == LIST or isinstance(value, list):
        values = value if isinstance(value, list) else [value]
        tail = values[-1000:]
        numeric = bool(tail) and all(_number(v) is not None or v is None for v in tail)
        return {"name": name, "kind": "series", "values": values, "count": len(values),
                "last": values[-1] if values else None, "numeric": numeric, "how": how}
    return {"name": name, "kind": "scalar", "value": value, "last": value, "count": 1,
            "how": how}


def _number(value: Any) -> float | None:
    if isinstance(value, (bool, int, float)) and math.isfinite(float(value)):
        return float(value)
    return None


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


def find_run(ws: Any, run_id: str) -> Any:
    """The run with exactly this id (any experiment of ``ws``).

    Example:
        >>> find_run(ws, run.id) == run  # doctest: +SKIP
        True
    """
    from ..core.run import Run

    run = Run.find(ws, run_id)
    if run.id != run_id:
        raise RunNotFoundError(f"Run {run_id!r} はワークスペース {ws.name!r} にありません。")
    return run


def _metrics(store: Store, run: Any, name: str | None = None) -> list[dict[str, Any]]:
    kinds = store.metrics.kinds(run.record.pk)
    values = run.get_metrics(name=name)
    return [classify_metric(n, values[n], kinds.get(n, SCALAR)) for n in values]


def run_version(ws: Any, run_id: str) -> dict[str, Any]:
    """What the live refresh polls: status and a token that changes when the run page would.

    Cheap on purpose (no metric values are read): the status, how many metric
    values and names are stored, how many files and children the run has.

    Example:
        >>> run_version(ws, run.id)["status"]  # doctest: +SKIP
        'Running'
    """
    run = find_run(ws, run_id)
    record = run.record
    return {"run_id": run.id, "status": record.status, "is_terminal": record.is_terminal,
            "version": _version(_store(ws), run)}


def _version(store: Store, run: Any) -> str:
    record = run.record
    children = len(store.runs.list(parent_pk=record.pk))
    return (f"{record.status}|{store.metrics.count_values(record.pk)}|"
            f"{len(store.metrics.kinds(record.pk))}|{len(run.get_file_names())}|{children}|"
            f"{len(run.get_tags())}")


def run_detail(ws: Any, run_id: str, *, children_limit: int = 200) -> dict[str, Any]:
    """Everything the run page shows: status, times, details, metrics by kind, files, children.

    Example:
        >>> [m["kind"] for m in run_detail(ws, run.id)["metrics"]]  # doctest: +SKIP
        ['series', 'scalar']
    """
    run = find_run(ws, run_id)
    store = _store(ws)
    details = run.get_details()
    record = run.record
    children = [reconcile(store, r) for r in store.runs.list(parent_pk=record.pk)]
    parent = store.runs.get(record.parent_pk) if record.parent_pk is not None else None
    status = details["status"]
    return {
        **_runkinds.extras(run),
        "run_id": run.id, "number": run.number, "name": run.name,
        "display_name": run.display_name, "experiment": run.experiment.name,
        "type": run.type, "status": status, "is_terminal": status in _TERMINAL,
        "created": _ts(record.created), "start_time": _ts(record.start_time),
        "end_time": _ts(record.end_time), "duration": _duration(record),
        "details": details, "tags": details.get("tags", {}),
        "properties": details.get("properties", {}),
        "error": (details.get("error") or {}).get("error"),
        "metrics": _metrics(store, run), "files": run.get_file_names(),
        "children": _rows(store, children[:children_limit]), "children_total": len(children),
        "parent": None if parent is None else {
            "run_id": parent.run_id, "number": parent.number,
            "display_name": parent.display_name, "status": parent.status},
        "version": _version(store, run),
    }


def metric_values(ws: Any, run_id: str, name: str, offset: int = 0,
                  limit: int | None = 100) -> dict[str, Any]:
    """The exact values of one metric, one page at a time (``limit=None``: all, for downloads).

    Example:
        >>> metric_values(ws, run.id, "loss", offset=0, limit=2)["items"]  # doctest: +SKIP
        [0.9, 0.5]
    """
    run = find_run(ws, run_id)
    found = _metrics(_store(ws), run, name)
    if not found:
        raise ArtifactNotFoundError(f"Run {run_id} にメトリック {name!r} はありません。")
    entry = found[0]
    if entry["kind"] == "table":
        cols = entry["columns"]
        rows = [{c: (cols[c][i] if i < len(cols[c]) else None) for c in cols}
                for i in range(entry["rows"])]
        result = page(rows, offset, limit)
        result["columns"] = list(cols)
    else:
        values = entry.get("values", entry.get("files", [entry.get("value")]))
        result = page(values, offset, limit)
        result["columns"] = ["value"]
    result["name"], result["kind"] = name, entry["kind"]
    return result


def run_file(ws: Any, run_id: str, name: str) -> Path:
    """The path of run file ``name``; only the run's own listed files, never outside its folder.

    Example:
        >>> run_file(ws, run.id, "outputs/model.pkl").name  # doctest: +SKIP
        'model.pkl'
    """
    run = find_run(ws, run_id)
    if name not in run.get_file_names():
        raise ArtifactNotFoundError(f"Run {run_id} にファイル {name!r} はありません。")
    root = run.local_path.resolve()
    path = (run.local_path / name).resolve()
    if root not in path.parents:
        raise ArtifactNotFoundError(f"ファイル {name!r} は Run のフォルダーの外を指しているので"
                                    "表示できません。")
    return path


def cancel_run(ws: Any, run_id: str) -> dict[str, Any]:
    """Cancel a run that has not finished (an explicit action of the portal).

    Example:
        >>> cancel_run(ws, run.id)["status"]  # doctest: +SKIP
        'Canceled'
    """
    run = find_run(ws, run_id)
    status = run.get_status()
    if status in _TERMINAL:
        raise RunStateError(f"Run {run_id} はすでに {status} で終わっているのでキャンセルできません。")
    run.cancel()
    return {"run_id": run.id, "status": run.get_status()}


def compare_runs(ws: Any, run_ids: Iterable[str]) -> dict[str, Any]:
    """Several runs side by side: their rows, every numeric series per run, tag keys.

    Example:
        >>> len(compare_runs(ws, [a.id, b.id])["runs"])  # doctest: +SKIP
        2
    """
    store = _store(ws)
    runs = []
    for run_id in run_ids:
        run = find_run(ws, run_id)
        row = _rows(store, [run.record])[0]
        row["series"] = {}
        for m in _metrics(store, run):
            if m["kind"] == "series":
                row["metrics"].setdefault(m["name"], m["last"])  # log_list: its last value
                if m["numeric"]:
                    row["series"][m["name"]] = m["values"]
        runs.append(row)
    metric_names = sorted({m for r in runs for m in r["metrics"]} |
                          {m for r in runs for m in r["series"]})
    tag_keys = sorted({t for r in runs for t in r["tags"]})
    return {"runs": runs, "metric_names": metric_names, "tag_keys": tag_keys}
