"""HyperDrive configuration: expressions, samplers, policies (hand-computed cases), config checks."""

from __future__ import annotations

import math
import warnings

import pytest

from amlhandson.core.script_run_config import ScriptRunConfig
from amlhandson.exceptions import TrainingException, UserErrorException
from amlhandson.train.estimator import Estimator
from amlhandson.train.hyperdrive import (
    BanditPolicy,
    BayesianParameterSampling,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRunConfig,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    TruncationSelectionPolicy,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from amlhandson.train.hyperdrive._samplers import COMPLETE, draw, make_sampler
from amlhandson.train.hyperdrive.policy import is_due, should_cancel


# -- parameter expressions --------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: choice(), "Please specify an input for choice."),
    (lambda: choice([1], [2]), "choice expects non-empty single list"),
    (lambda: choice([]), "choice expects non-empty single list"),
    (lambda: choice(range(0)), "choice expects non-empty single list"),
    (lambda: randint(0), "randint expects a positive number as input"),
    (lambda: randint(2.5), "randint expects a positive number as input"),
    (lambda: randint(True), "randint expects a positive number as input"),
    (lambda: uniform(1, 1), "uniform expects min_value < max_value"),
    (lambda: uniform("a", 1), "uniform expects min_value to be a float"),
    (lambda: uniform(0, float("nan")), "uniform expects max_value to be a float"),
    (lambda: quniform(0, 10, 0.5), "quniform expects q to be an int"),
    (lambda: quniform(0, 10, 0), "quniform expects q to be an int"),
    (lambda: quniform(5, 1, 1), "quniform expects min_value < max_value"),
    (lambda: loguniform(2, 1), "loguniform expects min_value <= max_value"),
    (lambda: qloguniform(0, 1, "1"), "qloguniform expects q to be an int"),
    (lambda: normal(0, -1), "normal expects sigma to be non negative"),
    (lambda: qnormal(None, 1, 1), "qnormal expects mu to be a float"),
    (lambda: lognormal(0, "x"), "lognormal expects sigma to be a float"),
    (lambda: qlognormal(0, -0.1, 1), "qlognormal expects sigma to be non negative"),
])
def test_expression_errors_start_with_v1_message(call, message) -> None:
    with pytest.raises(TrainingException) as info:
        call()
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_expressions_return_v1_lists() -> None:
    assert choice(1, 2) == ["choice", [[1, 2]]]
    assert choice([1, 2]) == ["choice", [[1, 2]]]
    assert choice((3,)) == ["choice", [[3]]]
    assert loguniform(1, 1) == ["loguniform", [1, 1]]  # equal bounds are allowed (v1)
    assert quniform(0, 1, 1.0) == ["quniform", [0, 1, 1.0]]
    assert normal(0, 0) == ["normal", [0, 0]]


def test_draw_respects_each_distribution() -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    for _ in range(200):
        assert 1 <= draw(uniform(1, 2), rng) <= 2
        v = draw(quniform(0, 10, 5), rng)
        assert v in (0, 5, 10) and isinstance(v, int)
        assert math.exp(-3) <= draw(loguniform(-3, 0), rng) <= 1
        assert draw(qloguniform(0, 3, 2), rng) % 2 == 0
        assert draw(randint(3), rng) in (0, 1, 2)
        assert draw(lognormal(0, 1), rng) > 0
        assert draw(qnormal(0, 5, 3), rng) % 3 == 0
        assert draw(qlognormal(0, 1, 1), rng) >= 0
    assert isinstance(draw(quniform(0.0, 1.0, 1), rng), float)
    values = [draw(normal(10, 0.5), rng) for _ in range(2000)]
    assert abs(sum(values) / len(values) - 10) < 0.1


# -- samplers -----------------------------------------------------------------------------------
def test_grid_is_the_cartesian_product_in_order() -> None:
    s = make_sampler(GridParameterSampling({"--a": choice(1, 2), "--b": choice("x", "y", "z")}))
    got = []
    while (sample := s.ask()) is not None:
        got.append((sample.index, sample.params["--a"], sample.params["--b"]))
    assert got == [(0, 1, "x"), (1, 1, "y"), (2, 1, "z"), (3, 2, "x"), (4, 2, "y"), (5, 2, "z")]


