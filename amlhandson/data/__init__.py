"""Azure ML v1's ``azureml.data``: datasets, data references and how runs consume them.

Importing this package imports no heavy library (pandas and fsspec load on use).

Example:
    >>> from amlhandson.data import FileDataset, TabularDataset, DataReference
"""

from __future__ import annotations

from .data_reference import DataPath, DataReference
from .dataset_consumption_config import DatasetConsumptionConfig
from .file_dataset import FileDataset
from .tabular_dataset import TabularDataset

__all__ = ["DataPath", "DataReference", "DatasetConsumptionConfig", "FileDataset",
           "TabularDataset"]
