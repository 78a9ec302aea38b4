"""``python -m amlhandson.compat SCRIPT.py [ARGS ...]``: run a v1 script with the layer on.

The script runs as ``__main__`` with ``sys.argv = [SCRIPT.py, ARGS ...]``, its
folder first on ``sys.path`` (as ``python SCRIPT.py`` would), after
:func:`amlhandson.compat.install`. Processes it starts inherit the layer
(``AMLHANDSON_COMPAT``). ``--force`` replaces a real Azure ML SDK.

Example (in a shell)::

    python -m amlhandson.compat train.py --regularization 0.5
"""

from __future__ import annotations

import os
import runpy
import sys

from . import install

USAGE = "usage: python -m amlhandson.compat [--force] SCRIPT.py [ARGS ...]"


def main(argv: list[str] | None = None) -> int:
    """Run the script named by ``argv[0]`` with the layer installed; return its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    force = bool(argv) and argv[0] == "--force"
    if force:
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 0 if argv else 2
    script = argv[0]
    if not os.path.isfile(script):
        print(f"エラー: スクリプト {script} がありません。", file=sys.stderr)
        return 2
    install(force=force)
    sys.argv = argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return int(code or 0)
        print(code, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - the process entry point
    sys.exit(main())
