"""2019-era library names that Azure ML v1 samples used and that were removed since.

Active only while the layer is installed, each with a one-time
:class:`~amlhandson.exceptions.V1CompatNote` naming the modern spelling:

=========================================  ==============================================
2019 spelling                              served by
=========================================  ==============================================
``from sklearn.externals import joblib``   ``import joblib`` (removed in scikit-learn 0.23)
``sklearn.externals.six``                  ``six``
``sklearn.cross_validation``,              ``sklearn.model_selection`` (removed in 0.20)
``sklearn.grid_search``,
``sklearn.learning_curve``
``LogisticRegression(multi_class=...)``    without it; ``'ovr'`` and liblinear's ``'auto'``
                                           become ``OneVsRestClassifier(LogisticRegression(...))``
                                           (removed in 1.8, with liblinear's multiclass)
``sklearn.preprocessing.Imputer``          ``sklearn.impute.SimpleImputer`` (removed in 0.22)
``sklearn.datasets.fetch_mldata``          MNIST from :mod:`amlhandson.datasets.mnist`
                                           (mldata.org closed in 2018)
``plot_confusion_matrix`` & co.            ``ConfusionMatrixDisplay.from_estimator`` (1.2)
``np.float``, ``np.int``, ``np.bool``,     ``float``, ``int``, ``bool``, ... (NumPy 1.24 / 2.0)
``np.NaN``, ``np.asscalar`` ...
``urlretrieve`` of the MNIST files from    the verified copy of :mod:`amlhandson.datasets.mnist`
``yann.lecun.com`` / Azure Open Datasets   (mirrors, checksums, offline sample)
``inference_schema`` (score.py schemas)    :mod:`amlhandson.core.webservice.schema`
=========================================  ==============================================

Each patch returns a function that undoes it; the hook calls them on uninstall.

Example:
    >>> sorted(RENAMED)[:2]
    ['sklearn.cross_validation', 'sklearn.externals.joblib']
"""

from __future__ import annotations

import inspect
import os
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import NotAvailableInAmlHandsOnError
from ._errors import note_once
from ._table import ABSENT, V1Module, _w

__all__ = ["Renamed", "RENAMED", "COMPANIONS", "POST_IMPORT", "NUMPY_ALIASES", "MNIST_HOSTS"]

Undo = Callable[[], None]


@dataclass(frozen=True)
class Renamed:
    """A module that moved: ``old`` is served by ``target``; the note names ``modern``."""

    old: str
    target: str
    modern: str
    since: str

    def note(self) -> None:
        """Give the one-time note for this module."""
        note_once(self.old, f"{self.old} は {self.since} で削除されました。いまの書き方: "
                            f"{self.modern} (amlhandson.compat が {self.target} を渡しています)")


RENAMED: dict[str, Renamed] = {r.old: r for r in (
    Renamed("sklearn.externals.joblib", "joblib", "import joblib", "scikit-learn 0.23"),
    Renamed("sklearn.externals.six", "six", "import six (Python 3 だけなら不要)", "scikit-learn 0.23"),
    Renamed("sklearn.cross_validation", "sklearn.model_selection",
            "from sklearn.model_selection import ...", "scikit-learn 0.20"),
    Renamed("sklearn.grid_search", "sklearn.model_selection",
            "from sklearn.model_selection import GridSearchCV", "scikit-learn 0.20"),
    Renamed("sklearn.learning_curve", "sklearn.model_selection",
            "from sklearn.model_selection import learning_curve", "scikit-learn 0.20"),
)}

_SCHEMA = "amlhandson.core.webservice.schema"
#: The v1 SDK's companion package for score.py schemas, when it is not installed itself.
COMPANIONS: dict[str, V1Module] = {m.name: m for m in (
    V1Module("inference_schema", names={}),
    V1Module("inference_schema.parameter_types", names={}),
    V1Module("inference_schema.schema_decorators", (_SCHEMA,),
             names={"input_schema": _w(f"{_SCHEMA}:input_schema"),
                    "output_schema": _w(f"{_SCHEMA}:output_schema")}),
    V1Module("inference_schema.parameter_types.numpy_parameter_type", (_SCHEMA,),
             names={"NumpyParameterType": _w(f"{_SCHEMA}:NumpyParameterType")}),
    V1Module("inference_schema.parameter_types.standard_py_parameter_type", (_SCHEMA,),
             names={"StandardPythonParameterType": _w(f"{_SCHEMA}:StandardPythonParameterType")}),
    V1Module("inference_schema.parameter_types.pandas_parameter_type", status=ABSENT,
             any_name=True, note="NumpyParameterType か StandardPythonParameterType"),
)}


