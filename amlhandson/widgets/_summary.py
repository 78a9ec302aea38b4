"""Turn a run into plain data, then into static HTML or text (no IPython, no ipywidgets).

:func:`collect` reads a run once and returns a JSON-friendly dict (what
``RunDetails.get_widget_data()`` returns). Every ``*_html`` / ``*_text``
function is a pure function of that dict, so the live widget, the static
fallback (nbconvert, nbval, GitHub) and the summary printed after a
``%%aml_run`` cell all show the same thing.

The dict (keys are stable; documented in docs/magics-and-widgets.md)::

    {"run_id", "number", "name", "display_name", "experiment", "type",
     "status", "is_terminal", "start_time", "end_time",      # ISO 8601 UTC or None
     "duration_seconds", "error", "tags",
     "metrics": [{"name", "kind", ...}, ...],   # kind: scalar|series|list|table|image
     "children": [{"run_id", "number", "name", "status", "duration_seconds",
                   "tags", "metrics": {name: last value}}, ...],
     "children_total", "files", "log_name", "log_tail",
     "pipeline": None or {"steps": [...], "data": [...], "edges": [...]}}  # see _pipeline

Example:
    >>> data = collect(run)  # doctest: +SKIP
    >>> print(summary_text(data))  # doctest: +SKIP
    Run 1 - Completed
    ...
    >>> format_duration(75.5)
    '1m 15s'
"""

from __future__ import annotations

import base64
import html
import math
import time
from pathlib import Path
from typing import Any

from ._pipeline import collect_pipeline, pipeline_html, pipeline_text
from ._svg import STATUS_COLORS as _STATUS_COLORS
from ._svg import line_chart, numeric_points

__all__ = [
    "DRIVER_LOG",
    "RunSummary",
    "collect",
    "format_duration",
    "format_value",
    "header_html",
    "metrics_html",
    "charts_html",
    "images_html",
    "children_html",
    "logs_html",
    "files_html",
    "static_html",
    "summary_text",
    "compact_html",
    "compact_text",
]

#: Where a tracked cell's (or a script's) output is kept among the run's files (v1's name).
DRIVER_LOG = "azureml-logs/70_driver_log.txt"
_LOG_DIRS = ("azureml-logs/", "logs/", "user_logs/")
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}
#: Images bigger than this are listed by name instead of being embedded.
MAX_IMAGE_BYTES = 2_000_000
#: At most this many bytes of images are embedded in one view (the rest are listed by name).
MAX_EMBEDDED_BYTES = 6_000_000
#: Run types whose output log is part of the static summary (submitted scripts).
SCRIPT_TYPES = ("azureml.scriptrun", "azureml.StepRun")
_TERMINAL = frozenset({"Completed", "Failed", "Canceled"})
_FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:13px"
_TABLE = "border-collapse:collapse;margin:4px 0"
_CELL = "border:1px solid #ddd;padding:2px 8px;text-align:left"
_MAX_TABLE_ROWS = 50

_esc = html.escape


# -- formatting ---------------------------------------------------------------------------
def format_duration(seconds: float | None) -> str:
    """``0.5s``, ``12.3s``, ``3m 05s``, ``1h 02m``; ``-`` when unknown.

    Example:
        >>> [format_duration(s) for s in (0.04, 12.34, 185, 3725, None)]
        ['0.0s', '12.3s', '3m 05s', '1h 02m', '-']
    """
    if seconds is None or not math.isfinite(seconds):
        return "-"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def format_value(value: Any, max_len: int = 40) -> str:
    """A short, deterministic text for one metric value.

    Example:
        >>> format_value(0.91234567), format_value(True), format_value("x" * 50, 10)
        ('0.912346', 'True', 'xxxxxxxxx…')
    """
    if isinstance(value, float) and math.isfinite(value):
        text = format(value, ".6g")
    elif isinstance(value, (list, tuple)):
        items = [format_value(v, 12) for v in value[:6]]
        text = "[" + ", ".join(items) + (", …]" if len(value) > 6 else "]")
    else:
        text = str(value)
    return text if len(text) <= max_len else text[: max_len - 1] + "…"


def _short_name(name: str | None) -> str:
    return (name or "").rsplit(">", 1)[-1]


