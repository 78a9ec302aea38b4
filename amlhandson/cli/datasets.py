"""``amlhandson datasets list|show`` and ``amlhandson datastores list``.

Example (in a shell)::

    amlhandson datasets list             # latest version of each registered dataset
    amlhandson datasets list --versions  # every version
    amlhandson datasets show mnist [-v 1]
    amlhandson datastores list
"""

from __future__ import annotations

import argparse

from .._tables import text_table
from ..exceptions import AmlHandsOnError
from ._common import fmt_time, open_workspace, workspace_options

__all__ = ["register"]


def cmd_list(args: argparse.Namespace) -> int:
    """List registered datasets (latest version, or every version)."""
    from .._store import Store

    ws = open_workspace(args)
    repo = Store.open(ws.path).datasets
    records = repo.list() if args.versions else [r for n in repo.names()
                                                 if (r := repo.get(n)) is not None]
    if not records:
        print("登録されたデータセットはまだありません (dataset.register(ws, name) で登録します)。")
        return 0
    rows = [[r.name, str(r.version), r.kind, fmt_time(r.created), r.fingerprint[:12],
             str(len(repo.runs_reading(r.name, r.version))), r.description or ""]
            for r in records]
    print(text_table(["NAME", "VERSION", "KIND", "REGISTERED", "FINGERPRINT", "RUNS", "DESCRIPTION"],
                     rows))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Show one dataset version: definition, files, fingerprint, runs that read it."""
    import json

    from ..core.dataset import Dataset

    ws = open_workspace(args)
    dataset = Dataset.get_by_name(ws, args.name, version=args.version or "latest")
    print(f"Dataset {dataset.name} version {dataset.version}  (id {dataset.id})")
    print(f"  Kind        : {type(dataset).__name__}")
    print(f"  Description : {dataset.description or '-'}")
    print(f"  Tags        : {dataset.tags or '-'}")
    print(f"  Fingerprint : {dataset.registered_fingerprint}")
    print("  Definition  :")
    for line in json.dumps(dataset.definition, indent=2, ensure_ascii=False).splitlines():
        print(f"    {line}")
    try:
        files = dataset.to_path() if hasattr(dataset, "to_path") else None
        now = dataset.fingerprint()
    except (AmlHandsOnError, OSError) as exc:  # the files are gone or unreadable: say so
        print(f"  Files       : 読めません ({exc})")
    else:
        if files is not None:
            print(f"  Files       : {len(files)}")
            for name in files[:20]:
                print(f"    {name}")
        same = "登録時と同じ" if now == dataset.registered_fingerprint else "登録後に変わっています"
        print(f"  Content now : {same}")
    from .._store import Store

    readers = Store.open(ws.path).datasets.runs_reading(dataset.name, dataset.version)
    print(f"  Read by     : {', '.join(dict.fromkeys(readers)) or '-'}")
    return 0


def cmd_datastores(args: argparse.Namespace) -> int:
    """List datastores and where their files are."""
    from ..core.datastore import Datastore

    ws = open_workspace(args)
    rows = [[d.name + (" (default)" if d.is_default else ""), d.datastore_type,
             str(d.local_folder) if d.local_folder is not None else d.backend.describe(),
             str(len(d.files()))] for d in Datastore.list(ws)]
    print(text_table(["NAME", "TYPE", "WHERE", "FILES"], rows))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` and ``datastores`` command groups."""
    group = sub.add_parser("datasets", help="登録したデータセット")
    actions = group.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="データセットの一覧")
    workspace_options(p)
    p.add_argument("--versions", action="store_true", help="すべてのバージョンを表示する")
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("show", help="1 つのデータセットの詳細")
    workspace_options(p)
    p.add_argument("name")
    p.add_argument("-v", "--version", type=int, default=None)
    p.set_defaults(func=cmd_show)
    group = sub.add_parser("datastores", help="データストア")
    actions = group.add_subparsers(dest="action", required=True)
    p = actions.add_parser("list", help="データストアの一覧")
    workspace_options(p)
    p.set_defaults(func=cmd_datastores)



