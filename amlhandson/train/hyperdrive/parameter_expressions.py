"""Parameter expressions: how one hyperparameter of a HyperDrive search is distributed.

As in Azure ML v1 (``azureml.train.hyperdrive.parameter_expressions``), each
function checks its arguments and returns a JSON-able list ``[name, [args]]``;
the samplers (:mod:`.sampling`) draw values from these lists. Errors start with
v1's literal message (``"uniform expects min_value < max_value"``) followed by
an explanation in Japanese.

Bounds of ``loguniform`` / ``qloguniform`` are **exponents**, as in v1:
``loguniform(-3, 0)`` draws between ``exp(-3)`` and ``exp(0)``.

Example:
    >>> choice(1, 3, 5)
    ['choice', [[1, 3, 5]]]
    >>> choice(range(1, 4))
    ['choice', [[1, 2, 3]]]
    >>> uniform(0.5, 1.5)
    ['uniform', [0.5, 1.5]]
    >>> uniform(2, 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    amlhandson.exceptions.TrainingException: uniform expects min_value < max_value ...
"""

from __future__ import annotations

import math
from typing import Any

from ...exceptions import TrainingException

__all__ = ["choice", "randint", "uniform", "quniform", "loguniform", "qloguniform", "normal",
           "qnormal", "lognormal", "qlognormal", "EXPRESSIONS"]

#: Every expression name and the number of arguments it takes.
EXPRESSIONS = {"choice": 1, "randint": 1, "uniform": 2, "quniform": 3, "loguniform": 2,
               "qloguniform": 3, "normal": 2, "qnormal": 3, "lognormal": 2, "qlognormal": 3}

_HINTS = {
    "a float": "数値 (int か float) を渡してください",
    "an int": "整数を渡してください",
}


def _fail(obj: str, condition: str, hint: str) -> TrainingException:
    return TrainingException(f"{obj} expects {condition} ({hint})")


