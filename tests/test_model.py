"""The model registry: register, versions, lookup, list, download, hashes, model paths."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amlhandson.core.model import Model, content_hash
from amlhandson.exceptions import DataError, ModelNotFoundError, UserErrorException

REPO = Path(__file__).resolve().parents[1]


def _child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, AMLHANDSON_HOME=str(home))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture
def model_file(scratch: Path) -> Path:
    path = scratch / "model.pkl"
    path.write_bytes(b"weights-v1")
    return path


def test_register_versions_and_lookup(ws, model_file: Path, capsys) -> None:
    m1 = Model.register(ws, model_file, "sklearn_mnist", tags={"data": "mnist", "n": 3},
                        properties={"accuracy": 0.92}, description="first")
    assert capsys.readouterr().out == "Registering model sklearn_mnist\n"
    model_file.write_bytes(b"weights-v2")
    m2 = Model.register(ws, str(model_file), "sklearn_mnist")
    assert (m1.id, m1.version, m2.id, m2.version) == ("sklearn_mnist:1", 1, "sklearn_mnist:2", 2)
    assert m1.tags == {"data": "mnist", "n": "3"} and m1.properties == {"accuracy": "0.92"}
    assert m1.description == "first" and m1.file_name == "model.pkl"
    assert m1.sha256 == hashlib.sha256(b"weights-v1").hexdigest() and m1.size == 10
    stored = ws.path / "models" / "sklearn_mnist" / "1" / "model.pkl"
    assert stored.read_bytes() == b"weights-v1"
    assert Model(ws, "sklearn_mnist").id == "sklearn_mnist:2"
    assert Model(ws, "sklearn_mnist", version=1) == m1
    assert Model(ws, id="sklearn_mnist:1").description == "first"
    assert Model(ws, "sklearn_mnist", tags=["data"]).version == 1
    assert "name=sklearn_mnist, id=sklearn_mnist:2, version=2" in repr(m2)
    assert ws.models["sklearn_mnist"].version == 2
    with pytest.raises(ModelNotFoundError, match="ModelNotFound: Model with name nope not found"):
        Model(ws, "nope")
    with pytest.raises(ModelNotFoundError, match=r"登録済み version: \[1, 2\]"):
        Model(ws, "sklearn_mnist", version=7)
    with pytest.raises(LookupError):
        Model(ws, id="sklearn_mnist:x")


def test_register_bad_input(ws, model_file: Path) -> None:
    with pytest.raises(UserErrorException, match="cannot be found"):
        Model.register(ws, "missing.pkl", "m")
    with pytest.raises(UserErrorException, match="model の名前"):
        Model.register(ws, model_file, "bad name")
    with pytest.raises(UserErrorException, match="dict"):
        Model.register(ws, model_file, "m", tags=["a"])
    with pytest.raises(UserErrorException, match="datasets"):
        Model.register(ws, model_file, "m", datasets=[])
    assert Model.list(ws) == []


def test_folder_models_hash_and_download(ws, scratch: Path) -> None:
    folder = scratch / "bundle"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    model = Model.register(ws, folder, "bundle")
    assert model.file_name == "bundle" and model.size == 2
    assert model.sha256 == content_hash(folder)[0]
    os.utime(folder / "a.txt", (1, 1))  # times do not matter, content and names do
    assert content_hash(folder)[0] == model.sha256
    (folder / "sub" / "b.txt").rename(folder / "sub" / "c.txt")
    assert content_hash(folder)[0] != model.sha256
    out = model.download("downloaded")
    assert out == os.path.join("downloaded", "bundle")
    assert (scratch / "downloaded" / "bundle" / "sub" / "b.txt").read_text() == "b"
    with pytest.raises(UserErrorException, match="exist_ok=True"):
        model.download("downloaded")
    assert model.download("downloaded", exist_ok=True) == out
    # a changed registered copy is detected, and nothing is left half-copied
    (model.local_path / "a.txt").write_text("changed")
    with pytest.raises(DataError, match="SHA-256"):
        model.download("again")
    assert not (scratch / "again" / "bundle").exists()
    assert list((scratch / "again").iterdir()) == []


def test_download_file_and_tamper(ws, model_file: Path, scratch: Path) -> None:
    model = Model.register(ws, model_file, "m")
    assert Path(model.download("out")).read_bytes() == b"weights-v1"
    model.local_path.write_bytes(b"weights-evil")
    with pytest.raises(DataError, match="登録後に変更されています"):
        model.download("out", exist_ok=True)
    assert (scratch / "out" / "model.pkl").read_bytes() == b"weights-v1"
    model.local_path.unlink()
    with pytest.raises(DataError, match="消えています"):
        model.download("out2")


def test_list_filters(ws, model_file: Path) -> None:
    Model.register(ws, model_file, "a", tags={"data": "mnist", "algo": "lr"})
    Model.register(ws, model_file, "a", tags={"data": "mnist"})
    Model.register(ws, model_file, "b", tags={"data": "diabetes"}, properties={"k": "v"})
    ids = lambda models: [m.id for m in models]  # noqa: E731
    assert ids(Model.list(ws)) == ["a:2", "a:1", "b:1"]
    assert ids(Model.list(ws, name="a")) == ["a:2", "a:1"]
    assert ids(Model.list(ws, tags=["algo"])) == ["a:1"]
    assert ids(Model.list(ws, tags=[["data", "mnist"]])) == ["a:2", "a:1"]
    assert ids(Model.list(ws, tags={"data": "diabetes"})) == ["b:1"]
    assert ids(Model.list(ws, tags=["data", ["algo", "lr"]])) == ["a:1"]
    assert ids(Model.list(ws, properties=["k"])) == ["b:1"]
    assert ids(Model.list(ws, latest=True)) == ["a:2", "b:1"]
    assert sorted(ws.models) == ["a", "b"]


def test_tags_properties_and_delete(ws, model_file: Path) -> None:
    model = Model.register(ws, model_file, "m", properties={"p": "1"})
    model.add_tags({"stage": "dev"})
    model.add_tags({"stage": "prod", "x": 1})
    model.remove_tags(["x"])
    assert Model(ws, "m").tags == {"stage": "prod"}
    model.add_properties({"q": "2"})
    with pytest.raises(UserErrorException, match="変更できません"):
        model.add_properties({"p": "other"})
    assert Model(ws, "m").properties == {"p": "1", "q": "2"}
    model.delete()
    assert Model.list(ws, name="m") == []
    assert not model.local_path.exists()


def test_concurrent_registrations_never_collide(ws, model_file: Path, aml_home: Path,
                                                scratch: Path) -> None:
    code = textwrap.dedent("""
        import contextlib, io
        from amlhandson.core import Workspace
        from amlhandson.core.model import Model
        ws = Workspace.get("docs-ws", resource_group="docs-aml")
        with contextlib.redirect_stdout(io.StringIO()):
            for _ in range(4):
                Model.register(ws, "model.pkl", "shared")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=scratch,
                              env=_child_env(aml_home)) for _ in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    versions = sorted(m.version for m in Model.list(ws, name="shared"))
    assert versions == list(range(1, 13))
    for version in versions:
        assert (ws.path / "models" / "shared" / str(version) / "model.pkl").is_file()
    assert not [p for p in (ws.path / "models").iterdir() if p.name.startswith(".staging")]


