"""``amlhandson services``: list, stop and read the logs of deployed web services.

Services keep running after the notebook's kernel stops (like v1's containers);
this is how to find and stop them from a terminal::

    amlhandson services list              # this folder's workspace (config.json), else all
    amlhandson services list --all        # every workspace on this machine
    amlhandson services show NAME         # state, restarts, the last exit, the error
    amlhandson services logs NAME [-n 50]
    amlhandson services stop NAME [NAME ...] | --all

``stop`` is ``service.delete()``: the process ends and the service is removed.

Example:
    >>> services_cli(["list"])  # doctest: +SKIP
    WORKSPACE  NAME               TYPE   STATE    SCORING URI                    PID  RESTARTS
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from .._tables import text_table
from ..exceptions import AmlHandsOnError, WebserviceException

__all__ = ["services_cli", "register", "DELEGATED"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amlhandson services",
                                     description="deployed web services (list, show, stop, logs)")

    def where(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", default=None, help="config.json or a folder to search from")
        p.add_argument("-w", "--workspace", default=None, help="workspace name")
        p.add_argument("-g", "--resource-group", default=None, help="resource group")
        p.add_argument("--all", dest="all_workspaces", action="store_true",
                       help="every workspace on this machine")

    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("list", help="services and their state")
    where(p)
    p = sub.add_parser("show", help="one service: state, restarts, last exit, error")
    where(p)
    p.add_argument("name")
    p = sub.add_parser("logs", help="the last lines of a service's log")
    where(p)
    p.add_argument("name")
    p.add_argument("-n", "--lines", type=int, default=100)
    p = sub.add_parser("stop", help="stop and remove services (= service.delete())")
    where(p)
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--all-services", action="store_true",
                   help="stop every service of the selected workspace(s)")
    return parser


def _workspaces(args: argparse.Namespace) -> list[Any]:
    from ..core.workspace import Workspace
    from ..exceptions import ConfigNotFoundError
    from ._common import open_workspace

    if args.workspace or (not args.all_workspaces and args.config is not None):
        return [open_workspace(args)]
    if not args.all_workspaces:
        with contextlib.suppress(ConfigNotFoundError):
            return [open_workspace(args)]
    return [ws for group in Workspace.list().values() for ws in group]


def _find(workspaces: list[Any], name: str) -> Any:
    from ..core.webservice import Webservice

    found = []
    for ws in workspaces:
        with contextlib.suppress(WebserviceException):
            found.append(Webservice(ws, name))
    if not found:
        where = ", ".join(ws.name for ws in workspaces) or "なし"
        raise WebserviceException(f"サービス {name!r} が見つかりません (探したワークスペース: "
                                  f"{where})。`amlhandson services list --all` で確認してください。")
    if len(found) > 1:
        raise WebserviceException(f"サービス {name!r} が複数のワークスペースにあります。-w で"
                                  "ワークスペースを指定してください。")
    return found[0]


def _show(service: Any) -> None:
    details = service.serialize()
    last = details["lastExit"] or {}
    rows = [["name", details["name"]], ["type", details["computeType"]],
            ["state", details["state"]], ["scoring uri", details["scoringUri"] or "-"],
            ["pid", str(details["pid"] or "-")], ["restarts", str(details["restarts"])],
            ["last exit", f"{last.get('description')} (worker {last.get('worker')}, "
                          f"{last.get('during')})" if last else "-"],
            ["error", (details["error"] or {}).get("message") or "-"]]
    print(text_table(["", ""], rows))


def services_cli(argv: list[str]) -> int:
    """Run ``amlhandson services ...`` with ``argv``; return the exit code."""
    from ..core.webservice import Webservice

    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        workspaces = _workspaces(args)
        if args.action == "list":
            rows = []
            for ws in workspaces:
                for s in Webservice.list(ws):
                    pid = s.serialize()["pid"] if s.state in ("running", "Healthy", "deploying",
                                                              "Transitioning") else "-"
                    rows.append([ws.name, s.name, s.compute_type, s.state,
                                 s.scoring_uri or "-", str(pid or "-"), str(s.restarts)])
            if not rows:
                print("サービスはありません。")
                return 0
            print(text_table(["WORKSPACE", "NAME", "TYPE", "STATE", "SCORING URI", "PID",
                              "RESTARTS"], rows))
            return 0
        if args.action == "show":
            _show(_find(workspaces, args.name))
            return 0
        if args.action == "logs":
            print(_find(workspaces, args.name).get_logs(num_lines=args.lines), end="")
            return 0
        if args.all_services:
            services = [s for ws in workspaces for s in Webservice.list(ws)]
        elif args.names:
            services = [_find(workspaces, name) for name in args.names]
        else:
            print("止めるサービスの名前 (NAME) か --all-services を指定してください。",
                  file=sys.stderr)
            return 2
        for service in services:
            service.delete()
            print(f"Stopped and removed service {service.name!r} "
                  f"(workspace {service.workspace.name!r}).")
        return 0
    except AmlHandsOnError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 1


def _delegate(args: argparse.Namespace) -> int:
    return services_cli(args.rest)


#: ``amlhandson services ...`` has a parser of its own: arguments are passed on untouched.
DELEGATED = {("services",): _delegate}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``services`` command to the top-level parser (for ``--help``)."""
    p = sub.add_parser("services", help="デプロイした Web サービス (list, show, stop, logs)",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_delegate)