@pytest.mark.parametrize("space", [
    {"--k": choice(1, 3, 5, 7), "--w": choice("u", "d")},
    {"--seed": randint(7)},
])
def test_random_discrete_space_has_no_repeats_and_runs_out(space) -> None:
    s = make_sampler(RandomParameterSampling(space, properties={"seed": 3}))
    seen = []
    while (sample := s.ask()) is not None:
        seen.append(tuple(sample.params.values()))
    size = 8 if "--k" in space else 7
    assert len(seen) == size == len(set(seen))


def test_random_is_repeatable_with_a_seed_and_mixes_kinds() -> None:
    space = {"--C": loguniform(-4, 2), "--solver": choice("lbfgs", "saga")}
    a = make_sampler(RandomParameterSampling(space, {"seed": 5}))
    b = make_sampler(RandomParameterSampling(space, {"seed": 5}))
    first = [a.ask().params for _ in range(20)]
    assert first == [b.ask().params for _ in range(20)]
    assert all(math.exp(-4) <= p["--C"] <= math.exp(2) for p in first)
    assert {p["--solver"] for p in first} == {"lbfgs", "saga"}


def test_grid_and_bayesian_refuse_other_distributions() -> None:
    with pytest.raises(TrainingException, match="Distribution 'uniform' not supported"):
        GridParameterSampling({"--C": uniform(0, 1)})
    with pytest.raises(TrainingException, match="Distribution 'normal' not supported"):
        BayesianParameterSampling({"--C": normal(0, 1)})
    with pytest.raises(TrainingException, match="'choice' values should be 'int', 'string' or"):
        GridParameterSampling({"--C": choice([1], [2]) if False else ["choice", [[[1, 2]]]]})
    with pytest.raises(TrainingException, match="quniform arguments should be integers"):
        BayesianParameterSampling({"--n": quniform(0.5, 10, 1)})
    with pytest.raises(TrainingException, match="too many values"):
        BayesianParameterSampling({"--n": quniform(0, 10_000_000, 1)})
    with pytest.raises(TrainingException, match="parameter_space cannot be None"):
        RandomParameterSampling(None)  # type: ignore[arg-type]
    with pytest.raises(TrainingException, match="パラメーター名"):
        RandomParameterSampling({"--a b": choice(1)})
    with pytest.raises(TrainingException, match="Failed to validate"):
        RandomParameterSampling({"--a": [1, 2, 3]})


def test_bayesian_learns_and_stops_on_a_finite_space() -> None:
    pytest.importorskip("optuna")
    s = make_sampler(BayesianParameterSampling({"--x": quniform(0, 20, 1)}, seed=1), "maximize")
    seen = set()
    for _ in range(21):
        sample = s.ask()
        assert sample is not None
        x = sample.params["--x"]
        assert isinstance(x, int) and 0 <= x <= 20
        seen.add(x)
        s.tell(sample, -abs(x - 13), COMPLETE)
    s2 = make_sampler(BayesianParameterSampling({"--k": choice(1, 2, 3)}, seed=0), "minimize")
    got = []
    while (sample := s2.ask()) is not None:
        got.append(sample.params["--k"])
        s2.tell(sample, float(sample.params["--k"]), COMPLETE)
    assert sorted(got) == [1, 2, 3]
    s3 = make_sampler(BayesianParameterSampling({"--C": uniform(0, 10)}, seed=2), "maximize")
    values = []
    for _ in range(30):
        sample = s3.ask()
        values.append(sample.params["--C"])
        s3.tell(sample, -(sample.params["--C"] - 7) ** 2, COMPLETE)
    # after the 10 random start-up trials, TPE concentrates near the optimum 7
    assert sum(abs(v - 7) < 2 for v in values[15:]) >= 8


# -- policies: hand-computed cases -------------------------------------------------------------
def test_is_due_follows_interval_and_delay() -> None:
    assert [n for n in range(1, 8) if is_due(MedianStoppingPolicy(), n)] == list(range(1, 8))
    assert [n for n in range(1, 12) if is_due(MedianStoppingPolicy(3, 5), n)] == [6, 9]
    assert not is_due(None, 3) and not is_due(NoTerminationPolicy(), 3)


