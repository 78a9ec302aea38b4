"""Data sets used by the hands-on, available offline.

Submodules are imported on demand so that ``import amlhandson.datasets`` stays
light (no NumPy import):

- :mod:`amlhandson.datasets.mnist`: MNIST download with mirrors, integrity
  checks, a bundled sample for offline rooms, and a cached loader.

Example:
    >>> from amlhandson.datasets import mnist  # doctest: +SKIP
    >>> paths = mnist.download("data")  # doctest: +SKIP
"""

__all__ = ["mnist"]
