"""Small helpers to learn about the IPython cell that is running, if any.

Used to close a run left open by an earlier execution of the same cell.

Example:
    >>> current_cell() is None   # outside IPython
    True
"""

from __future__ import annotations

import hashlib
import sys

__all__ = ["current_cell", "shell"]


def shell():  # noqa: ANN201 - IPython is optional
    """The running IPython shell, or ``None`` (never imports IPython itself)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        return ipython.get_ipython()
    except Exception:  # noqa: BLE001
        return None


def current_cell() -> tuple[str, int] | None:
    """``(cell key, execution count)`` of the executing cell, or ``None``.

    The key is the notebook's cell id when the front-end sends one (JupyterLab,
    VS Code), else a hash of the cell's source.
    """
    ip = shell()
    if ip is None:
        return None
    count = int(getattr(ip, "execution_count", 0) or 0)
    key = None
    kernel = getattr(ip, "kernel", None)
    if kernel is not None:
        try:
            parent = kernel.get_parent("shell") if hasattr(kernel, "get_parent") else {}
            key = (parent or {}).get("metadata", {}).get("cellId")
        except Exception:  # noqa: BLE001
            key = None
    if not key:
        history = ip.user_ns.get("_ih") or [""]
        source = history[-1] if history else ""
        key = "src:" + hashlib.sha1(source.encode("utf-8", "replace")).hexdigest()
    return key, count
