"""Drawing trial hyperparameters, on the notebook side (plain code, unit-tested).

:func:`make_sampler` turns a sampling configuration into an object with
``ask() -> Sample | None`` (``None``: the space is exhausted) and
``tell(sample, value, state)`` (the trial's best primary metric, used by the
Bayesian sampler). The HyperDrive driver asks for a sample each time it can
start a trial.

Example:
    >>> from amlhandson.train.hyperdrive import GridParameterSampling, choice
    >>> sampler = make_sampler(GridParameterSampling({"--k": choice(1, 3), "--w": choice("u", "d")}))
    >>> [sampler.ask().params for _ in range(4)]
    [{'--k': 1, '--w': 'u'}, {'--k': 1, '--w': 'd'}, {'--k': 3, '--w': 'u'}, {'--k': 3, '--w': 'd'}]
    >>> sampler.ask() is None
    True
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from .sampling import (
    BayesianParameterSampling,
    GridParameterSampling,
    HyperParameterSampling,
    RandomParameterSampling,
    space_size,
)

__all__ = ["Sample", "make_sampler", "draw", "RandomSampler", "GridSampler", "TPESampler",
           "COMPLETE", "PRUNED", "FAIL"]

COMPLETE, PRUNED, FAIL = "complete", "pruned", "fail"
#: Discrete spaces up to this size are sampled from a shuffled list of every combination.
_PERMUTE_UP_TO = 100_000


@dataclass
class Sample:
    """One trial's hyperparameters; ``index`` counts from 0 in the order they were drawn."""

    index: int
    params: dict[str, Any]
    token: Any = field(default=None, repr=False)


def _quantize(value: float, q: float, integral: bool) -> float | int:
    result = round(value / q) * q
    return int(result) if integral else float(result)


def draw(expression: list[Any], rng: Any) -> Any:
    """One value of ``expression`` (``["uniform", [0, 1]]`` ...) from a numpy ``Generator``.

    ``quniform`` / ``qloguniform`` / ``qnormal`` / ``qlognormal`` give an ``int``
    when their arguments are integers (so ``argparse`` ``type=int`` works).

    Example:
        >>> import numpy as np
        >>> draw(["quniform", [0, 10, 5]], np.random.default_rng(0)) in (0, 5, 10)
        True
    """
    name, args = expression
    if name == "choice":
        return args[0][int(rng.integers(len(args[0])))]
    if name == "randint":
        return int(rng.integers(args[0]))
    integral = all(isinstance(a, int) for a in args)
    if name == "uniform":
        return float(rng.uniform(args[0], args[1]))
    if name == "quniform":
        return _quantize(rng.uniform(args[0], args[1]), args[2], integral)
    if name == "loguniform":
        return float(math.exp(rng.uniform(args[0], args[1])))
    if name == "qloguniform":
        return _quantize(math.exp(rng.uniform(args[0], args[1])), args[2], integral)
    if name == "normal":
        return float(rng.normal(args[0], args[1]))
    if name == "qnormal":
        return _quantize(rng.normal(args[0], args[1]), args[2], integral)
    if name == "lognormal":
        return float(math.exp(rng.normal(args[0], args[1])))
    if name == "qlognormal":
        return _quantize(math.exp(rng.normal(args[0], args[1])), args[2], integral)
    raise ValueError(f"unknown parameter expression {name!r}")


def _discrete_values(expression: list[Any]) -> list[Any]:
    name, args = expression
    return list(args[0]) if name == "choice" else list(range(args[0]))


class RandomSampler:
    """Random samples; all-discrete spaces are drawn without repeats until exhausted."""

    def __init__(self, parameter_space: dict[str, list[Any]], seed: int | None = None) -> None:
        import numpy as np

        self._space = parameter_space
        self._rng = np.random.default_rng(seed)
        self._count = 0
        self._size = space_size(parameter_space)
        self._order: Any = None
        self._seen: set[tuple[int, ...]] = set()
        if self._size is not None:
            self._values = [_discrete_values(e) for e in parameter_space.values()]
            if self._size <= _PERMUTE_UP_TO:
                self._order = self._rng.permutation(self._size)

    def _combination(self, flat: int) -> tuple[int, ...]:
        indexes = []
        for values in reversed(self._values):
            flat, i = divmod(flat, len(values))
            indexes.append(i)
        return tuple(reversed(indexes))

    def ask(self) -> Sample | None:
        """The next sample, or ``None`` when a discrete space has no new combination left."""
        keys = list(self._space)
        if self._size is None:
            params = {k: draw(e, self._rng) for k, e in self._space.items()}
        else:
            if self._count >= self._size:
                return None
            if self._order is not None:
                combo = self._combination(int(self._order[self._count]))
            else:
                while True:
                    combo = tuple(int(self._rng.integers(len(v))) for v in self._values)
                    if combo not in self._seen:
                        break
                self._seen.add(combo)
            params = {k: self._values[i][c] for i, (k, c) in enumerate(zip(keys, combo))}
        sample = Sample(self._count, params)
        self._count += 1
        return sample

    def tell(self, sample: Sample, value: float | None, state: str = COMPLETE) -> None:
        """Random sampling does not learn from results."""


