"""Azure ML v1's ``azureml.core``, working locally: workspaces, experiments, runs, models.

Example:
    >>> from amlhandson.core import Workspace, Experiment, Run
"""

from __future__ import annotations

from typing import Any

from ._status import RunStatus
from .experiment import Experiment
from .run import Run
from .workspace import Workspace

__all__ = ["Workspace", "Experiment", "Run", "RunStatus", "Model", "Environment",
           "InferenceConfig", "Datastore", "Dataset"]

# Heavier parts load on first use, so ``import amlhandson`` stays light.
_LAZY = {
    "Model": ("model", "Model"),
    "InferenceConfig": ("model", "InferenceConfig"),
    "Environment": ("environment", "Environment"),
    "Datastore": ("datastore", "Datastore"),
    "Dataset": ("dataset", "Dataset"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
