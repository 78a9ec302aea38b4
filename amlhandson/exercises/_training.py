"""Checks for what learners build in notebook 07: a submitted training script's run, a HyperDriveConfig.

Like the other checks, each prints one line (✅ / ❌ with what is not right yet /
✏️), returns a :class:`~._feedback.Verdict` and never raises on a learner's answer.

Example:
    >>> check_hyperdrive_config(None, sampling="random", parameters={}, policy="Bandit",
    ...                         primary_metric="accuracy", goal="maximize", hint="...")
    ✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。
    False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._feedback import NOT_ANSWERED, Verdict, describe, is_unanswered, report
from ._objects import Expectation, _metric_problem, _wrong_object

__all__ = ["check_script_run", "check_hyperdrive_config"]

_TERMINAL = ("Completed", "Failed", "Canceled")
_SAMPLINGS = {"random": "RandomParameterSampling", "grid": "GridParameterSampling",
              "bayesian": "BayesianParameterSampling"}


def _first_line(text: Any) -> str:
    lines = [line for line in str(text or "").strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def _series_problem(name: str, found: dict[str, Any], want: Any) -> str | None:
    """A predicate sees the value as logged: a list when the script logged ``name`` many times."""
    if name not in found:
        return _metric_problem(name, found, ...)
    try:
        ok = bool(want(found[name]))
    except Exception:  # noqa: BLE001 - the value may have any type
        ok = False
    if ok:
        return None
    value = found[name]
    times = f"{len(value)} 回記録されています" if isinstance(value, list) else "1 回だけ記録されています"
    return f"メトリック {name!r} の値 {describe(value)} は正しくないようです ({times})。"


def check_script_run(run: Any, *, script: str, experiment: str | None = None,
                     metrics: Mapping[str, Expectation] | None = None,
                     files: Iterable[str] = (), hint: str) -> Verdict:
    """Check a run made by ``exp.submit(ScriptRunConfig(...))``: script, end, metrics, files.

    ``metrics`` maps a metric name to the expected value, ``...`` (any value) or a
    predicate; ``files`` lists names the run must hold (``"outputs/model.pkl"``).

    Example:
        >>> check_script_run(run, script="train.py", metrics={"accuracy": ...},
        ...                  files=["outputs/model.pkl"], hint="...")  # doctest: +SKIP
        ✅ 正解です! (submit したスクリプトの Run を確かめました)
        True
    """
    from ..core.run import Run

    if is_unanswered(run):
        return report(False, NOT_ANSWERED)
    if not isinstance(run, Run):
        return _wrong_object(run, "Run", "exp.submit(...) の戻り値 (Run) を変数に入れましょう "
                                         f"(wait_for_completion() の戻り値は辞書です)。ヒント: {hint}")
    submitted = run.get_properties().get("amlhandson.script")
    if submitted is None:
        return report(False, "❌ この Run はスクリプトを submit した Run ではありません "
                             "(exp.start_logging() の Run など)。ScriptRunConfig を exp.submit して"
                             f"ください。ヒント: {hint}")
    if submitted != script:
        return report(False, f"❌ submit したスクリプトは {submitted!r} です ({script!r} を submit "
                             f"します)。ヒント: {hint}")
    if experiment is not None and run.experiment.name != experiment:
        return report(False, f"❌ この Run は実験 {run.experiment.name!r} のものです "
                             f"(実験 {experiment!r} で submit します)。ヒント: {hint}")
    status = run.get_status()
    if status not in _TERMINAL:
        return report(False, f"❌ Run はまだ終わっていません (状態 {status})。"
                             "run.wait_for_completion() で終わるのを待ってから、もう一度チェックしましょう。")
    if status != "Completed":
        error = _first_line((run.record.error or {}).get("message") if isinstance(
            run.record.error, dict) else run.record.error)
        return report(False, f"❌ Run が {status} で終わりました: {error or '(理由なし)'} "
                             "run.wait_for_completion(show_output=True) でスクリプトの出力を見て、"
                             f"直してからもう一度 submit しましょう。ヒント: {hint}")
    found = run.get_metrics()
    for name, want in (metrics or {}).items():
        problem = _series_problem(name, found, want) if callable(want) else \
            _metric_problem(name, found, want)
        if problem:
            return report(False, f"❌ {problem} ヒント: {hint}")
    names = set(run.get_file_names())
    for name in files:
        if name not in names:
            return report(False, f"❌ Run のファイルに {name} がありません。スクリプトの中で、今のフォルダーの "
                                 f"outputs/ に保存したファイルが Run に付きます。ヒント: {hint}")
    return report(True, "✅ 正解です! (submit したスクリプトの Run を確かめました)")


def _name_of(value: Any) -> str:
    return type(value).__name__


def check_hyperdrive_config(config: Any, *, sampling: str, parameters: Mapping[str, str],
                            policy: str | None, primary_metric: str, goal: str,
                            max_total_runs: int | None = None,
                            max_concurrent_runs: int | None = None, script: str | None = None,
                            hint: str) -> Verdict:
    """Check a ``HyperDriveConfig``: sampling kind, searched parameters, policy, metric, limits.

    ``sampling`` is ``"random"``, ``"grid"`` or ``"bayesian"``; ``parameters`` maps each
    searched argument to its expression (``{"--alpha": "loguniform"}``); ``policy`` is
    the policy's short name (``"Bandit"``, ``"MedianStopping"``, ``None`` for none).

    Example:
        >>> check_hyperdrive_config(cfg, sampling="random", parameters={"--C": "uniform"},
        ...                         policy="Bandit", primary_metric="accuracy", goal="maximize",
        ...                         hint="...")  # doctest: +SKIP
        ✅ 正解です! (HyperDriveConfig の中身を確かめました)
        True
    """
    from ..train.hyperdrive import HyperDriveConfig

    if is_unanswered(config):
        return report(False, NOT_ANSWERED)
    if not isinstance(config, HyperDriveConfig):
        return _wrong_object(config, "HyperDriveConfig",
                             f"HyperDriveConfig(...) で作った設定を入れましょう。ヒント: {hint}")
    if script is not None:
        given = getattr(config.script_run_config, "script", None)
        if given != script:
            return report(False, f"❌ 試行で実行するスクリプトが {given!r} です ({script!r} にします)。"
                                 f"ヒント: {hint}")
    wanted = _SAMPLINGS.get(sampling.lower(), sampling)
    found = _name_of(config.hyperparameter_sampling)
    if found != wanted:
        return report(False, f"❌ サンプリングが {found} です ({wanted} にします)。ヒント: {hint}")
    space = config.hyperparameter_sampling.parameter_space
    if set(space) != set(parameters):
        have = ", ".join(repr(k) for k in space) or "(なし)"
        want = ", ".join(repr(k) for k in parameters)
        return report(False, f"❌ 探すパラメーターが {have} です ({want} にします。名前はスクリプトの"
                             f"引数と同じです)。ヒント: {hint}")
    for name, expression in parameters.items():
        kind = space[name][0] if isinstance(space[name], (list, tuple)) and space[name] else None
        if kind != expression:
            return report(False, f"❌ {name!r} の値の選び方が {kind} です ({expression}(...) にします)。"
                                 f"ヒント: {hint}")
    policy_name = _name_of(config.policy).removesuffix("Policy")
    if (policy or "NoTermination") != policy_name:
        return report(False, f"❌ 早期終了ポリシーが {policy_name}Policy です "
                             f"({policy or 'NoTermination'}Policy にします)。ヒント: {hint}")
    if config.primary_metric_name != primary_metric:
        return report(False, f"❌ 主メトリックが {config.primary_metric_name!r} です "
                             f"({primary_metric!r} にします。スクリプトが log する名前です)。ヒント: {hint}")
    found_goal = config.primary_metric_goal.name.lower()
    if found_goal != goal.lower():
        return report(False, f"❌ 主メトリックの目標が {found_goal} です ({goal.lower()} にします)。"
                             f"ヒント: {hint}")
    for label, want_value, have_value in (("max_total_runs", max_total_runs, config.max_total_runs),
                                          ("max_concurrent_runs", max_concurrent_runs,
                                           config.max_concurrent_runs)):
        if want_value is not None and have_value != want_value:
            return report(False, f"❌ {label} が {have_value} です ({want_value} にします)。"
                                 f"ヒント: {hint}")
    return report(True, "✅ 正解です! (HyperDriveConfig の中身を確かめました)")
