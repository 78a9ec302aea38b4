"""The graph of a pipeline run: plain data from the run, then an SVG drawing and text.

:func:`collect_pipeline` reads a pipeline run (``run.type ==
'azureml.PipelineRun'``): the submitted graph stored with the run and its step
runs (status, duration, reused or not and from which run, why). The result is
plain data kept under ``"pipeline"`` in ``RunDetails.get_widget_data()``.
:func:`pipeline_svg` draws it left to right: steps as boxes coloured by status
(a reused step has a dashed border and says ``再利用``), data between steps
(``PipelineData``, datasets, data references) as grey pills, arrows for data and
``run_after``. The drawing is deterministic (same data, same SVG), so it can be
compared in notebook outputs, and it is redrawn by the live widget as steps
change.

Example:
    >>> data = {"steps": [{"id": "s0", "name": "prep", "status": "Completed", "reused": True,
    ...                    "reused_run_id": "r0", "run_id": "r1", "duration_seconds": 1.0,
    ...                    "target": "local", "reasons": []}],
    ...         "data": [{"id": "d:raw", "name": "raw", "kind": "dataset"}],
    ...         "edges": [["d:raw", "s0", "data"]]}
    >>> svg = pipeline_svg(data)
    >>> svg.startswith("<svg") and "再利用" in svg and "raw" in svg
    True
"""

from __future__ import annotations

import html
import json
import time
from typing import Any

from ._svg import STATUS_COLORS

__all__ = ["PIPELINE_RUN_TYPE", "collect_pipeline", "pipeline_svg", "pipeline_html",
           "pipeline_text"]

PIPELINE_RUN_TYPE = "azureml.PipelineRun"
_WAITING = "NotStarted"
_STEP_W, _STEP_H, _DATA_W, _DATA_H = 168, 46, 132, 24
_COL_GAP, _ROW_GAP, _PAD = 48, 14, 10
_esc = html.escape


def _input_name(token: dict[str, Any]) -> tuple[str, str] | None:
    if "data" in token:
        return token["data"], "data"
    if "dataset" in token:
        return str(token["dataset"].get("name")), "dataset"
    if "ref" in token:
        return str(token["ref"].get("dataReferenceName")), "ref"
    return None


def _duration(record: Any) -> float | None:
    if record.start_time is None:
        return None
    return (record.end_time or time.time()) - record.start_time


def collect_pipeline(run: Any) -> dict[str, Any] | None:
    """The graph and step statuses of a pipeline run, or ``None`` for any other run.

    Example:
        >>> collect_pipeline(pipeline_run)["steps"][0]["status"]  # doctest: +SKIP
        'Completed'
    """
    if run.type != PIPELINE_RUN_TYPE:
        return None
    graph = (run.record.definition or {}).get("graph") or {}
    children: dict[str, Any] = {}
    for child in run.get_children():
        props = child.get_properties()
        name = props.get("amlhandson.step_name") or child.name
        children[name] = (child, props)
    steps, data, edges = [], {}, []
    for entry in graph.get("steps", []):
        child, props = children.get(entry["name"], (None, {}))
        reasons: list[str] = []
        if props.get("amlhandson.reuse_reasons"):
            try:
                reasons = list(json.loads(props["amlhandson.reuse_reasons"]))
            except (ValueError, TypeError):
                reasons = [str(props["amlhandson.reuse_reasons"])]
        steps.append({
            "id": entry["id"], "name": entry["name"],
            "status": child.get_status() if child is not None else _WAITING,
            "reused": props.get("amlhandson.reuse") == "reused",
            "reused_run_id": props.get("azureml.reusedrunid"),
            "run_id": child.id if child is not None else None,
            "duration_seconds": _duration(child.record) if child is not None else None,
            "target": entry.get("computeTarget") or "local",
            "reasons": reasons,
        })
        seen = set()
        for token in entry.get("inputs", []) + entry.get("arguments", []):
            found = _input_name(token)
            if found is None or found[0] in entry.get("outputs", []) or found[0] in seen:
                continue
            seen.add(found[0])
            node = f"d:{found[0]}"
            data.setdefault(node, {"id": node, "name": found[0], "kind": found[1]})
            edges.append([node, entry["id"], "data"])
        for name in entry.get("outputs", []):
            node = f"d:{name}"
            data.setdefault(node, {"id": node, "name": name, "kind": "data"})
            edges.append([entry["id"], node, "data"])
        for before in entry.get("runAfter", []):
            edges.append([before, entry["id"], "after"])
    # a run_after that only repeats a data dependency is not drawn twice
    through = {(a, c) for a, b, _ in edges for b2, c, _ in edges if b == b2 and b.startswith("d:")}
    edges = [e for e in edges if e[2] == "data" or (e[0], e[1]) not in through]
    return {"steps": steps, "data": list(data.values()), "edges": edges}


def _layers(data: dict[str, Any]) -> dict[str, int]:
    nodes = [s["id"] for s in data["steps"]] + [d["id"] for d in data["data"]]
    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b, _ in data["edges"]:
        if a in incoming and b in incoming:
            incoming[b].append(a)
    layer: dict[str, int] = {}

    def depth(node: str, trail: frozenset[str] = frozenset()) -> int:
        if node in layer:
            return layer[node]
        if node in trail:  # a cycle cannot be submitted; draw it anyway
            return 0
        ups = [depth(u, trail | {node}) + 1 for u in incoming[node]]
        layer[node] = max(ups, default=0)
        return layer[node]

    for node in nodes:
        depth(node)
    return layer


