"""How HyperDrive picks the hyperparameters of each trial: random, grid or Bayesian.

As in Azure ML v1 (``azureml.train.hyperdrive.sampling``). A sampling object
only holds the search space (``{"--C": uniform(0.01, 10), ...}``, keys are the
script's command-line flags) and checks it; the values of each trial are drawn
on the notebook side by :mod:`._samplers` when the HyperDrive run starts.

* :class:`RandomParameterSampling`: every expression; a space made only of
  ``choice`` / ``randint`` is sampled without repeats (so it may run out before
  ``max_total_runs``, like v1). ``properties={"seed": 7}`` makes it repeatable.
* :class:`GridParameterSampling`: ``choice`` only; every combination, in order.
* :class:`BayesianParameterSampling`: ``choice``, ``uniform`` and ``quniform``;
  Optuna's TPE sampler proposes each trial from the results so far (Optuna is
  imported only when such a run starts).

Example:
    >>> from amlhandson.train.hyperdrive import choice, uniform
    >>> ps = RandomParameterSampling({"--C": uniform(0.01, 10), "--solver": choice("lbfgs", "saga")})
    >>> ps.to_json()["name"]
    'RANDOM'
    >>> GridParameterSampling({"--C": uniform(0.01, 10)})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    amlhandson.exceptions.TrainingException: Distribution 'uniform' not supported. ...
"""

from __future__ import annotations

import copy
import math
from typing import Any

from ...exceptions import TrainingException
from .parameter_expressions import EXPRESSIONS

__all__ = ["HyperParameterSampling", "RandomParameterSampling", "GridParameterSampling",
           "BayesianParameterSampling", "space_size"]

#: v1's limit on the number of values of a Bayesian ``quniform``.
MAX_BAYESIAN_QUNIFORM_VALUES = 100_000


def _check_expression(key: str, expr: Any) -> None:
    ok = (isinstance(expr, list) and len(expr) == 2 and expr[0] in EXPRESSIONS
          and isinstance(expr[1], list) and len(expr[1]) == EXPRESSIONS[expr[0]])
    if ok and expr[0] == "choice":
        ok = isinstance(expr[1][0], list) and len(expr[1][0]) > 0
    if not ok:
        raise TrainingException(
            f"Failed to validate a parameter distribution due to invalid expression for {key!r} "
            f"(パラメーター {key!r} の値 {expr!r} は分布の式ではありません。choice(1, 3, 5) や "
            "uniform(0.01, 10) のように parameter_expressions の関数で書いてください)。")


def space_size(parameter_space: dict[str, list[Any]]) -> int | None:
    """How many distinct combinations the space has; ``None`` when it is continuous.

    Example:
        >>> from amlhandson.train.hyperdrive import choice, randint
        >>> space_size({"--k": choice(1, 3, 5), "--seed": randint(10)})
        30
    """
    total = 1
    for name, args in parameter_space.values():
        if name == "choice":
            total *= len(args[0])
        elif name == "randint":
            total *= args[0]
        else:
            return None
    return total


