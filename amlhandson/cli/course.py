"""``amlhandson course``: prepare MNIST for the notebooks, then start JupyterLab.

Example (in a shell)::

    amlhandson course            # data + JupyterLab
    amlhandson course --no-lab   # data only
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import warnings
from pathlib import Path

__all__ = ["register"]


def cmd_course(args: argparse.Namespace) -> int:
    """Fetch MNIST into the course folder, then start JupyterLab on it."""
    folder = Path(args.notebooks)
    if not (folder / "00-overview.ipynb").is_file():
        print(f"コースのノートブックが {folder} に見つかりません。amlhandson のリポジトリの"
              "トップフォルダーで実行するか、--notebooks でフォルダーを指定してください。",
              file=sys.stderr)
        return 2
    from ..datasets import mnist

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


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``course`` command to the top-level parser."""
    p = sub.add_parser("course", help="MNIST を用意して JupyterLab でコースを開く")
    p.add_argument("--notebooks", default="notebooks",
                   help="コースのフォルダー (既定: notebooks)")
    p.add_argument("--no-lab", action="store_true", help="データの準備だけをする")
    p.set_defaults(func=cmd_course)