def _visible_name(name: str | None, run_id: str) -> str:
    """The run's name unless it is v1's default ``run_<id>``."""
    return "" if not name or name == f"run_{run_id}" else name


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + "Z"


# -- reading a run ------------------------------------------------------------------------
def _metric_kinds(run: Any) -> dict[str, int]:
    from .._store import Store

    return Store.open(run.experiment.workspace.path).metrics.kinds(run.record.pk)


def _metrics(run: Any) -> list[dict[str, Any]]:
    from ..core._metrics import IMAGE, LIST, ROW, SCALAR, TABLE

    values = run.get_metrics()
    prefix = f"aml://artifactId/ExperimentRun/dcid.{run.id}/"
    result: list[dict[str, Any]] = []
    for name, kind in _metric_kinds(run).items():
        if name not in values:
            continue
        value = values[name]
        if kind == SCALAR:
            if isinstance(value, list):
                result.append({"name": name, "kind": "series", "values": value,
                               "last": value[-1] if value else None, "count": len(value)})
            else:
                result.append({"name": name, "kind": "scalar", "value": value, "last": value,
                               "count": 1})
        elif kind == LIST:
            items = list(value) if isinstance(value, list) else [value]
            result.append({"name": name, "kind": "list", "values": items,
                           "last": items[-1] if items else None, "count": len(items)})
        elif kind in (ROW, TABLE):
            columns = {str(k): list(v) if isinstance(v, list) else [v] for k, v in value.items()}
            rows = max((len(v) for v in columns.values()), default=0)
            result.append({"name": name, "kind": "table", "columns": columns, "rows": rows})
        elif kind == IMAGE:
            uris = value if isinstance(value, list) else [value]
            files = [u[len(prefix):] if isinstance(u, str) and u.startswith(prefix) else str(u)
                     for u in uris]
            result.append({"name": name, "kind": "image", "files": files, "count": len(files)})
    return result


def _last_values(run: Any) -> dict[str, Any]:
    last: dict[str, Any] = {}
    for metric in _metrics(run):
        if metric["kind"] in ("scalar", "series", "list"):
            last[metric["name"]] = metric["last"]
    return last


def _times(run: Any) -> tuple[float | None, float | None, float | None]:
    start, end = run.record.start_time, run.record.end_time
    if start is None:
        return None, end, None
    return start, end, (end if end is not None else time.time()) - start


def _error_message(run: Any) -> str | None:
    error = run.record.error
    if not error:
        return None
    if isinstance(error, dict):
        message = str(error.get("message", ""))
        kind = error.get("type")
        return f"{kind}: {message}" if kind and not message.startswith(str(kind)) else message
    return str(error)


def _log_tail(run: Any, files: list[str], lines: int) -> tuple[str | None, str | None]:
    """The name and last ``lines`` lines of the run's output log (the driver log first)."""
    if lines <= 0:
        return None, None
    candidates = [DRIVER_LOG] if DRIVER_LOG in files else []
    candidates += [f for f in files if f.startswith(_LOG_DIRS) and f != DRIVER_LOG
                   and f.endswith((".txt", ".log"))]
    for name in candidates:
        path = run.local_path / name
        try:
            with open(path, "rb") as fh:
                fh.seek(0, 2)
                size = fh.tell()
                fh.seek(max(0, size - 16_384))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        tail = text.splitlines()[-lines:]
        return name, "\n".join(tail)
    return None, None


def collect(run: Any, *, max_children: int = 200, log_lines: int = 40) -> dict[str, Any]:
    """Read everything the views show from ``run`` (status, metrics, children, files, log).

    The result is plain data (JSON-serialisable apart from NaN), safe to keep
    and compare.

    Example:
        >>> data = collect(run)  # doctest: +SKIP
        >>> data["status"], [m["name"] for m in data["metrics"]]  # doctest: +SKIP
        ('Completed', ['accuracy'])
    """
    status = run.get_status()
    start, end, duration = _times(run)
    files = run.get_file_names()
    children = []
    total = 0
    for child in run.get_children():
        total += 1
        if len(children) >= max_children:
            continue
        c_start, c_end, c_duration = _times(child)
        children.append({
            "run_id": child.id,
            "number": child.number,
            "name": _short_name(child.display_name),
            "status": child.get_status(),
            "duration_seconds": c_duration,
            "tags": child.get_tags(),
            "metrics": _last_values(child),
        })
    log_name, log_tail = _log_tail(run, files, log_lines)
    return {
        "run_id": run.id,
        "number": run.number,
        "name": run.name,
        "display_name": run.display_name,
        "experiment": run.experiment.name,
        "type": run.type,
        "status": status,
        "is_terminal": status in _TERMINAL,
        "start_time": _iso(start),
        "end_time": _iso(end),
        "duration_seconds": duration,
        "error": _error_message(run),
        "tags": run.get_tags(),
        "metrics": _metrics(run),
        "children": children,
        "children_total": total,
        "files": files[:500],
        "log_name": log_name,
        "log_tail": log_tail,
        "pipeline": collect_pipeline(run),
    }


