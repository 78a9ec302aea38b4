"""One run for the studio: its page, its metrics (pages of exact values, zoomed charts), files.

Like :mod:`._data`, plain JSON-friendly data; single runs come from the entity API
(``Run.find``, ``run.get_metrics``, ``run.get_details`` ...), kinds and counts from the store.

Example:
    >>> detail = run_detail(ws, run.id)  # doctest: +SKIP
    >>> detail["status"], [m["kind"] for m in detail["metrics"]]  # doctest: +SKIP
    ('Completed', ['series', 'scalar'])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._store import IMAGE, LIST, ROW, SCALAR, TABLE, Store
from ..core._status import reconcile
from ..exceptions import ArtifactNotFoundError, RunNotFoundError, RunStateError
from . import _runkinds
from ._data import IMAGE_PREFIX, _duration, _rows, _store, _ts, page

__all__ = ["classify_metric", "find_run", "run_version", "run_detail", "metric_values",
           "metric_chart", "run_file", "cancel_run", "compare_runs"]

_TERMINAL = frozenset({"Completed", "Failed", "Canceled"})


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


def metric_chart(ws: Any, run_id: str, name: str, start: int | None = None,
                 end: int | None = None) -> dict[str, Any]:
    """The chart of values ``start`` (0-based) to ``end`` of a series: a zoom, downsampled again.

    Example:
        >>> metric_chart(ws, run.id, "loss", 1000, 2000)["svg"][:4]  # doctest: +SKIP
        '<svg'
    """
    from ..widgets._svg import line_chart

    found = _metrics(_store(ws), find_run(ws, run_id), name)
    if not found or found[0]["kind"] != "series":
        raise ArtifactNotFoundError(f"Run {run_id} に系列のメトリック {name!r} はありません。")
    values = found[0]["values"]
    count = len(values)
    start = max(0, min(count - 1, 0 if start is None else int(start)))
    end = max(start + 1, min(count, count if end is None else int(end)))
    whole = start == 0 and end == count
    svg = line_chart(values[start:end], name, width=420, height=220, first=start + 1,
                     subtitle=None if whole else f"({start + 1}–{end} / {count})")
    return {"name": name, "start": start, "end": end, "count": count, "svg": svg}


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
