"""The pipeline graph: closure, order, validation messages, serialisation, the reuse key."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlhandson.exceptions import UserErrorException
from amlhandson.pipeline.core import (
    Pipeline,
    PipelineData,
    PipelineParameter,
    PipelineValidationError,
)
from amlhandson.pipeline.core._reuse import explain, key_of, make_parts, snapshot_files
from amlhandson.pipeline.steps import PythonScriptStep


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    folder = tmp_path / "scripts"
    folder.mkdir()
    for name in ("prep.py", "knn.py", "logreg.py", "compare.py"):
        (folder / name).write_text("print('hi')\n")
    return folder


def three_steps(scripts: Path):
    prepared = PipelineData("prepared")
    knn_model, lr_model = PipelineData("knn_model"), PipelineData("lr_model")
    k = PipelineParameter("k", default_value=3)
    prep = PythonScriptStep("prep.py", name="prepare", arguments=["--out", prepared],
                            outputs=[prepared], source_directory=scripts)
    knn = PythonScriptStep("knn.py", name="train_knn",
                           arguments=["--data", prepared, "--k", k, "--out", knn_model],
                           inputs=[prepared], outputs=[knn_model], source_directory=scripts)
    lr = PythonScriptStep("logreg.py", name="train_logreg",
                          arguments=["--data", prepared, "--out", lr_model],
                          inputs=[prepared], outputs=[lr_model], source_directory=scripts)
    compare = PythonScriptStep("compare.py", name="compare",
                               arguments=["--knn", knn_model, "--lr", lr_model],
                               inputs=[knn_model, lr_model], source_directory=scripts)
    return prep, knn, lr, compare


def test_the_last_step_pulls_in_the_whole_pipeline_in_order(scripts) -> None:
    prep, knn, lr, compare = three_steps(scripts)
    pipeline = Pipeline(None, steps=[compare])
    assert [s.name for s in pipeline.steps] == ["prepare", "train_knn", "train_logreg", "compare"]
    assert pipeline.validate() == []
    assert list(pipeline.parameters) == ["k"]
    assert [s.name for s in Pipeline(None, [compare], resolve_closure=False).steps] == ["compare"]
    assert any("resolve_closure" in m for m in
               Pipeline(None, [compare], resolve_closure=False).validate())


def test_run_after_orders_and_pulls_in(scripts) -> None:
    a = PythonScriptStep("prep.py", name="a", source_directory=scripts)
    b = PythonScriptStep("knn.py", name="b", source_directory=scripts)
    b.run_after(a)
    assert [s.name for s in Pipeline(None, [b]).steps] == ["a", "b"]
    with pytest.raises(UserErrorException):
        b.run_after("a")


def test_a_cycle_is_named_step_by_step(scripts) -> None:
    a = PythonScriptStep("prep.py", name="a", source_directory=scripts)
    b = PythonScriptStep("knn.py", name="b", source_directory=scripts)
    c = PythonScriptStep("logreg.py", name="c", source_directory=scripts)
    b.run_after(a)
    c.run_after(b)
    a.run_after(c)
    messages = Pipeline(None, [a]).validate()
    assert len(messages) == 1 and "循環" in messages[0]
    assert all(n in messages[0] for n in ("a", "b", "c"))
    with pytest.raises(PipelineValidationError, match="問題が 1 個"):
        Pipeline(None, [a]).check()


def test_data_problems_each_have_a_message(scripts) -> None:
    orphan = PipelineData("orphan")
    reader = PythonScriptStep("knn.py", name="reader", arguments=["--d", orphan],
                              inputs=[orphan], source_directory=scripts)
    assert any("書き出すステップがありません" in m for m in Pipeline(None, [reader]).validate())

    twice = PipelineData("twice")
    w1 = PythonScriptStep("prep.py", name="w1", outputs=[twice], source_directory=scripts)
    w2 = PythonScriptStep("knn.py", name="w2", outputs=[twice], source_directory=scripts)
    assert any("複数のステップ" in m for m in Pipeline(None, [w1, w2]).validate())

    same_a, same_b = PipelineData("same"), PipelineData("same")
    s1 = PythonScriptStep("prep.py", name="s1", outputs=[same_a], source_directory=scripts)
    s2 = PythonScriptStep("knn.py", name="s2", outputs=[same_b], source_directory=scripts)
    assert any("2 つあります" in m for m in Pipeline(None, [s1, s2]).validate())

    unlisted = PipelineData("unlisted")
    u = PythonScriptStep("prep.py", name="u", arguments=["--o", unlisted],
                         source_directory=scripts)
    assert any("inputs にも outputs にもありません" in m for m in Pipeline(None, [u]).validate())

    self_loop = PipelineData("loop")
    s = PythonScriptStep("prep.py", name="s", inputs=[self_loop], outputs=[self_loop],
                         source_directory=scripts)
    assert any("自分の出力" in m for m in Pipeline(None, [s]).validate())


def test_types_compute_and_files(scripts, tmp_path) -> None:
    bad = PythonScriptStep("prep.py", name="bad", arguments=[object()], inputs=["x"],
                           outputs=[3], source_directory=scripts)
    messages = Pipeline(None, [bad]).validate()
    assert sum("使えません" in m for m in messages) == 3
    remote = PythonScriptStep("prep.py", name="remote", compute_target="cpu-cluster",
                              source_directory=scripts)
    assert any("cpu-cluster" in m and "ありません" in m for m in Pipeline(None, [remote]).validate())
    missing = PythonScriptStep("nope.py", name="missing", source_directory=scripts)
    assert any("nope.py" in m for m in Pipeline(None, [missing]).validate())
    outside = PythonScriptStep("../x.py", name="outside", source_directory=scripts)
    assert any("source_directory の中" in m for m in Pipeline(None, [outside]).validate())
    nofolder = PythonScriptStep("a.py", name="nofolder", source_directory=tmp_path / "none")
    assert any("フォルダーが" in m for m in Pipeline(None, [nofolder]).validate())
    assert Pipeline(None, []).validate()[0].startswith("パイプラインにステップがありません")
    assert "ステップ" in Pipeline(None, ["not a step"]).validate()[0]


def test_parameters_are_typed(scripts) -> None:
    _, _, _, compare = three_steps(scripts)
    pipeline = Pipeline(None, [compare])
    assert pipeline.check_parameters(None) == {"k": 3}
    assert pipeline.check_parameters({"k": 5}) == {"k": 5}
    with pytest.raises(UserErrorException, match="int"):
        pipeline.check_parameters({"k": "5"})
    with pytest.raises(UserErrorException, match="あるもの"):
        pipeline.check_parameters({"kk": 5})
    with pytest.raises(UserErrorException):
        PipelineParameter("k", default_value=[1])
    with pytest.raises(UserErrorException):
        PipelineParameter("bad name", 1)
    assert PipelineParameter("rate", 0.5).check(1) == 1.0
    k2 = PipelineParameter("k", default_value=4)
    extra = PythonScriptStep("prep.py", name="extra", arguments=["--k", k2],
                             source_directory=scripts)
    assert any("既定値" in m for m in Pipeline(None, [compare, extra]).validate())


@pytest.mark.parametrize("bad", ["has space", "1starts_with_digit", "", "a-b", None])
def test_pipeline_data_names(bad) -> None:
    with pytest.raises(UserErrorException):
        PipelineData(bad)


def test_the_graph_serialises(scripts) -> None:
    _, _, _, compare = three_steps(scripts)
    graph = Pipeline(None, [compare], description="MNIST").to_graph()
    assert [s["name"] for s in graph["steps"]] == ["prepare", "train_knn", "train_logreg",
                                                  "compare"]
    knn = graph["steps"][1]
    assert knn["arguments"] == [{"value": "--data"}, {"data": "prepared"}, {"value": "--k"},
                                {"param": "k"}, {"value": "--out"}, {"data": "knn_model"}]
    assert knn["runAfter"] == ["step0"] and knn["sourceDirectory"] == str(scripts)
    assert graph["steps"][3]["runAfter"] == ["step1", "step2"]
    assert graph["parameters"] == {"k": 3} and set(graph["data"]) == {"prepared", "knn_model",
                                                                      "lr_model"}


def test_reuse_key_depends_on_content_not_time(scripts) -> None:
    files = snapshot_files(scripts)
    parts = make_parts(script=files, script_name="prep.py", arguments=["--out", "data:prepared"],
                       params={}, compute="local", runconfig=None, inputs={})
    key = key_of(parts)
    import os
    import time

    os.utime(scripts / "prep.py", (time.time() + 100, time.time() + 100))
    assert key_of(make_parts(script=snapshot_files(scripts), script_name="prep.py",
                             arguments=["--out", "data:prepared"], params={}, compute="local",
                             runconfig=None, inputs={})) == key
    (scripts / "prep.py").write_text("print('changed')\n")
    changed = make_parts(script=snapshot_files(scripts), script_name="prep.py",
                         arguments=["--out", "data:prepared"], params={}, compute="local",
                         runconfig=None, inputs={})
    assert key_of(changed) != key
    assert explain(changed, parts) == ["スクリプトのフォルダーのファイルが変わりました: prep.py (変更)"]
    moved = dict(parts, compute="AmlCompute", inputs={"prepared": "x"})
    reasons = explain(moved, dict(parts, inputs={"prepared": "y"}))
    assert any("local → AmlCompute" in r for r in reasons)
    assert any("'prepared' の内容" in r for r in reasons)
    assert explain(parts, None)[0].startswith("このステップの完了した実行がまだありません")


def test_snapshot_leaves_out_caches_outputs_and_ignored(scripts) -> None:
    (scripts / "__pycache__").mkdir()
    (scripts / "__pycache__" / "x.pyc").write_bytes(b"x")
    (scripts / "outputs").mkdir()
    (scripts / "outputs" / "model.pkl").write_bytes(b"m")
    (scripts / "big.bin").write_bytes(b"b")
    (scripts / ".amlignore").write_text("*.bin\n")
    assert sorted(snapshot_files(scripts)) == [".amlignore", "compare.py", "knn.py",
                                               "logreg.py", "prep.py"]
