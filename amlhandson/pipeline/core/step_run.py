"""``StepRun``: one step of a pipeline run (``run.type == 'azureml.StepRun'``).

Example:
    >>> step = pipeline_run.find_step_run("train_knn")[0]  # doctest: +SKIP
    >>> step.reused  # doctest: +SKIP
    False
"""

from __future__ import annotations

import json
from typing import Any

from ...core.run import Run
from ...exceptions import UserErrorException

__all__ = ["StepRun"]


class StepRun(Run):
    """One step of a pipeline run (``run.type == 'azureml.StepRun'``).

    Example:
        >>> step = pipeline_run.find_step_run("train_knn")[0]  # doctest: +SKIP
        >>> step.reused, step.reuse_reasons  # doctest: +SKIP
        (False, ['引数が変わりました: --k 3 → --k 5'])
    """

    @property
    def step_name(self) -> str:
        """The step's name in the pipeline."""
        return self.get_properties().get("amlhandson.step_name") or self.name.rpartition(">")[2]

    @property
    def reused(self) -> bool:
        """Whether the step took the outputs of an earlier run instead of running."""
        return self.get_properties().get("amlhandson.reuse") == "reused"

    @property
    def reused_run_id(self) -> str | None:
        """The run whose outputs were reused (v1's ``azureml.reusedrunid``)."""
        return self.get_properties().get("azureml.reusedrunid")

    @property
    def reuse_reasons(self) -> list[str]:
        """Why the step was, or was not, reused (in words)."""
        text = self.get_properties().get("amlhandson.reuse_reasons") or "[]"
        try:
            value = json.loads(text)
        except ValueError:
            return [text]
        return value if isinstance(value, list) else [str(value)]

    @property
    def input_datasets(self) -> dict[str, Any]:
        """Each named data input as the script got it (a path, or a dataset in direct mode)."""
        from ...core.dataset import input_datasets_of

        return input_datasets_of(self)

    def get_job_log(self) -> str:
        """The script's output (``azureml-logs/70_driver_log.txt``), or ``''``.

        Example:
            >>> print(step.get_job_log())  # doctest: +SKIP
        """
        for name in ("azureml-logs/70_driver_log.txt", "logs/user_log.txt"):
            path = self.local_path / name
            if path.is_file():
                return path.read_text(encoding="utf-8", errors="replace")
        return ""

    def get_output_data(self, name: str) -> Any:
        """Where output ``name`` of this step is (``.path_on_datastore``, ``.download(folder)``).

        Example:
            >>> step.get_output_data("prepared").download("local")  # doctest: +SKIP
        """
        from ...core.datastore import Datastore

        parent = self.parent
        definition = (parent.record.definition or {}) if parent is not None else {}
        graph = definition.get("graph", {})
        step = next((s for s in graph.get("steps", []) if s["name"] == self.step_name), None)
        if step is None or name not in step.get("outputs", []):
            raise UserErrorException(f"ステップ {self.step_name!r} に出力 {name!r} はありません。")
        source = self.reused_run_id or self.id
        ds = Datastore(self.experiment.workspace, graph["data"][name].get("datastore"))
        return ds.path(f"azureml/{source}/{name}")
