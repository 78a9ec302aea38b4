"""The JupyterLab Launcher card "AML Studio" (through jupyter-server-proxy, optional).

jupyter-server-proxy reads the ``jupyter_serverproxy_servers`` entry point
``amlhandson-studio = amlhandson.studio.proxy:setup_studio``. With no command
and no port it starts nothing and adds no proxy route: its prebuilt Lab
extension only shows a Launcher card that opens ``<base_url>studio/`` in a Lab
tab, where the studio's own handlers answer.

Example:
    >>> setup_studio()["launcher_entry"]["path_info"]
    'studio/'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["setup_studio"]


def setup_studio() -> dict[str, Any]:
    """jupyter-server-proxy's description of the Launcher entry.

    Example:
        >>> setup_studio()["command"]
        []
    """
    return {
        "command": [],
        "new_browser_tab": False,
        "launcher_entry": {
            "enabled": True,
            "title": "AML Studio",
            "path_info": "studio/",
            "icon_path": str(Path(__file__).parent / "static" / "icon.svg"),
            "category": "Notebook",
        },
    }
