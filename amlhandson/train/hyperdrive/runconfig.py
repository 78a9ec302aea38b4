"""``HyperDriveConfig``: what a hyperparameter search runs, how it samples, when it stops.

As in Azure ML v1 (``azureml.train.hyperdrive.runconfig``)::

    hd = HyperDriveConfig(run_config=src,                      # or estimator=est
                          hyperparameter_sampling=GridParameterSampling({"--k": choice(1, 3, 5)}),
                          policy=None,
                          primary_metric_name="accuracy",
                          primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                          max_total_runs=3, max_concurrent_runs=2)
    hd_run = exp.submit(hd)

``HyperDriveRunConfig(estimator, hyperparameter_sampling, ...)`` is the 2019
name (deprecated in v1, still accepted). Each trial runs the script with the
base arguments plus the sampled values (``--k 3``); a flag given in both
places takes the sampled value, with v1's warning.

Example:
    >>> from amlhandson.train.hyperdrive import GridParameterSampling, choice
    >>> from amlhandson.core.script_run_config import ScriptRunConfig
    >>> hd = HyperDriveConfig(run_config=ScriptRunConfig(".", "train.py"),
    ...                       hyperparameter_sampling=GridParameterSampling({"--k": choice(1, 3)}),
    ...                       primary_metric_name="accuracy",
    ...                       primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, max_total_runs=2)
    >>> hd.max_concurrent_runs, hd.trial_arguments({"--k": 3})
    (2, ['--k', '3'])
"""

from __future__ import annotations

import enum
import warnings
from typing import Any

from ...exceptions import TrainingException, UserErrorException
from .policy import EarlyTerminationPolicy, NoTerminationPolicy
from .sampling import BayesianParameterSampling, HyperParameterSampling

__all__ = ["HyperDriveConfig", "HyperDriveRunConfig", "PrimaryMetricGoal", "MAX_DURATION_MINUTES"]

#: v1's service limit: a HyperDrive run is canceled after this many minutes (7 days).
MAX_DURATION_MINUTES = 10080
MAX_TOTAL_RUNS = 1000
MAX_CONCURRENT_RUNS = 100
_BAYES_RUNS_PER_PARAMETER = 20
_BAYES_MAX_CONCURRENT = 20


class PrimaryMetricGoal(enum.Enum):
    """Whether a larger (``MAXIMIZE``) or a smaller (``MINIMIZE``) primary metric is better.

    Example:
        >>> PrimaryMetricGoal.from_str("maximize")
        <PrimaryMetricGoal.MAXIMIZE: 'MAXIMIZE'>
    """

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"

    @staticmethod
    def from_str(goal: str) -> PrimaryMetricGoal:
        """The goal named ``goal`` (any case)."""
        if isinstance(goal, PrimaryMetricGoal):
            return goal
        if isinstance(goal, str):
            for member in PrimaryMetricGoal:
                if goal.lower() == member.name.lower():
                    return member
        raise TrainingException(f"Unknown goal '{goal}' (PrimaryMetricGoal.MAXIMIZE か "
                                "PrimaryMetricGoal.MINIMIZE を指定してください)。")


