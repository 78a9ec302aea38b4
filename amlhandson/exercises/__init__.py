"""Immediate feedback for the course's exercises (演習).

A check cell calls one of these functions with what the learner wrote (a
value, or an object they built: a run, a model, a service ...). It prints one
line (✅ right, ❌ what is not right yet and a hint, ✏️ not answered yet),
returns a :class:`Verdict` (true when right; it shows nothing as the cell's
result) and never raises on a learner's answer, so a notebook keeps running
top to bottom.

- :func:`check`, :func:`check_choice`, :func:`check_that`: answers that are values.
  Reasonable forms of a right answer count (``"1"`` for 1, any case for words,
  a tuple for a list); a wrong *type* is explained as such.
- :func:`check_workspace`, :func:`check_run`, :func:`check_model`,
  :func:`check_service`, :func:`check_classifier`: inspect what was built
  through its public API (a run's status and metrics, a service's answer ...).
- :func:`check_script_run`, :func:`check_hyperdrive_config`: a submitted training
  script's run (its end, metrics and files) and a HyperDrive configuration (notebook 07).
- :func:`check_pipeline_step`, :func:`check_pipeline_run`: a pipeline step the learner
  wrote and a pipeline run they started (notebook 08).

How exercises are laid out in the notebooks (exercise cell, check cell, hints
in steps, solution further down) is described in ``notebooks/README.md``.

Example:
    >>> from amlhandson.exercises import check
    >>> check(None, 12, hint="掛け算を確認しましょう")
    ✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。
    False
"""

from __future__ import annotations

from ._feedback import NOT_ANSWERED, Verdict, describe
from ._objects import check_classifier, check_model, check_run, check_service, check_workspace
from ._pipelines import check_pipeline_run, check_pipeline_step
from ._training import check_hyperdrive_config, check_script_run
from ._values import check, check_choice, check_that

__all__ = [
    "check",
    "check_choice",
    "check_that",
    "check_workspace",
    "check_run",
    "check_model",
    "check_service",
    "check_classifier",
    "check_script_run",
    "check_hyperdrive_config",
    "check_pipeline_step",
    "check_pipeline_run",
    "describe",
    "Verdict",
    "NOT_ANSWERED",
]
