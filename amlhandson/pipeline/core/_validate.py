"""Checking a pipeline graph before it runs: every problem found, each with a clear message.

Checks: steps of the right type, values of the right type in ``arguments`` /
``inputs`` / ``outputs`` / ``params``, data in the arguments also listed in
inputs or outputs, data nobody produces or that two steps produce, two data or
two parameters with one name, cycles (named step by step), unknown compute
targets, scripts that are missing.

Example:
    >>> from amlhandson.pipeline.steps import PythonScriptStep
    >>> a = PythonScriptStep("a.py", name="a"); b = PythonScriptStep("b.py", name="b")
    >>> a.run_after(b); b.run_after(a)
    >>> [m for m in problems([a, b], None, check_files=False) if "循環" in m]
    ['ステップの依存関係が循環しています: a → b → a。run_after と PipelineData の入出力を見直してください。']
"""

from __future__ import annotations

import graphlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...data._inputs import is_data_input
from .graph import PipelineData, PipelineParameter, PipelineStep

__all__ = ["closure", "problems", "topological", "known_compute"]

_ARG_TYPES = (str, int, float, bool, PipelineData, PipelineParameter)


def closure(steps: Sequence[Any], resolve: bool = True) -> list[Any]:
    """The given steps (nested lists flattened) plus, with ``resolve``, every step they need.

    Example:
        >>> [s.name for s in closure([b])]  # doctest: +SKIP
        ['b', 'a']
    """
    flat: list[Any] = []

    def add(item: Any) -> None:
        if isinstance(item, (list, tuple)):
            for sub in item:
                add(sub)
        elif not any(item is s for s in flat):
            flat.append(item)

    add(list(steps))
    if resolve:
        i = 0
        while i < len(flat):
            step = flat[i]
            if isinstance(step, PipelineStep):
                for dep in step.upstream():
                    add(dep)
            i += 1
    return flat


def topological(steps: Sequence[PipelineStep]) -> list[PipelineStep]:
    """The steps in an order where each comes after the steps it needs (stable otherwise).

    Raises ``graphlib.CycleError`` on a cycle.

    Example:
        >>> [s.name for s in topological([b, a])]  # doctest: +SKIP
        ['a', 'b']
    """
    index = {id(s): i for i, s in enumerate(steps)}
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for step in steps:
        sorter.add(id(step), *[id(d) for d in step.upstream() if id(d) in index])
    sorter.prepare()
    order: list[PipelineStep] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda k: index[k])
        for key in ready:
            order.append(steps[index[key]])
            sorter.done(key)
    return order


def known_compute(workspace: Any) -> dict[str, Any]:
    """Compute targets a step may name: ``'local'`` plus the workspace's ``compute_targets``.

    Example:
        >>> sorted(known_compute(None))
        ['local']
    """
    found: dict[str, Any] = {"local": None}
    targets = getattr(workspace, "compute_targets", None) if workspace is not None else None
    if isinstance(targets, dict):
        found.update(targets)
    return found


def _type_problems(step: PipelineStep) -> list[str]:
    out = []
    for i, value in enumerate(step.arguments):
        if not isinstance(value, _ARG_TYPES) and not is_data_input(value):
            out.append(f"ステップ {step.name!r} の arguments[{i}] ({type(value).__name__}) は"
                       "使えません。str, int, float, bool, PipelineData, PipelineParameter, "
                       "DataReference, dataset.as_named_input(...) のどれかにしてください。")
    for i, value in enumerate(step.inputs):
        if not isinstance(value, PipelineData) and not is_data_input(value):
            hint = (" 登録したデータセットは dataset.as_named_input('名前') にして渡してください。"
                    if hasattr(value, "as_named_input") else "")
            out.append(f"ステップ {step.name!r} の inputs[{i}] ({type(value).__name__}) は"
                       "使えません。PipelineData, DataReference, dataset.as_named_input(...) の"
                       f"どれかにしてください。{hint}")
    for i, value in enumerate(step.outputs):
        if not isinstance(value, PipelineData):
            out.append(f"ステップ {step.name!r} の outputs[{i}] ({type(value).__name__}) は"
                       "使えません。outputs には PipelineData を渡してください。")
    return out


