"""``Pipeline``: steps connected by data, validated, serialisable, submittable, as in v1.

Example:
    >>> from amlhandson.pipeline.core import Pipeline, PipelineData
    >>> from amlhandson.pipeline.steps import PythonScriptStep
    >>> prepared = PipelineData("prepared")
    >>> prep = PythonScriptStep("prep.py", name="prepare", arguments=["--out", prepared],
    ...                         outputs=[prepared])
    >>> train = PythonScriptStep("train.py", name="train", arguments=["--data", prepared],
    ...                          inputs=[prepared])
    >>> pipeline = Pipeline(None, steps=[train])      # the producer is pulled in
    >>> [s.name for s in pipeline.steps]
    ['prepare', 'train']
    >>> pipeline.validate(check_files=False)
    []
"""

from __future__ import annotations

import graphlib
import os
from pathlib import Path
from typing import Any

from ...exceptions import UserErrorException
from . import _validate
from ._reuse import source_folder
from .graph import PipelineData, PipelineParameter, PipelineStep

__all__ = ["Pipeline", "PipelineValidationError", "argument_token"]


class PipelineValidationError(UserErrorException):
    """The pipeline graph cannot run; the message lists every problem found."""


def argument_token(value: Any) -> dict[str, Any]:
    """One argument (or input) as a JSON object (for the stored graph).

    Example:
        >>> argument_token(3), argument_token(PipelineData("d"))
        ({'value': 3}, {'data': 'd'})
    """
    if isinstance(value, PipelineData):
        return {"data": value.name}
    if isinstance(value, PipelineParameter):
        return {"param": value.name}
    if hasattr(value, "to_config") and hasattr(value, "_materialize"):
        kind = "dataset" if hasattr(value, "dataset") else "ref"
        return {kind: value.to_config()}
    return {"value": value}