def test_run_register_model_paths(ws, exp, scratch: Path) -> None:
    run = exp.start_logging()
    (scratch / "outputs").mkdir(exist_ok=True)
    (scratch / "outputs" / "m.pkl").write_bytes(b"from-run")
    with pytest.raises(UserErrorException, match="まだ Run にアップロードされていません"):
        run.register_model("from_run", model_path="outputs/m.pkl")
    run.complete()
    model = run.register_model("from_run", model_path="outputs/m.pkl", tags={"k": "v"})
    assert model.id == "from_run:1" and model.run_id == run.id
    assert model.experiment_name == exp.name and model.run == run
    with pytest.raises(UserErrorException) as info:
        run.register_model("from_run", model_path="m.pkl")
    assert str(info.value).startswith("Could not locate the provided model_path m.pkl in the "
                                      "set of files uploaded to the run")
    assert "'outputs/m.pkl' を指定してください" in str(info.value)
    with pytest.raises(UserErrorException, match="外"):
        run.register_model("x", model_path="../../secret")
    with pytest.raises(UserErrorException, match="model_path"):
        run.register_model("x")
    assert [m.id for m in Model.list(ws, run_id=run.id)] == ["from_run:1"]


def test_get_model_path(ws, model_file: Path, scratch: Path, monkeypatch) -> None:
    model = Model.register(ws, model_file, "sklearn_mnist")
    with pytest.raises(ModelNotFoundError, match="Model not found in cache or in root"):
        Model.get_model_path("sklearn_mnist")
    assert Model.get_model_path("sklearn_mnist", _workspace=ws) == str(model.local_path)
    # as inside a service: ./azureml-models/<name>/<version>/<file>
    for version in (1, 2):
        folder = scratch / "azureml-models" / "sklearn_mnist" / str(version)
        folder.mkdir(parents=True)
        (folder / "model.pkl").write_bytes(b"x")
    expected = scratch / "azureml-models" / "sklearn_mnist" / "2" / "model.pkl"
    assert Model.get_model_path("sklearn_mnist") == str(expected)
    assert Model.get_model_path("sklearn_mnist", version=1).endswith(
        os.path.join("sklearn_mnist", "1", "model.pkl"))
    (expected.parent / "other.txt").write_text("y")  # several files: the folder
    assert Model.get_model_path("sklearn_mnist") == str(expected.parent)
    # AZUREML_MODEL_DIR pointing at one model's version folder elsewhere
    other = scratch / "elsewhere" / "azureml-models" / "m2" / "3"
    other.mkdir(parents=True)
    (other / "w.bin").write_bytes(b"z")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(other))
    assert Model.get_model_path("m2") == str(other / "w.bin")
    (scratch / "plain_model").write_text("p")
    assert Model.get_model_path("plain_model") == "plain_model"