def _positive_int(name: str, value: Any, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise TrainingException(f"{name} には 1 から {upper} までの整数を指定してください "
                                f"({value!r} が渡されました)。")
    return value


def _flag(key: str) -> str:
    return key if key.startswith("-") else f"--{key}"


def _split_duplicates(base: list[str], params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``base`` without the flags (and their values) that ``params`` sets; the removed flags."""
    names = {_flag(k).lstrip("-") for k in params}
    kept: list[str] = []
    duplicates: list[str] = []
    skip_value = False
    for i, arg in enumerate(base):
        if skip_value:
            skip_value = False
            continue
        if arg.startswith("-") and arg.lstrip("-") in names:
            duplicates.append(arg)
            skip_value = i + 1 < len(base) and not base[i + 1].startswith("--")
            continue
        kept.append(arg)
    return kept, duplicates


class HyperDriveConfig:
    """A hyperparameter search: the run to repeat, the sampling, the policy and the limits.

    Example:
        >>> hd = HyperDriveConfig(hyperparameter_sampling=ps, primary_metric_name="accuracy",  # doctest: +SKIP
        ...                       primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        ...                       max_total_runs=8, estimator=est)
    """

    def __init__(self, hyperparameter_sampling: HyperParameterSampling, primary_metric_name: str,
                 primary_metric_goal: PrimaryMetricGoal | str, max_total_runs: int,
                 max_concurrent_runs: int | None = None,
                 max_duration_minutes: int = MAX_DURATION_MINUTES,
                 policy: EarlyTerminationPolicy | None = None, estimator: Any = None,
                 run_config: Any = None, resume_from: Any = None, resume_child_runs: Any = None,
                 pipeline: Any = None) -> None:
        from ...core.script_run_config import ScriptRunConfig
        from ..estimator import MMLBaseEstimator

        given = [v for v in (estimator, run_config, pipeline) if v is not None]
        if not given:
            raise UserErrorException("One of 'estimator', 'run_config' and 'pipeline' arguments are "
                                     "mandatory. (試行ごとに実行するスクリプトを run_config="
                                     "ScriptRunConfig(...) か estimator=SKLearn(...) で渡してください。)")
        if len(given) > 1:
            raise UserErrorException("Only one of 'estimator', 'run_config' and 'pipeline' can be "
                                     "present. (どれか 1 つだけを渡してください。)")
        if pipeline is not None:
            raise UserErrorException("HyperDriveConfig(pipeline=...) は amlhandson ではまだ使えません。"
                                     "run_config=ScriptRunConfig(...) を使ってください。")
        if run_config is not None and not isinstance(run_config, ScriptRunConfig):
            raise UserErrorException(f"Got {type(run_config)} for 'run_config' type, expected "
                                     "'ScriptRunConfig'.")
        if estimator is not None and not isinstance(estimator, MMLBaseEstimator):
            raise UserErrorException(f"Got {type(estimator)} for 'estimator' type, expected an "
                                     "estimator (Estimator, SKLearn).")
        if not isinstance(hyperparameter_sampling, HyperParameterSampling):
            raise TrainingException(
                "hyperparameter_sampling には RandomParameterSampling / GridParameterSampling / "
                f"BayesianParameterSampling を渡してください ({type(hyperparameter_sampling).__name__}"
                " が渡されました)。")
        if isinstance(hyperparameter_sampling, BayesianParameterSampling) and not (
                policy is None or isinstance(policy, NoTerminationPolicy)):
            raise UserErrorException("No early termination policy is currently supported with "
                                     f"Bayesian sampling. '{policy}' was provided")
        if policy is not None and not isinstance(policy, EarlyTerminationPolicy):
            raise TrainingException("policy には BanditPolicy などの早期終了ポリシーか None を渡して"
                                    f"ください ({type(policy).__name__} が渡されました)。")
        if not isinstance(primary_metric_name, str) or not primary_metric_name.strip():
            raise TrainingException("primary_metric_name には、スクリプトが run.log で記録する"
                                    "メトリックの名前を渡してください (例: 'accuracy')。")
        if resume_from is not None or resume_child_runs is not None:
            raise UserErrorException("resume_from / resume_child_runs は amlhandson ではまだ使えません。")
        self._estimator = estimator
        self._run_config = run_config
        self._sampling = hyperparameter_sampling
        self._policy = policy if policy is not None else NoTerminationPolicy()
        self._primary_metric_name = primary_metric_name
        self._goal = PrimaryMetricGoal.from_str(primary_metric_goal)
        self._max_total_runs = _positive_int("max_total_runs", max_total_runs, MAX_TOTAL_RUNS)
        if max_concurrent_runs is None:
            max_concurrent_runs = min(self._max_total_runs, MAX_CONCURRENT_RUNS)
        self._max_concurrent_runs = _positive_int("max_concurrent_runs", max_concurrent_runs,
                                                  MAX_CONCURRENT_RUNS)
        if isinstance(max_duration_minutes, bool) or not isinstance(max_duration_minutes,
                                                                    (int, float)) \
                or max_duration_minutes <= 0:
            raise TrainingException("max_duration_minutes には正の分数を指定してください "
                                    f"({max_duration_minutes!r})。")
        if max_duration_minutes > MAX_DURATION_MINUTES:
            warnings.warn(f"The experiment maximum duration provided ({max_duration_minutes} minutes)"
                          f" exceeds the service limit of {MAX_DURATION_MINUTES} minutes. The maximum "
                          f"duration will be overridden with {MAX_DURATION_MINUTES} minutes.",
                          stacklevel=2)
            max_duration_minutes = MAX_DURATION_MINUTES
        self._max_duration_minutes = max_duration_minutes
        if isinstance(hyperparameter_sampling, BayesianParameterSampling):
            wanted = _BAYES_RUNS_PER_PARAMETER * len(hyperparameter_sampling.parameter_space)
            if self._max_total_runs < wanted:
                warnings.warn("For best results with Bayesian Sampling we recommend using a maximum "
                              "number of runs greater than or equal to 20 times the number of "
                              f"hyperparameters being tuned. Current value for max_total_runs:"
                              f"{self._max_total_runs}. Recommendend value:{wanted}.", stacklevel=2)
            if self._max_concurrent_runs > _BAYES_MAX_CONCURRENT:
                warnings.warn("We recommend using 20 max concurrent runs or fewer when using Bayesian "
                              "sampling since a higher number might not provide the best result. "
                              f"Current max concurrent runs:{self._max_concurrent_runs}.",
                              stacklevel=2)

    # -- v1 properties --------------------------------------------------------------------------
    @property
    def estimator(self) -> Any:
        """The estimator (``None`` when a ``run_config`` was given)."""
        return self._estimator

    @property
    def run_config(self) -> Any:
        """The ``ScriptRunConfig`` (``None`` when an estimator was given)."""
        return self._run_config

    @property
    def source_directory(self) -> str:
        """The folder snapshotted for every trial."""
        return self.script_run_config.source_directory

    @property
    def hyperparameter_sampling(self) -> HyperParameterSampling:
        """The sampling of the search space."""
        return self._sampling

    @property
    def policy(self) -> EarlyTerminationPolicy:
        """The early-termination policy (``NoTerminationPolicy`` when none was given)."""
        return self._policy

    @property
    def primary_metric_name(self) -> str:
        """The metric the trials log and the search compares."""
        return self._primary_metric_name

    @property
    def primary_metric_goal(self) -> PrimaryMetricGoal:
        """``MAXIMIZE`` or ``MINIMIZE``."""
        return self._goal

    @property
    def max_total_runs(self) -> int:
        """At most this many trials (fewer when a discrete space runs out)."""
        return self._max_total_runs

    @property
    def max_concurrent_runs(self) -> int:
        """At most this many trials at once."""
        return self._max_concurrent_runs

    @property
    def max_duration_minutes(self) -> float:
        """Trials still running after this many minutes are canceled."""
        return self._max_duration_minutes

    # -- what the trials run ----------------------------------------------------------------------
    @property
    def script_run_config(self) -> Any:
        """The ``ScriptRunConfig`` each trial runs (an estimator's is built from it)."""
        if self._run_config is not None:
            return self._run_config
        return self._estimator._get_script_run_config()

    def trial_arguments(self, params: dict[str, Any]) -> list[str]:
        """The trial's command line: base arguments (minus overridden flags) plus ``params``.

        Example:
            >>> hd.trial_arguments({"--C": 0.5})  # doctest: +SKIP
            ['--data-folder', 'data', '--C', '0.5']
        """
        kept, _ = _split_duplicates([str(a) for a in self.script_run_config.arguments], params)
        for key, value in params.items():
            kept += [_flag(key), str(value)]
        return kept

    def _warn_duplicates(self) -> None:
        """v1's warning when a flag is both a base argument and a searched parameter."""
        base = [str(a) for a in self.script_run_config.arguments]
        _, duplicates = _split_duplicates(base, self._sampling.parameter_space)
        if duplicates:
            warnings.warn("The same input parameter(s) are specified in estimator/run_config script "
                          "params and HyperDrive parameter space. HyperDrive parameter space "
                          "definition will override these duplicate entries. "
                          f"{duplicates} is the list of overridden parameter(s).", stacklevel=3)

    def _to_dict(self) -> dict[str, Any]:
        return {
            "generator_config": self._sampling.to_json(),
            "policy_config": self._policy.to_json(),
            "primary_metric_config": {"name": self._primary_metric_name,
                                      "goal": self._goal.name.lower()},
            "max_total_jobs": self._max_total_runs,
            "max_concurrent_jobs": self._max_concurrent_runs,
            "max_duration_minutes": self._max_duration_minutes,
        }

    def _submit(self, experiment: Any, tags: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        from .run import HyperDriveRun

        return HyperDriveRun._submit(experiment, self, tags=tags)


class HyperDriveRunConfig(HyperDriveConfig):
    """The 2019 name, with ``estimator`` first (deprecated in v1; prefer :class:`HyperDriveConfig`).

    Example:
        >>> hd = HyperDriveRunConfig(estimator=est, hyperparameter_sampling=ps,  # doctest: +SKIP
        ...                          primary_metric_name="accuracy",
        ...                          primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, max_total_runs=4)
    """

    def __init__(self, estimator: Any, hyperparameter_sampling: HyperParameterSampling,
                 primary_metric_name: str, primary_metric_goal: PrimaryMetricGoal | str,
                 max_total_runs: int, max_concurrent_runs: int | None = None,
                 max_duration_minutes: int = MAX_DURATION_MINUTES,
                 policy: EarlyTerminationPolicy | None = None) -> None:
        warnings.warn("HyperDriveRunConfig is deprecated. Please use the new HyperDriveConfig class. "
                      "(HyperDriveRunConfig は v1 で非推奨になりました。HyperDriveConfig を使ってください)",
                      DeprecationWarning, stacklevel=2)
        super().__init__(hyperparameter_sampling=hyperparameter_sampling,
                         primary_metric_name=primary_metric_name,
                         primary_metric_goal=primary_metric_goal, max_total_runs=max_total_runs,
                         max_concurrent_runs=max_concurrent_runs,
                         max_duration_minutes=max_duration_minutes, policy=policy,
                         estimator=estimator)
