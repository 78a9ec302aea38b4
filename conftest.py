"""pytest settings shared by the unit tests and the notebooks (nbval).

Before anything runs, make the test session safe and offline:

* ``AMLHANDSON_HOME`` points to a fresh temporary folder, so nothing touches a
  learner's real workspaces in ``~/.amlhandson``;
* ``AMLHANDSON_QUICK=1`` shrinks the notebooks' training data;
* ``AMLHANDSON_MNIST_NO_PUBLIC=1`` forbids the internet mirrors of MNIST, and
  ``AMLHANDSON_MNIST_MIRROR`` points at ``../shared/data/mnist`` when that local
  copy exists (CI); otherwise notebooks fall back to the bundled sample.

Each variable is only set when the caller has not set it already.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
_SHARED_MNIST = _ROOT.parent / "shared" / "data" / "mnist"


def pytest_configure(config):  # noqa: ANN001, ARG001 - pytest hook
    if "AMLHANDSON_HOME" not in os.environ:
        os.environ["AMLHANDSON_HOME"] = tempfile.mkdtemp(prefix="amlhandson-test-home-")
    os.environ.setdefault("AMLHANDSON_QUICK", "1")
    os.environ.setdefault("AMLHANDSON_MNIST_NO_PUBLIC", "1")
    if _SHARED_MNIST.is_dir():
        os.environ.setdefault("AMLHANDSON_MNIST_MIRROR", str(_SHARED_MNIST))
    os.environ.setdefault("MPLBACKEND", "Agg")
