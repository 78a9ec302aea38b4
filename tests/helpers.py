"""Helpers shared by the tests (plain functions, not fixtures)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def python_env(home: Path) -> dict[str, str]:
    """Environment for a child Python process using ``home`` as AMLHANDSON_HOME."""
    env = dict(os.environ)
    env["AMLHANDSON_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env
