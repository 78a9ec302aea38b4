"""``python -m amlhandson.core.compute._host SCRIPT ARGS...``: run a submitted script.

Started by the trial runner (:mod:`._trial`) in the run's working folder. It
makes ``Run.get_context()`` return the pipe-backed run
(:mod:`amlhandson.core._script_context`), exits when its parent (the runner)
dies, runs the script as ``__main__`` with ``sys.argv = [script, *args]`` like
``python script.py``, and on an uncaught exception prints the traceback (from the
script's own frames on) and sends it to the runner before exiting with code 1.

Example (what the runner executes)::

    python -m amlhandson.core.compute._host train.py --k 3
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time
import traceback
from typing import Any

__all__ = ["main", "watch_parent"]


def watch_parent(interval: float = 0.5) -> None:
    """Exit this process (code 137) as soon as its parent process is gone."""
    parent = os.getppid()

    def loop() -> None:
        while True:
            time.sleep(interval)
            if os.name == "nt":
                import psutil

                alive = psutil.pid_exists(parent)
            else:
                alive = os.getppid() == parent
            if not alive:
                os._exit(137)

    threading.Thread(target=loop, daemon=True, name="amlhandson-parent-watch").start()


def _user_traceback(exc: BaseException, script: str) -> str:
    tb = exc.__traceback__
    frames = tb
    while frames is not None and os.path.abspath(frames.tb_frame.f_code.co_filename) != script:
        frames = frames.tb_next
    return "".join(traceback.format_exception(type(exc), exc, frames or tb))


def main(argv: list[str] | None = None) -> int:
    """Run the script named by ``argv[0]`` with the remaining arguments; return its exit code."""
    from .. import _catalog
    from ..run import Run

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print("usage: python -m amlhandson.core.compute._host SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    watch_parent()
    if os.environ.get("AMLHANDSON_COMPAT"):  # the notebook had `import azureml` working
        _catalog.resolve("compat_from_env")()
    context = Run.get_context() if os.environ.get("AMLHANDSON_RUN_PIPE") else None
    script = os.path.abspath(argv[0])
    sys.argv = [argv[0], *argv[1:]]
    sys.path.insert(0, os.path.dirname(script))
    code: Any = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:  # noqa: BLE001 - reported to the runner, then exit 1
        text = _user_traceback(exc, script)
        sys.stderr.write(text)
        sys.stderr.flush()
        if context is not None:
            context._writer.write({"k": "err", "type": type(exc).__name__,
                                   "message": str(exc), "traceback": text})
        code = 1
    finally:
        if context is not None:
            context.flush()
        sys.stdout.flush()
        sys.stderr.flush()
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
