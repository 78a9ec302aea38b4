"""2019-era library names, served only while the layer is on."""

from __future__ import annotations

import gzip
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from amlhandson.exceptions import NotAvailableInAmlHandsOnError, V1CompatNote

from .conftest import SHARED_MNIST, child_env


def _notes(caught: list) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, V1CompatNote)]


def test_sklearn_externals_joblib_only_while_on(layer) -> None:
    import joblib
    from sklearn.externals import joblib as old

    assert old is joblib
    layer.uninstall()
    sys.modules.pop("sklearn.externals.joblib", None)
    with pytest.raises(ImportError):
        importlib.import_module("sklearn.externals.joblib")


def test_moved_sklearn_modules(layer) -> None:
    import sklearn.model_selection
    from sklearn.cross_validation import train_test_split
    from sklearn.grid_search import GridSearchCV

    assert train_test_split is sklearn.model_selection.train_test_split
    assert GridSearchCV is sklearn.model_selection.GridSearchCV


def test_numpy_aliases(layer) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert np.float is float and np.int is int and np.object is object
        assert np.isnan(np.NaN) and np.Inf == np.inf and np.float_ is np.float64
        assert np.asscalar(np.array([3])) == 3
        assert np.array([1.5], dtype=np.float).dtype == np.float64
    notes = _notes(caught)
    assert len(notes) == 7 and all("いまの書き方" in n for n in notes)
    with pytest.raises(AttributeError):
        np.no_such_thing  # noqa: B018
    layer.uninstall()
    with pytest.raises(AttributeError):
        np.float  # noqa: B018


def test_logistic_regression_multi_class_as_2019_wrote_it(layer) -> None:
    import inspect

    import sklearn.linear_model as lm

    if "multi_class" in inspect.signature(lm._logistic.LogisticRegression).parameters:
        pytest.skip("this scikit-learn still has multi_class (removed in 1.8): nothing to shim")
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    clf = LogisticRegression(C=2.0, solver="liblinear", multi_class="auto", random_state=42)
    assert isinstance(clf, OneVsRestClassifier)
    modern = OneVsRestClassifier(lm._logistic.LogisticRegression(
        C=2.0, solver="liblinear", random_state=42))
    assert np.array_equal(clf.fit(X, y).predict(X), modern.fit(X, y).predict(X))
    plain = LogisticRegression(max_iter=200, multi_class="multinomial")
    assert type(plain) is lm._logistic.LogisticRegression and isinstance(plain, LogisticRegression)
    assert type(LogisticRegression()) is lm._logistic.LogisticRegression
    with pytest.raises(ValueError, match="multinomial backend"):
        LogisticRegression(solver="liblinear", multi_class="multinomial")
    with pytest.raises(ValueError, match="multi_class should be"):
        LogisticRegression(multi_class="bogus")

    class Mine(LogisticRegression):
        pass

    assert Mine(C=3.0).get_params()["C"] == 3.0
    layer.uninstall()
    assert lm.LogisticRegression is lm._logistic.LogisticRegression


def test_imputer_and_plot_functions(layer) -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import ConfusionMatrixDisplay, plot_confusion_matrix
    from sklearn.preprocessing import Imputer

    imputer = Imputer(missing_values="NaN", strategy="median", axis=0)
    assert isinstance(imputer, SimpleImputer)
    assert imputer.fit_transform(np.array([[1.0], [np.nan], [3.0]]))[1, 0] == 2.0
    with pytest.raises(NotAvailableInAmlHandsOnError, match="axis=1"):
        Imputer(axis=1)
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    display = plot_confusion_matrix(LogisticRegression().fit(X, y), X, y)
    assert isinstance(display, ConfusionMatrixDisplay)


