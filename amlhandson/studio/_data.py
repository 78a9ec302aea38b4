"""Everything the studio reads from or does to a workspace, as plain JSON-friendly data.

This is the studio's only way into workspace data: the pages and the JSON API
call these functions and nothing else. They use the public entity API
(``Workspace``, ``Experiment``, ``Run``, ``Model``, ``Webservice``), so that a
later switch to paginated store queries changes this module only.

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

from ..exceptions import ArtifactNotFoundError, RunStateError, UserErrorException

__all__ = [
    "IMAGE_PREFIX", "MAX_LIMIT", "page", "list_workspaces", "open_workspace", "create_workspace",
    "workspace_details", "config_json", "list_experiments", "list_runs", "RunQuery",
    "find_run", "run_detail", "metric_values", "classify_metric", "run_file", "cancel_run",
    "compare_runs", "list_models", "model_file", "list_services", "service_detail",
    "delete_service", "scoring_target", "swagger_uri",
]

#: How an image metric refers to its file (v1's artifact URI).
IMAGE_PREFIX = "aml://artifactId/ExperimentRun/dcid."
#: The largest page a listing returns.
MAX_LIMIT = 500
_TERMINAL = frozenset({"Completed", "Failed", "Canceled"})


def page(items: list[Any], offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """One page of ``items`` in the API's listing shape.

    Example:
        >>> page(list(range(5)), offset=2, limit=2)
        {'total': 5, 'offset': 2, 'limit': 2, 'items': [2, 3]}
    """
    offset, limit = max(0, int(offset)), max(1, min(int(limit), MAX_LIMIT))
    return {"total": len(items), "offset": offset, "limit": limit,
            "items": items[offset:offset + limit]}


def _ts(value: float | None) -> float | None:
    return float(value) if value is not None else None


# -- workspaces ---------------------------------------------------------------------------------
def list_workspaces() -> list[dict[str, Any]]:
    """Every workspace on this machine (name, resource group, location, creation time)."""
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
    """The existing workspace ``resource_group/name`` (never creates one)."""
    from ..core.workspace import Workspace

    return Workspace(None, resource_group, name)


def create_workspace(form: dict[str, Any]) -> dict[str, Any]:
    """Create a workspace from the portal's form, with ``Workspace.create``'s own validation.

    ``form`` has ``name``, ``subscription_id``, ``resource_group``, ``location``
    (strings; empty means the default). An existing name is refused.
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
    """The workspace's details (v1's keys) plus counts of experiments, models and services."""
    details = ws.get_details()
    details["experimentCount"] = len(ws.experiments)
    details["modelCount"] = len(ws.models)
    details["serviceCount"] = len(ws.webservices)
    return details


def config_json(ws: Any) -> dict[str, str]:
    """The ``config.json`` that names ``ws`` (what ``ws.write_config()`` writes)."""
    return {"subscription_id": ws.subscription_id, "resource_group": ws.resource_group,
            "workspace_name": ws.name}


# -- experiments and runs -------------------------------------------------------------------------
def _experiment(ws: Any, name: str) -> Any:
    from ..core.experiment import Experiment
    from ..exceptions import RunNotFoundError

    if name not in ws.experiments:
        raise RunNotFoundError(f"experiment {name!r} はワークスペース {ws.name!r} にありません。")
    return Experiment(ws, name)


def list_experiments(ws: Any) -> list[dict[str, Any]]:
    """Every experiment with its run count, status counts and latest activity."""
    items = []
    for name, exp in sorted(ws.experiments.items()):
        count, latest, statuses = 0, None, {}
        for run in exp.get_runs():
            count += 1
            record = run.record
            stamp = max(t for t in (record.created, record.start_time, record.end_time) if t)
            latest = stamp if latest is None else max(latest, stamp)
            statuses[record.status] = statuses.get(record.status, 0) + 1
        items.append({"name": name, "run_count": count, "latest": latest,
                      "statuses": statuses})
    return items


