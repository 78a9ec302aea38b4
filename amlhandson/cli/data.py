"""``amlhandson data mnist ...``: delegates to :func:`amlhandson.datasets.mnist.cli_main`.

Example (in a shell)::

    amlhandson data mnist --mirror http://192.168.0.10:8000/
"""

from __future__ import annotations

import argparse

__all__ = ["register", "DELEGATED"]


def cmd_mnist(args: argparse.Namespace) -> int:
    """Run the MNIST tool with the remaining arguments."""
    from ..datasets import mnist

    return mnist.cli_main(args.rest)


#: Sub-tools with parsers of their own: their arguments are passed on untouched.
DELEGATED = {("data", "mnist"): cmd_mnist}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``data`` command group to the top-level parser."""
    group = sub.add_parser("data", help="データセット")
    actions = group.add_subparsers(dest="action", required=True)
    p = actions.add_parser("mnist", help="MNIST を取得する (詳しくはサブコマンドの --help)",
                           add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_mnist)
