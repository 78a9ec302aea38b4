"""Checks that inspect what the learner built: a workspace, a run, a model, a service, a model fit.

Each check looks at the real object through its public API (the run's status
and metrics, the service's answer to a request ...) and explains the first
thing that is not right yet, naming what it found. Like the value checks, they
print one line, return ``True``/``False`` and never raise on a learner's answer.

Example:
    >>> check_run(None, metrics={"accuracy": ...}, hint="...")
    ✏️ まだ答えが入っていません。上のセルの None を書き換えて、もう一度実行してください。
    False
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Mapping
from typing import Any

from ._feedback import NOT_ANSWERED, Verdict, describe, is_unanswered, report

__all__ = ["check_workspace", "check_run", "check_model", "check_service", "check_classifier"]

#: What a metric expectation may be: a value, ``...`` (any value) or a predicate.
Expectation = Any


def _kind_of(value: Any) -> str:
    return {"Workspace": "ワークスペース (Workspace)", "Experiment": "実験 (Experiment)",
            "Run": "Run", "Model": "モデル (Model)"}.get(type(value).__name__, describe(value))


def _wrong_object(value: Any, wanted: str, how: str) -> Verdict:
    return report(False, f"❌ {wanted} が入っていません (いま入っているのは{_kind_of(value)})。"
                         f"{how}")


def check_workspace(ws: Any, *, name: str, resource_group: str, hint: str) -> Verdict:
    """Check that ``ws`` is the workspace ``name`` in ``resource_group``.

    Example:
        >>> check_workspace(ws, name="docs-ws", resource_group="docs-aml", hint="...")  # doctest: +SKIP
        ✅ 正解です!
        True
    """
    from ..core.workspace import Workspace

    if is_unanswered(ws):
        return report(False, NOT_ANSWERED)
    if not isinstance(ws, Workspace):
        return _wrong_object(ws, "ワークスペース (Workspace)", f"ヒント: {hint}")
    if (ws.name, ws.resource_group) != (name, resource_group):
        return report(False, f"❌ 開いたのはワークスペース {ws.name!r} (リソース グループ "
                             f"{ws.resource_group!r}) です。{name!r} ({resource_group!r}) を開きましょう。"
                             f"ヒント: {hint}")
    return report(True, "✅ 正解です!")


def _metric_problem(name: str, found: dict[str, Any], want: Expectation) -> str | None:
    if name not in found:
        known = ", ".join(repr(k) for k in found) or "(まだ 1 つもありません)"
        return (f"メトリック {name!r} が記録されていません (記録されているのは {known})。"
                "名前は大文字・小文字も含めて同じにします。")
    value = found[name]
    if want is Ellipsis:
        return None
    if isinstance(value, list) and not isinstance(want, list):
        return (f"メトリック {name!r} が {len(value)} 回記録されています ({describe(value)})。"
                "1 回だけ記録した新しい Run で試してください。")
    if callable(want):
        try:
            ok = bool(want(value))
        except Exception:  # noqa: BLE001 - the value may have any type
            ok = False
        return None if ok else f"メトリック {name!r} の値 {describe(value)} は正しくないようです。"
    if isinstance(want, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        same = math.isclose(value, want, rel_tol=1e-6, abs_tol=1e-9)
    else:
        same = value == want
    return None if same else f"メトリック {name!r} の値が {describe(value)} です (期待する値と違います)。"


def check_run(run: Any, *, experiment: str | None = None, status: str = "Completed",
              metrics: Mapping[str, Expectation] | None = None, hint: str) -> Verdict:
    """Check a run the learner made: its experiment, its status and its metrics.

    ``metrics`` maps a metric name to the expected value, to ``...`` (any
    value) or to a predicate on the value.

    Example:
        >>> check_run(run, experiment="my-first-experiment",
        ...           metrics={"k": 2, "accuracy": lambda a: 0 < a <= 1}, hint="...")  # doctest: +SKIP
        ✅ 正解です!
        True
    """
    from ..core.run import Run

    if is_unanswered(run):
        return report(False, NOT_ANSWERED)
    if not isinstance(run, Run):
        return _wrong_object(run, "Run", "exp.start_logging() の戻り値 (Run) を変数に入れましょう "
                                         f"(run.complete() の戻り値は None です)。ヒント: {hint}")
    if experiment is not None and run.experiment.name != experiment:
        return report(False, f"❌ この Run は実験 {run.experiment.name!r} のものです。"
                             f"実験 {experiment!r} で始めましょう。ヒント: {hint}")
    for name, want in (metrics or {}).items():
        problem = _metric_problem(name, run.get_metrics(), want)
        if problem:
            return report(False, f"❌ {problem} ヒント: {hint}")
    current = run.get_status()
    if current != status:
        extra = " run.complete() を呼んで完了させましょう。" if current == "Running" else ""
        return report(False, f"❌ Run の状態が {current} です ({status} になるはずです)。{extra}"
                             f"ヒント: {hint}")
    return report(True, "✅ 正解です! (Run の記録を確かめました)")


def check_model(model: Any, *, name: str, tags: Mapping[str, str] | None = None,
                hint: str) -> Verdict:
    """Check a registered model: its name, its tags, and that it is the latest version.

    Example:
        >>> check_model(model, name="sklearn_mnist", tags={"area": "mnist"}, hint="...")  # doctest: +SKIP
        ✅ 正解です!
        True
    """
    from ..core.model import Model

    if is_unanswered(model):
        return report(False, NOT_ANSWERED)
    if not isinstance(model, Model):
        return _wrong_object(model, "モデル (Model)", "run.register_model(...) や Model.register(...) "
                                                   f"の戻り値を変数に入れましょう。ヒント: {hint}")
    if model.name != name:
        return report(False, f"❌ モデルの名前が {model.name!r} です ({name!r} にします)。ヒント: {hint}")
    for key, value in (tags or {}).items():
        if model.tags.get(key) != value:
            have = model.tags.get(key, "(なし)")
            return report(False, f"❌ タグ {key!r} の値が {have!r} です ({value!r} にします)。"
                                 f"ヒント: {hint}")
    latest = Model(model.workspace, name)
    if latest.version != model.version:
        return report(False, f"❌ {model.id} は最新ではありません (最新は {latest.id})。")
    return report(True, f"✅ 正解です! (モデル {model.name} の最新バージョンです)")


def check_service(service: Any, input_data: Any, judge: Callable[[Any], str | None], *,
                  hint: str) -> Verdict:
    """Send ``input_data`` to the learner's service and judge its answer.

    ``judge(answer)`` returns ``None`` when the answer is right, else what is wrong.

    Example:
        >>> check_service(svc, payload, lambda a: None if a == [7] else "7 のはずです",
        ...               hint="...")  # doctest: +SKIP
        ✅ 正解です!
        True
    """
    from ..core.webservice import Webservice
    from ..exceptions import AmlHandsOnError

    if is_unanswered(service):
        return report(False, NOT_ANSWERED)
    if not isinstance(service, Webservice):
        return _wrong_object(service, "Web サービス (Webservice)",
                             f"Model.deploy(...) の戻り値を変数に入れましょう。ヒント: {hint}")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            answer = service.run(input_data)
    except AmlHandsOnError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return report(False, f"❌ サービスを呼び出せませんでした ({first})。"
                             f"service.get_logs() でログを見てみましょう。ヒント: {hint}")
    try:
        problem = judge(answer)
    except Exception:  # noqa: BLE001 - the answer may have any shape
        problem = "答えの形が想定と違います"
    if problem:
        return report(False, f"❌ サービスの答え {describe(answer)}: {problem}。ヒント: {hint}")
    return report(True, "✅ 正解です! (サービスに問い合わせて答えを確かめました)")


def check_classifier(model: Any, X: Any, y: Any, *, min_accuracy: float,
                     require_converged: bool = False, hint: str) -> Verdict:
    """Check a fitted scikit-learn classifier: fitted, accurate enough, converged if asked.

    Example:
        >>> check_classifier(clf, X_test, y_test, min_accuracy=0.85, hint="...")  # doctest: +SKIP
        ✅ 正解です! (学習済みで、正解率も十分です)
        True
    """
    if is_unanswered(model):
        return report(False, NOT_ANSWERED)
    if not hasattr(model, "predict") or not hasattr(model, "fit"):
        return report(False, f"❌ 学習したモデルが入っていません (いま入っているのは{describe(model)})。"
                             f"ヒント: {hint}")
    if not hasattr(model, "classes_"):
        return report(False, f"❌ モデルがまだ学習していません。.fit(X, y) を呼びましょう。ヒント: {hint}")
    import numpy as np

    accuracy = float(np.average(model.predict(X) == y))
    iterations = getattr(model, "n_iter_", None)
    max_iter = getattr(model, "max_iter", None)
    if require_converged and iterations is not None and max_iter is not None \
            and int(np.max(iterations)) >= max_iter:
        return report(False, f"❌ 反復が上限 (max_iter={max_iter}) に達しています (収束していません)。"
                             f"ヒント: {hint}")
    if accuracy < min_accuracy:
        return report(False, f"❌ 正解率が {accuracy:.4f} です ({min_accuracy} 以上になるはずです)。"
                             f"ヒント: {hint}")
    return report(True, "✅ 正解です! (学習済みで、正解率も十分です)")
