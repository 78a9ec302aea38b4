"""v1's ``azureml.telemetry``: diagnostics calls accepted, nothing is ever sent.

2019 samples began with ``set_diagnostics_collection(send_diagnostics=True)``.
amlhandson sends nothing anywhere; the call is accepted and says so once.

Example:
    >>> set_diagnostics_collection(send_diagnostics=False)
    >>> get_diagnostics_collection_info()
    {'send_diagnostics': False, 'path': None}
"""

from __future__ import annotations

from typing import Any

from .._errors import note_once

__all__ = ["set_diagnostics_collection", "get_diagnostics_collection_info"]


def set_diagnostics_collection(send_diagnostics: bool = True, verbose: bool = False,
                               reset: bool = False, path: Any = None) -> None:
    """Accepted as a no-op: amlhandson collects and sends no diagnostics.

    Example:
        >>> set_diagnostics_collection(send_diagnostics=False)
    """
    if send_diagnostics:
        note_once("telemetry", "set_diagnostics_collection(send_diagnostics=True) を受け取り"
                               "ました。amlhandson は診断データを集めず、どこにも送りません。")


def get_diagnostics_collection_info(component_name: str | None = None,
                                    path: Any = None) -> dict[str, Any]:
    """Always off: ``{'send_diagnostics': False, 'path': None}``.

    Example:
        >>> get_diagnostics_collection_info()["send_diagnostics"]
        False
    """
    return {"send_diagnostics": False, "path": None}