def test_bandit_docs_example_factor_and_amount() -> None:
    # v1 docs: best 0.8; slack_factor 0.2 -> threshold 0.8/1.2 = 0.6667; slack_amount 0.2 -> 0.6
    factor, amount = BanditPolicy(slack_factor=0.2), BanditPolicy(slack_amount=0.2)
    leader = [0.5, 0.8]
    assert should_cancel(factor, {"lead": leader, "me": [0.3, 0.66]}, "me", "maximize")
    assert should_cancel(factor, {"lead": leader, "me": [0.3, 0.67]}, "me", "maximize") is None
    assert should_cancel(amount, {"lead": leader, "me": [0.3, 0.59]}, "me", "maximize")
    assert should_cancel(amount, {"lead": leader, "me": [0.3, 0.61]}, "me", "maximize") is None
    # only values up to my interval count: the leader's later 0.99 is not seen at interval 1
    assert should_cancel(factor, {"lead": [0.5, 0.99], "me": [0.45]}, "me", "maximize") is None
    # my best so far counts, not my latest
    assert should_cancel(factor, {"lead": leader, "me": [0.7, 0.1]}, "me", "maximize") is None


def test_bandit_minimize_and_delay() -> None:
    p = BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=2)
    h = {"lead": [1.0, 1.0], "me": [5.0]}
    assert should_cancel(p, h, "me", "minimize") is None  # interval 1 < delay 2
    h["me"].append(1.2)  # best 1.2 > 1.0 * 1.1
    assert "BanditPolicy" in should_cancel(p, h, "me", "minimize")
    h["me"][-1] = 1.05
    assert should_cancel(p, h, "me", "minimize") is None


def test_bandit_needs_a_peer_and_ignores_bad_values() -> None:
    p = BanditPolicy(slack_amount=0.0)
    assert should_cancel(p, {"me": [0.1]}, "me", "maximize") is None
    assert should_cancel(p, {"me": [0.1], "x": [float("nan"), "s"]}, "me", "maximize") is None


def test_median_uses_running_averages_of_the_others() -> None:
    p = MedianStoppingPolicy()
    # peers' running averages over 1..2: a (0.6+0.8)/2 = 0.7, b (0.2+0.4)/2 = 0.3, c 0.5 -> median 0.5
    h = {"a": [0.6, 0.8, 0.9], "b": [0.2, 0.4], "c": [0.5, 0.5], "me": [0.45, 0.49]}
    assert "0.5" in should_cancel(p, h, "me", "maximize")
    h["me"] = [0.51, 0.2]  # best so far 0.51 >= 0.5
    assert should_cancel(p, h, "me", "maximize") is None
    # minimize: median of averages 0.3, lower is better
    h2 = {"a": [0.2, 0.4], "me": [0.5, 0.35]}
    assert should_cancel(p, h2, "me", "minimize")
    h2["me"] = [0.29, 0.9]
    assert should_cancel(p, h2, "me", "minimize") is None


def test_truncation_compares_values_at_the_same_interval() -> None:
    p = TruncationSelectionPolicy(truncation_percentage=25)
    # 4 trials at interval 2: me 0.3, others 0.5, 0.6, 0.7 -> floor(25% of 4) = 1 worst -> me
    h = {"a": [0.1, 0.5, 0.99], "b": [0.2, 0.6], "c": [0.3, 0.7], "me": [0.9, 0.3]}
    assert "下位 25%" in should_cancel(p, h, "me", "maximize")
    # 3 trials (c has not reached interval 2): floor(25% of 3) = 0 -> nobody
    h3 = {"a": [0.1, 0.5], "b": [0.2, 0.6], "c": [0.3], "me": [0.9, 0.3]}
    assert should_cancel(p, h3, "me", "maximize") is None
    # the old trial a is compared by its value at interval 2 (0.5), not its latest (0.99)
    p50 = TruncationSelectionPolicy(50)
    h4 = {"a": [0.1, 0.5, 0.99], "me": [0.1, 0.6]}
    assert should_cancel(p50, h4, "me", "maximize") is None
    assert should_cancel(p50, {"a": [0.1, 0.7, 0.1], "me": [0.1, 0.6]}, "me", "maximize")
    # ties do not cancel
    assert should_cancel(p50, {"a": [0.6], "me": [0.6]}, "me", "maximize") is None
    # minimize: the largest is the worst
    assert should_cancel(p50, {"a": [0.2], "me": [0.3]}, "me", "minimize")


