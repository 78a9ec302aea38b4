"""run.log in a training loop: amlhandson vs MLflow's log_metric on its SQLite store.

Measures, in one process run and on the same machine:

* amlhandson: ``exp.start_logging()``, N calls of ``run.log(name, float)``, then
  ``run.complete()`` (which flushes everything to SQLite): wall time / N;
* MLflow (the named peer): ``mlflow.start_run()``, M calls of
  ``mlflow.log_metric(name, float, step=i)`` on a ``sqlite:///`` tracking store
  (MLflow's default database backend), ``mlflow.end_run()``: wall time / M.
  M is smaller than N because each MLflow call costs milliseconds.

Prints per-call costs and the ratio MLflow / amlhandson, and exits with status 1
when amlhandson misses its target (1 µs per call, amortised over 100k calls).

Usage::

    pip install -e ".[bench]"
    python benchmarks/bench_logging.py [--calls 100000] [--mlflow-calls 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_US = 1.0


def bench_amlhandson(calls: int, home: Path) -> float:
    """Seconds per ``run.log`` call, ``complete()`` included."""
    os.environ["AMLHANDSON_HOME"] = str(home)
    from amlhandson import Experiment, Workspace

    ws = Workspace.create("bench-ws", resource_group="bench", exist_ok=True, show_output=False)
    exp = Experiment(ws, "bench")
    cwd = os.getcwd()
    os.chdir(home)
    try:
        start = time.perf_counter()
        run = exp.start_logging()
        log = run.log
        for i in range(calls):
            log("loss", 1.0 / (i + 1))
        run.complete()
        elapsed = time.perf_counter() - start
    finally:
        os.chdir(cwd)
    assert len(run.get_metrics()["loss"]) == calls
    return elapsed / calls


def bench_mlflow(calls: int, home: Path) -> float | None:
    """Seconds per ``mlflow.log_metric`` call on a SQLite store, or None without MLflow."""
    try:
        import mlflow
    except ImportError:
        return None
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    db = home / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    mlflow.set_experiment("bench")
    with mlflow.start_run():  # warm-up: schema creation is not counted
        mlflow.log_metric("warm", 1.0)
    start = time.perf_counter()
    with mlflow.start_run():
        for i in range(calls):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    elapsed = time.perf_counter() - start
    return elapsed / calls


def import_time(module: str) -> float:
    """Seconds to import ``module`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(out.stdout.strip()) if out.returncode == 0 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--mlflow-calls", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ours, peer = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(bench_amlhandson(args.calls, Path(tmp)))
        with tempfile.TemporaryDirectory() as tmp:
            value = bench_mlflow(args.mlflow_calls, Path(tmp))
            if value is not None:
                peer.append(value)
    ours_us = statistics.median(ours) * 1e6
    print(f"amlhandson run.log     : {ours_us:8.2f} µs/call  (median of {args.repeat}, "
          f"{args.calls:,} calls incl. start_logging + complete)")
    if peer:
        peer_us = statistics.median(peer) * 1e6
        print(f"mlflow log_metric      : {peer_us:8.2f} µs/call  (median of {args.repeat}, "
              f"{args.mlflow_calls:,} calls, sqlite store)")
        print(f"ratio mlflow/amlhandson: {peer_us / ours_us:8.0f}x")
    else:
        print("mlflow log_metric      : not measured (pip install -e '.[bench]')")
    print(f"import amlhandson      : {import_time('amlhandson') * 1e3:8.1f} ms")
    if peer:
        print(f"import mlflow          : {import_time('mlflow') * 1e3:8.1f} ms")
    ok = ours_us <= TARGET_US
    print(f"target ≤ {TARGET_US} µs/call: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
