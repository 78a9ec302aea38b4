"""Azure ML v1's ``azureml.pipeline.core``: pipelines, their data, parameters and schedules.

Example:
    >>> from amlhandson.pipeline.core import Pipeline, PipelineData, PipelineParameter
    >>> from amlhandson.pipeline.core import Schedule, ScheduleRecurrence
"""

from __future__ import annotations

from ...data.data_reference import DataReference
from .graph import PipelineData, PipelineParameter, PipelineStep
from .pipeline import Pipeline, PipelineValidationError
from .pipeline_run import PipelineRun, StepRun
from .published_pipeline import PublishedPipeline
from .schedule import Schedule, ScheduleRecurrence, TimeZone

__all__ = ["DataReference", "Pipeline", "PipelineData", "PipelineParameter", "PipelineRun",
           "PipelineStep", "PipelineValidationError", "PublishedPipeline", "Schedule",
           "ScheduleRecurrence", "StepRun", "TimeZone"]
