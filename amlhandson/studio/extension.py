"""The entry point the Jupyter server loads (``jpserver_extensions: {"amlhandson.studio.extension": true}``).

The installed file ``etc/jupyter/jupyter_server_config.d/amlhandson.json``
enables it for every Jupyter server of the environment.

Example:
    >>> [p["module"] for p in _jupyter_server_extension_points()]
    ['amlhandson.studio.app']
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """The studio's ``ExtensionApp`` (imported here, when a server loads it)."""
    from .app import StudioApp

    return [{"module": "amlhandson.studio.app", "app": StudioApp}]
