"""Turn the studio's data into what a page or an API reply shows (pure functions).

Charts come from :mod:`amlhandson.widgets._svg` (the same code as
``RunDetails``); long series are downsampled there, while the exact values stay
available page by page through the metric API.

Example:
    >>> fmt_duration(75.5), fmt_value(0.123456789), fmt_value([1, 2])
    ('1m 15s', '0.123457', '[2 values]')
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..widgets._svg import line_chart, multi_line_chart, numeric_points, scatter_chart

__all__ = ["fmt_time", "fmt_duration", "fmt_value", "metric_view", "run_view", "compare_view",
           "STATUS_CLASS"]

#: CSS class of each status badge.
STATUS_CLASS = {"Completed": "ok", "Failed": "bad", "Canceled": "muted", "Running": "run",
                "NotResponding": "warn", "Queued": "run", "Starting": "run",
                "Preparing": "run", "Finalizing": "run"}
#: Values of a series shown on the run page itself (the rest: the metric API / download).
HEAD_VALUES = 20


def fmt_time(ts: float | None) -> str:
    """Local time ``YYYY-mm-dd HH:MM:SS`` (``-`` for none).

    Example:
        >>> fmt_time(None)
        '-'
    """
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def fmt_duration(seconds: float | None) -> str:
    """``12.3s``, ``3m 05s``, ``1h 02m`` (``-`` when unknown).

    Example:
        >>> fmt_duration(3725)
        '1h 02m'
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


def fmt_value(value: Any, max_len: int = 60) -> str:
    """A short text for one metric value or tag.

    Example:
        >>> fmt_value(None), fmt_value(True), fmt_value("x" * 70)[-1]
        ('', 'True', '…')
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value):
        text = format(value, ".6g")
    elif isinstance(value, list):
        text = f"[{len(value)} values]"
    elif isinstance(value, dict):
        text = f"table ({', '.join(map(str, value))})"
    else:
        text = str(value)
    return text if len(text) <= max_len else text[: max_len - 1] + "…"


def metric_view(metric: dict[str, Any], *, chart: bool = True) -> dict[str, Any]:
    """One metric as the page and the API show it: no raw long lists, a chart where numeric.

    Example:
        >>> metric_view({"name": "lr", "kind": "scalar", "value": 0.1})["value"]
        0.1
    """
    kind = metric["kind"]
    view: dict[str, Any] = {"name": metric["name"], "kind": kind}
    if kind == "scalar":
        view.update(value=metric["value"], count=1)
    elif kind == "series":
        values = metric["values"]
        view.update(count=len(values), last=metric["last"], head=values[:HEAD_VALUES],
                    tail=values[-HEAD_VALUES:] if len(values) > HEAD_VALUES else [],
                    numeric=bool(metric.get("numeric")))
        drawn: Any = values
        if metric.get("numeric") and len(values) > 10_000:
            drawn = _as_array(values)  # once, for both the bounds and the chart
        bounds = _min_max(drawn) if metric.get("numeric") else None
        if bounds is not None:
            view.update(min=bounds[0], max=bounds[1])
        if chart:
            svg = line_chart(drawn, metric["name"], width=420, height=220)
            if svg:
                view["chart"] = svg
    elif kind == "table":
        columns = metric["columns"]
        rows = metric["rows"]
        view.update(columns=list(columns), rows=rows,
                    head=[[columns[c][i] if i < len(columns[c]) else None for c in columns]
                          for i in range(min(rows, HEAD_VALUES))])
        if chart and rows > 1:
            charts = [line_chart(vals, f"{metric['name']}: {col}", width=420, height=220)
                      for col, vals in columns.items()
                      if len(numeric_points(vals)) == len(vals)]
            view["charts"] = [c for c in charts if c]
    elif kind == "image":
        view.update(files=metric["files"], count=metric["count"])
    return view


def _as_array(values: list[Any]) -> Any:
    """A long numeric series as a float array (``None`` becomes NaN)."""
    import numpy as np

    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return np.asarray([float(v) if _is_number(v) else np.nan for v in values])


def _is_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float))


def _min_max(values: Any) -> tuple[float, float] | None:
    """The smallest and largest finite number of a series (an array for long ones)."""
    if not isinstance(values, list):
        import numpy as np

        finite = values[np.isfinite(values)]
        return (float(finite.min()), float(finite.max())) if finite.size else None
    finite = [v for _, v in numeric_points(values)]
    return (min(finite), max(finite)) if finite else None


def run_view(detail: dict[str, Any], *, charts: bool = True) -> dict[str, Any]:
    """The run page's data: the detail with metric views in place of raw values.

    Example:
        >>> run_view(run_detail(ws, run.id))["metrics"][0]["chart"][:4]  # doctest: +SKIP
        '<svg'
    """
    view = dict(detail)
    view["metrics"] = [metric_view(m, chart=charts) for m in detail["metrics"]]
    view["details"] = {k: v for k, v in detail["details"].items()
                       if k not in ("tags", "properties")}
    child_metrics: list[str] = []
    for child in detail["children"]:
        for name in child["metrics"]:
            if name not in child_metrics:
                child_metrics.append(name)
    view["child_metrics"] = child_metrics
    view["child_charts"] = []
    if charts and len(detail["children"]) > 1:
        labels = [c["display_name"].rsplit(">", 1)[-1] for c in detail["children"]]
        for name in child_metrics:
            values = [c["metrics"].get(name) for c in detail["children"]]
            if len(numeric_points(values)) > 1:
                view["child_charts"].append(
                    line_chart(values, f"{name} (child runs)", x_labels=labels, width=420,
                               height=220))
    return view


def compare_view(data: dict[str, Any], x_param: str | None = None,
                 y_metric: str | None = None) -> dict[str, Any]:
    """Side-by-side table rows, one overlaid chart per series metric, and a scatter plot.

    ``x_param`` is ``tag:<key>`` or ``metric:<name>``; ``y_metric`` a metric name.

    Example:
        >>> compare_view(compare_runs(ws, ids), "tag:k", "accuracy")["scatter"][:4]  # doctest: +SKIP
        '<svg'
    """
    runs = data["runs"]
    labels = [f"Run {r['number']}" for r in runs]
    rows = []
    for name in data["metric_names"]:
        rows.append({"name": name, "values": [fmt_value(r["metrics"].get(name)) for r in runs]})
    overlays = []
    for name in data["metric_names"]:
        series = [(label, r["series"][name]) for label, r in zip(labels, runs)
                  if name in r["series"]]
        if series:
            chart = multi_line_chart(series, name)
            if chart:
                overlays.append(chart)
    scatter = ""
    if x_param and y_metric:
        kind, _, key = x_param.partition(":")
        points = []
        for label, r in zip(labels, runs):
            raw = (r["tags"] if kind == "tag" else r["metrics"]).get(key)
            try:
                x = float(raw) if raw is not None else None
            except (TypeError, ValueError):
                x = None
            points.append((x, r["metrics"].get(y_metric), label))
        scatter = scatter_chart(points, f"{y_metric} / {key}", key, y_metric)
    return {"labels": labels, "rows": rows, "overlays": overlays, "scatter": scatter}
