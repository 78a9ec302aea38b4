"""What every ``amlhandson`` sub-command shares: finding the workspace, formatting.

Read-only commands never create anything: :func:`open_workspace` opens the
workspace named by ``-w/-g`` or by ``config.json`` and, when it does not exist,
says which ones do.

Example:
    >>> parser = argparse.ArgumentParser(); workspace_options(parser)
    >>> parser.parse_args(["-w", "docs-ws"]).workspace
    'docs-ws'
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from ..exceptions import WorkspaceNotFoundError

__all__ = ["workspace_options", "open_workspace", "fmt_time", "short_value"]


def workspace_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--config``, ``-w/--workspace`` and ``-g/--resource-group`` to ``parser``."""
    parser.add_argument("--config", default=None,
                        help="config.json またはそれを探し始めるフォルダー (既定: ここと親フォルダー)")
    parser.add_argument("-w", "--workspace", default=None,
                        help="ワークスペース名 (config.json の代わりに)")
    parser.add_argument("-g", "--resource-group", default=None, help="リソースグループ名")


def open_workspace(args: argparse.Namespace) -> Any:
    """The existing workspace the arguments name; never creates one.

    Raises :class:`~amlhandson.exceptions.WorkspaceNotFoundError` listing the
    workspaces that exist when the named one does not.
    """
    from ..core.workspace import Workspace, find_config, read_config

    if getattr(args, "workspace", None):
        return Workspace.get(args.workspace, resource_group=args.resource_group)
    config_file = find_config(args.config)
    config = read_config(config_file)
    try:
        return Workspace(config["subscription_id"], config["resource_group"],
                         config["workspace_name"])
    except WorkspaceNotFoundError as exc:
        existing = [f"{ws.name} (-g {ws.resource_group})"
                    for group in Workspace.list().values() for ws in group]
        listing = ", ".join(existing) if existing else "まだありません"
        raise WorkspaceNotFoundError(
            f"{config_file} が指すワークスペース {config['workspace_name']!r} (resource group "
            f"{config['resource_group']!r}) はこのマシンにありません。このコマンドは何も作成"
            f"しません。あるワークスペース: {listing}。作成するにはノートブックで "
            "Workspace.from_config() か Workspace.create(...) を実行してください。"
        ) from exc


def fmt_time(ts: float | None) -> str:
    """Local time as ``YYYY-mm-dd HH:MM:SS`` (``-`` for none).

    Example:
        >>> fmt_time(None)
        '-'
    """
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def short_value(value: Any) -> str:
    """A metric value in a few characters (lists show their length and last value).

    Example:
        >>> short_value([0.5, 0.25])
        '[2 values] last=0.25'
    """
    if isinstance(value, list):
        return f"[{len(value)} values] last={value[-1]!r}" if value else "[]"
    if isinstance(value, dict):
        return f"table {list(value)}"
    return repr(value)
