"""Run Azure ML SDK v1 code unmodified: ``azureml.*`` served by amlhandson.

Opt in with one line, then use the 2019 code as it is::

    import amlhandson.compat; amlhandson.compat.install()

    import azureml.core
    from azureml.core import Workspace, Experiment
    from azureml.core.webservice import LocalWebservice

Other ways to turn it on:

* IPython / Jupyter: ``%load_ext amlhandson.compat`` (``%unload_ext`` turns it off);
* a script: ``python -m amlhandson.compat train.py --arg 1`` (or
  ``amlhandson compat run train.py --arg 1``);
* any process amlhandson starts (scripts submitted with ``ScriptRunConfig`` or an
  estimator, score.py of a deployed service, pipeline steps) inherits the setting
  through the environment variable ``AMLHANDSON_COMPAT`` (``1``, or ``force``) and
  calls :func:`install_from_env` first (the contract: ``docs/compat.md``).

What it does (details in ``docs/compat.md``):

* ``azureml.<path>`` *is* ``amlhandson.<path>`` (the same module objects), with a
  table for names that differ; v1 names that exist only in the cloud (AKS, AutoML,
  Databricks ...) import fine and raise
  :class:`~amlhandson.exceptions.NotSupportedLocallyError` when used, naming the
  concept, the nearest local equivalent and the docs;
* 2019 library names removed since (``from sklearn.externals import joblib``,
  ``np.float``, ``LogisticRegression(multi_class=...)`` ...) work, each with a
  one-time :class:`~amlhandson.exceptions.V1CompatNote` naming the modern spelling;
* authentication classes are accepted (there is nothing to log in to), telemetry
  calls are no-ops, ``azureml.opendatasets.MNIST`` comes from
  :mod:`amlhandson.datasets.mnist`.

If the real Azure ML SDK is importable, :func:`install` refuses (``force=True``
replaces it anyway). :func:`uninstall` undoes everything.

Example:
    >>> import amlhandson.compat
    >>> amlhandson.compat.install()
    >>> from azureml.core import Workspace
    >>> import amlhandson.core
    >>> Workspace is amlhandson.core.Workspace
    True
    >>> amlhandson.compat.uninstall()
    True
"""

from __future__ import annotations

from typing import Any

from ._hook import (
    ENV_VAR,
    child_environ,
    install,
    install_from_env,
    is_installed,
    real_sdk_location,
    uninstall,
)

__all__ = ["install", "uninstall", "is_installed", "install_from_env", "child_environ",
           "real_sdk_location", "ENV_VAR", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext amlhandson.compat``: :func:`install` in this kernel.

    Example (a notebook cell)::

        %load_ext amlhandson.compat
    """
    install()


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext amlhandson.compat``: :func:`uninstall`.

    Example (a notebook cell)::

        %unload_ext amlhandson.compat
    """
    uninstall()