def classify_metric(name: str, value: Any) -> dict[str, Any]:
    """Describe one ``get_metrics()`` entry: its kind and the values the views need.

    Kinds: ``scalar`` (logged once), ``series`` (a list of values), ``table``
    (``log_row`` / ``log_table``), ``image``.

    Example:
        >>> classify_metric("loss", [0.9, 0.5])["kind"], classify_metric("lr", 0.1)["kind"]
        ('series', 'scalar')
    """
    def is_image(v: Any) -> bool:
        return isinstance(v, str) and v.startswith(IMAGE_PREFIX)

    if is_image(value) or (isinstance(value, list) and value and all(map(is_image, value))):
        uris = value if isinstance(value, list) else [value]
        files = [u.split("/", 4)[-1] for u in uris]
        return {"name": name, "kind": "image", "files": files, "count": len(files)}
    if isinstance(value, dict):
        columns = {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}
        rows = max((len(v) for v in columns.values()), default=0)
        return {"name": name, "kind": "table", "columns": columns, "rows": rows}
    if isinstance(value, list):
        numbers = [v for v in value[-1000:] if _number(v) is not None]
        return {"name": name, "kind": "series", "values": value, "count": len(value),
                "last": value[-1] if value else None,
                "numeric": bool(numbers) and len(numbers) == min(len(value), 1000)}
    return {"name": name, "kind": "scalar", "value": value, "last": value, "count": 1}


def _number(value: Any) -> float | None:
    if isinstance(value, (bool, int, float)) and math.isfinite(float(value)):
        return float(value)
    return None


def _duration(record: Any) -> float | None:
    if not record.start_time:
        return None
    return (record.end_time or time.time()) - record.start_time


def _row(run: Any) -> dict[str, Any]:
    record = run.record
    last = {}
    for name, value in run.get_metrics().items():
        entry = classify_metric(name, value)
        if entry["kind"] in ("scalar", "series"):
            last[name] = entry["last"]
    return {"run_id": run.id, "number": run.number, "display_name": run.display_name,
            "status": record.status, "created": _ts(record.created),
            "start_time": _ts(record.start_time), "end_time": _ts(record.end_time),
            "duration": _duration(record), "tags": run.get_tags(), "metrics": last,
            "type": run.type}