@pytest.mark.parametrize("make, message", [
    (lambda: BanditPolicy(), "For bandit termination policy, specify either slack factor"),
    (lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.1), "For bandit termination policy"),
    (lambda: BanditPolicy(slack_factor=-1), "0 以上"),
    (lambda: BanditPolicy(evaluation_interval=1.5, slack_factor=0.1), "evaluation_interval should be an int"),
    (lambda: MedianStoppingPolicy(delay_evaluation="5"), "delay_evaluation should be an int"),
    (lambda: TruncationSelectionPolicy(0), "`truncation_percentage` value needs to be between 1 and 99."),
    (lambda: TruncationSelectionPolicy(100), "`truncation_percentage` value needs to be between"),
])
def test_policy_validation(make, message) -> None:
    with pytest.raises(TrainingException, match=message.replace("(", r"\(").replace(".", r"\.")):
        make()


# -- HyperDriveConfig ---------------------------------------------------------------------------
def _hd(**overrides):
    args = dict(run_config=ScriptRunConfig(".", "train.py", arguments=["--data", "d", "--k", "1"]),
                hyperparameter_sampling=GridParameterSampling({"--k": choice(1, 3)}),
                primary_metric_name="accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                max_total_runs=4)
    args.update(overrides)
    return HyperDriveConfig(**args)


def test_config_defaults_and_arguments() -> None:
    hd = _hd()
    assert hd.max_concurrent_runs == 4 and isinstance(hd.policy, NoTerminationPolicy)
    assert hd.trial_arguments({"--k": 3}) == ["--data", "d", "--k", "3"]
    assert hd.trial_arguments({"lr": 0.1}) == ["--data", "d", "--k", "1", "--lr", "0.1"]
    with pytest.warns(UserWarning, match="The same input parameter"):
        hd._warn_duplicates()
    assert _hd(primary_metric_goal="minimize").primary_metric_goal is PrimaryMetricGoal.MINIMIZE


@pytest.mark.parametrize("overrides, exc, message", [
    ({"run_config": None}, UserErrorException, "One of 'estimator', 'run_config' and 'pipeline'"),
    ({"estimator": Estimator(".", entry_script="t.py")}, UserErrorException, "Only one of"),
    ({"run_config": "train.py"}, UserErrorException, "expected 'ScriptRunConfig'"),
    ({"hyperparameter_sampling": BayesianParameterSampling({"--k": choice(1, 3)}),
      "policy": BanditPolicy(slack_factor=0.1)}, UserErrorException,
     "No early termination policy is currently supported with Bayesian sampling"),
    ({"max_total_runs": 0}, TrainingException, "max_total_runs"),
    ({"max_total_runs": 1001}, TrainingException, "max_total_runs"),
    ({"max_concurrent_runs": 101}, TrainingException, "max_concurrent_runs"),
    ({"primary_metric_goal": "up"}, TrainingException, "Unknown goal 'up'"),
    ({"primary_metric_name": ""}, TrainingException, "primary_metric_name"),
    ({"policy": "bandit"}, TrainingException, "policy"),
    ({"hyperparameter_sampling": {"--k": choice(1)}}, TrainingException, "hyperparameter_sampling"),
])
def test_config_validation(overrides, exc, message) -> None:
    with pytest.raises(exc, match=message.replace("(", r"\(")):
        _hd(**overrides)


def test_config_warnings_for_duration_and_bayesian() -> None:
    with pytest.warns(UserWarning, match="exceeds the service limit of 10080"):
        hd = _hd(max_duration_minutes=20000)
    assert hd.max_duration_minutes == 10080
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _hd(hyperparameter_sampling=BayesianParameterSampling({"--k": choice(1, 3)}),
            max_total_runs=5, max_concurrent_runs=25, policy=NoTerminationPolicy())
    texts = " ".join(str(w.message) for w in caught)
    assert "Recommendend value:20" in texts and "Current max concurrent runs:25" in texts


def test_hyperdriverunconfig_is_the_2019_form() -> None:
    est = Estimator(".", entry_script="train.py", script_params={"--kernel": "rbf", "--x": 1})
    with pytest.warns(DeprecationWarning, match="HyperDriveRunConfig is deprecated"):
        hd = HyperDriveRunConfig(est, RandomParameterSampling({"--kernel": choice("linear")}),
                                 "Accuracy", PrimaryMetricGoal.MAXIMIZE, 2)
    assert hd.estimator is est and hd.run_config is None
    assert hd.trial_arguments({"--kernel": "linear"}) == ["--x", "1", "--kernel", "linear"]
