"""What the run page adds for HyperDrive searches, pipeline runs and pipeline steps.

Plain data from the runs' own v1 API (``get_children_sorted_by_primary_metric``,
``get_hyperparameters``, ``graph``, ``reuse_report``, ``step_name`` ...), found
by duck typing so the studio imports none of those packages.

Example:
    >>> extras(run)["hyperdrive"]["primary_metric"]  # doctest: +SKIP
    'accuracy'
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["extras", "hyperdrive", "pipeline", "step"]


def extras(run: Any) -> dict[str, Any]:
    """``{"hyperdrive": ...}``, ``{"pipeline": ...}``, ``{"step": ...}`` or ``{}`` for ``run``.

    Example:
        >>> extras(object())
        {}
    """
    if hasattr(run, "get_children_sorted_by_primary_metric"):
        return {"hyperdrive": hyperdrive(run)}
    if hasattr(run, "reuse_report") and hasattr(run, "graph"):
        return {"pipeline": pipeline(run)}
    if hasattr(run, "step_name") and hasattr(run, "reuse_reasons"):
        return {"step": step(run)}
    return {}


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def hyperdrive(run: Any) -> dict[str, Any]:
    """The search's settings and its trials, best first (v1's sorted listing).

    Example:
        >>> hyperdrive(hd_run)["trials"][0]["hyperparameters"]  # doctest: +SKIP
        {'--k': 3}
    """
    definition = run.record.definition or {}
    primary = definition.get("primary_metric_config") or {}
    numbers = {c.id: c.number for c in run.get_children()}
    trials = []
    for row in run.get_children_sorted_by_primary_metric():
        params = _decode(row.get("hyperparameters")) or {}
        trials.append({"run_id": row["run_id"], "number": numbers.get(row["run_id"]),
                       "hyperparameters": params if isinstance(params, dict) else {},
                       "best": row.get("best_primary_metric"), "status": row.get("status")})
    best = next((t for t in trials if t["best"] is not None), None)
    return {
        "primary_metric": primary.get("name", ""), "goal": primary.get("goal", "maximize"),
        "sampling": (definition.get("generator_config") or {}).get("name"),
        "space": (definition.get("generator_config") or {}).get("parameter_space"),
        "policy": (definition.get("policy_config") or {}).get("name"),
        "max_total_runs": definition.get("max_total_jobs"),
        "max_concurrent_runs": definition.get("max_concurrent_jobs"),
        "max_duration_minutes": definition.get("max_duration_minutes"),
        "trials": trials, "best_run_id": best["run_id"] if best else None,
        "parameters": sorted({k for t in trials for k in t["hyperparameters"]}),
    }


def pipeline(run: Any) -> dict[str, Any]:
    """The pipeline's steps (graph order, dependencies, data) with each step run's state.

    Example:
        >>> [s["name"] for s in pipeline(pipeline_run)["steps"]]  # doctest: +SKIP
        ['prepare', 'train']
    """
    graph = run.graph
    report = {row["step"]: row for row in run.reuse_report()}
    steps = []
    for entry in graph.get("steps", []):
        state = report.get(entry.get("name"), {})
        steps.append({
            "id": entry.get("id"), "name": entry.get("name"), "type": entry.get("type"),
            "script": entry.get("scriptName"), "target": entry.get("computeTarget"),
            "after": list(entry.get("runAfter") or []),
            "inputs": [i.get("data") for i in entry.get("inputs") or [] if "data" in i],
            "outputs": list(entry.get("outputs") or []),
            "allow_reuse": entry.get("allowReuse"),
            "status": state.get("status", "NotStarted"), "run_id": state.get("run_id"),
            "reused": bool(state.get("reused")), "reused_run_id": state.get("reused_run_id"),
            "reasons": list(state.get("reasons") or []),
        })
    return {"description": graph.get("description"), "steps": steps,
            "parameters": graph.get("parameters") or {}}


def step(run: Any) -> dict[str, Any]:
    """A pipeline step run: its step name and whether (and why) it was reused.

    Example:
        >>> step(step_run)["reused"]  # doctest: +SKIP
        False
    """
    return {"name": run.step_name, "reused": bool(run.reused),
            "reused_run_id": run.reused_run_id, "reasons": list(run.reuse_reasons)}
