"""``amlhandson pipelines list|show|endpoint``.

Example (in a shell)::

    amlhandson pipelines list              # published pipelines
    amlhandson pipelines list --runs       # pipeline runs, newest first
    amlhandson pipelines show <published pipeline id | pipeline run id (prefix)>
    amlhandson pipelines endpoint status|start|stop [--host 0.0.0.0 --port 8080]
"""

from __future__ import annotations

import argparse
from typing import Any

from .._tables import text_table
from ..exceptions import UserErrorException
from ._common import fmt_time, open_workspace, workspace_options

__all__ = ["register"]


def _pipeline_runs(ws: Any, experiment: str | None) -> list[Any]:
    from ..core.experiment import Experiment

    names = [experiment] if experiment else list(ws.experiments)
    runs = []
    for name in names:
        runs.extend(Experiment(ws, name).get_runs(type="azureml.PipelineRun"))
    return sorted(runs, key=lambda r: r.record.created, reverse=True)


def cmd_list(args: argparse.Namespace) -> int:
    """List published pipelines, or pipeline runs with ``--runs``."""
    from ..pipeline.core.published_pipeline import PublishedPipeline

    ws = open_workspace(args)
    if args.runs:
        runs = _pipeline_runs(ws, args.experiment)[: args.top]
        if not runs:
            print("パイプラインの Run はまだありません (experiment.submit(pipeline) で実行します)。")
            return 0
        rows = []
        for run in runs:
            steps = run.get_steps()
            reused = sum(1 for s in steps if s.reused)
            origin = run.get_tags().get("amlhandson.schedule") or (
                "published" if run.get_properties().get("azureml.pipelineid") else "")
            rows.append([run.experiment.name, run.id, run.get_status(), fmt_time(run.record.created),
                         f"{len(steps)} ({reused} reused)", origin])
        print(text_table(["EXPERIMENT", "RUN ID", "STATUS", "SUBMITTED", "STEPS", "FROM"], rows))
        return 0
    published = PublishedPipeline.list(ws, active_only=not args.all)
    if not published:
        print("公開されたパイプラインはまだありません (pipeline.publish(name=...) で公開します)。")
        return 0
    rows = [[p.name, p.id, p.version or "-", p.status, str(p.total_run_steps),
             ", ".join(f"{k}={v!r}" for k, v in p.parameters.items()) or "-", p.description or ""]
            for p in published]
    print(text_table(["NAME", "ID", "VERSION", "STATUS", "STEPS", "PARAMETERS", "DESCRIPTION"],
                     rows))
    return 0


def _show_published(ws: Any, published: Any) -> None:
    from ..pipeline.core import _detached
    from ..pipeline.core.published_pipeline import endpoint_path
    from ..pipeline.core.schedule import Schedule

    print(f"PublishedPipeline {published.name} (version {published.version or '-'})")
    print(f"  Id          : {published.id}")
    print(f"  Status      : {published.status}")
    print(f"  Description : {published.description or '-'}")
    print(f"  Parameters  : {published.parameters or '-'}")
    state = _detached.endpoint_state(ws)
    if state is not None:
        print(f"  Endpoint    : {state['url']}{endpoint_path(ws, published.id)}")
    else:
        print("  Endpoint    : (サーバーは止まっています: amlhandson pipelines endpoint start)")
    print("  Steps       :")
    for step in published.graph.get("steps", []):
        print(f"    {step['name']}: {step.get('scriptName', '-')} on "
              f"{step.get('computeTarget', 'local')} (from {step.get('publishedFrom', '-')})")
    schedules = Schedule.list(ws, active_only=False, pipeline_id=published.id)
    print(f"  Schedules   : {', '.join(f'{s.name} ({s.status})' for s in schedules) or '-'}")


def _show_run(run: Any) -> None:
    print(f"PipelineRun {run.id} ({run.experiment.name})")
    print(f"  Status      : {run.get_status()}")
    print(f"  Submitted   : {fmt_time(run.record.created)}")
    tags = run.get_tags()
    if tags:
        print(f"  Tags        : {tags}")
    error = (run.record.error or {}).get("message")
    if error:
        print(f"  Error       : {error}")
    print("  Steps       :")
    for row in run.reuse_report():
        mark = f"再利用 ({row['reused_run_id']})" if row["reused"] else "実行"
        print(f"    {row['step']}: {row['status']}, {mark}, run {row['run_id']}")
        for reason in row["reasons"]:
            print(f"        - {reason}")


def cmd_show(args: argparse.Namespace) -> int:
    """Show a published pipeline (by id) or a pipeline run (by id or prefix)."""
    from ..core.run import Run
    from ..pipeline.core.pipeline_run import PipelineRun
    from ..pipeline.core.published_pipeline import PublishedPipeline

    ws = open_workspace(args)
    try:
        published = PublishedPipeline.get(ws, args.id)
    except LookupError:
        published = None
    if published is not None:
        _show_published(ws, published)
        return 0
    run = Run.find(ws, args.id)
    if not isinstance(run, PipelineRun):
        raise UserErrorException(f"{args.id!r} は公開パイプラインの id でもパイプラインの Run でも"
                                 "ありません (amlhandson pipelines list [--runs] で確認できます)。")
    _show_run(run)
    return 0


def cmd_endpoint(args: argparse.Namespace) -> int:
    """Start, stop or show the workspace's REST endpoint server."""
    from ..pipeline.core import _detached

    ws = open_workspace(args)
    if args.what == "start":
        url = _detached.ensure_endpoint(ws, host=args.host, port=args.port)
        print(f"エンドポイントのサーバー: {url} (止めるには amlhandson pipelines endpoint stop)")
    elif args.what == "stop":
        stopped = _detached.stop_endpoint(ws)
        print("止めました。" if stopped else "サーバーは動いていませんでした。")
    else:
        state = _detached.endpoint_state(ws)
        print(f"動いています: {state['url']} (pid {state['pid']})" if state else "止まっています。")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``pipelines`` command group."""
    group = sub.add_parser("pipelines", help="公開パイプラインとパイプラインの Run")
    actions = group.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="公開パイプライン (--runs: パイプラインの Run) の一覧")
    workspace_options(p)
    p.add_argument("--runs", action="store_true", help="パイプラインの Run を表示する")
    p.add_argument("-e", "--experiment", default=None, help="--runs: この実験の Run だけ")
    p.add_argument("--top", type=int, default=20, help="--runs: 新しい順にこの数まで")
    p.add_argument("--all", action="store_true", help="無効 (Disabled) のものも表示する")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("show", help="公開パイプラインか、パイプラインの Run の詳細")
    workspace_options(p)
    p.add_argument("id", help="公開パイプラインの id か、パイプラインの Run の id (先頭だけでも可)")
    p.set_defaults(func=cmd_show)
    p = actions.add_parser("endpoint", help="公開パイプラインの REST エンドポイントのサーバー")
    workspace_options(p)
    p.add_argument("what", choices=["status", "start", "stop"])
    p.add_argument("--host", default=None, help="start: 待ち受けるアドレス (既定 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="start: ポート (既定: 前回と同じか空き)")
    p.set_defaults(func=cmd_endpoint)
