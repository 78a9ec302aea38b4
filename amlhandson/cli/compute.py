"""``amlhandson compute list|show|delete``: the workspace's compute targets.

Example (in a shell)::

    amlhandson compute list
    amlhandson compute show cpucluster
    amlhandson compute delete cpucluster
"""

from __future__ import annotations

import argparse
import json

from .._tables import text_table
from ._common import fmt_time, open_workspace, workspace_options

__all__ = ["register"]


def _describe(target: object) -> str:
    config = getattr(target, "config", {})
    if "max_nodes" in config:
        return (f"Dask LocalCluster, nodes {config.get('min_nodes')}..{config.get('max_nodes')}, "
                f"vm_size {config.get('vm_size')}, idle {config.get('idle_seconds_before_scaledown')}s")
    return f"scheduler {config.get('scheduler_address')}"


def cmd_list(args: argparse.Namespace) -> int:
    """List the compute targets (and the built-in 'local')."""
    from ..core.compute import ComputeTarget

    ws = open_workspace(args)
    rows = [["local", "(built-in)", "this machine: scripts run as subprocesses", "-"]]
    for target in ComputeTarget.list(ws):
        rows.append([target.name, target.type, _describe(target),
                     fmt_time(target.serialize().get("created"))])
    print(text_table(["NAME", "TYPE", "WHAT", "CREATED"], rows))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Show one target's settings (no cluster is started or contacted)."""
    from ..core.compute import ComputeTarget

    ws = open_workspace(args)
    target = ComputeTarget(ws, args.name)
    data = target.serialize()
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return 0
    print(f"{target.name}  ({target.type})")
    print(f"  {_describe(target)}")
    for key, value in data["properties"].items():
        print(f"  {key} = {value}")
    print(f"  created = {fmt_time(data.get('created'))}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete (or, for an attached cluster, detach) a target."""
    from ..core.compute import ComputeTarget

    ws = open_workspace(args)
    target = ComputeTarget(ws, args.name)
    target.delete()
    print(f"コンピューティング先 {args.name!r} を削除しました。")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compute`` command group to the top-level parser."""
    group = sub.add_parser("compute", help="コンピューティング先 (クラスター) の一覧と詳細")
    actions = group.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="コンピューティング先の一覧")
    workspace_options(p)
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("show", help="1 つのコンピューティング先の設定")
    workspace_options(p)
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="JSON で出力")
    p.set_defaults(func=cmd_show)
    p = actions.add_parser("delete", help="コンピューティング先を削除 (アタッチしたものは登録解除)")
    workspace_options(p)
    p.add_argument("name")
    p.set_defaults(func=cmd_delete)