# -- HTML pieces --------------------------------------------------------------------------
def _badge(status: str) -> str:
    color = _STATUS_COLORS.get(status, "#8a8886")
    return (f'<span style="background:{color};color:#fff;border-radius:3px;padding:1px 6px;'
            f'font-size:12px">{_esc(status)}</span>')


def _table(head: list[str], rows: list[list[str]], raw: bool = False) -> str:
    th = "".join(f'<th style="{_CELL};background:#f3f2f1">{_esc(h)}</th>' for h in head)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{c if raw else _esc(c)}</td>' for c in row) + "</tr>"
        for row in rows)
    return f'<table style="{_TABLE}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _note(text: str) -> str:
    return f'<div style="color:#666;margin:4px 0">{_esc(text)}</div>'


def header_html(data: dict[str, Any]) -> str:
    """Run number, status badge, experiment, duration, id and error (if any)."""
    name = _visible_name(data["display_name"], data["run_id"])
    parts = [
        f'<div style="{_FONT}"><div style="margin:2px 0 4px 0"><b>Run {data["number"]}</b> ',
        f'{_esc(name)} ' if name else "",
        _badge(data["status"]),
        f' <span style="color:#666">Experiment <code>{_esc(data["experiment"])}</code>'
        f' · Duration {_esc(format_duration(data["duration_seconds"]))}'
        f' · Id <code>{_esc(data["run_id"])}</code></span></div>',
    ]
    if data.get("tags"):
        tags = ", ".join(f"{k}={v}" for k, v in data["tags"].items())
        parts.append(f'<div style="color:#666">Tags: {_esc(tags)}</div>')
    if data.get("error"):
        parts.append(f'<div style="color:#a4262c;white-space:pre-wrap;margin:4px 0">Error: '
                     f'{_esc(data["error"])}</div>')
    parts.append("</div>")
    return "".join(parts)


