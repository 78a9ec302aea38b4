"""``SKLearn``: the 2019 estimator for scikit-learn training scripts.

As in Azure ML v1 (``azureml.train.sklearn.SKLearn``), the hands-on's HyperDrive
example::

    est = SKLearn(source_directory=script_folder, script_params={"--kernel": "linear"},
                  compute_target=compute_target, entry_script="train.py")

It is an :class:`~amlhandson.train.estimator.Estimator` whose environment
includes scikit-learn (v1 used a prebuilt scikit-learn image; here the worker's
scikit-learn is used and its presence is checked before the script starts).
``framework_version`` is recorded.

Example:
    >>> est = SKLearn(".", entry_script="train.py", script_params={"--C": 1.0})
    >>> est.conda_dependencies.pip_packages, est.arguments
    (['scikit-learn'], ['--C', '1.0'])
"""

from __future__ import annotations

import os
from typing import Any

from .estimator import MMLBaseEstimator

__all__ = ["SKLearn"]


class SKLearn(MMLBaseEstimator):
    """An estimator for scikit-learn scripts (scikit-learn is added to the packages).

    Example:
        >>> est = SKLearn(source_directory="scripts", entry_script="train.py",  # doctest: +SKIP
        ...               compute_target=cluster, script_params={"--kernel": "linear"})
    """

    _DEFAULT_PIP = ("scikit-learn",)

    def __init__(self, source_directory: str | os.PathLike[str], *, compute_target: Any = None,
                 entry_script: str | None = None, script_params: dict[str, Any] | None = None,
                 pip_packages: list[str] | None = None, conda_packages: list[str] | None = None,
                 framework_version: str | None = None, **kwargs: Any) -> None:
        super().__init__(source_directory, compute_target=compute_target,
                         entry_script=entry_script, script_params=script_params,
                         pip_packages=pip_packages, conda_packages=conda_packages,
                         framework_version=framework_version, **kwargs)
