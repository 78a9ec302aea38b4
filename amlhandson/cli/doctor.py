"""``amlhandson doctor``: check that this machine is ready for the course.

Example (in a shell)::

    amlhandson doctor        # table of OK / 注意 / NG with a fix for each; exit code 1 on NG
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["register"]


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print the doctor's table; return 1 when something must be fixed."""
    from .. import doctor

    findings = doctor.diagnose()
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ and not args.no_color
    print(doctor.render(findings, color=color))
    return doctor.exit_code(findings)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``doctor`` command to the top-level parser."""
    p = sub.add_parser("doctor", help="コースの準備ができているかを確かめる (講師が受講者の PC で実行)")
    p.add_argument("--no-color", action="store_true", help="色を付けずに表示する")
    p.set_defaults(func=cmd_doctor)
