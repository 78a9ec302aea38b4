"""A workspace at scale: 100,000 runs and 10,000,000 metric values, measured against MLflow.

Builds one workspace with ``--runs`` runs (spread over 10 experiments) holding
``--values`` metric values in total (``--values / --runs`` per run, three metric
names), plus one run with a ``--series`` point series, then measures:

* listing the 20 newest runs of an experiment (``itertools.islice(exp.get_runs(), 20)``),
  target under 50 ms;
* ``run.get_metrics()`` of the long series, target under 1 s;
* database bytes per million metric values;
* ``run.log`` per call amortised over 200,000 calls (``complete()`` included), target under
  1 µs;

and the same size measure for MLflow's SQLite store (the named peer), filled through
``MlflowClient.log_batch`` with ``--mlflow-values`` values, printed as a ratio.

Runs are inserted through the store's own operations (the same SQL ``Run`` uses), in
batches, so building the workspace takes minutes, not hours.

Usage::

    pip install -e ".[bench]"
    python benchmarks/bench_store_scale.py [--runs 100000] [--values 10000000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _size(folder: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in folder.rglob(pattern) if p.is_file())


def build(home: Path, runs: int, values: int) -> tuple[object, float]:
    """The workspace, filled; returns (workspace, seconds taken)."""
    os.environ["AMLHANDSON_HOME"] = str(home)
    from amlhandson import Workspace
    from amlhandson._store import SCALAR, Store

    start = time.perf_counter()
    ws = Workspace.create("scale", resource_group="bench", exist_ok=True, show_output=False)
    store = Store.open(ws.path)
    experiments = [store.experiments.ensure(f"exp-{i}").pk for i in range(10)]
    per_run = max(1, values // runs)
    names = ("loss", "accuracy", "lr")
    batch: list[tuple] = []
    now = time.time() - runs
    for i in range(runs):
        rec = store.runs.create(run_id=f"run-{i:06d}", experiment_pk=experiments[i % 10],
                                status="Completed", now=now + i)
        for j in range(per_run):
            batch.append((rec.pk, names[j % 3], SCALAR, 1.0 / (j + 1), now + i))
        if len(batch) >= 500_000:
            store.metrics.write(batch)
            batch = []
        if i and i % 10_000 == 0:
            print(f"  {i:,} runs ({time.perf_counter() - start:.0f} s)", flush=True)
    if batch:
        store.metrics.write(batch)
    return ws, time.perf_counter() - start


def time_listing(ws: object, repeat: int = 20) -> float:
    from amlhandson import Experiment

    exp = Experiment(ws, "exp-3")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        newest = list(itertools.islice(exp.get_runs(), 20))
        times.append(time.perf_counter() - start)
        assert len(newest) == 20
    return statistics.median(times)


def time_series(ws: object, points: int) -> float:
    from amlhandson import Experiment

    run = Experiment(ws, "series").start_logging()
    log = run.log
    for i in range(points):
        log("loss", 1.0 / (i + 1))
    run.complete()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        series = run.get_metrics()["loss"]
        times.append(time.perf_counter() - start)
        assert len(series) == points
    return statistics.median(times)


def time_log(ws: object, calls: int = 200_000) -> float:
    from amlhandson import Experiment

    exp = Experiment(ws, "log-speed")
    per_call = []
    for _ in range(3):
        run = exp.start_logging()
        log = run.log
        start = time.perf_counter()
        for i in range(calls):
            log("loss", 1.0 / (i + 1))
        run.complete()
        per_call.append((time.perf_counter() - start) / calls)
    return statistics.median(per_call)


def mlflow_bytes_per_value(folder: Path, values: int) -> float | None:
    try:
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient
    except ImportError:
        return None
    db = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    exp = client.create_experiment("scale", artifact_location=str(folder / "artifacts"))
    empty = db.stat().st_size
    run = client.create_run(exp)
    names = ("loss", "accuracy", "lr")
    ts = int(time.time() * 1000)
    for start in range(0, values, 1000):
        metrics = [Metric(names[j % 3], 1.0 / (j + 1), ts, j) for j in
                   range(start, min(start + 1000, values))]
        client.log_batch(run.info.run_id, metrics=metrics)
    client.set_terminated(run.info.run_id)
    return (db.stat().st_size - empty) / values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--values", type=int, default=10_000_000)
    parser.add_argument("--series", type=int, default=1_000_000)
    parser.add_argument("--mlflow-values", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="amlhandson-scale-") as tmp:
        home = Path(tmp)
        print(f"building {args.runs:,} runs with {args.values:,} metric values ...", flush=True)
        ws, built = build(home, args.runs, args.values)
        db_bytes = _size(ws.path, "workspace.db*")
        per_million = db_bytes / (args.values / 1e6)
        listing = time_listing(ws)
        series = time_series(ws, args.series)
        log_us = time_log(ws) * 1e6
        mlflow = mlflow_bytes_per_value(home, args.mlflow_values)
        print(f"built in {built:.0f} s; database {db_bytes / 1e6:,.1f} MB")
        print(f"20 newest runs of an experiment : {listing * 1000:7.2f} ms   (target < 50 ms)")
        print(f"get_metrics(), {args.series:,} points : {series * 1000:7.1f} ms   (target < 1000 ms)")
        print(f"run.log amortised                : {log_us:7.3f} µs   (target < 1 µs)")
        print(f"database per million values      : {per_million / 1e6:7.2f} MB")
        if mlflow is not None:
            print(f"MLflow SQLite per million values : {mlflow:7.2f} MB   "
                  f"(MLflow / amlhandson = {mlflow * 1e6 / per_million:.1f}x)")
        else:
            print("MLflow not installed: pip install -e '.[bench]' for the comparison")
        ok = listing < 0.05 and series < 1.0 and log_us < 1.0
        print("all targets met" if ok else "A TARGET WAS MISSED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
