"""Paths as learners should see them: without the machine-specific part.

Notebooks, the CLI and ``amlhandson doctor`` print where things are. A path under
the home folder is shown as ``~/...`` and one under ``AMLHANDSON_HOME`` as
``$AMLHANDSON_HOME/...``, so committed notebook outputs and screenshots hold no
user names or temporary folders.

Example:
    >>> from pathlib import Path
    >>> display_path(Path.home() / ".amlhandson" / "datasets" / "mnist")
    '~/.amlhandson/datasets/mnist'
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["display_path"]


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` as ``~/...`` or ``$AMLHANDSON_HOME/...`` when it is under one of them.

    Other paths are returned absolute, as they are.

    Example:
        >>> display_path("/opt/course/data") in ("/opt/course/data", "C:\\\\opt\\\\course\\\\data")
        True
    """
    given = Path(os.path.abspath(Path(path).expanduser()))
    targets = [given, given.resolve()]  # as written first: a linked folder keeps its place
    bases = [(Path.home(), "~/")]
    env = os.environ.get("AMLHANDSON_HOME")
    if env:
        bases.append((Path(os.path.abspath(Path(env).expanduser())), "$AMLHANDSON_HOME/"))
    for base, label in bases:
        for target in targets:
            for root in (base, base.resolve()):
                with contextlib.suppress(ValueError):
                    rel = target.relative_to(root).as_posix()
                    return label.rstrip("/") if rel == "." else label + rel
    return str(targets[1])
