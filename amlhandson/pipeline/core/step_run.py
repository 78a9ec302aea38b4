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
from ...core.script_run import ScriptRun
from ...exceptions import UserErrorException

__all__ = ["StepRun"]


class StepRun(ScriptRun):
    """One step of a pipeline run (``run.type == 'azureml.StepRun'``).

    Example:
        >>> step = pipeline_run.find_step_run("train_knn")[0]  # doctest: +SKIP
        >>> step.reused, step.reuse_reasons  # doctest: +SKIP
        (False, ['引数が変わりました: --k 3 → --k 5'])
    """

    @property
    def step_name(self) -> str:
        """The step's name in the pipeline."""
        return self.get_properties().get("amlhandson.step_name") or \
            super().name.rpartition(">")[2]

    @property
    def name(self) -> str:
        """The step's name, as in v1 (the stored run name is ``<pipeline run>><step>``)."""
        return self.step_name

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

    def _reused_run(self) -> Run | None:
        if not self.reused or not self.reused_run_id:
            return None
        try:
            return Run.find(self.experiment.workspace, self.reused_run_id)
        except LookupError:
            return None

    def get_metrics(self, name: str | None = None, recursive: bool = False,
                    run_type: str | None = None, populate: bool = False) -> dict[str, Any]:
        """The step's metrics; a reused step shows those of the run it reused (beyond v1).

        Example:
            >>> step.get_metrics()  # doctest: +SKIP
            {'accuracy': 0.91}
        """
        source = self._reused_run() if not recursive else None
        if source is not None:
            return source.get_metrics(name=name, populate=populate)
        return super().get_metrics(name=name, recursive=recursive, run_type=run_type,
                                   populate=populate)

    def get_job_log(self) -> str:
        """The script's output (``azureml-logs/70_driver_log.txt``), or ``''``.

        A reused step gives the output of the run it reused, after a line saying so.

        Example:
            >>> print(step.get_job_log())  # doctest: +SKIP
        """
        source = self._reused_run()
        if source is not None:
            log = StepRun._attach(source.experiment, source.record).get_job_log()
            return f"(再利用: Run {source.id} の出力です)\n{log}"
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
