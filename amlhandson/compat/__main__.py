"""``python -m amlhandson.compat SCRIPT.py [ARGS ...]``: run a v1 script with the layer on.

The script runs as ``__main__`` with ``sys.argv = [SCRIPT.py, ARGS ...]``, its
folder first on ``sys.path`` (as ``python SCRIPT.py`` would), after
:func:`amlhandson.compat.install`. Processes it starts inherit the layer
(``AMLHANDSON_COMPAT``). ``--force`` replaces a real Azure ML SDK.

The script's ``__main__`` module keeps this runner's module spec (as ``python -m``
does), so processes that :mod:`multiprocessing` *spawns* (a local Dask cluster's
workers, for ``AmlCompute``) do not run the 2019 script again from the top: v1
scripts have no ``if __name__ == "__main__":`` guard.

Example (in a shell)::

    python -m amlhandson.compat train.py --regularization 0.5
"""

from __future__ import annotations

import builtins
import importlib.machinery
import os
import sys
import types

from . import install

USAGE = "usage: python -m amlhandson.compat [--force] SCRIPT.py [ARGS ...]"


def _run_as_main(script: str) -> None:
    with open(script, "rb") as handle:
        code = compile(handle.read(), script, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__file__ = script
    module.__builtins__ = builtins  # type: ignore[attr-defined]
    module.__spec__ = importlib.machinery.ModuleSpec("amlhandson.compat.__main__", None)
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        exec(code, module.__dict__)
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


def main(argv: list[str] | None = None) -> int:
    """Run the script named by ``argv[0]`` with the layer installed; return its exit code.

    Example:
        >>> main(["train.py", "--regularization", "0.5"])  # doctest: +SKIP
        0
    """
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
        _run_as_main(script)
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return int(code or 0)
        print(code, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - the process entry point
    sys.exit(main())
