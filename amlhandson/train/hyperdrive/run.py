"""``HyperDriveRun``: the parent run of a hyperparameter search; its trials are child ``ScriptRun``s.

As in Azure ML v1 (``azureml.train.hyperdrive.HyperDriveRun``): ids ``HD_<guid>``
and ``HD_<guid>_<n>``, each child's hyperparameters in the parent's tag
``<parent id>_<n>`` (JSON), ``get_best_run_by_primary_metric()``,
``get_children_sorted_by_primary_metric()``, ``get_hyperparameters()``,
``get_metrics()`` (``{child id: metrics}``), ``cancel()``. The search itself is
driven by this process (:mod:`._driver`); if the kernel stops, the parent and its
running trials end too (v1's service kept going; see docs/compute.md).

Example:
    >>> hd_run = exp.submit(hyperdrive_config)  # doctest: +SKIP
    >>> hd_run.wait_for_completion(show_output=True)  # doctest: +SKIP
    >>> best = hd_run.get_best_run_by_primary_metric()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import tempfile
import time
import uuid
from typing import Any

from ...core.compute import _snapshot
from ...core.compute.compute import LOCAL, ComputeTarget
from ...core.run import Run, RunStatus
from ...core.script_run import web_view
from ...exceptions import ActivityFailedException, TrainingException

__all__ = ["HyperDriveRun", "RUN_TYPE"]

RUN_TYPE = "hyperdrive"


def _best(values: Any, maximize: bool) -> float | None:
    items = values if isinstance(values, list) else [values]
    numbers = [float(v) for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)
               and math.isfinite(v)]
    if not numbers:
        return None
    return max(numbers) if maximize else min(numbers)


class HyperDriveRun(Run):
    """A HyperDrive search (``run.type == 'hyperdrive'``).

    Example:
        >>> hd_run.get_children_sorted_by_primary_metric(top=3)  # doctest: +SKIP
    """

    @classmethod
    def _submit(cls, experiment: Any, config: Any, tags: dict[str, Any] | None = None
                ) -> HyperDriveRun:
        from ._driver import Sweep

        src = config.script_run_config
        if src.target == LOCAL:
            raise TrainingException(
                "Automated hyperparameter tuning is not supported for types DatabricksCompute and "
                "local. (v1 と同じく HyperDrive は 'local' では実行できません。AmlCompute."
                "provisioning_configuration(...) で作ったクラスター (このマシンの Dask "
                "LocalCluster) を compute_target に指定してください。)")
        ComputeTarget(experiment.workspace, src.target)  # raises when the target is absent
        src._script_path()
        snapshot = _snapshot.make_snapshot(src.source_directory)
        config._warn_duplicates()
        definition = config._to_dict()
        parent_tags = {k: json.dumps(v) if not isinstance(v, str) else v
                       for k, v in definition.items()}
        parent_tags.update(tags or {})
        run = cls._create(experiment, run_id=f"HD_{uuid.uuid4()}", run_type=RUN_TYPE,
                          target=src.target, status=RunStatus.RUNNING, definition=definition,
                          outputs=tempfile.mkdtemp(prefix="amlhandson-hd-outputs-"),
                          tags=parent_tags)
        run.add_properties({"primary_metric_config": json.dumps(
            definition["primary_metric_config"]), "azureml.runsource": RUN_TYPE})
        Sweep(run, config, snapshot).start()
        return run

    # -- configuration as stored ---------------------------------------------------------------------
    def _primary(self) -> tuple[str, bool]:
        definition = self.record.definition or {}
        config = definition.get("primary_metric_config") or {}
        return config.get("name", ""), config.get("goal", "maximize") == "maximize"

    @property
    def primary_metric_config(self) -> dict[str, str]:
        """The search's primary metric: ``{"name": ..., "goal": "maximize" | "minimize"}``.

        Example:
            >>> hd_run.primary_metric_config  # doctest: +SKIP
            {'name': 'accuracy', 'goal': 'maximize'}
        """
        name, maximize = self._primary()
        return {"name": name, "goal": "maximize" if maximize else "minimize"}

    # -- v1 API ------------------------------------------------------------------------------------
    def get_hyperparameters(self) -> dict[str, dict[str, Any]]:
        """``{child run id: {parameter: value}}`` from the parent's ``<id>_<n>`` tags.

        Example:
            >>> hd_run.get_hyperparameters()  # doctest: +SKIP
            {'HD_..._0': {'--k': 1}, 'HD_..._1': {'--k': 3}}
        """
        result = {}
        for key, value in self.get_tags().items():
            if key.startswith(f"{self.id}_") and key[len(self.id) + 1:].isdigit() and value:
                try:
                    result[key] = json.loads(value)
                except ValueError:
                    continue
        return result

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    run_type: str | None = None, populate: bool = False) -> dict[str, Any]:
        """``{child run id: {metrics}}`` for every trial (v1's HyperDrive shape).

        Example:
            >>> hd_run.get_metrics()  # doctest: +SKIP
        """
        return {child.id: child.get_metrics(name=name, populate=populate)
                for child in self.get_children()}

    def get_children_sorted_by_primary_metric(self, top: int = 0, reverse: bool = False,
                                              discard_no_metric: bool = False
                                              ) -> list[dict[str, Any]]:
        """Trials best first: ``{run_id, hyperparameters, best_primary_metric, status}``.

        Trials without the metric come last (or are left out with ``discard_no_metric``).

        Example:
            >>> hd_run.get_children_sorted_by_primary_metric(top=1)[0]["run_id"]  # doctest: +SKIP
            'HD_..._2'
        """
        name, maximize = self._primary()
        params = self.get_hyperparameters()
        rows, missing = [], []
        for child in self.get_children():
            best = _best(child.get_metrics(name=name).get(name), maximize)
            row = {"run_id": child.id, "hyperparameters": json.dumps(params.get(child.id, {})),
                   "best_primary_metric": best, "status": child.get_status()}
            (rows if best is not None else missing).append(row)
        rows.sort(key=lambda r: r["best_primary_metric"], reverse=maximize != reverse)
        result = rows + ([] if discard_no_metric else missing)
        return result[:top] if top else result

    def get_best_run_by_primary_metric(self, include_failed: bool = True,
                                       include_canceled: bool = True,
                                       include_resume_from_runs: bool = True) -> Run | None:
        """The trial with the best primary metric (``None`` if no trial logged it).

        Example:
            >>> best = hd_run.get_best_run_by_primary_metric()  # doctest: +SKIP
            >>> best.get_metrics()["accuracy"]  # doctest: +SKIP
        """
        skip = set()
        if not include_failed:
            skip.add(RunStatus.FAILED)
        if not include_canceled:
            skip.add(RunStatus.CANCELED)
        for row in self.get_children_sorted_by_primary_metric(discard_no_metric=True):
            if row["status"] not in skip:
                return Run.find(self.experiment.workspace, row["run_id"])
        return None

    def cancel(self, error_details: str | None = None, error_code: str | None = None) -> None:
        """Cancel the search: running trials are stopped, no new ones start."""
        from ._driver import sweep_of

        sweep = sweep_of(self.id)
        if sweep is not None:
            sweep.cancel(error_details or "hyperdrive_run.cancel() で取り消されました。")
            sweep.done.wait(60)
            self._refresh()
            return
        for child in self.get_children():
            if child.get_status() not in RunStatus.TERMINAL:
                child.cancel()
        super().cancel(error_details, error_code)

    def fail(self, error_details: Any = None, error_code: str | None = None,
             _set_status: bool = True) -> None:
        """Not available for HyperDrive runs (as in v1), except internally."""
        if _set_status is not True or error_details is None:
            raise NotImplementedError("fail is not implemented for HyperDrive run")
        super().fail(error_details, error_code)

    def get_diagnostics(self) -> None:
        """Not available for HyperDrive runs (as in v1)."""
        raise NotImplementedError("get_diagnostics is not implemented for HyperDrive run")

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        """Wait until the search ends; ``show_output=True`` prints each trial as it finishes.

        Example:
            >>> hd_run.wait_for_completion(show_output=True)  # doctest: +SKIP
        """
        name, maximize = self._primary()
        seen: set[str] = set()
        if show_output:
            print(f"RunId: {self.id}\nWeb View: {web_view(self)}\n")
        while True:
            status = self.get_status()
            if show_output:
                params = None
                for child in self.get_children():
                    if child.id in seen or child.get_status() not in RunStatus.TERMINAL:
                        continue
                    seen.add(child.id)
                    params = params or self.get_hyperparameters()
                    best = _best(child.get_metrics(name=name).get(name), maximize)
                    args = " ".join(f"{k} {v}" for k, v in params.get(child.id, {}).items())
                    value = "-" if best is None else format(best, ".6g")
                    print(f"{child.id}: {child.get_status():9s} {name}={value}  ({args})")
            if status in RunStatus.TERMINAL:
                break
            time.sleep(0.5)
        details = self.get_details()
        if show_output:
            print(f"\nExecution Summary\n=================\nRunId: {self.id}\n"
                  f"Web View: {web_view(self)}\n")
        if raise_on_error and details["status"] == RunStatus.FAILED:
            raise ActivityFailedException(f"HyperDrive run {self.id} は Failed で終わりました: "
                                          f"{details.get('error', {}).get('error', {})}")
        return details
