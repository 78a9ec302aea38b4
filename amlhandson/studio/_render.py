"""Turn the studio's data into what a page or an API reply shows (pure functions).

Charts come from :mod:`amlhandson.widgets._svg` (the same code as
``RunDetails``); long series are downsampled there, while the exact values stay
available page by page through the metric API.

Example:
    >>> fmt_duration(75.5), fmt_value(0.123456789), fmt_value([1, 2])
    ('1m 15s', '0.123457', '[2 values]')
"""

from __future__ import annotations

import html
import math
import time
from typing import Any

from ..widgets._svg import line_chart, multi_line_chart, numeric_points, scatter_chart

__all__ = ["fmt_time", "fmt_duration", "fmt_value", "metric_view", "run_view", "compare_view",
           "hyperdrive_charts", "dag_svg", "STATUS_CLASS"]

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
    if charts and view.get("hyperdrive"):
        view["hyperdrive_charts"] = hyperdrive_charts(view["hyperdrive"])
    if view.get("pipeline"):
        view["pipeline_svg"] = dag_svg(view["pipeline"]["steps"])
    return view


def hyperdrive_charts(search: dict[str, Any]) -> list[str]:
    """The primary metric by trial (with the best so far), and against each numeric parameter.

    Example:
        >>> trials = [{"number": 2, "best": 0.9, "hyperparameters": {"--k": 1}, "run_id": "a"},
        ...           {"number": 3, "best": 0.95, "hyperparameters": {"--k": 3}, "run_id": "b"}]
        >>> len(hyperdrive_charts({"primary_metric": "acc", "goal": "maximize", "trials": trials,
        ...                        "parameters": ["--k"]}))
        2
    """
    name, maximize = search["primary_metric"], search["goal"] == "maximize"
    done = sorted((t for t in search["trials"] if t["best"] is not None),
                  key=lambda t: t["number"] or 0)
    charts = []
    if done:
        best, running = [], None
        for t in done:
            running = t["best"] if running is None else (max if maximize else min)(running, t["best"])
            best.append(running)
        charts.append(multi_line_chart([(name, [t["best"] for t in done]),
                                        ("best so far", best)], f"{name} (trials in order)"))
    for param in search["parameters"]:
        points = [(t["hyperparameters"].get(param), t["best"], f"Run {t['number']}")
                  for t in done]
        chart = scatter_chart(points, f"{name} / {param}", param, name)
        if chart:
            charts.append(chart)
    return [c for c in charts if c]


_DAG_COLORS = {"Completed": "#107c10", "Failed": "#a4262c", "Canceled": "#605e5c",
               "Running": "#0078d4", "NotStarted": "#8a8886"}


def dag_svg(steps: list[dict[str, Any]]) -> str:
    """The pipeline's steps as boxes in dependency layers (left to right), arrows for ``after``.

    Example:
        >>> svg = dag_svg([{"id": "s0", "name": "prep", "after": [], "status": "Completed"},
        ...                {"id": "s1", "name": "train", "after": ["s0"], "status": "Running"}])
        >>> svg.count("<rect"), svg.count("marker-end")
        (2, 1)
    """
    if not steps:
        return ""
    by_id = {s["id"]: s for s in steps}
    layer: dict[str, int] = {}

    def depth(sid: str, seen: frozenset = frozenset()) -> int:
        if sid in layer:
            return layer[sid]
        if sid in seen:  # a cycle cannot be submitted; never loop on a damaged graph
            return 0
        ups = [u for u in by_id[sid]["after"] if u in by_id]
        layer[sid] = 1 + max((depth(u, seen | {sid}) for u in ups), default=-1)
        return layer[sid]

    for sid in by_id:
        depth(sid)
    columns: dict[int, list[str]] = {}
    for sid in by_id:
        columns.setdefault(layer[sid], []).append(sid)
    box_w, box_h, gap_x, gap_y = 170, 40, 60, 18
    pos = {}
    for col, ids in columns.items():
        for row, sid in enumerate(ids):
            pos[sid] = (10 + col * (box_w + gap_x), 10 + row * (box_h + gap_y))
    width = 20 + (max(columns) + 1) * (box_w + gap_x) - gap_x
    height = 20 + max(len(ids) for ids in columns.values()) * (box_h + gap_y) - gap_y
    esc = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" class="aml-dag" role="img" aria-label="pipeline">',
             '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" '
             'markerHeight="8" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#8a8886"/>'
             '</marker></defs>']
    for sid, step in by_id.items():
        x2, y2 = pos[sid]
        for up in step["after"]:
            if up in pos:
                x1, y1 = pos[up]
                parts.append(f'<path d="M{x1 + box_w},{y1 + box_h / 2} C{x1 + box_w + 30},'
                             f'{y1 + box_h / 2} {x2 - 30},{y2 + box_h / 2} {x2},{y2 + box_h / 2}"'
                             ' fill="none" stroke="#8a8886" marker-end="url(#arrow)"/>')
    for sid, step in by_id.items():
        x, y = pos[sid]
        color = _DAG_COLORS.get(step.get("status", ""), "#8a8886")
        label = step.get("status", "") + (" (再利用)" if step.get("reused") else "")
        parts.append(f'<g><title>{esc(str(step.get("name")))}: {esc(label)}</title>'
                     f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="5" '
                     f'fill="#fff" stroke="{color}" stroke-width="2"/>'
                     f'<text x="{x + 8}" y="{y + 17}" font-size="12" font-family="sans-serif" '
                     f'fill="#201f1e">{esc(str(step.get("name"))[:22])}</text>'
                     f'<text x="{x + 8}" y="{y + 32}" font-size="10" font-family="sans-serif" '
                     f'fill="{color}">{esc(label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


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
