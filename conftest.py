"""pytest settings shared by the unit tests and the notebooks (nbval).

Before anything runs, make the test session safe, offline and clean:

* ``AMLHANDSON_HOME`` points to a fresh temporary folder, so nothing touches a
  learner's real workspaces and data in ``~/.amlhandson``; the folder is
  removed when the session ends.
* ``AMLHANDSON_MNIST_NO_PUBLIC=1`` forbids the internet mirrors of MNIST. With no
  mirror given, the notebooks get the bundled sample (6,000 + 1,000 images):
  that is the test's "quick mode", with no sizing code in the notebooks. To
  test on the full set, set ``AMLHANDSON_MNIST_MIRROR`` (e.g. to
  ``../shared/data/mnist``) before running pytest.
* nbval runs each notebook with its kernel in a *copy* of the course
  (:func:`amlhandson._course.copy_course`), never in ``notebooks/``, so what the
  notebooks write (``.azureml/``, ``deploy/``, ``outputs/``) goes to the copy;
  the copy is removed when the session ends. MNIST is put where the notebooks
  read it before the first one runs.

Each environment variable is only set when the caller has not set it already.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
_NOTEBOOKS = _ROOT / "notebooks"
_CREATED: list[Path] = []


def _nbval_in_copy(copy_of_notebooks: Path) -> None:
    """Make nbval start its kernels in ``copy_of_notebooks`` instead of ``notebooks/``.

    nbval starts a notebook's kernel with ``cwd`` = the notebook's folder; this
    swaps that folder for the copy (the stored notebooks are still read from
    ``notebooks/``, so outputs are compared with the committed ones).
    """
    import nbval.plugin

    original = nbval.plugin.RunningKernel

    def running_kernel(kernel_name: str, cwd: str | None = None, **kwargs: object) -> object:
        if cwd is not None and Path(cwd).resolve() == _NOTEBOOKS:
            cwd = str(copy_of_notebooks)
        return original(kernel_name, cwd=cwd, **kwargs)

    nbval.plugin.RunningKernel = running_kernel


def pytest_configure(config):  # noqa: ANN001 - pytest hook
    if "AMLHANDSON_HOME" not in os.environ:
        home = Path(tempfile.mkdtemp(prefix="amlhandson-test-home-"))
        _CREATED.append(home)
        os.environ["AMLHANDSON_HOME"] = str(home)
    os.environ.setdefault("AMLHANDSON_MNIST_NO_PUBLIC", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    if getattr(config.option, "nbval_lax", False) or getattr(config.option, "nbval", False):
        from amlhandson._course import copy_course

        sandbox = Path(tempfile.mkdtemp(prefix="amlhandson-test-course-"))
        _CREATED.append(sandbox)
        _nbval_in_copy(copy_course(_NOTEBOOKS, sandbox, with_notebooks=False))
        _prepare_mnist()


def _prepare_mnist() -> None:
    """Put MNIST where the notebooks read it, so any one notebook can run alone."""
    import warnings

    from amlhandson.datasets import mnist

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mnist.MnistWarning)
        mnist.download(progress=False)


def pytest_unconfigure(config):  # noqa: ANN001, ARG001 - pytest hook
    for folder in _CREATED:
        shutil.rmtree(folder, ignore_errors=True)
    _CREATED.clear()
