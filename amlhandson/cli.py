"""The ``amlhandson`` command: look at workspaces and runs, fetch data, start the course.

A thin layer over the library: every command calls the same functions a
notebook would.

Example (in a shell)::

    amlhandson workspace show
    amlhandson runs list -e my-first-experiment
    amlhandson runs show <run id>
    amlhandson data mnist --mirror http://192.168.0.10:8000/
    amlhandson course
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .exceptions import AmlHandsOnError, RunNotFoundError

__all__ = ["main", "build_parser"]


def _workspace(args: argparse.Namespace) -> Any:
    from .core import Workspace

    if getattr(args, "workspace", None):
        return Workspace.get(args.workspace, resource_group=args.resource_group)
    with contextlib.redirect_stdout(io.StringIO()):
        return Workspace.from_config(args.config)


def _fmt_time(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _duration(row: dict[str, Any]) -> str:
    start, end = row.get("start_time"), row.get("end_time")
    if not start:
        return "-"
    seconds = (end or time.time()) - start
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}min"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in out)


def _short(value: Any) -> str:
    if isinstance(value, list):
        return f"[{len(value)} values] last={value[-1]!r}" if value else "[]"
    if isinstance(value, dict):
        return f"table {list(value)}"
    return repr(value)


# -- workspace ------------------------------------------------------------------------------
def cmd_workspace_show(args: argparse.Namespace) -> int:
    """Print the workspace's details and where its data lives."""
    ws = _workspace(args)
    details = ws.get_details()
    exps = ws.experiments
    runs = ws._store.query("SELECT COUNT(*) FROM runs")[0][0]
    print(f"Workspace      : {ws.name}")
    print(f"Resource group : {ws.resource_group}")
    print(f"Subscription   : {ws.subscription_id}")
    print(f"Location       : {ws.location}")
    print(f"Created        : {details.get('creationTime')}")
    print(f"Data folder    : {ws.path}")
    print(f"Experiments    : {len(exps)} ({', '.join(exps) or '-'})")
    print(f"Runs           : {runs}")
    print("削除するには: amlhandson workspace delete "
          f"{ws.name} -g {ws.resource_group}")
    return 0


def cmd_workspace_list(args: argparse.Namespace) -> int:
    """List every workspace on this machine."""
    from . import _paths
    from .core import Workspace

    rows = [[ws.name, ws.resource_group, str(ws.path)]
            for group in Workspace.list().values() for ws in group]
    if not rows:
        print(f"ワークスペースはまだありません ({_paths.home()})。")
        return 0
    print(_table(rows, ["NAME", "RESOURCE GROUP", "FOLDER"]))
    return 0


