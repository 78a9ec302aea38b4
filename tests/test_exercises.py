"""The exercise checks: every kind of answer right, wrong, of the wrong type, and not yet given.

The object checks look at real objects: a workspace, runs in a real store, a
registered model, a web service running on 127.0.0.1, a fitted scikit-learn model.
"""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from amlhandson import Experiment, Workspace
from amlhandson.exercises import (
    NOT_ANSWERED,
    check,
    check_choice,
    check_classifier,
    check_model,
    check_run,
    check_service,
    check_that,
    check_workspace,
    describe,
)


def said(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"a check prints exactly one line: {out!r}"
    return out.strip()


# -- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer", [1, np.int64(1), 1.0, "1", " 1 ", np.array(1)])
def test_a_digit_in_any_reasonable_form_is_right(answer, capsys) -> None:
    assert check(answer, 1, hint="argmax") == True  # noqa: E712 - a Verdict, not a bool
    assert said(capsys).startswith("✅")


def test_a_digit_as_text_is_accepted_with_a_note(capsys) -> None:
    assert check("1", 1, hint="h")
    assert "文字列 '1' を数の 1 として受け取りました" in said(capsys)


@pytest.mark.parametrize(("answer", "expected", "words"), [
    (4, "run", "文字列で答えてください"),           # the example: a number for text
    ("four", 4, "数として読めません"),
    ([4], 4, "数を 1 つ入れてください"),
    (True, 1, "True / False は数の答えには使えません"),
    (3, [1, 2, 3], "リスト"),
    ("yes", True, "True か False"),
])
def test_a_wrong_type_is_explained_as_such(answer, expected, words, capsys) -> None:
    assert not check(answer, expected, hint="THE HINT")
    out = said(capsys)
    assert out.startswith("❌") and words in out and "THE HINT" not in out
    assert "AttributeError" not in out and "could not" not in out


@pytest.mark.parametrize(("answer", "expected"), [
    (2, 1), ("2", 1), (0.5, 0.25), ("walk", "run"), ([1, 2], [1, 2, 3]), ([1, 2, 4], (1, 2, 3)),
])
def test_a_wrong_value_gets_the_hint(answer, expected, capsys) -> None:
    assert not check(answer, expected, hint="THE HINT")
    out = said(capsys)
    assert out.startswith("❌") and "THE HINT" in out and describe(answer) in out


def test_words_ignore_case_and_spacing_and_accept_alternatives(capsys) -> None:
    assert check("  Run ", "run", hint="h")
    assert check("実行", "run", accept=["実行"], hint="h")
    assert check(7, 415, accept=[7], hint="h")
    assert not check("runs", "run", hint="h")
    capsys.readouterr()


def test_lists_may_be_tuples_or_arrays_and_floats_have_a_tolerance(capsys) -> None:
    assert check((1, 2, 3), [1, 2, 3], hint="h")
    assert check(np.array([7, 2, 1]), np.array([7, 2, 1]), hint="h")
    assert check(0.1 + 0.2, 0.3, hint="h")
    assert not check(np.array([[7], [2]]), np.array([7, 2]), hint="h")  # (n, 1) is not (n,)
    capsys.readouterr()


@pytest.mark.parametrize("answer", [None, ...])
def test_the_placeholder_means_not_answered(answer, capsys) -> None:
    for call in (lambda: check(answer, 1, hint="h"), lambda: check_choice(answer, "D", hint="h"),
                 lambda: check_that(answer, bool, hint="h")):
        assert not call()
        assert said(capsys) == NOT_ANSWERED


def test_choices(capsys) -> None:
    assert check_choice("d", "D", hint="h") and check_choice("(D)", "D", hint="h")
    capsys.readouterr()
    assert not check_choice("A", "D", hint="THE HINT")
    assert "THE HINT" in said(capsys)
    assert not check_choice(4, "D", hint="h")
    assert "文字列で答えてください" in said(capsys)
    assert not check_choice("E", "D", hint="h")
    assert "A, B, C, D のどれか 1 文字" in said(capsys)
    assert not check_choice("AD", "D", hint="h")
    capsys.readouterr()


def test_check_that_explains_an_answer_of_the_wrong_form(capsys) -> None:
    assert not check_that(4, lambda a: a.strip() == "run", hint="h")
    out = said(capsys)
    assert "答えの形が違うようです" in out and "数 (int) の 4" in out


def test_a_broken_repr_does_not_break_the_feedback(capsys) -> None:
    class Odd:
        def __repr__(self) -> str:
            raise RuntimeError("no")

        def __eq__(self, other: object) -> bool:
            return False

    assert not check(Odd(), "run", hint="h")
    assert "文字列で答えてください" in said(capsys)


# -- objects in a workspace -------------------------------------------------------------------
def test_check_workspace(ws: Workspace, capsys) -> None:
    assert check_workspace(ws, name="docs-ws", resource_group="docs-aml", hint="h")
    said(capsys)
    other = Workspace.create("other-ws", resource_group="docs-aml", exist_ok=True, show_output=False)
    assert not check_workspace(other, name="docs-ws", resource_group="docs-aml", hint="h")
    assert "'other-ws'" in said(capsys)
    assert not check_workspace("docs-ws", name="docs-ws", resource_group="docs-aml", hint="h")
    assert "ワークスペース (Workspace) が入っていません" in said(capsys)


def test_check_run_finds_what_is_missing_in_the_stored_run(ws: Workspace, capsys) -> None:
    exp = Experiment(ws, "my-first-experiment")
    want = {"k": 2, "accuracy": lambda a: isinstance(a, float) and 0 < a <= 1}

    run = exp.start_logging()
    run.log("k", 2)
    assert not check_run(run, experiment="my-first-experiment", metrics=want, hint="H")
    assert "'accuracy' が記録されていません" in said(capsys)
    run.log("accuracy", 0.95)
    assert not check_run(run, experiment="my-first-experiment", metrics=want, hint="H")
    assert "Running" in (out := said(capsys)) and "run.complete()" in out
    run.complete()
    assert check_run(run, experiment="my-first-experiment", metrics=want, hint="H")
    said(capsys)

    twice = exp.start_logging()
    twice.log("k", 2)
    twice.log("k", 3)
    twice.log("accuracy", 0.9)
    twice.complete()
    assert not check_run(twice, metrics=want, hint="H")
    assert "2 回記録されています" in said(capsys)

    wrong = exp.start_logging()
    wrong.log("k", 2)
    wrong.log("accuracy", 95)  # a percentage, not a fraction
    wrong.complete()
    assert not check_run(wrong, metrics=want, hint="H")
    assert "'accuracy' の値" in said(capsys)

    elsewhere = Experiment(ws, "other").start_logging()
    elsewhere.complete()
    assert not check_run(elsewhere, experiment="my-first-experiment", hint="H")
    assert "'other'" in said(capsys)

    assert not check_run(run.complete(), metrics=want, hint="H")  # complete() returns None
    assert said(capsys) == NOT_ANSWERED
    assert not check_run(exp, metrics=want, hint="H")
    assert "実験 (Experiment)" in said(capsys)


def _model_file(path: Path) -> Path:
    path.write_bytes(b"model bytes")
    return path


def test_check_model_reads_the_registry(ws: Workspace, tmp_path: Path, capsys) -> None:
    from amlhandson.core.model import Model

    first = Model.register(ws, str(_model_file(tmp_path / "m.pkl")), "mnist-logreg",
                           tags={"area": "mnist", "type": "logistic"})
    capsys.readouterr()  # "Registering model ..."
    assert check_model(first, name="mnist-logreg", tags={"area": "mnist", "type": "logistic"},
                       hint="h")
    said(capsys)
    assert not check_model(first, name="sklearn_mnist", hint="h")
    assert "'mnist-logreg'" in said(capsys)
    untagged = Model.register(ws, str(tmp_path / "m.pkl"), "mnist-logreg", tags={"area": "mnist"})
    capsys.readouterr()
    assert not check_model(untagged, name="mnist-logreg", tags={"type": "logistic"}, hint="h")
    assert "タグ 'type'" in said(capsys)
    assert not check_model(first, name="mnist-logreg", hint="h")  # no longer the latest
    assert "最新ではありません" in said(capsys)
    assert not check_model("mnist-logreg", name="mnist-logreg", hint="h")
    assert "モデル (Model) が入っていません" in said(capsys)


SCORE = """\
import json

def init():
    pass

def run(raw_data):
    data = json.loads(raw_data)["data"]
    if data == ["boom"]:
        raise ValueError("run() failed on purpose")
    return {"predictions": [len(row) for row in data]}
"""


@pytest.fixture
def service(ws: Workspace, tmp_path: Path):
    from amlhandson.core.model import InferenceConfig, Model
    from amlhandson.core.webservice import LocalWebservice

    model = Model.register(ws, str(_model_file(tmp_path / "m.pkl")), "tiny")
    (tmp_path / "score.py").write_text(textwrap.dedent(SCORE))
    svc = Model.deploy(ws, "exercise-svc", [model],
                       InferenceConfig(entry_script=str(tmp_path / "score.py")),
                       LocalWebservice.deploy_configuration(), overwrite=True)
    svc.wait_for_deployment()
    yield svc
    svc.delete()


def test_check_service_asks_the_real_service(service, capsys) -> None:
    payload = json.dumps({"data": [[1, 2], [3]]})

    def judge(answer):
        return None if answer == {"predictions": [2, 1]} else "predictions が違います"

    assert check_service(service, payload, judge, hint="h")
    assert "サービスに問い合わせて" in said(capsys)
    assert not check_service(service, payload, lambda a: "確信度がありません", hint="H")
    assert "確信度がありません" in (out := said(capsys)) and "'predictions'" in out
    assert not check_service(service, json.dumps({"data": ["boom"]}), judge, hint="H")
    assert "サービスを呼び出せませんでした" in (out := said(capsys)) and "get_logs" in out
    assert not check_service(service, payload, lambda a: a["missing"], hint="H")
    assert "答えの形が想定と違います" in said(capsys)
    assert not check_service(None, payload, judge, hint="H")
    assert said(capsys) == NOT_ANSWERED
    assert not check_service("exercise-svc", payload, judge, hint="H")
    assert "Web サービス (Webservice) が入っていません" in said(capsys)


def test_check_classifier(capsys) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] > 0).astype(int)
    assert not check_classifier(LogisticRegression(), X, y, min_accuracy=0.8, hint="H")
    assert "まだ学習していません" in said(capsys)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stopped = LogisticRegression(max_iter=1).fit(X, y)
    assert not check_classifier(stopped, X, y, min_accuracy=0.5, require_converged=True, hint="H")
    assert "max_iter=1" in said(capsys)
    good = LogisticRegression().fit(X, y)
    assert check_classifier(good, X, y, min_accuracy=0.8, require_converged=True, hint="H")
    said(capsys)
    assert not check_classifier(good, X, 1 - y, min_accuracy=0.8, hint="H")
    assert "正解率が" in said(capsys)
    assert not check_classifier(0.9, X, y, min_accuracy=0.8, hint="H")
    assert "学習したモデルが入っていません" in said(capsys)