def _data_problems(steps: Sequence[PipelineStep]) -> list[str]:
    out = []
    in_pipeline = {id(s) for s in steps}
    data: dict[str, PipelineData] = {}
    params: dict[str, PipelineParameter] = {}
    for step in steps:
        listed = {id(x) for x in step.inputs + step.outputs}
        values = step.arguments + step.inputs + step.outputs + \
            list(getattr(step, "params", {}).values())
        for value in values:
            if isinstance(value, PipelineData):
                other = data.setdefault(value.name, value)
                if other is not value:
                    out.append(f"名前 {value.name!r} の PipelineData が 2 つあります。同じデータなら"
                               "同じオブジェクトを使い、別のデータなら名前を変えてください。")
            if isinstance(value, PipelineParameter):
                other_param = params.setdefault(value.name, value)
                if other_param is not value and other_param.default_value != value.default_value:
                    out.append(f"名前 {value.name!r} の PipelineParameter が既定値 "
                               f"{other_param.default_value!r} と {value.default_value!r} で 2 つ"
                               "あります。1 つにまとめてください。")
        for value in step.arguments:
            if isinstance(value, PipelineData) and id(value) not in listed:
                out.append(f"ステップ {step.name!r} の arguments にある PipelineData "
                           f"{value.name!r} が inputs にも outputs にもありません。読むなら "
                           "inputs=[...] に、書くなら outputs=[...] に入れてください。")
        for value in step.inputs:
            if isinstance(value, PipelineData) and any(value is o for o in step.outputs):
                out.append(f"ステップ {step.name!r} が自分の出力 {value.name!r} を入力にしています。"
                           "出力は別のステップの inputs に渡してください。")
    for value in data.values():
        producers = value._producers
        if not producers:
            readers = [s.name for s in steps if any(value is i for i in s.inputs)]
            out.append(f"PipelineData {value.name!r} を書き出すステップがありません (読むステップ: "
                       f"{', '.join(map(repr, readers)) or 'なし'})。書き出すステップの outputs="
                       f"[{value.name}] に入れてください。")
        elif len(producers) > 1:
            names = ", ".join(repr(p.name) for p in producers)
            out.append(f"PipelineData {value.name!r} を複数のステップ ({names}) が書き出しています。"
                       "出力ごとに別の PipelineData にしてください。")
        elif id(producers[0]) not in in_pipeline:
            out.append(f"PipelineData {value.name!r} を書き出すステップ {producers[0].name!r} が"
                       "パイプラインに入っていません (resolve_closure=False)。steps に加えてください。")
    return out


def _cycle_problem(steps: Sequence[PipelineStep]) -> list[str]:
    try:
        topological(list(steps))
    except graphlib.CycleError as exc:
        cycle = exc.args[1] if len(exc.args) > 1 else []
        by_id = {id(s): s for s in steps}
        names = [by_id[k].name for k in reversed(cycle) if k in by_id]
        return [f"ステップの依存関係が循環しています: {' → '.join(names)}。run_after と "
                "PipelineData の入出力を見直してください。"]
    return []


def _file_problems(step: Any, source: Path) -> list[str]:
    script = getattr(step, "script_name", None)
    if script is None:
        return []
    if not source.is_dir():
        return [f"ステップ {step.name!r} の source_directory {str(source)!r} というフォルダーが"
                "ありません。"]
    path = (source / script).resolve()
    if source.resolve() not in path.parents:
        return [f"ステップ {step.name!r} の script_name {script!r} は source_directory の中の"
                "ファイルにしてください (スナップショットされるのはこのフォルダーだけです)。"]
    if not path.is_file():
        return [f"ステップ {step.name!r} のスクリプト {script!r} が source_directory "
                f"{str(source)!r} にありません。"]
    return []


def problems(steps: Sequence[Any], workspace: Any, *, check_files: bool = True,
             source_of: Any = None) -> list[str]:
    """Every problem of the graph, as messages (empty when it can run).

    ``source_of(step)`` gives a step's source folder (default: its
    ``source_directory`` or the current folder).

    Example:
        >>> problems([], None)
        ['パイプラインにステップがありません。Pipeline(workspace, steps=[...]) にステップを渡してください。']
    """
    if not steps:
        return ["パイプラインにステップがありません。Pipeline(workspace, steps=[...]) にステップを"
                "渡してください。"]
    bad = [s for s in steps if not isinstance(s, PipelineStep)]
    if bad:
        return [f"steps に渡せるのはステップ (PythonScriptStep など) だけです "
                f"({', '.join(type(b).__name__ for b in bad)} が渡されました)。"]
    out: list[str] = []
    for step in steps:
        out += _type_problems(step)
    out += _data_problems(steps)
    out += _cycle_problem(steps)
    targets = known_compute(workspace)
    for step in steps:
        name = getattr(step, "compute_target_name", "local")
        if name not in targets:
            out.append(f"ステップ {step.name!r} の compute_target {name!r} はワークスペースに"
                       f"ありません (あるもの: {', '.join(sorted(targets))})。ComputeTarget.create "
                       "で作るか、'local' を指定してください。")
        if check_files:
            source = source_of(step) if source_of else Path(
                getattr(step, "source_directory", None) or ".")
            out += _file_problems(step, Path(source))
    return list(dict.fromkeys(out))
