"""2019 v1 code, run unmodified through the layer (``python -m amlhandson.compat``).

Each sample in ``samples/`` is written the way the 2019 Azure ML samples wrote
it, and runs unmodified through the layer (scripts started by runs, services and
pipeline steps included).
"""

from __future__ import annotations

import gzip
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from .conftest import SHARED_MNIST

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _write_idx(folder: Path, stem: str, array: np.ndarray, label: bool) -> None:
    with gzip.open(folder / f"{stem}.gz", "wb") as out:
        if label:
            out.write(struct.pack(">II", 2049, len(array)))
        else:
            out.write(struct.pack(">IIII", 2051, len(array), 28, 28))
        out.write(array.astype(np.uint8).tobytes())


def _small_mnist(folder: Path, train: int = 2000, test: int = 500) -> None:
    """The hands-on's four files, cut to a few thousand images (the training stays seconds)."""
    from amlhandson.datasets import mnist

    full = folder.parent / "mnist-full"
    mirrors = [str(SHARED_MNIST)] if SHARED_MNIST.is_dir() else None
    paths = mnist.download(full, mirrors=mirrors, progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", train), ("test", test)):
        images = mnist.load_data(paths[f"{split}-images"], False)[:count]
        labels = mnist.load_data(paths[f"{split}-labels"], True).reshape(-1)[:count]
        _write_idx(folder, f"{split}-images", images, False)
        _write_idx(folder, f"{split}-labels", labels, True)
    shutil.rmtree(full)


def test_workspace_from_config(run_sample, v1_workspace) -> None:
    proc = run_sample("workspace_from_config.py")
    assert "SDK version:" in proc.stdout and "Workspace name: aml-workspace" in proc.stdout
    assert "SAME True" in proc.stdout
    # the auth classes come from amlhandson.core.authentication (they hand out the local key
    # the published-pipeline endpoints check): accepted without a note or an error
    assert "Traceback" not in proc.stderr
    assert v1_workspace().name == "aml-workspace"


def test_logging_api_of_every_kind(run_sample, v1_workspace, v1_folder: Path) -> None:
    from amlhandson.core.run import Run

    proc = run_sample("logging_api.py")
    run_id = proc.stdout.split("RUN_ID")[-1].strip()
    run = Run.find(v1_workspace(), run_id)
    metrics = run.get_metrics()
    assert metrics["Name"] == "Logging API run" and metrics["Magic Number"] == 42
    assert metrics["Fibonacci"][-1] == 89 and len(metrics["Sigmoid"]) == 20
    assert len(metrics["Cosine Wave"]["cos"]) == 20 and len(metrics["Sine Wave"]["sine"]) == 20
    assert str(metrics["Hyperbolic Tangent"]).startswith("aml://")
    assert "myfile_in_the_cloud.txt" in run.get_file_names()
    assert (v1_folder / "files" / "myfile_in_the_cloud.txt").read_text() == "This is a dummy file."
    assert run.get_tags() == {"quality": "fantastic run", "DeploymentCandidate": None}
    assert run.get_status() == "Completed"
    assert [c.get_metrics() for c in run.get_children()] == [{"child metric": 1}]


def test_train_within_notebook_and_register(run_sample, v1_workspace) -> None:
    from amlhandson.core.model import Model

    proc = run_sample("train_within_notebook.py")
    assert "MODEL best_model 1 best_model:1" in proc.stdout
    assert proc.stderr.count("sklearn.externals.joblib は scikit-learn 0.23 で削除") == 1
    model = Model(v1_workspace(), "best_model")
    assert model.file_name.startswith("model_alpha_")


def test_register_and_deploy_locally_with_a_2019_score_py(run_sample) -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    proc = run_sample("deploy_local", timeout=300)
    result = json.loads(proc.stdout.split("RESULT")[-1].splitlines()[0])
    X, y = load_diabetes(return_X_y=True)
    expected = Ridge(alpha=0.1).fit(X, y).predict(
        np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]))
    assert np.allclose(result, expected)
    assert "SERVICES []" in proc.stdout


def test_mnist_tutorial_train_py(run_sample, v1_workspace, v1_folder: Path) -> None:
    from amlhandson.core import Experiment

    _small_mnist(v1_folder / "data")
    proc = run_sample("mnist_train", "--data-folder", "data", "--regularization", "0.5",
                      script="train.py")
    assert "Accuracy is" in proc.stdout
    assert "multi_class" in proc.stderr and "np.float" in proc.stderr
    runs = list(Experiment(v1_workspace(), "train").get_runs())
    metrics = runs[0].get_metrics()
    assert metrics["regularization rate"] == 0.5 and metrics["accuracy"] > 0.7
    assert runs[0].get_status() == "Completed"
    assert (v1_folder / "outputs" / "sklearn_mnist_model.pkl").is_file()


# ---- cases that wait for modules being built elsewhere ------------------------------------


def test_script_run_config_on_local(run_sample, v1_folder: Path) -> None:
    _small_mnist(v1_folder / "data")
    proc = run_sample("script_run_config", script="main.py", timeout=400)
    assert "STATUS Completed" in proc.stdout and "accuracy" in proc.stdout


def test_estimator_with_hyperdrive(run_sample) -> None:
    proc = run_sample("hyperdrive_sklearn", script="main.py", timeout=600)
    assert "BEST" in proc.stdout and "MODEL sklearn_diabetes 1" in proc.stdout


def test_pipeline_with_named_data(run_sample) -> None:
    proc = run_sample("pipeline_steps", script="main.py", timeout=600)
    steps = [line for line in proc.stdout.splitlines() if line.startswith("STEP ")]
    assert len(steps) == 2 and all(s.endswith(" Completed") for s in steps), proc.stdout


def test_datasets_and_datastores(run_sample, v1_folder: Path) -> None:
    _small_mnist(v1_folder / "data", train=100, test=100)
    proc = run_sample("datasets_datastores", script="main.py")
    assert "workspaceblobstore" in proc.stdout and "REGISTERED mnist_opendataset" in proc.stdout
