"""The ``amlhandson`` command: look at workspaces and runs, fetch data, start the course.

A thin layer over the library: every command calls the same functions a
notebook would. Each command group lives in its own module with a
``register(subparsers)`` function; :data:`GROUPS` lists them in help order.

Example (in a shell)::

    amlhandson workspace show
    amlhandson runs list -e my-first-experiment
    amlhandson runs show <run id>
    amlhandson data mnist --mirror http://192.168.0.10:8000/
    amlhandson studio --port 8765
    amlhandson course
    amlhandson doctor
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..exceptions import AmlHandsOnError
from . import (
    compat,
    compute,
    course,
    data,
    datasets,
    doctor,
    pipelines,
    runs,
    schedules,
    services,
    studio,
    workspace,
)
from ._locale import japanese_argparse

__all__ = ["main", "build_parser", "GROUPS"]

#: Command-group modules, in the order ``--help`` lists them.
GROUPS = (workspace, runs, compute, data, datasets, pipelines, schedules, services, studio,
          course, doctor, compat)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``amlhandson`` command.

    Example:
        >>> build_parser().parse_args(["runs", "list", "--top", "3"]).top
        3
    """
    parser = argparse.ArgumentParser(
        prog="amlhandson",
        description="Azure ML v1 ハンズオン (オフライン版): ワークスペース、Run、データ、サービス、コース。",
    )
    parser.add_argument("--version", action="version", version=_version(),
                        help="バージョンを表示して終了する")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def _version() -> str:
    from .. import __version__

    return f"amlhandson {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``amlhandson`` command; returns the exit code.

    Example:
        >>> main(["--version"])  # doctest: +SKIP
        amlhandson 0.1.0
    """
    argv = list(argv) if argv is not None else sys.argv[1:]
    # Sub-tools with their own parsers get their arguments untouched (argparse's
    # REMAINDER would refuse a first argument that starts with "-").
    delegated = {}
    for group in GROUPS:
        delegated.update(getattr(group, "DELEGATED", {}))
    match = next((p for p in delegated if tuple(argv[: len(p)]) == p), None)
    try:
        with japanese_argparse():  # --help and usage errors in Japanese, like every message
            if match is not None:
                return int(delegated[match](argparse.Namespace(rest=argv[len(match):])) or 0)
            args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except AmlHandsOnError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
