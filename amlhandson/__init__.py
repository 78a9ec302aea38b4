"""amlhandson: the Azure Machine Learning service v1 hands-on, offline on one laptop.

The public API mirrors ``azureml.core`` so that what a learner types here
transfers to the real service.

Example:
    >>> import amlhandson
    >>> from amlhandson import Workspace, Experiment
    >>> ws = Workspace.create("docs-ws", resource_group="docs-aml", exist_ok=True)  # doctest: +SKIP
    >>> run = Experiment(ws, "my-first-experiment").start_logging()  # doctest: +SKIP

In IPython, ``%load_ext amlhandson`` adds the run-tracking magics.
"""

from __future__ import annotations

from typing import Any

from .core import Experiment, Run, RunStatus, Workspace
from .exceptions import AmlHandsOnError, UserErrorException

__version__ = "0.1.0"
VERSION = __version__

__all__ = [
    "AmlHandsOnError",
    "Experiment",
    "Model",
    "Run",
    "RunStatus",
    "UserErrorException",
    "VERSION",
    "Workspace",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def __getattr__(name: str) -> Any:
    if name == "Model":
        from .core.model import Model

        return Model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext amlhandson``: register the run-tracking magics."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext amlhandson``."""
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)
