"""Azure ML v1's ``azureml.train.hyperdrive``: hyperparameter search over many script runs.

Configuration (pure, no I/O): parameter expressions (:mod:`.parameter_expressions`),
samplings (:mod:`.sampling`), early-termination policies (:mod:`.policy`) and
:class:`HyperDriveConfig` (:mod:`.runconfig`). ``experiment.submit(config)``
returns a :class:`HyperDriveRun` (:mod:`.run`) whose trials are child runs.

Example:
    >>> from amlhandson.train.hyperdrive import (GridParameterSampling, HyperDriveConfig,
    ...                                          PrimaryMetricGoal, choice)
    >>> GridParameterSampling({"--k": choice(1, 3, 5)}).to_json()["name"]
    'GRID'
"""

from __future__ import annotations

from typing import Any

from .parameter_expressions import (
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from .policy import (
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
)
from .runconfig import HyperDriveConfig, HyperDriveRunConfig, PrimaryMetricGoal
from .sampling import (
    BayesianParameterSampling,
    GridParameterSampling,
    HyperParameterSampling,
    RandomParameterSampling,
)

__all__ = [
    "BanditPolicy", "BayesianParameterSampling", "EarlyTerminationPolicy",
    "GridParameterSampling", "HyperDriveConfig", "HyperDriveRun", "HyperDriveRunConfig",
    "HyperParameterSampling", "MedianStoppingPolicy", "NoTerminationPolicy", "PrimaryMetricGoal",
    "RandomParameterSampling", "TruncationSelectionPolicy", "choice", "lognormal", "loguniform",
    "normal", "qlognormal", "qloguniform", "qnormal", "quniform", "randint", "uniform",
]


def __getattr__(name: str) -> Any:
    if name == "HyperDriveRun":  # needs the run machinery; loaded on first use
        from .run import HyperDriveRun

        return HyperDriveRun
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