def _number(obj: str, name: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(obj, f"{name} to be a float",
                    f"{obj} の {name} には数値を渡してください ({value!r} が渡されました)。")
    if not math.isfinite(value):
        raise _fail(obj, f"{name} to be a float",
                    f"{obj} の {name} に有限でない値 {value!r} は使えません。")
    return value


def _q(obj: str, q: Any) -> int | float:
    if isinstance(q, bool) or not (isinstance(q, int) or (isinstance(q, float) and q.is_integer())):
        raise _fail(obj, "q to be an int",
                    f"{obj} の q (刻み幅) には正の整数を渡してください ({q!r} が渡されました)。")
    if q <= 0:
        raise _fail(obj, "q to be an int",
                    f"{obj} の q (刻み幅) は 1 以上にしてください ({q!r} が渡されました)。")
    return q


def choice(*options: Any) -> list[Any]:
    """A discrete set of values: ``choice(1, 2, 3)``, ``choice([1, 2, 3])`` or ``choice(range(1, 4))``.

    Example:
        >>> choice("linear", "rbf")
        ['choice', [['linear', 'rbf']]]
    """
    if len(options) == 0:
        raise TrainingException("Please specify an input for choice. (choice には候補の値を 1 つ"
                                "以上渡してください。例: choice(1, 3, 5))")
    for item in options:
        if isinstance(item, (range, list, tuple)):
            if len(options) > 1 or len(item) == 0:
                raise _fail("choice", "non-empty single list, non-empty single range() or a "
                            "positive number of arbitrary comma separated inputs.",
                            "choice(1, 3, 5)、choice([1, 3, 5])、choice(range(1, 6)) のどれかの"
                            "形で、空でない候補を渡してください")
            return ["choice", [list(item)]]
    return ["choice", [list(options)]]


def randint(upper: int) -> list[Any]:
    """A random integer in ``[0, upper)``.

    Example:
        >>> randint(10)
        ['randint', [10]]
    """
    if isinstance(upper, bool) or not isinstance(upper, int) or upper <= 0:
        raise _fail("randint", "a positive number as input",
                    f"randint(upper) の upper には 1 以上の整数を渡してください ({upper!r} が"
                    "渡されました)。")
    return ["randint", [upper]]


def uniform(min_value: float, max_value: float) -> list[Any]:
    """A float uniformly distributed between ``min_value`` and ``max_value``.

    Example:
        >>> uniform(0.01, 1.0)
        ['uniform', [0.01, 1.0]]
    """
    lo, hi = _number("uniform", "min_value", min_value), _number("uniform", "max_value", max_value)
    if lo >= hi:
        raise _fail("uniform", "min_value < max_value",
                    f"uniform の min_value ({lo}) は max_value ({hi}) より小さくしてください")
    return ["uniform", [lo, hi]]


def quniform(min_value: float, max_value: float, q: int) -> list[Any]:
    """``round(uniform(min_value, max_value) / q) * q``: a uniform value on a grid of step ``q``.

    Example:
        >>> quniform(0, 100, 10)
        ['quniform', [0, 100, 10]]
    """
    lo, hi = _number("quniform", "min_value", min_value), _number("quniform", "max_value", max_value)
    step = _q("quniform", q)
    if lo >= hi:
        raise _fail("quniform", "min_value < max_value",
                    f"quniform の min_value ({lo}) は max_value ({hi}) より小さくしてください")
    return ["quniform", [lo, hi, step]]


def loguniform(min_value: float, max_value: float) -> list[Any]:
    """``exp(uniform(min_value, max_value))``: the bounds are exponents (as in v1).

    Example:
        >>> loguniform(-6, 0)   # between exp(-6) ≈ 0.0025 and exp(0) = 1
        ['loguniform', [-6, 0]]
    """
    lo = _number("loguniform", "min_value", min_value)
    hi = _number("loguniform", "max_value", max_value)
    if lo > hi:
        raise _fail("loguniform", "min_value <= max_value",
                    f"loguniform の min_value ({lo}) は max_value ({hi}) 以下にしてください。"
                    "どちらも指数です (loguniform(-6, 0) は exp(-6) から exp(0) の間)")
    return ["loguniform", [lo, hi]]


def qloguniform(min_value: float, max_value: float, q: int) -> list[Any]:
    """``round(exp(uniform(min_value, max_value)) / q) * q``.

    Example:
        >>> qloguniform(0, 5, 1)
        ['qloguniform', [0, 5, 1]]
    """
    lo = _number("qloguniform", "min_value", min_value)
    hi = _number("qloguniform", "max_value", max_value)
    step = _q("qloguniform", q)
    if lo > hi:
        raise _fail("qloguniform", "min_value <= max_value",
                    f"qloguniform の min_value ({lo}) は max_value ({hi}) 以下にしてください")
    return ["qloguniform", [lo, hi, step]]


def _normal(obj: str, mu: Any, sigma: Any) -> tuple[float, float]:
    mu, sigma = _number(obj, "mu", mu), _number(obj, "sigma", sigma)
    if sigma < 0:
        raise _fail(obj, "sigma to be non negative",
                    f"{obj} の sigma (標準偏差) は 0 以上にしてください ({sigma} が渡されました)")
    return mu, sigma


def normal(mu: float, sigma: float) -> list[Any]:
    """A normally distributed float with mean ``mu`` and standard deviation ``sigma``.

    Example:
        >>> normal(10, 3)
        ['normal', [10, 3]]
    """
    return ["normal", list(_normal("normal", mu, sigma))]


def qnormal(mu: float, sigma: float, q: int) -> list[Any]:
    """``round(normal(mu, sigma) / q) * q``.

    Example:
        >>> qnormal(10, 3, 2)
        ['qnormal', [10, 3, 2]]
    """
    mu, sigma = _normal("qnormal", mu, sigma)
    return ["qnormal", [mu, sigma, _q("qnormal", q)]]


def lognormal(mu: float, sigma: float) -> list[Any]:
    """``exp(normal(mu, sigma))``: always positive.

    Example:
        >>> lognormal(0, 1)
        ['lognormal', [0, 1]]
    """
    return ["lognormal", list(_normal("lognormal", mu, sigma))]


def qlognormal(mu: float, sigma: float, q: int) -> list[Any]:
    """``round(exp(normal(mu, sigma)) / q) * q``.

    Example:
        >>> qlognormal(0, 1, 1)
        ['qlognormal', [0, 1, 1]]
    """
    mu, sigma = _normal("qlognormal", mu, sigma)
    return ["qlognormal", [mu, sigma, _q("qlognormal", q)]]
