"""The HyperDrive part of the run views: trials with their parameters, the best one, charts.

:func:`collect` reads a HyperDrive parent (``run.type == 'hyperdrive'``) once and
returns plain data; :func:`trials_html` and :func:`trials_text` render it. The
live widget (:mod:`._widget`) shows it in place of the generic child-run table;
the static HTML / text summaries use the same functions.

The data (``data["hyperdrive"]`` in ``RunDetails.get_widget_data()``)::

    {"primary_metric", "goal",                 # "maximize" | "minimize"
     "parameters": [names],                    # in the order the trials use them
     "best_run_id", "best_value", "max_total_runs", "policy", "counts": {status: n},
     "trials": [{"run_id", "number", "trial", "status", "duration_seconds",
                 "parameters": {name: value}, "best", "last", "values", "note"}, ...]}

Example:
    >>> hd = collect(hd_run)  # doctest: +SKIP
    >>> hd["best_run_id"], hd["parameters"]  # doctest: +SKIP
    ('HD_..._2', ['--k'])
    >>> trial_label({"trial": 3, "parameters": {"--k": 5}})
    '#3 k=5'
"""

from __future__ import annotations

import html
import math
import time
from typing import Any

from ._summary import format_duration, format_value
from ._svg import multi_line_chart, numeric_points, scatter_chart

__all__ = ["collect", "trials_html", "trials_text", "trial_label", "visible_tags", "RUN_TYPE"]

RUN_TYPE = "hyperdrive"
_CONFIG_TAGS = ("generator_config", "policy_config", "primary_metric_config", "max_total_jobs",
                "max_concurrent_jobs", "max_duration_minutes")
_FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:13px"
_CELL = "border:1px solid #ddd;padding:2px 8px;text-align:left"
_BEST = "background:#fff4ce;font-weight:600"
_MAX_SERIES = 10  # trials drawn in the per-trial chart (the best ones)
_esc = html.escape


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _best(values: list[Any], maximize: bool) -> float | None:
    numbers = [n for n in map(_number, values) if n is not None]
    if not numbers:
        return None
    return max(numbers) if maximize else min(numbers)


def _trial_index(parent_id: str, child_id: str, fallback: int) -> int:
    suffix = child_id[len(parent_id) + 1:] if child_id.startswith(parent_id + "_") else ""
    return int(suffix) if suffix.isdigit() else fallback


def trial_label(trial: dict[str, Any]) -> str:
    """``#<trial> name=value ...`` (parameter names without their dashes).

    Example:
        >>> trial_label({"trial": 0, "parameters": {"--C": 0.5, "--solver": "lbfgs"}})
        '#0 C=0.5 solver=lbfgs'
    """
    params = " ".join(f"{k.lstrip('-')}={format_value(v, 12)}"
                      for k, v in trial["parameters"].items())
    return f"#{trial['trial']}" + (f" {params}" if params else "")


def visible_tags(run_id: str, tags: dict[str, Any]) -> dict[str, Any]:
    """A HyperDrive parent's tags without its configuration and per-trial parameter tags.

    Example:
        >>> visible_tags("HD_1", {"HD_1_0": "{}", "policy_config": "{}", "team": "a"})
        {'team': 'a'}
    """
    def hidden(key: str) -> bool:
        rest = key[len(run_id) + 1:] if key.startswith(run_id + "_") else ""
        return key in _CONFIG_TAGS or rest.isdigit()

    return {k: v for k, v in tags.items() if not hidden(k)}


def collect(run: Any, max_trials: int = 500) -> dict[str, Any] | None:
    """The HyperDrive data of ``run`` (``None`` when it is not a HyperDrive parent)."""
    if run.type != RUN_TYPE:
        return None
    from ..core import _catalog

    hd = _catalog.run_class(RUN_TYPE)(run.experiment, run.id)
    config = hd.primary_metric_config
    name, maximize = config["name"], config["goal"] == "maximize"
    params = hd.get_hyperparameters()
    definition = run.record.definition or {}
    trials: list[dict[str, Any]] = []
    names: list[str] = []
    counts: dict[str, int] = {}
    now = time.time()
    for i, child in enumerate(hd.get_children()):
        status = child.get_status()
        counts[status] = counts.get(status, 0) + 1
        if len(trials) >= max_trials:
            continue
        value = child.get_metrics(name=name).get(name) if name else None
        values = value if isinstance(value, list) else ([] if value is None else [value])
        record = child.record
        start, end = record.start_time, record.end_time
        error = record.error if isinstance(record.error, dict) else {}
        note = str(error.get("message", "")).splitlines()[0] if status != "Completed" and error \
            else ""
        parameters = dict(params.get(child.id, {}))
        for key in parameters:
            if key not in names:
                names.append(key)
        trials.append({
            "run_id": child.id, "number": child.number,
            "trial": _trial_index(run.id, child.id, i), "status": status,
            "duration_seconds": None if start is None else (end or now) - start,
            "parameters": parameters, "best": _best(values, maximize),
            "last": values[-1] if values else None, "values": values[-2000:], "note": note[:200],
        })
    trials.sort(key=lambda t: t["trial"])
    scored = [t for t in trials if t["best"] is not None]
    best = (max if maximize else min)(scored, key=lambda t: t["best"]) if scored else None
    policy = (definition.get("policy_config") or {}).get("name")
    return {"primary_metric": name, "goal": config["goal"], "parameters": names,
            "best_run_id": best["run_id"] if best else None,
            "best_value": best["best"] if best else None,
            "max_total_runs": definition.get("max_total_jobs"), "policy": policy,
            "counts": counts, "trials": trials}


