"""Early-termination policies: when HyperDrive stops a trial that is doing badly.

The classes are v1's (``azureml.train.hyperdrive.policy``); the decision is the
plain function :func:`should_cancel`, applied on the notebook side each time a
trial logs its primary metric. Its input is the history of every trial's
primary metric (``{run_id: [value at interval 1, value at interval 2, ...]}``).

Rules (v1's documented semantics; the choices v1 left open are marked *):

* An **interval** is one logging of the primary metric by that trial. A policy
  is applied to a trial at its interval ``N`` when ``N % evaluation_interval ==
  0`` and ``N >= delay_evaluation``.
* Peers* are the other trials (running or finished) with at least one value;
  with no peer nothing is canceled.
* :class:`BanditPolicy`: ``best`` is the best value any trial logged up to
  interval ``N``, ``mine`` this trial's best up to ``N``. Maximizing, cancel when
  ``mine < best / (1 + slack_factor)`` or ``mine < best - slack_amount``;
  minimizing*, when ``mine > best * (1 + slack_factor)`` or ``mine > best + slack_amount``.
* :class:`MedianStoppingPolicy`: cancel when ``mine`` is worse than the median of
  the peers'* running averages over their intervals ``1..N``.
* :class:`TruncationSelectionPolicy`: among the trials (this one included) that
  reached interval ``N``, compare the values *at* ``N``; cancel this trial when it
  is among the worst ``floor(truncation_percentage% × count)``* (trials with
  equal values are kept unless all of them fit in that share).

Example:
    >>> policy = BanditPolicy(slack_factor=0.2)
    >>> histories = {"a": [0.8], "b": [0.65]}
    >>> should_cancel(policy, histories, "b", "maximize")  # doctest: +ELLIPSIS
    'BanditPolicy: ... 0.65 < 0.666667 ...'
    >>> should_cancel(policy, {"a": [0.8], "b": [0.7]}, "b", "maximize") is None
    True
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ...exceptions import TrainingException

__all__ = ["EarlyTerminationPolicy", "BanditPolicy", "MedianStoppingPolicy",
           "TruncationSelectionPolicy", "NoTerminationPolicy", "should_cancel", "is_due"]


def _int(policy: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TrainingException(
            f"{name} should be an int ({policy} の {name} には整数を渡してください: {value!r})。")
    if value < minimum:
        raise TrainingException(f"{policy} の {name} は {minimum} 以上にしてください ({value})。")
    return value


class EarlyTerminationPolicy:
    """Base of the policies: ``evaluation_interval`` and ``delay_evaluation``.

    Example:
        >>> MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5).delay_evaluation
        5
    """

    NAME = ""

    def __init__(self, name: str, properties: dict[str, Any] | None = None) -> None:
        self._name = name
        self._properties = properties or {}

    @property
    def evaluation_interval(self) -> int:
        """Apply the policy every this many intervals."""
        return self._properties.get("evaluation_interval", 1)

    @property
    def delay_evaluation(self) -> int:
        """Do not apply the policy before this interval."""
        return self._properties.get("delay_evaluation", 0)

    def to_json(self) -> dict[str, Any]:
        """``{"name": ..., "properties": {...}}`` as v1 sent it to the service."""
        return {"name": self._name, "properties": dict(self._properties)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._properties.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_json() == self.to_json()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


class NoTerminationPolicy(EarlyTerminationPolicy):
    """Every trial runs to the end (the same as ``policy=None``).

    Example:
        >>> NoTerminationPolicy().to_json()
        {'name': 'Default', 'properties': {}}
    """

    NAME = "Default"

    def __init__(self) -> None:
        super().__init__(self.NAME)


class BanditPolicy(EarlyTerminationPolicy):
    """Cancel a trial whose best is outside the slack of the leader.

    Give exactly one of ``slack_factor`` (a ratio) and ``slack_amount`` (an absolute gap).

    Example:
        >>> BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=5).slack_factor
        0.1
    """

    NAME = "Bandit"

    def __init__(self, evaluation_interval: int = 1, slack_factor: float | None = None,
                 slack_amount: float | None = None, delay_evaluation: int = 0) -> None:
        if (slack_factor is None) == (slack_amount is None):
            raise TrainingException(
                "For bandit termination policy, specify either slack factor or slack amount with "
                "respect to the best performing run. (slack_factor か slack_amount のどちらか "
                "一方だけを指定してください。)")
        for name, value in (("slack_factor", slack_factor), ("slack_amount", slack_amount)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value < 0):
                raise TrainingException(f"BanditPolicy の {name} には 0 以上の数値を渡してください "
                                        f"({value!r})。")
        props: dict[str, Any] = {
            "evaluation_interval": _int("BanditPolicy", "evaluation_interval",
                                        evaluation_interval, 1),
            "delay_evaluation": _int("BanditPolicy", "delay_evaluation", delay_evaluation, 0),
        }
        if slack_factor is not None:
            props["slack_factor"] = slack_factor
        else:
            props["slack_amount"] = slack_amount
        super().__init__(self.NAME, props)

    @property
    def slack_factor(self) -> float | None:
        """The allowed ratio to the leader (or ``None``)."""
        return self._properties.get("slack_factor")

    @property
    def slack_amount(self) -> float | None:
        """The allowed absolute gap to the leader (or ``None``)."""
        return self._properties.get("slack_amount")


class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Cancel a trial whose best is worse than the median of the others' running averages.

    Example:
        >>> MedianStoppingPolicy(delay_evaluation=5).evaluation_interval
        1
    """

    NAME = "MedianStopping"

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        super().__init__(self.NAME, {
            "evaluation_interval": _int("MedianStoppingPolicy", "evaluation_interval",
                                        evaluation_interval, 1),
            "delay_evaluation": _int("MedianStoppingPolicy", "delay_evaluation",
                                     delay_evaluation, 0)})