# ---- numpy -------------------------------------------------------------------------------
#: Removed NumPy names -> (how to get the value from numpy, modern spelling, removed in).
NUMPY_ALIASES: dict[str, tuple[Callable[[Any], Any], str, str]] = {
    "float": (lambda np: float, "float (または np.float64)", "NumPy 1.24"),
    "int": (lambda np: int, "int (または np.int64)", "NumPy 1.24"),
    "bool": (lambda np: bool, "bool (または np.bool_)", "NumPy 1.24"),
    "object": (lambda np: object, "object", "NumPy 1.24"),
    "str": (lambda np: str, "str", "NumPy 1.24"),
    "complex": (lambda np: complex, "complex", "NumPy 1.24"),
    "long": (lambda np: int, "int", "NumPy 1.24"),
    "unicode": (lambda np: str, "str", "NumPy 1.24"),
    "float_": (lambda np: np.float64, "np.float64", "NumPy 2.0"),
    "complex_": (lambda np: np.complex128, "np.complex128", "NumPy 2.0"),
    "string_": (lambda np: np.bytes_, "np.bytes_", "NumPy 2.0"),
    "unicode_": (lambda np: np.str_, "np.str_", "NumPy 2.0"),
    "NaN": (lambda np: np.nan, "np.nan", "NumPy 2.0"),
    "NAN": (lambda np: np.nan, "np.nan", "NumPy 2.0"),
    "Inf": (lambda np: np.inf, "np.inf", "NumPy 2.0"),
    "Infinity": (lambda np: np.inf, "np.inf", "NumPy 2.0"),
    "infty": (lambda np: np.inf, "np.inf", "NumPy 2.0"),
    "PINF": (lambda np: np.inf, "np.inf", "NumPy 2.0"),
    "NINF": (lambda np: -np.inf, "-np.inf", "NumPy 2.0"),
    "asscalar": (lambda np: (lambda a: a.item()), "a.item()", "NumPy 1.23"),
    "product": (lambda np: np.prod, "np.prod", "NumPy 2.0"),
    "cumproduct": (lambda np: np.cumprod, "np.cumprod", "NumPy 2.0"),
    "sometrue": (lambda np: np.any, "np.any", "NumPy 2.0"),
    "alltrue": (lambda np: np.all, "np.all", "NumPy 2.0"),
    "round_": (lambda np: np.round, "np.round", "NumPy 2.0"),
}


def _has(module: types.ModuleType, name: str) -> bool:
    if name in module.__dict__:
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns about some removed names
        try:
            getattr(module, name)
        except AttributeError:
            return False
        except ImportError:  # the library explains the removal itself (load_boston)
            return True
    return True


def patch_numpy(np: types.ModuleType) -> Undo | None:
    """``np.float`` and the other removed aliases, each with a one-time note."""
    missing = {name: alias for name, alias in NUMPY_ALIASES.items() if not _has(np, name)}
    if not missing:
        return None
    original = np.__dict__.get("__getattr__")

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 module attribute hook
        alias = missing.get(name)
        if alias is not None:
            value, modern, since = alias
            note_once(f"numpy.{name}", f"np.{name} は {since} で削除されました。いまの書き方: "
                                      f"{modern}")
            return value(np)
        if original is None:
            raise AttributeError(f"module 'numpy' has no attribute {name!r}")
        return original(name)

    np.__getattr__ = __getattr__  # type: ignore[attr-defined]

    def undo() -> None:
        if np.__dict__.get("__getattr__") is __getattr__:
            if original is None:
                del np.__getattr__
            else:
                np.__getattr__ = original  # type: ignore[attr-defined]

    return undo


# ---- scikit-learn --------------------------------------------------------------------------
def _set(module: types.ModuleType, name: str, value: Any) -> Undo:
    old = module.__dict__.get(name, _UNSET)
    setattr(module, name, value)

    def undo() -> None:
        if module.__dict__.get(name) is value:
            if old is _UNSET:
                delattr(module, name)
            else:
                setattr(module, name, old)

    return undo


_UNSET: Any = object()
_MULTI_CLASS_NOTE = (
    "LogisticRegression(multi_class=...) は scikit-learn 1.8 で削除されました (liblinear も 3 クラス"
    "以上を直接は扱わなくなりました)。いまの書き方: multinomial/auto なら multi_class を省く、"
    "ovr (liblinear の auto) なら OneVsRestClassifier(LogisticRegression(solver='liblinear', ...))。"
    "amlhandson.compat は 2019 年と同じ one-vs-rest のモデルを作っています")


