"""Checks for the pipeline exercises (notebook 08): a step the learner wrote, a run they started.

Both look at the learner's pipeline run through its public API (the submitted
graph, the step runs, their metrics, reuse and parameters) and explain the
first thing that is not right yet. Like every check they print one line,
return a :class:`Verdict` and never raise on a learner's answer.

Example:
    >>> check_pipeline_step(None, step="train_tree", hint="...")
    ✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。
    False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._feedback import NOT_ANSWERED, Verdict, describe, is_unanswered, report
from ._objects import Expectation, _metric_problem

__all__ = ["check_pipeline_step", "check_pipeline_run"]

_TERMINAL = ("Completed", "Failed", "Canceled")


def _pipeline_run_problem(run: Any, hint: str) -> Verdict | None:
    from ..pipeline.core.pipeline_run import PipelineRun

    if is_unanswered(run):
        return report(False, NOT_ANSWERED)
    if not isinstance(run, PipelineRun):
        kind = "ステップ (PythonScriptStep)" if type(run).__name__.endswith("Step") else describe(run)
        return report(False, f"❌ パイプラインの Run (PipelineRun) が入っていません (いま入っているのは{kind})。"
                             f"exp.submit(pipeline) の戻り値を入れましょう。ヒント: {hint}")
    status = run.get_status()
    if status not in _TERMINAL:
        return report(False, f"❌ パイプラインの Run はまだ {status} です。"
                             f"run.wait_for_completion() で終わるまで待ってから入れましょう。")
    return None


def _names(tokens: Iterable[dict[str, Any]]) -> list[str]:
    return [t["data"] for t in tokens if isinstance(t, dict) and "data" in t]


def check_pipeline_step(run: Any, *, step: str, reads: Iterable[str] = (),
                        writes: Iterable[str] = (),
                        metrics: Mapping[str, Expectation] | None = None,
                        reused: Iterable[str] = (), status: str = "Completed",
                        hint: str) -> Verdict:
    """Check a step the learner added, in the pipeline run they submitted.

    ``reads``/``writes``: names of the ``PipelineData`` the step must have in its
    ``inputs``/``outputs``; ``metrics``: what its step run must have logged
    (``...`` for any value); ``reused``: steps that should have been reused.

    Example:
        >>> check_pipeline_step(run, step="train_tree", reads=["prepared"],
        ...                     writes=["tree_model"], hint="...")  # doctest: +SKIP
        ✅ 正解です! (ステップ train_tree の入力・出力・記録を確かめました)
        True
    """
    problem = _pipeline_run_problem(run, hint)
    if problem is not None:
        return problem
    steps = run.graph.get("steps", [])
    entry = next((s for s in steps if s.get("name") == step), None)
    if entry is None:
        have = ", ".join(repr(s.get("name")) for s in steps) or "(なし)"
        return report(False, f"❌ このパイプラインに {step!r} というステップがありません (あるのは {have})。"
                             f"PythonScriptStep(name={step!r}, ...) にして、そのステップを Pipeline に"
                             f"渡しましょう。ヒント: {hint}")
    inputs = _names(entry.get("inputs", []))
    for name in reads:
        if name not in inputs:
            return report(False, f"❌ ステップ {step!r} の inputs に {name!r} がありません "
                                 f"(いまは {inputs or 'なし'})。読むデータは inputs=[...] にも書きます。"
                                 f"ヒント: {hint}")
    outputs = list(entry.get("outputs", []))
    for name in writes:
        if name not in outputs:
            return report(False, f"❌ ステップ {step!r} の outputs に {name!r} がありません "
                                 f"(いまは {outputs or 'なし'})。PipelineData({name!r}) を作って "
                                 f"outputs=[...] と arguments に書きましょう。ヒント: {hint}")
    found = run.find_step_run(step)
    if not found:
        return report(False, f"❌ ステップ {step!r} の Run がありません。ヒント: {hint}")
    step_run = found[0]
    step_status = step_run.get_status()
    if step_status != "Completed":
        error = (step_run.record.error or {}).get("message", "")
        first = error.strip().splitlines()[-1] if error.strip() else ""
        return report(False, f"❌ ステップ {step!r} は {step_status} で終わりました ({first[:200]})。"
                             f"step.get_job_log() でログを見てみましょう。ヒント: {hint}")
    for name, want in (metrics or {}).items():
        message = _metric_problem(name, step_run.get_metrics(), want)
        if message:
            return report(False, f"❌ ステップ {step!r}: {message} ヒント: {hint}")
    for name in reused:
        other = run.find_step_run(name)
        if other and not other[0].reused:
            reasons = "; ".join(other[0].reuse_reasons)[:200]
            return report(False, f"❌ ステップ {name!r} が再利用されずに実行されました ({reasons})。"
                                 f"6 で作ったステップをそのまま使いましょう。ヒント: {hint}")
    if run.get_status() != status:
        return report(False, f"❌ パイプラインの Run の状態が {run.get_status()} です ({status} になる"
                             f"はずです)。ヒント: {hint}")
    return report(True, f"✅ 正解です! (ステップ {step} の入力・出力・記録を確かめました)")


def check_pipeline_run(run: Any, *, experiment: str | None = None, pipeline_id: str | None = None,
                       parameters: Mapping[str, Any] | None = None,
                       status: str = "Completed", hint: str) -> Verdict:
    """Check a pipeline run the learner started: its experiment, pipeline, parameter values, status.

    Example:
        >>> check_pipeline_run(run, experiment="mnist-pipeline-rest", parameters={"k": 7},
        ...                    hint="...")  # doctest: +SKIP
        ✅ 正解です! (パイプラインの Run を確かめました)
        True
    """
    problem = _pipeline_run_problem(run, hint)
    if problem is not None:
        return problem
    if experiment is not None and run.experiment.name != experiment:
        return report(False, f"❌ この Run は実験 {run.experiment.name!r} のものです ({experiment!r} に"
                             f"します)。ヒント: {hint}")
    if pipeline_id is not None and run.get_properties().get("azureml.pipelineid") != pipeline_id:
        return report(False, "❌ この Run は、公開したパイプラインの Run ではありません "
                             f"(exp.submit で直接実行した Run のようです)。ヒント: {hint}")
    given = (run.get_details().get("runDefinition") or {}).get("parameters") or {}
    for name, want in (parameters or {}).items():
        if name not in given:
            return report(False, f"❌ パラメーター {name!r} がこのパイプラインにありません。ヒント: {hint}")
        if given[name] != want:
            return report(False, f"❌ パラメーター {name!r} の値が {describe(given[name])} です "
                                 f"({want!r} にします)。ヒント: {hint}")
    if run.get_status() != status:
        error = (run.record.error or {}).get("message", "")
        return report(False, f"❌ パイプラインの Run は {run.get_status()} で終わりました "
                             f"({error.strip()[:200]})。ヒント: {hint}")
    return report(True, "✅ 正解です! (パイプラインの Run を確かめました)")
