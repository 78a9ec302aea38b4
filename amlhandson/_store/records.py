"""Typed records: what the store hands out and takes in (plain, immutable values).

Entities (``Run``, ``Model``, ``Webservice`` ...) hold a record and ask the store
for a fresh one; nobody outside the store sees a row or a column name.

Example:
    >>> ExperimentRecord(pk=1, name="my-first-experiment", created=0.0).name
    'my-first-experiment'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["ExperimentRecord", "RunRecord", "ModelRecord", "ServiceRecord", "replace"]

replace = dataclasses.replace


@dataclass(frozen=True)
class ExperimentRecord:
    """One experiment.

    Example:
        >>> ExperimentRecord(1, "e", 0.0).pk
        1
    """

    pk: int
    name: str
    created: float


@dataclass(frozen=True)
class RunRecord:
    """One run as stored. Times are Unix seconds; ``error`` and ``definition`` decoded JSON.

    Example:
        >>> r = RunRecord(pk=1, run_id="abc", experiment_pk=1, parent_pk=None, number=1,
        ...               name="run_abc", display_name="run_abc", type=None, target="sdk",
        ...               status="Running", created=0.0)
        >>> r.is_terminal
        False
    """

    pk: int
    run_id: str
    experiment_pk: int
    parent_pk: int | None
    number: int
    name: str
    display_name: str
    type: str | None
    target: str
    status: str
    created: float
    start_time: float | None = None
    end_time: float | None = None
    error: dict[str, Any] | None = None
    definition: dict[str, Any] | None = None
    outputs_dir: str | None = None
    pid: int | None = None
    host: str | None = None
    proc_started: float | None = None
    heartbeat: float | None = None
    experiment_name: str | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the run is Completed, Failed or Canceled."""
        return self.status in ("Completed", "Failed", "Canceled")


@dataclass(frozen=True)
class ModelRecord:
    """One registered model version.

    Example:
        >>> ModelRecord(1, "m", 1, None, {}, {}, 0.0, "m.pkl", "0" * 64, 1, None, None).version
        1
    """

    pk: int
    name: str
    version: int
    description: str | None
    tags: dict[str, Any]
    properties: dict[str, Any]
    created: float
    file_name: str
    sha256: str
    size: int
    run_id: str | None
    experiment: str | None


@dataclass(frozen=True)
class ServiceRecord:
    """One deployed web service: its spec (a JSON object), state and process.

    Example:
        >>> ServiceRecord("svc", {}, "running", None, None, None, 0.0, 0.0).state
        'running'
    """

    name: str
    spec: dict[str, Any]
    state: str
    pid: int | None
    host: str | None
    port: int | None
    created: float
    updated: float
