"""Where amlhandson keeps a workspace's data on this machine.

Everything lives under one folder, ``AMLHANDSON_HOME`` (default
``~/.amlhandson``)::

    ~/.amlhandson/workspaces/<resource_group>/<workspace_name>/
        workspace.json      the workspace's details
        workspace.db        experiments, runs, metrics, tags, models (SQLite)
        experiments/<experiment>/<run_id>/   files of each run (outputs/, logs/ ...)
        models/<name>/<version>/             registered model files
        services/<name>/                     deployed web services

Deleting a workspace's folder (or ``ws.delete()``, or
``amlhandson workspace delete``) removes all of it.

Example:
    >>> workspace_dir("docs-aml", "docs-ws").relative_to(home()).as_posix()
    'workspaces/docs-aml/docs-ws'
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .exceptions import UserErrorException

__all__ = ["home", "workspace_dir", "check_name", "restrict", "NAME_RULE"]

#: Names of workspaces, resource groups and experiments (as Azure ML v1 allows).
NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")


def home() -> Path:
    """The folder holding every local workspace (``AMLHANDSON_HOME`` or ``~/.amlhandson``)."""
    env = os.environ.get("AMLHANDSON_HOME")
    return Path(env).expanduser() if env else Path.home() / ".amlhandson"


def check_name(value: object, what: str) -> str:
    """Return ``value`` if it is a valid name for ``what``, else raise a clear error.

    Example:
        >>> check_name("my-first-experiment", "experiment")
        'my-first-experiment'
    """
    if not isinstance(value, str) or not NAME_RULE.match(value) or value.endswith("."):
        raise UserErrorException(
            f"{what} の名前 {value!r} は使えません。英数字で始まり、英数字・'-'・'_'・'.' だけを"
            f"使った 255 文字以内の名前にしてください (例: 'my-first-experiment')。"
        )
    return value


def workspace_dir(resource_group: str, workspace_name: str) -> Path:
    """The folder of one workspace."""
    return home() / "workspaces" / resource_group / workspace_name


def restrict(path: Path, mode: int = 0o700) -> None:
    """Make ``path`` private to the current user on POSIX (folders 0700, files 0600).

    Workspaces hold service keys and everything a learner recorded; on a shared
    machine other users must not read them. No-op on Windows, where the home
    folder is private already.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()); restrict(folder)
        >>> oct(folder.stat().st_mode & 0o777) if os.name == "posix" else "0o700"
        '0o700'
    """
    if os.name == "posix":
        os.chmod(path, mode)
