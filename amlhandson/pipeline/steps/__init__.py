"""Azure ML v1's ``azureml.pipeline.steps``: the steps a pipeline is made of.

Example:
    >>> from amlhandson.pipeline.steps import PythonScriptStep
"""

from __future__ import annotations

from .python_script_step import PythonScriptStep

__all__ = ["PythonScriptStep"]