def _logistic_shim(real: type) -> type:
    class _Meta(type(real)):  # type: ignore[misc]
        def __call__(cls, *args: Any, multi_class: Any = _UNSET, **kwargs: Any) -> Any:
            if cls is not shim:  # a user's subclass: no translation
                if multi_class is not _UNSET:
                    kwargs["multi_class"] = multi_class
                return super().__call__(*args, **kwargs)
            if multi_class is _UNSET:
                return real(*args, **kwargs)
            note_once("sklearn.LogisticRegression.multi_class", _MULTI_CLASS_NOTE)
            solver = kwargs.get("solver", "lbfgs")
            if multi_class not in ("auto", "ovr", "multinomial"):
                raise ValueError(f"multi_class should be 'multinomial', 'ovr' or 'auto'. "
                                 f"Got {multi_class}.")
            if multi_class == "multinomial" and solver == "liblinear":
                raise ValueError("Solver liblinear does not support a multinomial backend.")
            if multi_class == "ovr" or solver == "liblinear":
                from sklearn.multiclass import OneVsRestClassifier

                return OneVsRestClassifier(real(*args, **kwargs))
            return real(*args, **kwargs)

        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, real) if cls is shim else super().__instancecheck__(obj)

    shim = _Meta(real.__name__, (real,), {"__module__": real.__module__, "__doc__": real.__doc__,
                                           "__qualname__": real.__qualname__})
    return shim


def patch_linear_model(module: types.ModuleType) -> Undo | None:
    """``LogisticRegression(multi_class=...)`` as 2019 code wrote it (removed in 1.8)."""
    real = module.__dict__.get("LogisticRegression")
    if real is None or "multi_class" in inspect.signature(real).parameters:
        return None
    return _set(module, "LogisticRegression", _logistic_shim(real))


def _imputer() -> Callable[..., Any]:
    def Imputer(missing_values: Any = "NaN", strategy: str = "mean", axis: int = 0,  # noqa: N802
                verbose: int = 0, copy: bool = True) -> Any:
        """scikit-learn 0.21's ``Imputer``, served by ``SimpleImputer``."""
        note_once("sklearn.Imputer", "sklearn.preprocessing.Imputer は scikit-learn 0.22 で削除"
                  "されました。いまの書き方: from sklearn.impute import SimpleImputer; "
                  "SimpleImputer(missing_values=np.nan, strategy=...)")
        if axis != 0:
            raise NotAvailableInAmlHandsOnError(
                "Imputer(axis=1) (行ごとの補完) は SimpleImputer にありません。データを転置して "
                "SimpleImputer を使ってください。")
        if isinstance(missing_values, str) and missing_values.lower() == "nan":
            missing_values = float("nan")
        from sklearn.impute import SimpleImputer

        return SimpleImputer(missing_values=missing_values, strategy=strategy, copy=copy)

    return Imputer


def patch_preprocessing(module: types.ModuleType) -> Undo | None:
    """``sklearn.preprocessing.Imputer`` (removed in 0.22)."""
    if _has(module, "Imputer"):
        return None
    return _set(module, "Imputer", _imputer())