class Pipeline:
    """A graph of steps to submit as one run (``experiment.submit(pipeline)``).

    Steps that produce the data the given steps read, and steps named in
    ``run_after``, are pulled in automatically (``resolve_closure=True``, v1's
    default), so ``Pipeline(ws, steps=[last_step])`` is the whole pipeline.

    Example:
        >>> pipeline = Pipeline(ws, steps=[compare_step], description="MNIST")  # doctest: +SKIP
        >>> run = Experiment(ws, "pipelines").submit(pipeline)  # doctest: +SKIP
    """

    def __init__(self, workspace: Any, steps: list[Any], description: str | None = None,
                 default_datastore: Any = None,
                 default_source_directory: str | os.PathLike[str] | None = None,
                 resolve_closure: bool = True, **_: Any) -> None:
        if isinstance(steps, PipelineStep) or not isinstance(steps, (list, tuple)):
            raise UserErrorException("Pipeline(workspace, steps=[...]): steps はステップの"
                                     "リストで渡してください。")
        self._workspace = workspace
        self.description = description
        self.default_datastore = default_datastore
        self._default_source = (Path(default_source_directory).expanduser().resolve()
                                if default_source_directory is not None else Path.cwd())
        self._steps = _validate.closure(steps, resolve_closure)

    @property
    def workspace(self) -> Any:
        """The workspace the pipeline runs in."""
        return self._workspace

    @property
    def steps(self) -> list[PipelineStep]:
        """The steps, each after the steps it needs (in the given order otherwise)."""
        try:
            return _validate.topological(self._steps)
        except (graphlib.CycleError, AttributeError):
            return list(self._steps)

    @property
    def parameters(self) -> dict[str, PipelineParameter]:
        """The pipeline's parameters by name (from arguments and params of every step)."""
        found: dict[str, PipelineParameter] = {}
        for step in self._steps:
            values = list(getattr(step, "arguments", [])) + \
                list(getattr(step, "params", {}).values())
            for value in values:
                if isinstance(value, PipelineParameter):
                    found.setdefault(value.name, value)
        return found

    def source_directory(self, step: PipelineStep) -> Path:
        """The absolute source folder of ``step``.

        Example:
            >>> pipeline.source_directory(pipeline.steps[0])  # doctest: +SKIP
            PosixPath('/.../scripts')
        """
        return source_folder(step, self._default_source)

    def validate(self, check_files: bool = True) -> list[str]:
        """Every problem of the graph as a message; an empty list when it can run.

        Checks cycles, data nobody writes, unknown compute targets, wrong types,
        missing scripts (``check_files``).

        Example:
            >>> pipeline.validate()  # doctest: +SKIP
            []
        """
        return _validate.problems(self._steps, self._workspace, check_files=check_files,
                                  source_of=self.source_directory)

    def check(self) -> None:
        """Raise :class:`PipelineValidationError` listing every problem, if there is one.

        Example:
            >>> pipeline.check()  # doctest: +SKIP
        """
        found = self.validate()
        if found:
            listing = "\n".join(f"  - {m}" for m in found)
            raise PipelineValidationError(
                f"パイプラインに問題が {len(found)} 個あります:\n{listing}")

    def check_parameters(self, assignments: dict[str, Any] | None) -> dict[str, Any]:
        """All parameter values for a submission (checked), defaults filled in.

        Example:
            >>> pipeline.check_parameters({"k": 5})  # doctest: +SKIP
            {'k': 5}
        """
        params = self.parameters
        if assignments is not None and not isinstance(assignments, dict):
            raise UserErrorException("pipeline_parameters は {'名前': 値} の dict にしてください。")
        unknown = sorted(set(assignments or {}) - set(params))
        if unknown:
            raise UserErrorException(
                f"pipeline_parameters の {unknown} はこのパイプラインのパラメーターではありません "
                f"(あるもの: {sorted(params) or 'なし'})。"
            )
        return {name: p.resolve(assignments) for name, p in params.items()}

    def to_graph(self) -> dict[str, Any]:
        """The pipeline as a JSON object: steps, data, parameters (stored with runs).

        Example:
            >>> [s["name"] for s in pipeline.to_graph()["steps"]]  # doctest: +SKIP
            ['prepare', 'train']
        """
        steps = self.steps
        ids = {id(s): f"step{i}" for i, s in enumerate(steps)}
        data: dict[str, Any] = {}
        out = []
        for step in steps:
            for value in step.inputs + step.outputs + step.arguments:
                if isinstance(value, PipelineData):
                    data[value.name] = value.to_config()
            entry: dict[str, Any] = {
                "id": ids[id(step)], "name": step.name, "type": type(step).__name__,
                "arguments": [argument_token(a) for a in step.arguments],
                "inputs": [argument_token(i) for i in step.inputs],
                "outputs": [o.name for o in step.outputs if isinstance(o, PipelineData)],
                "runAfter": [ids[id(s)] for s in step.upstream() if id(s) in ids],
                "allowReuse": step.allow_reuse,
            }
            if hasattr(step, "script_name"):
                runconfig = getattr(step, "runconfig", None)
                entry.update({
                    "scriptName": step.script_name,
                    "sourceDirectory": str(self.source_directory(step)),
                    "computeTarget": step.compute_target_name,
                    "params": {k: argument_token(v) for k, v in step.params.items()},
                    "runconfig": runconfig._to_dict() if hasattr(runconfig, "_to_dict")
                    else None,
                    "version": step.version,
                })
            out.append(entry)
        return {"description": self.description, "steps": out, "data": data,
                "parameters": {n: p.default_value for n, p in self.parameters.items()}}

    def publish(self, name: str | None = None, description: str | None = None,
                version: str | None = None, continue_on_step_failure: bool | None = None) -> Any:
        """Freeze the pipeline (graph and scripts) as a :class:`PublishedPipeline` (v1).

        Example:
            >>> published = pipeline.publish(name="mnist-train", version="1.0")  # doctest: +SKIP
            >>> published.endpoint  # doctest: +SKIP
        """
        from .published_pipeline import PublishedPipeline

        if self._workspace is None:
            raise UserErrorException("公開するには Pipeline(workspace, steps=[...]) にワークスペースを"
                                     "渡してください。")
        if not name:
            raise UserErrorException("pipeline.publish(name=...): 公開する名前を指定してください。")
        self.check()
        return PublishedPipeline._publish(self._workspace, self.to_graph(), name, description,
                                          version, continue_on_step_failure)

    def _submit(self, experiment: Any, tags: dict[str, Any] | None = None,
                pipeline_parameters: dict[str, Any] | None = None,
                regenerate_outputs: bool = False, continue_on_step_failure: Any = None,
                _launcher: Any = None, **_: Any) -> Any:
        """``experiment.submit(pipeline, ...)``: check, then start a :class:`PipelineRun`."""
        from .pipeline_run import submit_graph

        if self._workspace is not None and experiment.workspace != self._workspace:
            raise UserErrorException("パイプラインと実験のワークスペースが違います。")
        self._workspace = self._workspace or experiment.workspace
        self.check()
        parameters = self.check_parameters(pipeline_parameters)
        graph = self.to_graph()
        if continue_on_step_failure is not None:
            graph["continueOnStepFailure"] = bool(continue_on_step_failure)
        return submit_graph(experiment, graph, parameters,
                            regenerate_outputs=regenerate_outputs, tags=tags, launcher=_launcher)

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.steps)
        return f"Pipeline(steps=[{names}])"
