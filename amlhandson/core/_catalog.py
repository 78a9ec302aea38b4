"""Where each concept is implemented, for the few calls that hand out a higher layer's object.

The modules of :mod:`amlhandson.core` import only modules *below* them
(workspace < experiment < run < model < webservice < orchestration), so the
import graph has no cycle. A handful of v1 calls point the other way:
``ws.experiments`` / ``ws.models`` / ``ws.webservices`` (the workspace is at the
bottom), ``exp.start_logging`` and ``exp.get_runs`` (which return a run of the
class its stored type names, as v1's run-type providers did), ``run.parent``,
``run.register_model`` and ``Model.deploy`` / ``Model.package``. Those look the
implementation up here, by name, when they are called; this table is the only
place where a lower module reaches a higher one.

To add a concept: add a line to :data:`WHERE`; to add a run type (a class that
``get_runs`` should return for runs of that type): add a line to :data:`RUN_TYPES`.

Example:
    >>> resolve("Experiment").__name__
    'Experiment'
    >>> run_class(None).__name__
    'Run'
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["WHERE", "RUN_TYPES", "resolve", "run_class"]

#: Concept name -> "module:attribute".
WHERE: dict[str, str] = {
    "Experiment": "amlhandson.core.experiment:Experiment",
    "Run": "amlhandson.core.run:Run",
    "Model": "amlhandson.core.model:Model",
    "register_model_from_run": "amlhandson.core.model:register_from_run",
    "Webservice": "amlhandson.core.webservice:Webservice",
    "deploy": "amlhandson.core.webservice._deploy:deploy",
    "package": "amlhandson.core.webservice._package:package",
    "Datastore": "amlhandson.core.datastore:Datastore",
    "Dataset": "amlhandson.core.dataset:Dataset",
    "input_datasets_of": "amlhandson.core.dataset:input_datasets_of",
    "script_input_datasets": "amlhandson.core.dataset:script_input_datasets",
    "compat_from_env": "amlhandson.compat:install_from_env",
    "PipelineRun": "amlhandson.pipeline.core.pipeline_run:PipelineRun",
    "StepRun": "amlhandson.pipeline.core.step_run:StepRun",
    "PublishedPipeline": "amlhandson.pipeline.core.published_pipeline:PublishedPipeline",
    "ComputeTarget": "amlhandson.core.compute:ComputeTarget",
    "ScriptRun": "amlhandson.core.script_run:ScriptRun",
    "ScriptRunConfig": "amlhandson.core.script_run_config:ScriptRunConfig",
    "RunConfiguration": "amlhandson.core.runconfig:RunConfiguration",
    "HyperDriveRun": "amlhandson.train.hyperdrive.run:HyperDriveRun",
    "script_context": "amlhandson.core._script_context:from_environment",
}

#: Run type (``run.type``) -> concept name in :data:`WHERE` of the class that represents it.
RUN_TYPES: dict[str | None, str] = {
    None: "Run",
    "azureml.PipelineRun": "PipelineRun",
    "azureml.StepRun": "StepRun",
    "azureml.scriptrun": "ScriptRun",
    "hyperdrive": "HyperDriveRun",
}

_cache: dict[str, Any] = {}


def resolve(name: str) -> Any:
    """The object registered as ``name`` (imported on first use).

    Example:
        >>> resolve("Model").__name__
        'Model'
    """
    found = _cache.get(name)
    if found is None:
        module, _, attr = WHERE[name].partition(":")
        found = _cache[name] = getattr(importlib.import_module(module), attr)
    return found


def run_class(run_type: str | None) -> Any:
    """The class for runs of type ``run_type`` (plain ``Run`` for unknown types).

    Example:
        >>> run_class("something-else").__name__
        'Run'
    """
    return resolve(RUN_TYPES.get(run_type, "Run"))