# -- rendering -----------------------------------------------------------------------------------
def _summary_line(hd: dict[str, Any]) -> str:
    counts = ", ".join(f"{s} {n}" for s, n in sorted(hd["counts"].items()))
    total = sum(hd["counts"].values())
    of = f" / {hd['max_total_runs']}" if hd.get("max_total_runs") else ""
    best = ""
    if hd["best_run_id"]:
        trial = next(t for t in hd["trials"] if t["run_id"] == hd["best_run_id"])
        best = f" · best {trial_label(trial)}: {format_value(hd['best_value'])}"
    policy = f" · policy {hd['policy']}" if hd.get("policy") not in (None, "Default") else ""
    return (f"Primary metric {hd['primary_metric']} ({hd['goal']}) · trials {total}{of}"
            f"{f' ({counts})' if counts else ''}{policy}{best}")


def _table(hd: dict[str, Any]) -> str:
    metric = hd["primary_metric"]
    head = ["", "Trial", "Run", "Status", "Duration", *[p.lstrip("-") for p in hd["parameters"]],
            f"{metric} ({'max' if hd['goal'] == 'maximize' else 'min'})", "Note"]
    th = "".join(f'<th style="{_CELL};background:#f3f2f1">{_esc(h)}</th>' for h in head)
    rows = []
    for t in hd["trials"]:
        is_best = t["run_id"] == hd["best_run_id"]
        cells = ["★" if is_best else "", str(t["trial"]), str(t["number"]), t["status"],
                 format_duration(t["duration_seconds"]),
                 *[format_value(t["parameters"].get(p, "")) for p in hd["parameters"]],
                 "" if t["best"] is None else format_value(t["best"]), t["note"]]
        style = f' style="{_BEST}"' if is_best else ""
        rows.append(f"<tr{style}>" + "".join(f'<td style="{_CELL}">{_esc(c)}</td>'
                                              for c in cells) + "</tr>")
    return (f'<table style="border-collapse:collapse;margin:4px 0"><thead><tr>{th}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _charts(hd: dict[str, Any]) -> list[str]:
    metric, trials = hd["primary_metric"], hd["trials"]
    maximize = hd["goal"] == "maximize"
    charts = []
    curves = [t for t in trials if len(numeric_points(t["values"])) > 1]
    if curves:
        ranked = sorted(curves, key=lambda t: (t["best"] is None,
                                               -(t["best"] or 0) if maximize else (t["best"] or 0)))
        shown = sorted(ranked[:_MAX_SERIES], key=lambda t: t["trial"])
        title = f"{metric} per trial" + (f" (best {_MAX_SERIES})" if len(curves) > _MAX_SERIES
                                         else "")
        charts.append(multi_line_chart([(trial_label(t), t["values"]) for t in shown], title))
    star = {hd["best_run_id"]}
    points = [(t["trial"], t["best"], ("★ " if t["run_id"] in star else "") + trial_label(t))
              for t in trials if t["best"] is not None]
    if len(points) > 1:
        charts.append(scatter_chart(points, f"{metric} by trial (in start order)", "trial",
                                    metric))
    for name in hd["parameters"]:
        pts = [(t["parameters"].get(name), t["best"],
                ("★ " if t["run_id"] in star else "") + trial_label(t))
               for t in trials if t["best"] is not None]
        if len({p[0] for p in pts if _number(p[0]) is not None}) > 1:
            charts.append(scatter_chart(pts, f"{metric} vs {name.lstrip('-')}",
                                        name.lstrip("-"), metric))
    return [c for c in charts if c]


def trials_html(data: dict[str, Any]) -> str:
    """The trials of a HyperDrive parent: summary line, table (best row marked), charts."""
    hd = data.get("hyperdrive")
    if not hd:
        return ""
    if not hd["trials"]:
        return (f'<div style="{_FONT};color:#666">{_esc(_summary_line(hd))}<br>'
                "まだ試行がありません。始まると、ここに表とグラフが表示されます。</div>")
    charts = "".join(_charts(hd))
    return (f'<div style="{_FONT}"><div style="color:#333;margin:2px 0">'
            f'{_esc(_summary_line(hd))}</div>{_table(hd)}'
            f'<div style="display:flex;flex-wrap:wrap;gap:4px">{charts}</div></div>')


def trials_text(data: dict[str, Any]) -> str:
    """The same as plain text: one line per trial, the best marked with ``*``."""
    hd = data.get("hyperdrive")
    if not hd:
        return ""
    lines = [_summary_line(hd)]
    for t in hd["trials"]:
        mark = "*" if t["run_id"] == hd["best_run_id"] else " "
        value = "-" if t["best"] is None else format_value(t["best"])
        lines.append(f" {mark} {trial_label(t)} - {t['status']} - {hd['primary_metric']} = {value}"
                     + (f" ({t['note']})" if t["note"] else ""))
    return "\n".join(lines)