def cmd_workspace_delete(args: argparse.Namespace) -> int:
    """Delete a workspace folder after confirmation."""
    from .core import Workspace

    ws = Workspace.get(args.name, resource_group=args.resource_group)
    if not args.yes:
        answer = input(f"{ws.path} を削除します。よろしいですか? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("中止しました。")
            return 1
    ws.delete()
    print(f"削除しました: {ws.path}")
    return 0


# -- runs -----------------------------------------------------------------------------------
def cmd_runs_list(args: argparse.Namespace) -> int:
    """List runs, newest first, with their scalar metrics."""
    from .core import Experiment

    ws = _workspace(args)
    names = [args.experiment] if args.experiment else list(ws.experiments)
    rows = []
    for name in names:
        exp = Experiment(ws, name)
        for run in exp.get_runs(include_children=args.all):
            metrics = run.get_metrics()
            shown = ", ".join(f"{k}={_short(v)}" for k, v in list(metrics.items())[:4])
            rows.append((run._row["created"], [exp.name, str(run.number), run.id,
                                               run.get_status(), _fmt_time(run._row["created"]),
                                               _duration(run._row), shown]))
    rows.sort(key=lambda r: r[0], reverse=True)
    if not rows:
        print("Run はまだありません。")
        return 0
    print(_table([r for _, r in rows[: args.top]],
                 ["EXPERIMENT", "#", "RUN ID", "STATUS", "STARTED", "DURATION", "METRICS"]))
    return 0


def _find_run(ws: Any, run_id: str) -> Any:
    from .core import Experiment, Run

    rows = ws._store.query(
        "SELECT e.name, r.run_id FROM runs r JOIN experiments e ON e.pk = r.experiment_pk "
        "WHERE r.run_id = ? OR r.run_id LIKE ?", (run_id, run_id + "%"))
    exact = [row for row in rows if row[1] == run_id]
    rows = exact or rows
    if len(rows) > 1:
        raise RunNotFoundError(f"{run_id!r} で始まる Run が複数あります。もっと長く指定してください。")
    if not rows:
        raise RunNotFoundError(f"Run {run_id!r} はワークスペース {ws.name!r} にありません。"
                               "`amlhandson runs list` で確認してください。")
    exp_name, full_id = rows[0]
    return Run(Experiment(ws, exp_name), full_id)


def cmd_runs_show(args: argparse.Namespace) -> int:
    """Show one run: details, metrics, tags, properties and files."""
    ws = _workspace(args)
    run = _find_run(ws, args.run_id)
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
    for title, data in (("Tags", run.get_tags()), ("Properties", run.get_properties())):
        if data:
            print(f"{title}:")
            for key, value in data.items():
                print(f"  {key} = {value!r}")
    metrics = run.get_metrics()
    print("Metrics:" if metrics else "Metrics: (none)")
    for key, value in metrics.items():
        print(f"  {key} = {_short(value)}")
    files = run.get_file_names()
    print("Files:" if files else "Files: (none)")
    for name in files:
        print(f"  {name}")
    print(f"Folder: {run._folder}")
    return 0


# -- data, services, course -----------------------------------------------------------------
def cmd_data_mnist(args: argparse.Namespace) -> int:
    """Delegate to :func:`amlhandson.datasets.mnist.cli_main`."""
    from .datasets import mnist

    return mnist.cli_main(args.rest)


def cmd_services(args: argparse.Namespace) -> int:
    """Delegate to the web-service CLI."""
    from .core.webservice.cli import services_cli

    return services_cli(args.rest)


def cmd_course(args: argparse.Namespace) -> int:
    """Fetch MNIST into the course folder, then start JupyterLab on it."""
    folder = Path(args.notebooks)
    if not (folder / "00-overview.ipynb").is_file():
        print(f"コースのノートブックが {folder} に見つかりません。amlhandson のリポジトリの"
              "トップフォルダーで実行するか、--notebooks でフォルダーを指定してください。",
              file=sys.stderr)
        return 2
    from .datasets import mnist

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", mnist.MnistWarning)
        mnist.download(folder / "data")
    for warning in caught:  # the message only, without Python's file:line prefix
        print(f"注意: {warning.message}", file=sys.stderr)
    print("MNIST の準備ができました:", "バンドル版サンプル" if mnist.is_sample(folder / "data")
          else "フルセット")
    if args.no_lab:
        return 0
    cmd = [sys.executable, "-m", "jupyterlab", "--notebook-dir", str(folder)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root
        cmd.append("--allow-root")
    print("JupyterLab を起動します:", " ".join(cmd))
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``amlhandson`` command."""
    parser = argparse.ArgumentParser(
        prog="amlhandson",
        description="Azure ML v1 hands-on, offline: workspaces, runs, data, services, course.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    def ws_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default=None,
                       help="config.json or a folder to search from (default: here and parents)")
        p.add_argument("-w", "--workspace", default=None, help="workspace name (instead of config)")
        p.add_argument("-g", "--resource-group", default=None, help="resource group")

    ws = sub.add_parser("workspace", help="show, list or delete workspaces")
    ws_sub = ws.add_subparsers(dest="action", required=True)
    p = ws_sub.add_parser("show", help="details of the workspace of config.json")
    ws_options(p)
    p.set_defaults(func=cmd_workspace_show)
    p = ws_sub.add_parser("list", help="every workspace on this machine")
    p.set_defaults(func=cmd_workspace_list)
    p = ws_sub.add_parser("delete", help="delete a workspace and all its data")
    p.add_argument("name")
    p.add_argument("-g", "--resource-group", default=None)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_workspace_delete)

    runs = sub.add_parser("runs", help="list and show runs")
    runs_sub = runs.add_subparsers(dest="action", required=True)
    p = runs_sub.add_parser("list", help="runs, newest first")
    ws_options(p)
    p.add_argument("-e", "--experiment", default=None)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--all", action="store_true", help="include child runs")
    p.set_defaults(func=cmd_runs_list)
    p = runs_sub.add_parser("show", help="one run in detail")
    ws_options(p)
    p.add_argument("run_id", help="run id (a unique prefix is enough)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_runs_show)

    data = sub.add_parser("data", help="datasets")
    data_sub = data.add_subparsers(dest="action", required=True)
    p = data_sub.add_parser("mnist", help="download MNIST (see --help of the subcommand)",
                            add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_data_mnist)

    p = sub.add_parser("services", help="deployed web services (list, stop, logs)",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_services)

    p = sub.add_parser("course", help="prepare MNIST and open the course in JupyterLab")
    p.add_argument("--notebooks", default="notebooks", help="course folder (default: notebooks)")
    p.add_argument("--no-lab", action="store_true", help="only prepare the data")
    p.set_defaults(func=cmd_course)
    return parser


def _version() -> str:
    from . import __version__

    return f"amlhandson {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``amlhandson`` command; returns the exit code."""
    argv = list(argv) if argv is not None else sys.argv[1:]
    # Sub-tools with their own parsers get their arguments untouched (argparse's
    # REMAINDER would refuse a first argument that starts with "-").
    delegated = {("data", "mnist"): cmd_data_mnist, ("services",): cmd_services}
    match = next((p for p in delegated if tuple(argv[: len(p)]) == p), None)
    if match is not None:
        func = delegated[match]
        args = argparse.Namespace(rest=argv[len(match):])
    else:
        args = build_parser().parse_args(argv)
        func = args.func
    try:
        return int(func(args) or 0)
    except AmlHandsOnError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