def _scalar_rows(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for m in data["metrics"]:
        if m["kind"] == "scalar":
            rows.append([m["name"], format_value(m["value"]), "log"])
        elif m["kind"] in ("series", "list"):
            how = "log ×" + str(m["count"]) if m["kind"] == "series" else "log_list"
            rows.append([m["name"], format_value(m["last"]), how])
    return rows


def metrics_html(data: dict[str, Any]) -> str:
    """A table of every scalar metric (the last value of a series) plus the table metrics."""
    rows = _scalar_rows(data)
    parts = []
    if rows:
        parts.append(_table(["Metric", "Value (last)", "Logged with"], rows))
    for m in data["metrics"]:
        if m["kind"] == "table":
            parts.append(f'<div style="margin-top:6px"><b>{_esc(m["name"])}</b> '
                         f'<span style="color:#666">({m["rows"]} rows)</span></div>')
            cols = list(m["columns"])
            body = [[format_value(m["columns"][c][i] if i < len(m["columns"][c]) else None)
                     for c in cols] for i in range(min(m["rows"], _MAX_TABLE_ROWS))]
            parts.append(_table(cols, body))
            if m["rows"] > _MAX_TABLE_ROWS:
                parts.append(_note(f"… 先頭 {_MAX_TABLE_ROWS} 行だけを表示しています。"))
    if not parts:
        return _note("まだメトリックがありません。run.log(...) などで記録すると、ここに表示されます。")
    return f'<div style="{_FONT}">{"".join(parts)}</div>'


def _series(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in data["metrics"] if m["kind"] in ("series", "list")
            and numeric_points(m["values"])]


def charts_html(data: dict[str, Any]) -> str:
    """One SVG chart per numeric series (a scalar logged several times, or ``log_list``)."""
    charts = [line_chart(m["values"], m["name"]) for m in _series(data)]
    for m in data["metrics"]:  # numeric columns of table metrics
        if m["kind"] == "table" and m["rows"] > 1:
            for col, values in m["columns"].items():
                if len(numeric_points(values)) == len(values):
                    charts.append(line_chart(values, f"{m['name']}: {col}"))
    if not charts:
        return _note("グラフにできる系列はまだありません (同じ名前で run.log を複数回呼ぶか、"
                     "run.log_list を使うとグラフになります)。")
    return f'<div style="display:flex;flex-wrap:wrap;gap:4px">{"".join(charts)}</div>'


_image_cache: dict[tuple[str, int, int], str] = {}


def _data_uri(path: Path) -> str | None:
    mime = _IMAGE_TYPES.get(path.suffix.lower())
    if mime is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    if stat.st_size > MAX_IMAGE_BYTES:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    uri = _image_cache.get(key)
    if uri is None:
        try:
            uri = f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        except OSError:
            return None
        if len(_image_cache) > 64:
            _image_cache.clear()
        _image_cache[key] = uri
    return uri


def images_html(data: dict[str, Any], folder: Path | None, *, latest_only: bool = True) -> str:
    """The images logged with ``run.log_image`` (the latest one per name), embedded."""
    blocks = []
    budget = MAX_EMBEDDED_BYTES
    for m in data["metrics"]:
        if m["kind"] != "image" or not m["files"]:
            continue
        files = m["files"][-1:] if latest_only else m["files"]
        title = m["name"] + (f" ({m['count']} 枚中の最新)" if latest_only and m["count"] > 1 else "")
        imgs = []
        for name in files:
            uri = _data_uri(folder / name) if folder is not None else None
            if uri is not None and len(uri) > budget:
                uri = None
            if uri is None:
                imgs.append(f"<div><code>{_esc(name)}</code></div>")
            else:
                budget -= len(uri)
                imgs.append(f'<img src="{uri}" alt="{_esc(name)}" '
                            'style="max-width:480px;border:1px solid #ddd"/>')
        blocks.append(f'<div style="margin:4px 8px 4px 0"><div><b>{_esc(title)}</b></div>'
                      f'{"".join(imgs)}</div>')
    if not blocks:
        return _note("画像はまだありません。run.log_image(name, plot=fig) で記録できます。")
    return f'<div style="{_FONT};display:flex;flex-wrap:wrap">{"".join(blocks)}</div>'


def _children_columns(children: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    tags: list[str] = []
    metrics: list[str] = []
    for child in children:
        for key in child["tags"]:
            if key not in tags:
                tags.append(key)
        for key in child["metrics"]:
            if key not in metrics:
                metrics.append(key)
    return tags, metrics


def _number(value: Any) -> float | None:
    """``value`` as a finite number (numeric strings too, as tags are strings), else ``None``."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _parameter(children: list[dict[str, Any]], tags: list[str],
               metrics: list[str]) -> tuple[str, list[float]] | None:
    """The hyperparameter the child runs vary, as ``(name, value per child)``, if there is one.

    A tag, or an integer-valued metric (``k`` of a kNN search), that every child
    has as a number and whose values all differ. Tags come first: HyperDrive and
    hand-made searches put the parameter there.
    """
    if len(children) < 2:
        return None
    for name, source, whole in [(t, "tags", False) for t in tags] + \
            [(m, "metrics", True) for m in metrics]:
        values = [_number(c[source].get(name)) for c in children]
        if any(v is None for v in values) or len(set(values)) != len(values):
            continue
        if whole and not all(float(v).is_integer() for v in values):
            continue
        return name, [float(v) for v in values]
    return None


def _children_charts(children: list[dict[str, Any]], tags: list[str],
                     metrics: list[str]) -> list[str]:
    """One chart per numeric metric across the children: against the parameter when known."""
    param = _parameter(children, tags, metrics)
    if param is None:
        labels = [c["name"] for c in children]
        return [line_chart([c["metrics"].get(m) for c in children], f"{m} (child runs)",
                           x_labels=labels)
                for m in metrics
                if len(numeric_points([c["metrics"].get(m) for c in children])) > 1]
    name, xs = param
    order = sorted(range(len(children)), key=lambda i: xs[i])
    labels = [format_value(int(xs[i]) if xs[i].is_integer() else xs[i], 10) for i in order]
    charts = []
    for m in metrics:
        if m == name:
            continue
        values = [children[i]["metrics"].get(m) for i in order]
        if len(numeric_points(values)) > 1:
            charts.append(line_chart(values, f"{m} vs {name}", x_labels=labels))
    return charts


def children_html(data: dict[str, Any]) -> str:
    """A table of the child runs with their tags and last metric values, plus charts across them.

    The charts show each metric against the parameter the children vary (for a
    kNN search, accuracy against k, sorted by k), or child by child when no
    such parameter is found.
    """
    children = data["children"]
    if not children:
        return _note("子 Run はありません (run.child_run() や HyperDrive で作られます)。")
    tags, metrics = _children_columns(children)
    head = ["Run", "Name", "Status", "Duration", *tags, *metrics]
    rows = [[str(c["number"]), c["name"], c["status"], format_duration(c["duration_seconds"]),
             *[format_value(c["tags"].get(t, "")) for t in tags],
             *[format_value(c["metrics"][m]) if m in c["metrics"] else "" for m in metrics]]
            for c in children]
    parts = [_table(head, rows)]
    if data["children_total"] > len(children):
        parts.append(_note(f"… {data['children_total']} 個中 {len(children)} 個を表示しています。"))
    charts = _children_charts(children, tags, metrics)
    if charts:
        parts.append(f'<div style="display:flex;flex-wrap:wrap;gap:4px">{"".join(charts)}</div>')
    return f'<div style="{_FONT}">{"".join(parts)}</div>'


def logs_html(data: dict[str, Any]) -> str:
    """The last lines of the run's output log (``azureml-logs/70_driver_log.txt``)."""
    if not data.get("log_tail"):
        return _note("ログはまだありません。")
    return (f'<div style="{_FONT}"><div style="color:#666"><code>{_esc(data["log_name"])}'
            f'</code> (末尾)</div><pre style="max-height:320px;overflow:auto;background:#f8f8f8;'
            f'padding:6px;margin:2px 0">{_esc(data["log_tail"])}</pre></div>')


def files_html(data: dict[str, Any]) -> str:
    """The run's files (outputs/, logs, images ...)."""
    if not data["files"]:
        return _note("ファイルはまだありません。")
    items = "".join(f"<li><code>{_esc(f)}</code></li>" for f in data["files"])
    return f'<div style="{_FONT}"><ul style="margin:2px 0">{items}</ul></div>'


def static_html(data: dict[str, Any], folder: Path | None = None,
                children: str | None = None) -> str:
    """The whole summary as one self-contained HTML block (the no-widget fallback).

    ``children`` replaces the child-run section (the HyperDrive view passes its trials).
    """
    sections = [header_html(data)]
    if data.get("pipeline"):
        sections.append(_section("Pipeline", pipeline_html(data["pipeline"])))
    sections.append(_section("Metrics", metrics_html(data)))
    if _series(data) or any(m["kind"] == "table" for m in data["metrics"]):
        sections.append(_section("Charts", charts_html(data)))
    if any(m["kind"] == "image" for m in data["metrics"]):
        sections.append(_section("Images", images_html(data, folder)))
    if children:
        sections.append(_section(f"Trials ({data['children_total']})", children))
    elif data["children"]:
        sections.append(_section(f"Child runs ({data['children_total']})", children_html(data)))
    if data.get("log_tail") and data.get("type") in SCRIPT_TYPES:
        sections.append(_section("Log", logs_html(data)))
    return f'<div style="{_FONT}">{"".join(sections)}</div>'


def _section(title: str, body: str) -> str:
    return (f'<div style="margin-top:6px"><div style="font-weight:600;border-bottom:1px solid #eee;'
            f'margin-bottom:2px">{_esc(title)}</div>{body}</div>')


# -- text ---------------------------------------------------------------------------------
def _metric_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    for m in data["metrics"]:
        kind = m["kind"]
        if kind == "scalar":
            lines.append(f"  {m['name']} = {format_value(m['value'])}")
        elif kind == "series":
            lines.append(f"  {m['name']} = {format_value(m['last'])} (last of {m['count']})")
        elif kind == "list":
            lines.append(f"  {m['name']} = {format_value(m['values'])} (log_list, {m['count']} values)")
        elif kind == "table":
            cols = ", ".join(m["columns"])
            lines.append(f"  {m['name']}: table, {m['rows']} rows ({cols})")
        elif kind == "image":
            lines.append(f"  {m['name']}: image ×{m['count']}")
    return lines


def summary_text(data: dict[str, Any], children: str | None = None) -> str:
    """The summary as plain text: stable apart from ids, numbers and durations.

    Example:
        >>> print(summary_text(data))  # doctest: +SKIP
        Run 3 - Completed
        Experiment: my-first-experiment
        Id: 0b6c...
        Duration: 1.2s
        Metrics:
          accuracy = 0.95
    """
    name = _visible_name(data["display_name"], data["run_id"])
    lines = [f"Run {data['number']}" + (f" ({name})" if name else "") + f" - {data['status']}",
             f"Experiment: {data['experiment']}",
             f"Id: {data['run_id']}",
             f"Duration: {format_duration(data['duration_seconds'])}"]
    if data.get("tags"):
        lines.append("Tags: " + ", ".join(f"{k}={v}" for k, v in data["tags"].items()))
    if data.get("error"):
        lines.append("Error: " + data["error"].strip().splitlines()[-1][:300])
    if data.get("pipeline"):
        lines.extend(pipeline_text(data["pipeline"]))
    metric_lines = _metric_lines(data)
    lines.append("Metrics:" if metric_lines else "Metrics: (none)")
    lines.extend(metric_lines)
    if children:
        lines.append(f"Trials ({data['children_total']}):")
        lines.extend("  " + line for line in children.splitlines())
    elif data["children"]:
        lines.append(f"Child runs ({data['children_total']}):")
        for c in data["children"]:
            values = ", ".join(f"{k} = {format_value(v)}" for k, v in c["metrics"].items())
            tags = ", ".join(f"{k}={v}" for k, v in c["tags"].items())
            lines.append(f"  Run {c['number']} {c['name']}".rstrip()
                         + (f" [{tags}]" if tags else "")
                         + f" - {c['status']}" + (f" - {values}" if values else ""))
    if data.get("log_tail") and data.get("type") in SCRIPT_TYPES:
        lines.append(f"Log ({data['log_name']}, last lines):")
        lines.extend("  " + line for line in data["log_tail"].splitlines()[-10:])
    return "\n".join(lines)


def compact_text(data: dict[str, Any]) -> str:
    """One line (run, status, duration, experiment) plus one line per metric."""
    name = _visible_name(data["display_name"], data["run_id"])
    head = (f"Run {data['number']}" + (f" ({name})" if name else "") + f" - {data['status']}"
            f" - {format_duration(data['duration_seconds'])} - experiment {data['experiment']}")
    lines = [head]
    if data.get("error"):
        lines.append("  Error: " + data["error"].strip().splitlines()[-1][:300])
    lines.extend(_metric_lines(data))
    return "\n".join(lines)


def compact_html(data: dict[str, Any]) -> str:
    """The header and the metrics table, for the line under a ``%%aml_run`` cell."""
    rows = _scalar_rows(data)
    extra = [f"{m['name']} (table, {m['rows']} rows)" if m["kind"] == "table"
             else f"{m['name']} (image ×{m['count']})"
             for m in data["metrics"] if m["kind"] in ("table", "image")]
    parts = [header_html(data)]
    if rows:
        parts.append(_table(["Metric", "Value (last)", "Logged with"], rows))
    if extra:
        parts.append(_note("ほかに: " + ", ".join(extra)))
    return f'<div style="{_FONT}">{"".join(parts)}</div>'


class RunSummary:
    """A compact, static view of a run (HTML in notebooks, text elsewhere).

    Example:
        >>> RunSummary.of(run)  # doctest: +SKIP
        Run 3 - Completed - 0.4s - experiment notebook-runs
          accuracy = 0.95
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def of(cls, run: Any) -> RunSummary:
        """Read ``run`` now and summarise it."""
        return cls(collect(run, max_children=0, log_lines=0))

    def _repr_html_(self) -> str:
        return compact_html(self.data)

    def __repr__(self) -> str:
        return compact_text(self.data)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(compact_text(self.data))
