"""``amlhandson workspace show|list|delete``.

Example (in a shell)::

    amlhandson workspace show
    amlhandson workspace check            # is workspace.db damaged?
    amlhandson workspace repair           # copy what is readable into a fresh file
    amlhandson workspace delete docs-ws -g docs-aml
"""

from __future__ import annotations

import argparse
from typing import Any

from .._tables import text_table
from ._common import open_workspace, workspace_options

__all__ = ["register"]


def cmd_show(args: argparse.Namespace) -> int:
    """Print the workspace's details and where its data lives."""
    ws = open_workspace(args)
    details = ws.get_details()
    exps = ws.experiments
    print(f"Workspace      : {ws.name}")
    print(f"Resource group : {ws.resource_group}")
    print(f"Subscription   : {ws.subscription_id}")
    print(f"Location       : {ws.location}")
    print(f"Created        : {details.get('creationTime')}")
    print(f"Data folder    : {ws.path}")
    print(f"Experiments    : {len(exps)} ({', '.join(exps) or '-'})")
    print(f"Runs           : {details['runCount']}")
    print(f"削除するには: amlhandson workspace delete {ws.name} -g {ws.resource_group}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """List every workspace on this machine."""
    from .. import _paths
    from ..core.workspace import Workspace

    rows = [[ws.name, ws.resource_group, str(ws.path)]
            for group in Workspace.list().values() for ws in group]
    if not rows:
        print(f"ワークスペースはまだありません ({_paths.home()})。")
        return 0
    print(text_table(["NAME", "RESOURCE GROUP", "FOLDER"], rows))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete a workspace folder after confirmation."""
    from ..core.workspace import Workspace

    ws = Workspace.get(args.name, resource_group=args.resource_group)
    if not args.yes:
        answer = input(f"{ws.path} を削除します。よろしいですか? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("中止しました。")
            return 1
    ws.delete()
    print(f"削除しました: {ws.path}")
    return 0


def _folder(args: argparse.Namespace) -> Any:
    """The workspace folder the arguments name (without opening its database)."""
    from .. import _paths
    from ..core.workspace import find_config, read_config
    from ..exceptions import WorkspaceNotFoundError

    if args.workspace:
        name, group = args.workspace, args.resource_group
        if group is None:
            found = sorted((_paths.home() / "workspaces").glob(f"*/{name}/workspace.json"))
            if len(found) != 1:
                raise WorkspaceNotFoundError(
                    f"ワークスペース {name!r} が {'見つかりません' if not found else '複数あります'}。"
                    "-g でリソースグループを指定してください。")
            group = found[0].parent.parent.name
    else:
        config = read_config(find_config(args.config))
        name, group = config["workspace_name"], config["resource_group"]
    folder = _paths.workspace_dir(group, name)
    if not (folder / "workspace.json").is_file():
        raise WorkspaceNotFoundError(f"ワークスペース {name!r} (resource group {group!r}) は"
                                     "このマシンにありません。")
    return folder


def cmd_check(args: argparse.Namespace) -> int:
    """Check the workspace's database file; exit code 1 when it is damaged."""
    from .._store import Store

    folder = _folder(args)
    problems = Store(folder).check()
    if not problems:
        print(f"問題はありません: {folder / 'workspace.db'}")
        return 0
    print(f"{folder / 'workspace.db'} に問題があります:")
    for problem in problems[:20]:
        print(f"  - {problem}")
    print("読める部分を救うには: amlhandson workspace repair"
          + (f" -w {args.workspace}" if args.workspace else ""))
    return 1


def cmd_repair(args: argparse.Namespace) -> int:
    """Copy every readable row into a fresh database; keep the damaged file beside it."""
    from .._store import Store

    folder = _folder(args)
    if not args.yes:
        answer = input(f"{folder / 'workspace.db'} を修復します (元のファイルは残します)。"
                       "よろしいですか? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("中止しました。")
            return 1
    Store.forget(folder)
    damaged, counts = Store(folder).repair()
    print(f"修復しました。元のファイルは {damaged.name} として残してあります。")
    for table, count in sorted(counts.items()):
        print(f"  {table}: {count} 行")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``workspace`` command group to the top-level parser."""
    group = sub.add_parser("workspace", help="ワークスペースの表示・一覧・削除")
    actions = group.add_subparsers(dest="action", required=True)
    p = actions.add_parser("show", help="config.json のワークスペースの詳細と保存場所")
    workspace_options(p)
    p.set_defaults(func=cmd_show)
    p = actions.add_parser("list", help="このマシンのすべてのワークスペース")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("check", help="データベースが壊れていないか調べる")
    workspace_options(p)
    p.set_defaults(func=cmd_check)
    p = actions.add_parser("repair", help="壊れたデータベースから読める部分を救う")
    workspace_options(p)
    p.add_argument("--yes", action="store_true", help="確認せずに修復する")
    p.set_defaults(func=cmd_repair)
    p = actions.add_parser("delete", help="ワークスペースとそのデータをすべて削除")
    p.add_argument("name", help="ワークスペース名")
    p.add_argument("-g", "--resource-group", default=None, help="リソースグループ名")
    p.add_argument("--yes", action="store_true", help="確認せずに削除する")
    p.set_defaults(func=cmd_delete)