def _clip(text: str, width: int) -> str:
    limit = max(4, width // 7)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pipeline_svg(data: dict[str, Any]) -> str:
    """The pipeline as an SVG drawing (see the module docs); ``''`` when it has no steps."""
    if not data or not data.get("steps"):
        return ""
    layer = _layers(data)
    steps = {s["id"]: s for s in data["steps"]}
    items = {**{d["id"]: d for d in data["data"]}, **steps}
    columns: dict[int, list[str]] = {}
    for node in items:  # steps first, then data, each in graph order
        columns.setdefault(layer[node], []).append(node)
    col_w = _STEP_W + _COL_GAP
    heights = {c: sum((_STEP_H if n in steps else _DATA_H) + _ROW_GAP for n in ids)
               for c, ids in columns.items()}
    total_h = max(heights.values()) - _ROW_GAP + 2 * _PAD
    total_w = (max(columns) + 1) * col_w - _COL_GAP + 2 * _PAD
    box: dict[str, tuple[float, float, float, float]] = {}
    for c, ids in sorted(columns.items()):
        y = _PAD + (total_h - 2 * _PAD - (heights[c] - _ROW_GAP)) / 2
        for node in ids:
            w, h = (_STEP_W, _STEP_H) if node in steps else (_DATA_W, _DATA_H)
            x = _PAD + c * col_w + (_STEP_W - w) / 2
            box[node] = (x, y, w, h)
            y += h + _ROW_GAP
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w:.0f}" height="{total_h:.0f}" '
           f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" font-family="sans-serif" font-size="12">',
           '<defs><marker id="amlh-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#8a8886"/></marker>'
           '</defs>']
    for a, b, kind in data["edges"]:
        if a not in box or b not in box:
            continue
        ax, ay, aw, ah = box[a]
        bx, by, _bw, bh = box[b]
        x1, y1, x2, y2 = ax + aw, ay + ah / 2, bx, by + bh / 2
        mid = (x1 + x2) / 2
        dash = ' stroke-dasharray="4 3"' if kind == "after" else ""
        out.append(f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} '
                   f'{x2 - 1:.1f},{y2:.1f}" fill="none" stroke="#8a8886" stroke-width="1.3"'
                   f'{dash} marker-end="url(#amlh-arrow)"/>')
    for node, (x, y, w, h) in box.items():
        if node in steps:
            s = steps[node]
            color = STATUS_COLORS.get(s["status"], "#8a8886")
            dash = ' stroke-dasharray="5 3"' if s["reused"] else ""
            label = "再利用" if s["reused"] else s["status"]
            extra = "" if s["duration_seconds"] is None or s["reused"] else \
                f" · {s['duration_seconds']:.1f}s"
            out.append(
                f'<g><title>{_esc(s["name"])}: {_esc(s["status"])}</title>'
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w}" height="{h}" rx="5" fill="#fff" '
                f'stroke="{color}" stroke-width="2"{dash}/>'
                f'<rect x="{x:.1f}" y="{y:.1f}" width="6" height="{h}" rx="2" fill="{color}"/>'
                f'<text x="{x + 14:.1f}" y="{y + 18:.1f}" font-weight="bold" fill="#323130">'
                f'{_esc(_clip(s["name"], w - 20))}</text>'
                f'<text x="{x + 14:.1f}" y="{y + 35:.1f}" fill="{color}">{_esc(label)}'
                f'<tspan fill="#605e5c">{_esc(extra)} · {_esc(_clip(s["target"], 60))}</tspan>'
                f'</text></g>')
        else:
            d = items[node]
            out.append(f'<g><title>{_esc(d["kind"])}: {_esc(d["name"])}</title>'
                       f'<rect x="{x:.1f}" y="{y:.1f}" width="{w}" height="{h}" rx="{h / 2:.0f}" '
                       f'fill="#f3f2f1" stroke="#c8c6c4"/>'
                       f'<text x="{x + w / 2:.1f}" y="{y + 16:.1f}" text-anchor="middle" '
                       f'fill="#605e5c">{_esc(_clip(d["name"], w - 12))}</text></g>')
    out.append("</svg>")
    return "".join(out)


def pipeline_html(data: dict[str, Any]) -> str:
    """The drawing, then one row per step: status, reused or run, and why."""
    if not data or not data.get("steps"):
        return '<div style="color:#666">パイプラインにステップがありません。</div>'
    rows = []
    for s in data["steps"]:
        mark = (f"再利用 (Run {_esc(s['reused_run_id'] or '?')})" if s["reused"]
                else ("実行" if s["run_id"] else "未開始"))
        reasons = "<br>".join(_esc(r) for r in s["reasons"]) or "-"
        rows.append(f'<tr><td style="padding:2px 8px">{_esc(s["name"])}</td>'
                    f'<td style="padding:2px 8px">{_esc(s["status"])}</td>'
                    f'<td style="padding:2px 8px">{mark}</td>'
                    f'<td style="padding:2px 8px;color:#605e5c">{reasons}</td></tr>')
    table = ('<table style="border-collapse:collapse;margin:4px 0"><thead><tr>'
             + "".join(f'<th style="padding:2px 8px;text-align:left;background:#f3f2f1">{h}</th>'
                       for h in ("Step", "Status", "再利用", "理由"))
             + f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    return f'<div style="overflow-x:auto">{pipeline_svg(data)}</div>{table}'


def pipeline_text(data: dict[str, Any]) -> list[str]:
    """One line per step (for ``text/plain``).

    Example:
        >>> pipeline_text({"steps": [{"name": "prep", "status": "Completed", "reused": True,
        ...                           "reused_run_id": "r0", "run_id": "r1"}]})
        ['Steps:', '  prep - Completed (再利用: r0)']
    """
    lines = ["Steps:"]
    for s in data.get("steps", []):
        extra = f" (再利用: {s['reused_run_id']})" if s["reused"] else ""
        lines.append(f"  {s['name']} - {s['status']}{extra}")
    return lines
