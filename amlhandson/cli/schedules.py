"""``amlhandson schedules list|show|enable|disable|run``.

``schedules run`` is the scheduler: it fires the schedules of the workspace
(or of every workspace with ``--all-workspaces``) while it runs, in the
foreground; stop it with Ctrl-C (runs it started go on). On a workshop machine
run it in a terminal, or as a user service (``docs/pipelines.md``).

Example (in a shell)::

    amlhandson schedules list
    amlhandson schedules run                      # until Ctrl-C
    amlhandson schedules run --max-firings 1 --timeout 120
    amlhandson schedules disable <schedule id>
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .._tables import text_table
from ._common import fmt_time, open_workspace, workspace_options

__all__ = ["register"]


def cmd_list(args: argparse.Namespace) -> int:
    """List schedules with their next and last firing."""
    from ..pipeline.core.schedule import Schedule

    ws = open_workspace(args)
    schedules = Schedule.list(ws, active_only=not args.all)
    if not schedules:
        print("スケジュールはまだありません (Schedule.create(ws, ...) で作ります)。")
        return 0
    rows = []
    for s in schedules:
        firings = s.firings()
        last = firings[-1] if firings else None
        rec = s.recurrence
        upcoming = rec.next_run_time() if rec is not None and s.status == "Active" else None
        rows.append([s.name, s.id, s.status, s.when(),
                     upcoming.astimezone().strftime("%Y-%m-%d %H:%M:%S") if upcoming else "-",
                     fmt_time(last.fired) if last else "-", str(len(firings))])
    print(text_table(["NAME", "ID", "STATUS", "WHEN", "NEXT", "LAST FIRED", "FIRINGS"], rows))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Show one schedule and its firings."""
    from ..pipeline.core.schedule import Schedule

    ws = open_workspace(args)
    s = Schedule.get(ws, args.id)
    print(f"Schedule {s.name} ({s.id})")
    print(f"  Status      : {s.status}")
    print(f"  Pipeline    : {s.pipeline_id}")
    print(f"  Experiment  : {s.experiment_name}")
    print(f"  When        : {s.when()}")
    print(f"  Parameters  : {s.pipeline_parameters or '-'}")
    print("  Firings     :")
    for f in s.firings()[-args.top:]:
        outcome = f"run {f.run_id}" if f.run_id else f"error: {f.error}"
        print(f"    {fmt_time(f.fired)} ({f.reason}): {outcome}")
    return 0


def cmd_toggle(args: argparse.Namespace) -> int:
    """Enable or disable one schedule."""
    from ..pipeline.core.schedule import Schedule

    s = Schedule.get(open_workspace(args), args.id)
    (s.enable if args.action == "enable" else s.disable)()
    print(f"{s.name}: {s.status}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The foreground scheduler."""
    from ..core.workspace import Workspace
    from ..pipeline.core._scheduler import run_scheduler

    if args.all_workspaces:
        workspaces = [ws for group in Workspace.list().values() for ws in group]
    else:
        workspaces = [open_workspace(args)]
    names = ", ".join(f"{w.resource_group}/{w.name}" for w in workspaces) or "(なし)"
    print(f"スケジューラーを開始しました: {names} を {args.interval:g} 秒ごとに確認します "
          "(Ctrl-C で終了。開始した Run は止まりません)。", flush=True)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        stop.set()  # finish the firing in progress (its run is recorded), then end

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        fired = run_scheduler(workspaces, interval=args.interval, max_firings=args.max_firings,
                              timeout=args.timeout, once=args.once, stop=stop,
                              report=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        fired = []
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop.is_set():
        print("スケジューラーを終了しました。", file=sys.stderr)
        return 0
    failed = [f for f in fired if f.error is not None]
    return 1 if failed and not any(f.error is None for f in fired) else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``schedules`` command group."""
    group = sub.add_parser("schedules", help="公開パイプラインのスケジュールとスケジューラー")
    actions = group.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="スケジュールの一覧")
    workspace_options(p)
    p.add_argument("--all", action="store_true", help="無効 (Disabled) のものも表示する")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("show", help="1 つのスケジュールと実行の記録")
    workspace_options(p)
    p.add_argument("id")
    p.add_argument("--top", type=int, default=20, help="新しい順にこの数まで")
    p.set_defaults(func=cmd_show)
    for name, text in (("enable", "有効にする"), ("disable", "無効にする")):
        p = actions.add_parser(name, help=f"スケジュールを{text}")
        workspace_options(p)
        p.add_argument("id")
        p.set_defaults(func=cmd_toggle)
    p = actions.add_parser("run", help="スケジューラーを実行する (フォアグラウンド)")
    workspace_options(p)
    p.add_argument("--all-workspaces", action="store_true",
                   help="このマシンのすべてのワークスペースのスケジュールを扱う")
    p.add_argument("--interval", type=float, default=10.0, help="確認の間隔 (秒, 既定 10)")
    p.add_argument("--once", action="store_true", help="1 回だけ確認して終わる")
    p.add_argument("--max-firings", type=int, default=None,
                   help="この数の Run を開始したら終わる")
    p.add_argument("--timeout", type=float, default=None, help="この秒数がたったら終わる")
    p.set_defaults(func=cmd_run)