class GridSampler:
    """Every combination of the ``choice`` values, in the order of the keys (last varies fastest)."""

    def __init__(self, parameter_space: dict[str, list[Any]]) -> None:
        self._keys = list(parameter_space)
        self._iter = itertools.product(*(e[1][0] for e in parameter_space.values()))
        self._count = 0

    def ask(self) -> Sample | None:
        """The next grid point, or ``None`` after the last one."""
        combo = next(self._iter, None)
        if combo is None:
            return None
        sample = Sample(self._count, dict(zip(self._keys, combo)))
        self._count += 1
        return sample

    def tell(self, sample: Sample, value: float | None, state: str = COMPLETE) -> None:
        """Grid sampling does not learn from results."""


class TPESampler:
    """Bayesian optimisation with Optuna's TPE sampler, through ask-and-tell."""

    _MAX_RETRIES = 50

    def __init__(self, parameter_space: dict[str, list[Any]], goal: str,
                 seed: int | None = None) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._space = parameter_space
        self._dists = {k: self._distribution(e) for k, e in parameter_space.items()}
        sampler = optuna.samplers.TPESampler(seed=seed)
        direction = "maximize" if goal.lower() == "maximize" else "minimize"
        self._study = optuna.create_study(direction=direction, sampler=sampler)
        self._size = space_size(parameter_space) if all(
            e[0] == "choice" for e in parameter_space.values()) else None
        self._tried: dict[tuple, float | None] = {}
        self._count = 0
        self._fallback: RandomSampler | None = None

    def _distribution(self, expression: list[Any]) -> Any:
        dist = self._optuna.distributions
        name, args = expression
        if name == "choice":
            return dist.CategoricalDistribution(args[0])
        if name == "uniform":
            return dist.FloatDistribution(float(args[0]), float(args[1]))
        lo, hi, q = (int(a) for a in args)
        return dist.IntDistribution(lo, lo + (hi - lo) // q * q, step=q)

    def ask(self) -> Sample | None:
        """A new proposal from TPE (a repeated combination is told its earlier result)."""
        if self._size is not None and len(self._tried) >= self._size:
            return None
        for _ in range(self._MAX_RETRIES):
            trial = self._study.ask(self._dists)
            key = tuple(trial.params[k] for k in self._space)
            if self._size is None or key not in self._tried:
                self._tried[key] = None
                sample = Sample(self._count, dict(trial.params), token=trial)
                self._count += 1
                return sample
            earlier = self._tried[key]
            state = self._optuna.trial.TrialState
            if earlier is None:
                self._study.tell(trial, state=state.FAIL)
            else:
                self._study.tell(trial, earlier)
        if self._fallback is None:
            self._fallback = RandomSampler(self._space)
        while True:  # TPE keeps repeating itself: take an untried combination at random
            sample = self._fallback.ask()
            if sample is None:
                return None
            key = tuple(sample.params[k] for k in self._space)
            if key not in self._tried:
                self._tried[key] = None
                sample = Sample(self._count, sample.params)
                self._count += 1
                return sample

    def tell(self, sample: Sample, value: float | None, state: str = COMPLETE) -> None:
        """Report a finished trial: its best primary metric (or ``None`` with a failed state)."""
        key = tuple(sample.params[k] for k in self._space)
        if value is not None and math.isfinite(value):
            self._tried[key] = value
        if sample.token is None:
            return
        states = self._optuna.trial.TrialState
        if value is not None and math.isfinite(value) and state == COMPLETE:
            self._study.tell(sample.token, value)
        elif state == PRUNED:
            self._study.tell(sample.token, state=states.PRUNED)
        else:
            self._study.tell(sample.token, state=states.FAIL)


def make_sampler(sampling: HyperParameterSampling, goal: str = "maximize") -> Any:
    """The driver-side sampler for a sampling configuration.

    Example:
        >>> from amlhandson.train.hyperdrive import RandomParameterSampling, choice
        >>> s = make_sampler(RandomParameterSampling({"--k": choice(1, 3, 5)}, {"seed": 0}))
        >>> sorted(s.ask().params["--k"] for _ in range(3))
        [1, 3, 5]
    """
    space = sampling.parameter_space
    if isinstance(sampling, GridParameterSampling):
        return GridSampler(space)
    if isinstance(sampling, BayesianParameterSampling):
        return TPESampler(space, goal, sampling._seed())
    if isinstance(sampling, RandomParameterSampling):
        return RandomSampler(space, sampling._seed())
    raise TypeError(f"unknown sampling {type(sampling).__name__}")