def _mnist_files(target_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The four verified MNIST files (amlhandson.datasets.mnist), in ``target_dir`` or a cache."""
    from .. import _paths
    from ..datasets import mnist

    folder = target_dir if target_dir is not None else _paths.home() / "compat" / "mnist"
    return mnist.download(folder, progress=False)


def fetch_mldata(dataname: str, target_name: str = "label", data_name: str = "data",
                 transpose_data: bool = True, data_home: str | None = None) -> Any:
    """scikit-learn 0.19's ``fetch_mldata('MNIST original')``, served offline.

    Only MNIST: mldata.org closed in 2018. The 70,000 images come in the original
    files' order (60,000 training images, then 10,000 test images).

    Example (with the layer on)::

        from sklearn.datasets import fetch_mldata
        mnist = fetch_mldata('MNIST original')      # mnist.data: (70000, 784) uint8
    """
    import numpy as np
    from sklearn.datasets import get_data_home
    from sklearn.utils import Bunch

    from ..datasets import mnist

    if dataname.strip().lower().replace(" ", "-") != "mnist-original":
        raise NotAvailableInAmlHandsOnError(
            f"fetch_mldata({dataname!r}): mldata.org は 2018 年に閉鎖され、fetch_mldata は "
            "scikit-learn 0.22 で削除されました。オフラインで使えるのは 'MNIST original' だけです。"
            "いまの書き方: sklearn.datasets.fetch_openml(name=...)")
    note_once("sklearn.fetch_mldata", "fetch_mldata は scikit-learn 0.22 で削除されました。いまの"
              "書き方: fetch_openml('mnist_784', version=1)。amlhandson.compat は "
              "amlhandson.datasets.mnist の検証済みファイルを渡しています")
    paths = _mnist_files(os.path.join(get_data_home(data_home), "mldata"))
    images = [mnist.load_data(paths[f"{s}-images"], False) for s in ("train", "test")]
    labels = [mnist.load_data(paths[f"{s}-labels"], True) for s in ("train", "test")]
    data = np.vstack(images)
    return Bunch(data=data if transpose_data else data.T,
                 target=np.concatenate(labels).reshape(-1).astype(np.float64),
                 COL_NAMES=[target_name, data_name],
                 DESCR="mldata.org dataset: mnist-original (amlhandson.datasets.mnist)")


def patch_datasets(module: types.ModuleType) -> Undo | None:
    """``fetch_mldata('MNIST original')`` offline (mldata.org closed in 2018)."""
    return None if _has(module, "fetch_mldata") else _set(module, "fetch_mldata", fetch_mldata)


_PLOTS = {"plot_confusion_matrix": "ConfusionMatrixDisplay",
          "plot_roc_curve": "RocCurveDisplay",
          "plot_precision_recall_curve": "PrecisionRecallDisplay"}


def _plot(metrics: types.ModuleType, name: str, display: str) -> Callable[..., Any]:
    def plot(estimator: Any, X: Any, y: Any, **kwargs: Any) -> Any:  # noqa: N803
        note_once(f"sklearn.{name}", f"sklearn.metrics.{name} は scikit-learn 1.2 で削除されました。"
                                     f"いまの書き方: {display}.from_estimator(estimator, X, y)")
        return getattr(metrics, display).from_estimator(estimator, X, y, **kwargs)

    plot.__name__ = name
    return plot


def patch_metrics(module: types.ModuleType) -> Undo | None:
    """``plot_confusion_matrix``, ``plot_roc_curve``, ``plot_precision_recall_curve`` (1.2)."""
    return _chain([_set(module, name, _plot(module, name, display))
                   for name, display in _PLOTS.items() if not _has(module, name)])


# ---- MNIST downloads of 2019 notebooks ------------------------------------------------------
#: Hosts whose MNIST files 2018-2019 notebooks downloaded with ``urlretrieve``.
MNIST_HOSTS = ("yann.lecun.com", "azureopendatastorage.blob.core.windows.net",
               "azureopendatastorage.azurefd.net")


def mnist_key(url: Any) -> str | None:
    """``"train-images"`` etc. when ``url`` is one of the MNIST files of :data:`MNIST_HOSTS`.

    Example:
        >>> mnist_key("http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz")
        'test-labels'
        >>> mnist_key("https://example.com/train-images-idx3-ubyte.gz") is None
        True
    """
    from urllib.parse import urlsplit

    from ..datasets.mnist import REMOTE_NAMES

    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if parts.hostname not in MNIST_HOSTS:
        return None
    base = parts.path.rsplit("/", 1)[-1]
    return next((key for key, name in REMOTE_NAMES.items() if name == base), None)


def patch_urllib(module: types.ModuleType) -> Undo | None:
    """``urllib.request.urlretrieve`` of the MNIST files, served from the verified copy."""
    real = module.urlretrieve

    def urlretrieve(url: Any, filename: Any = None, reporthook: Any = None,
                    data: Any = None) -> Any:
        key = mnist_key(url) if data is None else None
        if key is None:
            return real(url, filename, reporthook, data)
        import email.message
        import tempfile

        from .. import _atomic

        note_once("mnist.urlretrieve", f"{url} はもう使えないことがあるので、amlhandson.compat が "
                  "amlhandson.datasets.mnist の検証済みファイル (ミラーか同梱サンプル) を渡して"
                  "います。いまの書き方: from amlhandson.datasets import mnist; "
                  "mnist.download('data')")
        source = _mnist_files()[key]
        if filename is None:
            handle, filename = tempfile.mkstemp(suffix=".gz")
            os.close(handle)
        _atomic.copy_file(source, filename)
        return os.fspath(filename), email.message.Message()

    urlretrieve.__wrapped__ = real  # type: ignore[attr-defined]
    return _set(module, "urlretrieve", urlretrieve)


def _chain(undos: list[Undo]) -> Undo | None:
    if not undos:
        return None

    def undo() -> None:
        for one in reversed(undos):
            one()

    return undo


#: Module name -> patches applied right after it is imported (or at install, if it already is).
POST_IMPORT: dict[str, tuple[Callable[[types.ModuleType], Undo | None], ...]] = {
    "numpy": (patch_numpy,),
    "sklearn.linear_model": (patch_linear_model,),
    "sklearn.preprocessing": (patch_preprocessing,),
    "sklearn.datasets": (patch_datasets,),
    "sklearn.metrics": (patch_metrics,),
    "urllib.request": (patch_urllib,),
}
