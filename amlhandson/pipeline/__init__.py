"""Azure ML v1's pipelines: ``amlhandson.pipeline.core`` and ``amlhandson.pipeline.steps``.

Example:
    >>> from amlhandson.pipeline.core import Pipeline, PipelineData, PipelineParameter
    >>> from amlhandson.pipeline.steps import PythonScriptStep
"""
