"""v1's ``azureml.core.run.get_run``.

Example:
    >>> run = get_run(exp, run.id)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_run"]


def get_run(experiment: Any, run_id: str, rehydrate: bool = True, clean_up: bool = True) -> Any:
    """The run ``run_id`` of ``experiment`` (v1: ``azureml.core.run.get_run``).

    Example:
        >>> get_run(Experiment(ws, "my-first-experiment"), "abc").id  # doctest: +SKIP
        'abc'
    """
    from ...core.run import Run

    return Run(experiment, run_id)