class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """Cancel the worst ``truncation_percentage`` % of the trials at each evaluation.

    Example:
        >>> TruncationSelectionPolicy(truncation_percentage=20).truncation_percentage
        20
    """

    NAME = "TruncationSelection"

    def __init__(self, truncation_percentage: int, evaluation_interval: int = 1,
                 delay_evaluation: int = 0) -> None:
        if (isinstance(truncation_percentage, bool) or not isinstance(truncation_percentage, int)
                or not 1 <= truncation_percentage <= 99):
            raise TrainingException(
                "`truncation_percentage` value needs to be between 1 and 99. "
                f"(1 から 99 の整数を渡してください: {truncation_percentage!r})")
        super().__init__(self.NAME, {
            "truncation_percentage": truncation_percentage,
            "evaluation_interval": _int("TruncationSelectionPolicy", "evaluation_interval",
                                        evaluation_interval, 1),
            "delay_evaluation": _int("TruncationSelectionPolicy", "delay_evaluation",
                                     delay_evaluation, 0)})

    @property
    def truncation_percentage(self) -> int:
        """The share (in %) of the trials canceled at each evaluation."""
        return self._properties["truncation_percentage"]


# -- the decision ---------------------------------------------------------------------------
def is_due(policy: EarlyTerminationPolicy | None, interval: int) -> bool:
    """Whether ``policy`` is applied at ``interval`` (1 = the first logged value).

    Example:
        >>> [n for n in range(1, 10) if is_due(BanditPolicy(2, 0.1, delay_evaluation=3), n)]
        [4, 6, 8]
    """
    if policy is None or isinstance(policy, NoTerminationPolicy) or interval < 1:
        return False
    return interval % policy.evaluation_interval == 0 and interval >= policy.delay_evaluation


def _clean(values: list[Any]) -> list[float]:
    return [float(v) for v in values
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


def _fmt(value: float) -> str:
    return format(value, ".6g")


def should_cancel(policy: EarlyTerminationPolicy | None, histories: dict[str, list[Any]],
                  run_id: str, goal: str) -> str | None:
    """Apply ``policy`` to trial ``run_id`` at its latest interval: the reason to cancel, or ``None``.

    ``histories`` holds every trial's primary-metric values in logging order;
    ``goal`` is ``"maximize"`` or ``"minimize"``. Values that are not finite
    numbers are ignored.

    Example:
        >>> h = {"a": [0.5, 0.6, 0.7], "b": [0.4, 0.5, 0.55], "c": [0.1, 0.2, 0.3]}
        >>> should_cancel(MedianStoppingPolicy(), h, "c", "maximize")  # doctest: +ELLIPSIS
        'MedianStoppingPolicy: ...'
        >>> should_cancel(MedianStoppingPolicy(), h, "a", "maximize") is None
        True
    """
    mine_all = _clean(histories.get(run_id, []))
    n = len(mine_all)
    if not is_due(policy, n):
        return None
    maximize = goal.lower() == "maximize"
    better = max if maximize else min
    worse_than = (lambda a, b: a < b) if maximize else (lambda a, b: a > b)
    peers = {rid: _clean(vals) for rid, vals in histories.items() if rid != run_id}
    peers = {rid: vals for rid, vals in peers.items() if vals}
    if not peers:
        return None
    mine = better(mine_all)
    if isinstance(policy, BanditPolicy):
        best = better([mine] + [better(vals[:n]) for vals in peers.values()])
        if policy.slack_factor is not None:
            factor = policy.slack_factor
            limit = best / (1 + factor) if maximize else best * (1 + factor)
            slack = f"slack_factor {factor}"
        else:
            amount = policy.slack_amount or 0.0
            limit = best - amount if maximize else best + amount
            slack = f"slack_amount {amount}"
        if worse_than(mine, limit):
            sign = "<" if maximize else ">"
            return (f"BanditPolicy: interval {n} で最良値 {_fmt(mine)} {sign} {_fmt(limit)} "
                    f"(先頭の試行の {_fmt(best)} と {slack} から) のため早期終了しました。")
        return None
    if isinstance(policy, MedianStoppingPolicy):
        averages = [statistics.fmean(vals[:n]) for vals in peers.values()]
        median = statistics.median(averages)
        if worse_than(mine, median):
            return (f"MedianStoppingPolicy: interval {n} で最良値 {_fmt(mine)} が、ほかの試行の"
                    f"移動平均の中央値 {_fmt(median)} より悪いため早期終了しました。")
        return None
    if isinstance(policy, TruncationSelectionPolicy):
        at_n = [vals[n - 1] for vals in peers.values() if len(vals) >= n]
        if not at_n:
            return None
        mine_n = mine_all[n - 1]
        count = math.floor(policy.truncation_percentage * (len(at_n) + 1) / 100)
        worse = sum(1 for v in at_n if worse_than(v, mine_n))
        tied = sum(1 for v in at_n if v == mine_n) + 1
        if worse + tied <= count:
            return (f"TruncationSelectionPolicy: interval {n} の値 {_fmt(mine_n)} が "
                    f"{len(at_n) + 1} 個の試行の下位 {policy.truncation_percentage}% に入ったため"
                    "早期終了しました。")
        return None
    raise TypeError(f"unknown policy {type(policy).__name__}")
