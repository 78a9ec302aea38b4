"""``amlhandson compat check|run``: the v1 compatibility layer from a terminal.

Example (in a shell)::

    amlhandson compat check tutorial.ipynb          # run it cell by cell with the layer on
    amlhandson compat check --static tutorial.ipynb # only scan the code
    amlhandson compat check train.py --fail-under 90
    amlhandson compat run train.py --regularization 0.5

``check`` exits with 0 when at least ``--fail-under`` percent (default 100) of the
cells or findings run, 1 otherwise (for CI), 2 for a file it cannot read.
"""

from __future__ import annotations

import argparse
import sys

from ..exceptions import UserErrorException

__all__ = ["register", "DELEGATED", "cmd_check"]


def cmd_check(args: argparse.Namespace) -> int:
    """Check a notebook or script and print the table.

    Example:
        >>> cmd_check(argparse.Namespace(path="train.py", static=False, timeout=600,
        ...           kernel="python3", force=False, keep=False, fail_under=100))  # doctest: +SKIP
        0
    """
    from ..compat.check import check_path

    try:
        report = check_path(args.path, static=args.static, timeout=args.timeout,
                            kernel_name=args.kernel, force=args.force, keep=args.keep,
                            fail_under=args.fail_under)
    except UserErrorException as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return report.exit_code


def cmd_run(args: argparse.Namespace) -> int:
    """Run a script with the layer on (``python -m amlhandson.compat``)."""
    from ..compat.__main__ import main

    return main(args.rest)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compat`` command group.

    Example:
        >>> parser = argparse.ArgumentParser(); register(parser.add_subparsers())
        >>> parser.parse_args(["compat", "check", "x.py"]).fail_under
        100.0
    """
    parser = subparsers.add_parser(
        "compat", help="Azure ML v1 のコードをそのまま動かす互換レイヤー (check, run)",
        description="azureml.* を amlhandson で動かす互換レイヤー")
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("check", help="ノートブックやスクリプトが互換レイヤーで動くかを表で示す")
    p.add_argument("path", help="NOTEBOOK.ipynb か SCRIPT.py")
    p.add_argument("--static", action="store_true",
                   help="ノートブックを実行せず、コードだけを調べる")
    p.add_argument("--fail-under", type=float, default=100.0, metavar="PERCENT",
                   help="動くセル/項目の割合がこれ未満なら終了コード 1 (既定 100)")
    p.add_argument("--timeout", type=int, default=600, help="1 セルの制限時間 (秒、既定 600)")
    p.add_argument("--kernel", default="python3", help="使うカーネル (既定 python3)")
    p.add_argument("--force", action="store_true",
                   help="本物の Azure ML SDK があっても置き換える")
    p.add_argument("--keep", action="store_true", help="作業フォルダーを残す")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("run", help="スクリプトを互換レイヤーつきで実行する",
                       description="amlhandson compat run SCRIPT.py [ARGS ...]")
    p.add_argument("rest", nargs=argparse.REMAINDER, metavar="SCRIPT.py [ARGS ...]")
    p.set_defaults(func=cmd_run)


def _run_delegated(args: argparse.Namespace) -> int:
    return cmd_run(args)


#: ``amlhandson compat run ...`` gets its arguments untouched (they may start with "-").
DELEGATED = {("compat", "run"): _run_delegated}