def test_fetch_mldata_mnist_offline(layer, tmp_path: Path, monkeypatch) -> None:
    if SHARED_MNIST.is_dir():
        monkeypatch.setenv("AMLHANDSON_MNIST_MIRROR", str(SHARED_MNIST))
    from sklearn.datasets import fetch_mldata

    mnist = fetch_mldata("MNIST original", data_home=str(tmp_path))
    assert mnist.data.shape[1] == 784 and mnist.data.dtype == np.uint8
    assert mnist.target.shape == (mnist.data.shape[0],) and mnist.target.dtype == np.float64
    assert set(np.unique(mnist.target)) == set(range(10))
    with pytest.raises(NotAvailableInAmlHandsOnError, match="fetch_openml"):
        fetch_mldata("iris")


def test_urlretrieve_of_the_mnist_files_is_served_locally(layer, tmp_path: Path,
                                                          monkeypatch) -> None:
    if SHARED_MNIST.is_dir():
        monkeypatch.setenv("AMLHANDSON_MNIST_MIRROR", str(SHARED_MNIST))
    import urllib.request

    from amlhandson.datasets import mnist

    target = tmp_path / "data" / "train-labels.gz"
    target.parent.mkdir()
    # the 2018 tutorial's download, verbatim
    urllib.request.urlretrieve('http://yann.lecun.com/exdb/mnist/train-labels-idx1-ubyte.gz',
                               filename=str(target))
    labels = mnist.load_data(target, True)
    assert labels.shape[1] == 1 and len(labels) in (60000, 6000)
    # other URLs are untouched (a local file:// URL here: tests never reach the internet)
    source = tmp_path / "other.gz"
    with gzip.open(source, "wb") as out:
        out.write(b"x")
    copied, _ = urllib.request.urlretrieve(source.as_uri(), str(tmp_path / "copy.gz"))
    assert Path(copied).read_bytes() == source.read_bytes()
    layer.uninstall()
    assert not hasattr(urllib.request.urlretrieve, "__wrapped__")


def test_inference_schema_only_when_the_real_package_is_missing(layer) -> None:
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
    from inference_schema.schema_decorators import input_schema, output_schema

    from amlhandson.core.webservice import schema

    assert input_schema is schema.input_schema and output_schema is schema.output_schema
    assert NumpyParameterType is schema.NumpyParameterType
    with pytest.raises(NotAvailableInAmlHandsOnError, match="NumpyParameterType"):
        PandasParameterType(None)


def test_v1_members_on_amlhandson_classes(layer, ws) -> None:
    from azureml.core import Run
    from azureml.core.webservice import Webservice

    with pytest.raises(NotAvailableInAmlHandsOnError, match="Model.deploy"):
        Webservice.deploy_from_model(workspace=ws, name="x", models=[], image_config=None)
    assert Run.get_submitted_run.__doc__ == "v1's ``get_submitted_run``: ``Run.get_context()``."
    layer.uninstall()
    assert not hasattr(Run, "get_submitted_run") and not hasattr(Webservice, "deploy_from_model")


def test_get_submitted_run_is_the_context_run(tmp_path: Path) -> None:
    # in a child process: Run.get_context() keeps its run for the whole process
    code = ("import warnings; warnings.simplefilter('error', UserWarning)\n"
            "import amlhandson.compat; amlhandson.compat.install()\n"
            "from azureml.core.run import Run\n"
            "try:\n    Run.get_submitted_run()\nexcept Warning as w:\n    print('note:', w)\n"
            "warnings.simplefilter('ignore')\n"
            "run = Run.get_submitted_run()\n"
            "print(run is Run.get_context(), run.id.startswith('OfflineRun_'))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                          env=child_env(tmp_path / "home"), capture_output=True, text=True,
                          timeout=120)
    lines = proc.stdout.splitlines()
    assert "Run.get_context()" in lines[0] and lines[1] == "True True", proc.stderr


def test_logistic_regression_left_alone_where_multi_class_still_exists(layer) -> None:
    import inspect

    import sklearn.linear_model as lm

    if "multi_class" not in inspect.signature(lm._logistic.LogisticRegression).parameters:
        pytest.skip("this scikit-learn removed multi_class: the shim applies")
    assert lm.LogisticRegression is lm._logistic.LogisticRegression
