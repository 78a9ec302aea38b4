"""``amlhandson runs list|show``.

Example (in a shell)::

    amlhandson runs list -e my-first-experiment --metrics accuracy,Best_k
    amlhandson runs show 3f2a
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from .._tables import text_table
from ._common import fmt_time, open_workspace, short_value, workspace_options

__all__ = ["register", "DEFAULT_METRIC_COLUMNS"]

#: Metrics shown per run when ``--metrics`` is not given.
DEFAULT_METRIC_COLUMNS = 4


def _duration(record: Any) -> str:
    start, end = record.start_time, record.end_time
    if not start:
        return "-"
    seconds = (end or time.time()) - start
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}min"


def cmd_list(args: argparse.Namespace) -> int:
    """List runs, newest first, with their metrics."""
    from ..core.experiment import Experiment

    ws = open_workspace(args)
    names = [args.experiment] if args.experiment else list(ws.experiments)
    wanted = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    rows: list[tuple[float, list[str]]] = []
    hidden = 0
    for name in names:
        exp = Experiment(ws, name)
        for run in exp.get_runs(include_children=args.all):
            metrics = run.get_metrics()
            keys = [k for k in (wanted or metrics) if k in metrics]
            if wanted is None and len(keys) > DEFAULT_METRIC_COLUMNS:
                hidden += 1
                keys = keys[:DEFAULT_METRIC_COLUMNS]
            shown = ", ".join(f"{k}={short_value(metrics[k])}" for k in keys)
            status = run.get_status()
            record = run.record
            rows.append((record.created, [exp.name, str(run.number), run.id, status,
                                          fmt_time(record.created), _duration(record), shown]))
    rows.sort(key=lambda r: r[0], reverse=True)
    if not rows:
        print("Run はまだありません。")
        return 0
    print(text_table(["EXPERIMENT", "#", "RUN ID", "STATUS", "STARTED", "DURATION", "METRICS"],
                     [r for _, r in rows[: args.top]]))
    if hidden:
        print(f"({hidden} 件の Run は最初の {DEFAULT_METRIC_COLUMNS} 個のメトリックだけを表示して"
              "います。--metrics 名前,名前 で表示するメトリックを選べます)")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Show one run: details, metrics, tags, properties and files."""
    from ..core.run import Run

    ws = open_workspace(args)
    run = Run.find(ws, args.run_id)
    details = run.get_details()
    if args.json:
        details["metrics"] = run.get_metrics()
        details["files"] = run.get_file_names()
        print(json.dumps(details, indent=2, ensure_ascii=False, default=str))
        return 0
    print(f"Run {run.id}  (#{run.number}, experiment {run.experiment.name})")
    print(f"  Status   : {details['status']}")
    print(f"  Name     : {run.display_name}")
    print(f"  Started  : {details.get('startTimeUtc')}")
    print(f"  Ended    : {details.get('endTimeUtc', '-')}")
    parent = run.parent
    if parent is not None:
        print(f"  Parent   : {parent.id}")
    if "error" in details:
        print(f"  Error    : {details['error']['error'].get('message')}")
    children = list(run.get_children())
    if children:
        print(f"  Children : {len(children)}")
    if run.type == "hyperdrive":
        _print_hyperdrive(run)
    for title, data in (("Tags", run.get_tags()), ("Properties", run.get_properties())):
        if data:
            print(f"{title}:")
            for key, value in data.items():
                print(f"  {key} = {value!r}")
    metrics = run.get_metrics()
    print("Metrics:" if metrics else "Metrics: (none)")
    for key, value in metrics.items():
        print(f"  {key} = {short_value(value)}")
    files = run.get_file_names()
    print("Files:" if files else "Files: (none)")
    for name in files:
        print(f"  {name}")
    print(f"Folder: {run.local_path}")
    return 0


def _print_hyperdrive(run: Any) -> None:
    """The trials of a HyperDrive parent, best first, with their parameters."""
    name = (run.record.definition or {}).get("primary_metric_config", {}).get("name", "")
    rows = []
    for row in run.get_children_sorted_by_primary_metric():
        params = json.loads(row["hyperparameters"] or "{}")
        value = row["best_primary_metric"]
        rows.append([row["run_id"], row["status"], "-" if value is None else f"{value:.6g}",
                     " ".join(f"{k} {v}" for k, v in params.items())])
    print(f"HyperDrive trials (best {name} first):")
    print(text_table(["RUN ID", "STATUS", name.upper() or "METRIC", "PARAMETERS"], rows))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``runs`` command group to the top-level parser."""
    group = sub.add_parser("runs", help="Run の一覧と詳細")
    actions = group.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="Run の一覧 (新しい順)")
    workspace_options(p)
    p.add_argument("-e", "--experiment", default=None, help="実験の名前")
    p.add_argument("--top", type=int, default=20, help="表示する件数 (既定 20)")
    p.add_argument("--all", action="store_true", help="子 Run も表示する")
    p.add_argument("--metrics", default=None,
                   help="表示するメトリックをカンマ区切りで (既定: 最初の 4 個)")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("show", help="1 つの Run の詳細")
    workspace_options(p)
    p.add_argument("run_id", help="Run ID (先頭の数文字で可)")
    p.add_argument("--json", action="store_true", help="JSON で出力")
    p.set_defaults(func=cmd_show)