class HyperParameterSampling:
    """Base of the three samplings: a checked parameter space and the sampling's name.

    Example:
        >>> RandomParameterSampling({"--k": choice(1, 3)}).parameter_space  # doctest: +SKIP
        {'--k': ['choice', [[1, 3]]]}
    """

    SAMPLING_NAME = ""
    _SUPPORTED: frozenset[str] | None = None

    def __init__(self, sampling_method_name: str, parameter_space: dict[str, Any],
                 properties: dict[str, Any] | None = None) -> None:
        if parameter_space is None:
            raise TrainingException("parameter_space cannot be None (探索するパラメーターを "
                                    "{'--k': choice(1, 3, 5)} のような dict で渡してください)。")
        if not isinstance(parameter_space, dict) or not parameter_space:
            raise TrainingException(
                "parameter_space には {'--引数名': 分布の式} の空でない dict を渡してください "
                f"({type(parameter_space).__name__} が渡されました)。")
        for key, expr in parameter_space.items():
            if not isinstance(key, str) or not key.strip() or any(c.isspace() for c in key):
                raise TrainingException(
                    f"パラメーター名 {key!r} は使えません。スクリプトの引数名 ('--k' など、空白なし) "
                    "にしてください。")
            _check_expression(key, expr)
        if properties is not None and not isinstance(properties, dict):
            raise TrainingException("properties には dict を渡してください。")
        self._sampling_method_name = sampling_method_name
        self._parameter_space = copy.deepcopy(parameter_space)
        self._properties = dict(properties) if properties else None
        self._validate()

    def _validate(self) -> None:
        supported = self._SUPPORTED
        if supported is None:
            return
        for key, (name, _args) in self._parameter_space.items():
            if name not in supported:
                raise TrainingException(
                    f"Distribution '{name}' not supported. Only [{', '.join(sorted(supported))}] "
                    f"are supported for this sampling method. ({type(self).__name__} では "
                    f"{key!r} に {name} は使えません。)")

    @staticmethod
    def _check_choice_types(key: str, values: list[Any]) -> None:
        for value in values:
            if type(value) not in (int, str, float) or (
                    isinstance(value, float) and not math.isfinite(value)):
                raise TrainingException(
                    f"'choice' values should be 'int', 'string' or 'float'. Got "
                    f"'{type(value)}'. ({key!r} の候補 {value!r} は使えません。)")

    @property
    def parameter_space(self) -> dict[str, list[Any]]:
        """The search space as given (a copy)."""
        return copy.deepcopy(self._parameter_space)

    @property
    def properties(self) -> dict[str, Any] | None:
        """Extra settings of the sampling (``{"seed": 7}``)."""
        return dict(self._properties) if self._properties else None

    def to_json(self) -> dict[str, Any]:
        """The sampling as v1 sent it to the service: ``{"name", "parameter_space", ...}``.

        Example:
            >>> GridParameterSampling({"--k": choice(1, 3)}).to_json()  # doctest: +SKIP
            {'name': 'GRID', 'parameter_space': {'--k': ['choice', [[1, 3]]]}}
        """
        definition: dict[str, Any] = {"name": self._sampling_method_name,
                                      "parameter_space": self.parameter_space}
        if self._properties:
            definition["properties"] = dict(self._properties)
        return definition

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._parameter_space!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_json() == self.to_json()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def _seed(self) -> int | None:
        seed = (self._properties or {}).get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TrainingException(f"properties の seed には整数を渡してください ({seed!r})。")
        return seed


class RandomParameterSampling(HyperParameterSampling):
    """Random values from every kind of expression (``properties={"seed": n}`` to repeat).

    Example:
        >>> ps = RandomParameterSampling({"--C": loguniform(-4, 2)}, properties={"seed": 1})  # doctest: +SKIP
    """

    SAMPLING_NAME = "RANDOM"

    def __init__(self, parameter_space: dict[str, Any],
                 properties: dict[str, Any] | None = None) -> None:
        super().__init__(self.SAMPLING_NAME, parameter_space, properties)
        self._seed()


class GridParameterSampling(HyperParameterSampling):
    """Every combination of ``choice`` values, in order (the first key varies slowest).

    Example:
        >>> ps = GridParameterSampling({"--k": choice(1, 3, 5)})  # doctest: +SKIP
    """

    SAMPLING_NAME = "GRID"
    _SUPPORTED = frozenset({"choice"})

    def __init__(self, parameter_space: dict[str, Any]) -> None:
        super().__init__(self.SAMPLING_NAME, parameter_space)

    def _validate(self) -> None:
        super()._validate()
        for key, (_name, args) in self._parameter_space.items():
            self._check_choice_types(key, args[0])


class BayesianParameterSampling(HyperParameterSampling):
    """Trials proposed from earlier results (Optuna's TPE); ``choice``/``uniform``/``quniform``.

    ``seed=`` (not in v1) makes the proposals repeatable. No early-termination
    policy can be combined with it (v1's rule).

    Example:
        >>> ps = BayesianParameterSampling({"--C": uniform(0.01, 10)})  # doctest: +SKIP
    """

    SAMPLING_NAME = "BayesianOptimization"
    _SUPPORTED = frozenset({"choice", "quniform", "uniform"})

    def __init__(self, parameter_space: dict[str, Any], *, seed: int | None = None) -> None:
        super().__init__(self.SAMPLING_NAME, parameter_space,
                         {"seed": seed} if seed is not None else None)
        self._seed()

    def _validate(self) -> None:
        super()._validate()
        for key, (name, args) in self._parameter_space.items():
            if name == "choice":
                self._check_choice_types(key, args[0])
            elif name == "quniform":
                lo, hi, q = args
                if not all(isinstance(a, int) or (isinstance(a, float) and a.is_integer())
                           for a in (lo, hi, q)):
                    raise TrainingException(
                        f"quniform arguments should be integers for Bayesian sampling "
                        f"({key!r}: ベイズ サンプリングの quniform の min_value, max_value, q は"
                        "整数にしてください)。")
                if (hi - lo) / q > MAX_BAYESIAN_QUNIFORM_VALUES:
                    raise TrainingException(
                        f"quniform has too many values for Bayesian sampling ({key!r}: (max_value"
                        f" - min_value) / q は {MAX_BAYESIAN_QUNIFORM_VALUES:,} 以下にしてください)。")
