"""The MNIST settings, in one place: checksum tables, mirrors, time limits.

Every function reads them here at call time, so changing one changes what the
next call does::

    from amlhandson.datasets import mnist
    mnist.settings.DEFAULT_TIMEOUT = 60          # a slow classroom network
    mnist.settings.PUBLIC_MIRRORS = ()           # never leave the room

Example:
    >>> EXPECTED["train-images"].count, SAMPLE_EXPECTED["train-images"].count
    (60000, 6000)
"""

from __future__ import annotations

from ._common import Expected

__all__ = ["EXPECTED", "SAMPLE_EXPECTED", "PUBLIC_MIRRORS", "DEFAULT_TIMEOUT", "USER_AGENT",
           "LOCK_TIMEOUT", "FILE_DEADLINE", "MIN_RATE", "MIN_RATE_AFTER"]

#: The original distribution. Gzip bytes differ between mirrors, the content does not.
EXPECTED: dict[str, Expected] = {
    "train-images": Expected(
        47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 60000
    ),
    "train-labels": Expected(
        60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60000
    ),
    "test-images": Expected(
        7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 10000
    ),
    "test-labels": Expected(
        10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10000
    ),
}

#: The bundled sample (built by ``tools/make_mnist_sample.py``).
SAMPLE_EXPECTED: dict[str, Expected] = {
    "train-images": Expected(
        4704016, "4c76d26cc64ded12a35b578a9791607c6f138a325cdf4387b5a8e37e4a94b3a0", 6000
    ),
    "train-labels": Expected(
        6008, "97e877bff2b8e1124b5b4aacc26bb9442f668c55d913b237c1c38c057a3782db", 6000
    ),
    "test-images": Expected(
        784016, "7715cc3d25845908bdba3b481c1c2ded31a581bd53646a8ffbe230f180c946f1", 1000
    ),
    "test-labels": Expected(
        1008, "d890d03deadd437cda29e1ea520d79b844e167fd4a9393ca03c55c8c99a23f9d", 1000
    ),
}

#: Public mirrors, tried last, in this order.
PUBLIC_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: Seconds to wait for a connection or for the next bytes of a download.
DEFAULT_TIMEOUT = 15.0
#: Sent to mirrors (some refuse urllib's default).
USER_AGENT = "amlhandson-mnist/1 (Python urllib)"


#: Seconds to wait for another process that downloads into the same folder.
LOCK_TIMEOUT = 600.0
#: Longest time one file may take, whatever the mirror does (a slow drip ends here).
FILE_DEADLINE = 900.0
#: Bytes per second below which a download is given up (measured after MIN_RATE_AFTER s).
MIN_RATE = 4096.0
#: Seconds of a download before its speed is judged.
MIN_RATE_AFTER = 30.0
