"""``PipelineRun`` and ``StepRun``: a submitted pipeline and its steps, as in v1.

``experiment.submit(pipeline)`` returns a :class:`PipelineRun` at once; its
steps run in the background (see :mod:`._engine`), each as a child
:class:`StepRun`. Beyond v1, every step run says whether it was reused and why
(:meth:`PipelineRun.reuse_report`).

Example:
    >>> run = Experiment(ws, "pipelines").submit(pipeline, pipeline_parameters={"k": 5})  # doctest: +SKIP
    >>> run.wait_for_completion(show_output=True)  # doctest: +SKIP
    >>> [(s.name, s.reused) for s in run.get_steps()]  # doctest: +SKIP
    [('prepare', True), ('train_knn', False), ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...core.run import Run, RunStatus
from ...exceptions import ActivityFailedException
from ._engine import STEP_RUN_TYPE, PipelineEngine, StepLaunch, live_engine
from .step_run import StepRun

__all__ = ["PipelineRun", "StepRun", "PIPELINE_RUN_TYPE", "STEP_RUN_TYPE", "submit_graph"]

#: ``run.type`` of a pipeline run.
PIPELINE_RUN_TYPE = "azureml.PipelineRun"


class PipelineRun(Run):
    """A submitted pipeline (``run.type == 'azureml.PipelineRun'``); its children are steps.

    Example:
        >>> run.get_status()  # doctest: +SKIP
        'Running'
    """

    def get_steps(self) -> list[StepRun]:
        """The step runs, in the order they started.

        Example:
            >>> [s.step_name for s in run.get_steps()]  # doctest: +SKIP
        """
        # a child whose step properties are not written yet (the instant after it was created)
        # is not shown as a step
        return [StepRun._attach(self.experiment, c.record) for c in self.get_children()
                if "amlhandson.step_name" in c.get_properties()]

    def find_step_run(self, name: str) -> list[StepRun]:
        """The step runs whose step is called ``name`` (a list, as in v1).

        Example:
            >>> run.find_step_run("prepare")[0].get_status()  # doctest: +SKIP
            'Completed'
        """
        return [s for s in self.get_steps() if s.step_name == name]

    @property
    def graph(self) -> dict[str, Any]:
        """The submitted pipeline graph (JSON)."""
        return dict((self.record.definition or {}).get("graph", {}))

    def reuse_report(self) -> list[dict[str, Any]]:
        """For every step: its status, whether it was reused (from which run) and why.

        Example:
            >>> for row in run.reuse_report(): print(row["step"], row["reused"])  # doctest: +SKIP
        """
        return [{"step": s.step_name, "status": s.get_status(), "reused": s.reused,
                 "reused_run_id": s.reused_run_id, "reasons": s.reuse_reasons,
                 "run_id": s.id} for s in self.get_steps()]

    def print_reuse_report(self) -> None:
        """Print :meth:`reuse_report` as lines (one step, then its reasons).

        Example:
            >>> run.print_reuse_report()  # doctest: +SKIP
        """
        for row in self.reuse_report():
            mark = "再利用" if row["reused"] else "実行"
            print(f"{row['step']}: {row['status']} ({mark})")
            for reason in row["reasons"]:
                print(f"    - {reason}")

    def cancel(self, error_details: str | None = None, error_code: str | None = None) -> None:
        """Cancel the pipeline: no more steps start, running ones are canceled.

        Example:
            >>> run.cancel()  # doctest: +SKIP
        """
        engine = live_engine(self.id)
        if engine is not None and self.get_status() not in RunStatus.TERMINAL:
            engine.cancel(error_details or "run.cancel() で取り消されました。")
            engine.join(60)
            self._refresh()
            return
        super().cancel(error_details, error_code)

    def wait_for_completion(self, show_output: bool = True, timeout_seconds: float = sys.maxsize,
                            raise_on_error: bool = True, wait_post_processing: bool = False
                            ) -> str:
        """Wait for the end; with ``show_output`` print each step's status as it changes.

        Returns the final status; a Failed pipeline raises
        ``ActivityFailedException`` naming the failed steps (``raise_on_error``).

        Example:
            >>> run.wait_for_completion(show_output=False)  # doctest: +SKIP
            'Completed'
        """
        deadline = time.monotonic() + timeout_seconds
        seen: dict[str, str] = {}
        if show_output:
            print(f"PipelineRunId: {self.id}\nLink to Azure Machine Learning Portal: "
                  f"{_portal_link(self)}")
        while True:
            status = self.get_status()
            if show_output:
                for step in self.get_steps():
                    now = step.get_status()
                    if seen.get(step.id) != now:
                        seen[step.id] = now
                        extra = f" (再利用: {step.reused_run_id})" if step.reused else ""
                        print(f"StepRun({step.step_name}) Status: {now}{extra}")
            if status in RunStatus.TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        engine = live_engine(self.id)
        if engine is not None:
            engine.join(10)
        status = self.get_status()
        if show_output:
            print(f"\nPipelineRun Execution Summary\n==============================\n"
                  f"PipelineRun Status: {status}")
        if raise_on_error and status == RunStatus.FAILED:
            error = (self.record.error or {}).get("message", "")
            raise ActivityFailedException(f"パイプライン Run {self.id} は Failed で終わりました: "
                                          f"{error}")
        return status

    def publish_pipeline(self, name: str, description: str | None = None,
                         version: str | None = None, continue_on_step_failure: Any = None
                         ) -> Any:
        """Publish the graph this run executed, with the scripts its steps ran (v1).

        Example:
            >>> published = run.publish_pipeline("mnist-train", "MNIST", "1.0")  # doctest: +SKIP
        """
        from ...core import _catalog

        workspace = self.experiment.workspace
        snapshots: dict[str, str] = {}
        for step in self.get_steps():
            source = step
            if step.reused_run_id:
                found = Run.find(workspace, step.reused_run_id) if step.reused_run_id else None
                source = found or step
            snap = source.get_properties().get("ContentSnapshotId")
            if snap:
                snapshots[step.step_name] = str(Path(workspace.path) / "snapshots" / f"{snap}.zip")
        return _catalog.resolve("PublishedPipeline")._publish(
            workspace, self.graph, name, description, version, continue_on_step_failure,
            source_run_id=self.id, snapshots=snapshots)


def _portal_link(run: Run) -> str:
    """The studio page of the run, else its folder (``~/...`` when under the home folder)."""
    url = run.get_portal_url()
    if not url.startswith("file:"):
        return url
    try:
        return "~/" + run.local_path.resolve().relative_to(Path.home().resolve()).as_posix()
    except ValueError:
        return str(run.local_path)


def submit_graph(experiment: Any, graph: dict[str, Any], parameters: dict[str, Any], *,
                 regenerate_outputs: bool = False, tags: dict[str, Any] | None = None,
                 launcher: Callable[[StepLaunch], Any] | None = None,
                 pipeline_id: str | None = None) -> PipelineRun:
    """Start a pipeline run of ``graph`` (checked already) and return it at once.

    Example:
        >>> submit_graph(exp, pipeline.to_graph(), {"k": 3})  # doctest: +SKIP
    """
    from ._launcher import script_launcher

    workspace = experiment.workspace
    definition = {"graph": graph, "parameters": parameters,
                  "regenerateOutputs": bool(regenerate_outputs)}
    if pipeline_id is not None:
        definition["pipelineId"] = pipeline_id
    with tempfile.TemporaryDirectory() as tmp:
        run = PipelineRun._create(experiment, run_id=str(uuid.uuid4()), run_type=PIPELINE_RUN_TYPE,
                                  target="pipeline", definition=definition, outputs=tmp,
                                  tags=tags)
    props = {"azureml.runsource": "azureml.PipelineRun"}
    if pipeline_id is not None:
        props["azureml.pipelineid"] = pipeline_id
    run.add_properties(props)
    engine = PipelineEngine(workspace, experiment, run, graph, parameters,
                            bool(regenerate_outputs), launcher or script_launcher,
                            continue_on_step_failure=bool(graph.get("continueOnStepFailure", True)))
    engine.start()
    return run