class RunQuery:
    """Filters and order of the runs table, parsed from the page's query arguments.

    ``status``: one status or ``""``. ``tags``: ``key`` (has the tag) or
    ``key=value``. ``ranges``: ``{metric: (low or None, high or None)}`` on the
    last value. ``sort``: ``number``, ``created``, ``status``, ``duration``,
    ``metric:<name>`` or ``tag:<key>``.

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
        """Build a query from ``{name: [values]}`` (tornado's ``request.arguments``, decoded)."""
        q = cls()
        q.status = (args.get("status") or [""])[-1]
        for tag in args.get("tag", []):
            if tag.strip():
                key, sep, value = tag.partition("=")
                q.tags.append((key.strip(), value.strip() if sep else None))
        for spec in args.get("range", []):
            if not spec.strip():
                continue
            name, bounds = _split_range(spec)
            q.ranges[name] = bounds
        q.sort = (args.get("sort") or ["number"])[-1] or "number"
        q.desc = (args.get("desc") or ["1"])[-1] not in ("0", "false", "")
        if args.get("columns"):
            q.columns = [c for c in ",".join(args["columns"]).split(",") if c.strip()]
        return q

    def matches(self, row: dict[str, Any]) -> bool:
        """Whether a run row passes the filters."""
        if self.status and row["status"] != self.status:
            return False
        for key, value in self.tags:
            if key not in row["tags"] or (value is not None and row["tags"][key] != value):
                return False
        for name, (low, high) in self.ranges.items():
            number = _number(row["metrics"].get(name))
            if number is None or (low is not None and number < low) or \
                    (high is not None and number > high):
                return False
        return True

    def key(self, row: dict[str, Any]) -> tuple:
        """Sort key: rows without the sorted value go last in either direction."""
        kind, _, name = self.sort.partition(":")
        if kind == "metric":
            value: Any = row["metrics"].get(name)
        elif kind == "tag":
            value = row["tags"].get(name)
        else:
            value = row.get(kind if kind in ("number", "created", "status", "duration",
                                              "display_name") else "number")
        if value is None:
            return (1, 0, "")
        number = _number(value)
        if number is not None:
            return (0, -number if self.desc else number, "")
        return (0, 0, str(value)) if not self.desc else (0, 0, _Reverse(str(value)))


class _Reverse(str):
    """A string that sorts backwards (descending text inside an ascending sort)."""

    def __lt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__gt__(self, other)


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
    """One page of an experiment's top-level runs, filtered and sorted by ``query``.

    Besides the page, returns ``metric_names`` and ``tag_keys`` seen in the
    experiment (for column and filter choices) and ``columns``, the metric
    columns to show.
    """
    query = query or RunQuery()
    exp = _experiment(ws, experiment)
    rows = [_row(run) for run in exp.get_runs()]
    metric_names = sorted({m for r in rows for m in r["metrics"]})
    tag_keys = sorted({t for r in rows for t in r["tags"]})
    rows = [r for r in rows if query.matches(r)]
    rows.sort(key=query.key)
    result = page(rows, offset, limit)
    result["metric_names"] = metric_names
    result["tag_keys"] = tag_keys
    result["columns"] = [c for c in query.columns if c in metric_names] \
        if query.columns is not None else metric_names[:8]
    return result


def find_run(ws: Any, run_id: str) -> Any:
    """The run with exactly this id (any experiment of ``ws``)."""
    from ..core.run import Run
    from ..exceptions import RunNotFoundError

    run = Run.find(ws, run_id)
    if run.id != run_id:
        raise RunNotFoundError(f"Run {run_id!r} はワークスペース {ws.name!r} にありません。")
    return run


def _brief(run: Any) -> dict[str, Any]:
    record = run.record
    return {"run_id": run.id, "number": run.number, "display_name": run.display_name,
            "status": record.status, "duration": _duration(record)}


def run_detail(ws: Any, run_id: str, *, children_limit: int = 200) -> dict[str, Any]:
    """Everything the run page shows: status, times, details, metrics by kind, files, children."""
    run = find_run(ws, run_id)
    details = run.get_details()
    record = run.record
    metrics = [classify_metric(n, v) for n, v in run.get_metrics().items()]
    children = []
    total = 0
    for child in run.get_children():
        total += 1
        if len(children) < children_limit:
            row = _row(child)
            children.append(row)
    parent = run.parent
    files = run.get_file_names()
    status = details["status"]
    return {
        "run_id": run.id, "number": run.number, "name": run.name,
        "display_name": run.display_name, "experiment": run.experiment.name,
        "type": run.type, "status": status, "is_terminal": status in _TERMINAL,
        "created": _ts(record.created), "start_time": _ts(record.start_time),
        "end_time": _ts(record.end_time), "duration": _duration(record),
        "details": details, "tags": details.get("tags", {}),
        "properties": details.get("properties", {}),
        "error": (details.get("error") or {}).get("error"),
        "metrics": metrics, "files": files,
        "children": children, "children_total": total,
        "parent": _brief(parent) if parent is not None else None,
        "version": _version(status, metrics, files, total),
    }


def _version(status: str, metrics: list[dict[str, Any]], files: list[str], children: int) -> str:
    """A short token that changes when anything the run page shows changes."""
    counts = ",".join(f"{m['name']}={m.get('count', m.get('rows', 1))}" for m in metrics)
    return f"{status}|{counts}|{len(files)}|{children}|{hash(counts) & 0xffff:x}"


def metric_values(ws: Any, run_id: str, name: str, offset: int = 0,
                  limit: int = 100) -> dict[str, Any]:
    """The exact values of one metric, one page at a time (``index`` counts from 0)."""
    run = find_run(ws, run_id)
    metrics = run.get_metrics(name=name)
    if name not in metrics:
        raise ArtifactNotFoundError(f"Run {run_id} にメトリック {name!r} はありません。")
    value = metrics[name]
    entry = classify_metric(name, value)
    if entry["kind"] == "table":
        cols = entry["columns"]
        rows = [{c: (cols[c][i] if i < len(cols[c]) else None) for c in cols}
                for i in range(entry["rows"])]
        result = page(rows, offset, limit)
        result["columns"] = list(cols)
    else:
        values = value if isinstance(value, list) else [value]
        result = page(values, offset, limit)
        result["columns"] = ["value"]
    result["name"], result["kind"] = name, entry["kind"]
    return result


def run_file(ws: Any, run_id: str, name: str) -> Path:
    """The path of run file ``name``; only the run's own listed files, never outside its folder."""
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
    """Cancel a run that has not finished (an explicit action of the portal)."""
    run = find_run(ws, run_id)
    status = run.get_status()
    if status in _TERMINAL:
        raise RunStateError(f"Run {run_id} はすでに {status} で終わっているのでキャンセルできません。")
    run.cancel()
    return {"run_id": run.id, "status": run.get_status()}


def compare_runs(ws: Any, run_ids: Iterable[str]) -> dict[str, Any]:
    """Several runs side by side: their rows, every metric's values per run, tag keys."""
    runs = []
    for run_id in run_ids:
        run = find_run(ws, run_id)
        row = _row(run)
        row["series"] = {}
        for name, value in run.get_metrics().items():
            entry = classify_metric(name, value)
            if entry["kind"] == "series" and entry["numeric"]:
                row["series"][name] = entry["values"]
        runs.append(row)
    metric_names = sorted({m for r in runs for m in r["metrics"]} |
                          {m for r in runs for m in r["series"]})
    tag_keys = sorted({t for r in runs for t in r["tags"]})
    return {"runs": runs, "metric_names": metric_names, "tag_keys": tag_keys}


# -- models and endpoints -------------------------------------------------------------------------
def list_models(ws: Any, name: str | None = None) -> list[dict[str, Any]]:
    """Every registered model version (newest first per name), with the run that produced it."""
    from ..core.model import Model

    return [m.serialize() for m in Model.list(ws, name=name)]


def model_file(ws: Any, name: str, version: int, target_dir: Path) -> Path:
    """Copy model ``name:version`` (hash-checked) into ``target_dir``; return the copy's path."""
    from ..core.model import Model

    return Path(Model(ws, name, version=int(version)).download(str(target_dir), exist_ok=True))


def list_services(ws: Any) -> list[dict[str, Any]]:
    """Every deployed web service with its state and URIs."""
    from ..core.webservice import Webservice

    return [s.serialize() for s in Webservice.list(ws)]


def _service(ws: Any, name: str) -> Any:
    from ..core.webservice import Webservice

    return Webservice(ws, name)


def service_detail(ws: Any, name: str, log_lines: int = 200) -> dict[str, Any]:
    """One service: its details and the end of its log."""
    service = _service(ws, name)
    detail = service.serialize()
    detail["logs"] = service.get_logs(num_lines=log_lines)
    detail["created"] = service.created_time
    detail["updated"] = service.updated_time
    return detail


def delete_service(ws: Any, name: str) -> dict[str, Any]:
    """Stop and remove a service (an explicit action of the portal)."""
    _service(ws, name).delete()
    return {"name": name, "state": "deleted"}


def scoring_target(ws: Any, name: str) -> tuple[str, dict[str, str]]:
    """Where to post a test call to service ``name`` and the headers it needs (key if any)."""
    from ..exceptions import WebserviceException

    service = _service(ws, name)
    uri = service.scoring_uri
    if uri is None:
        raise WebserviceException(f"サービス {name!r} はまだ URI がありません (状態: {service.state})。"
                                  "service.wait_for_deployment() のあとで試してください。")
    headers = {"Content-Type": "application/json"}
    if service.auth_enabled:
        headers["Authorization"] = f"Bearer {service.get_keys()[0]}"
    return uri, headers


def swagger_uri(ws: Any, name: str) -> str | None:
    """The service's ``swagger.json`` URI (``None`` before it has a port)."""
    return _service(ws, name).swagger_uri
