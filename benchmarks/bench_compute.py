"""Remote training: trials on a Dask cluster vs 1 worker and vs joblib; metrics, overhead, kills.

Measures, in one process run and on the same machine:

1. **Speed-up**: 8 kNN trials (k = 1..8, 3-fold CV on a fixed MNIST subset) submitted
   as script runs to an ``AmlCompute`` with 2 workers, to one with 1 worker, and the
   same training function run 8 times with ``joblib.Parallel(n_jobs=2)`` (the
   no-framework floor). Median of ``--repeat`` rounds. Targets: 2 workers >= 1.6x
   faster than 1 worker; within 25 % of joblib.
2. **Submit-to-script-start overhead** on a warm cluster: ``run.record.start_time``
   (the script process started) minus the submit call, for 8 trivial scripts
   submitted one after another. Target < 0.5 s.
3. **Metrics from workers**: a trial logging 100,000 values; all must arrive, at
   >= 10,000 values/s (counted from the script's start to the run's completion).
4. **Early termination**: ``run.cancel()`` on a running trial until its process is
   gone. Target < 1 s.

Usage::

    pip install -e ".[bench]"
    python benchmarks/bench_compute.py [--repeat 3] [--samples 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

KNN = textwrap.dedent("""
    import argparse, numpy as np
    from amlhandson.core import Run
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    p = argparse.ArgumentParser(); p.add_argument("--k", type=int); p.add_argument("--data")
    a = p.parse_args()
    d = np.load(a.data)
    score = cross_val_score(KNeighborsClassifier(n_neighbors=a.k), d["X"], d["y"], cv=3).mean()
    Run.get_context().log("accuracy", float(score))
""")
LOGGER = textwrap.dedent("""
    import argparse
    from amlhandson.core import Run
    p = argparse.ArgumentParser(); p.add_argument("--n", type=int, default=0)
    p.add_argument("--sleep", type=float, default=0); a = p.parse_args()
    run = Run.get_context()
    import time
    for i in range(a.n):
        run.log("loss", 1.0 / (i + 1))
        if a.sleep:
            time.sleep(a.sleep)
""")


def knn_score(k: int, data: str) -> float:
    """The training function of the joblib peer (the same work as the kNN script)."""
    import numpy as np
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    d = np.load(data)
    return float(cross_val_score(KNeighborsClassifier(n_neighbors=k), d["X"], d["y"], cv=3).mean())


def _data(folder: Path, samples: int) -> Path:
    import numpy as np

    from amlhandson.datasets import mnist

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    if shared.is_dir():  # the real MNIST files (CI and the course machine have them)
        X = mnist.load_data(str(shared / "train-images-idx3-ubyte.gz"), False) / 255.0
        y = mnist.load_data(str(shared / "train-labels-idx1-ubyte.gz"), True).reshape(-1)
    else:
        mnist.download(str(folder / "data"))
        X, y, _, _ = mnist.load(str(folder / "data"))
    rng = np.random.default_rng(0)
    idx = rng.choice(len(X), size=min(samples, len(X)), replace=False)
    path = folder / "subset.npz"
    np.savez(path, X=X[idx].astype("float32"), y=y[idx])
    return path


def _sweep(exp, folder: Path, target, data: Path) -> float:
    from amlhandson.core.script_run_config import ScriptRunConfig

    start = time.perf_counter()
    runs = [exp.submit(ScriptRunConfig(str(folder), "knn.py", arguments=["--k", k, "--data",
                                                                         str(data)],
                                       compute_target=target)) for k in range(1, 9)]
    for run in runs:
        run.wait_for_completion()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=10000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="amlhandson-bench-compute-"))
    os.environ["AMLHANDSON_HOME"] = str(root / "home")
    os.chdir(root)
    from joblib import Parallel, delayed

    from amlhandson import Experiment, Workspace
    from amlhandson.core.compute import AmlCompute, ComputeTarget
    from amlhandson.core.script_run_config import ScriptRunConfig

    ws = Workspace.create("bench-ws", resource_group="bench", exist_ok=True, show_output=False)
    folder = root / "scripts"
    folder.mkdir()
    (folder / "knn.py").write_text(KNN)
    (folder / "logger.py").write_text(LOGGER)
    data = _data(root, args.samples)
    two = ComputeTarget.create(ws, "two", AmlCompute.provisioning_configuration(max_nodes=2))
    one = ComputeTarget.create(ws, "one", AmlCompute.provisioning_configuration(max_nodes=1))
    exp = Experiment(ws, "bench")
    failed = []

    # 1. speed-up -------------------------------------------------------------------------------
    _sweep(exp, folder, two, data)  # warm-up: start the clusters, import sklearn on workers
    _sweep(exp, folder, one, data)
    times = {"two": [], "one": [], "joblib": []}
    for _ in range(args.repeat):
        times["two"].append(_sweep(exp, folder, two, data))
        times["one"].append(_sweep(exp, folder, one, data))
        start = time.perf_counter()
        Parallel(n_jobs=2)(delayed(knn_score)(k, str(data)) for k in range(1, 9))
        times["joblib"].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    speedup = med["one"] / med["two"]
    vs_joblib = med["two"] / med["joblib"]
    print(f"8 kNN trials ({args.samples} samples, 3-fold CV), median of {args.repeat}:")
    print(f"  2 workers {med['two']:.2f} s | 1 worker {med['one']:.2f} s | "
          f"joblib n_jobs=2 {med['joblib']:.2f} s")
    print(f"  speed-up 2 vs 1 worker: {speedup:.2f}x (target >= 1.6x); "
          f"2 workers / joblib: {vs_joblib:.2f} (target <= 1.25)")
    if speedup < 1.6:
        failed.append("speed-up")
    if vs_joblib > 1.25:
        failed.append("joblib floor")

    # 2. submit-to-start overhead on the warm 2-worker cluster --------------------------------------
    delays = []
    for _ in range(8):
        submitted = time.time()
        run = exp.submit(ScriptRunConfig(str(folder), "logger.py", compute_target=two))
        run.wait_for_completion()
        delays.append(run.record.start_time - submitted)
    overhead = statistics.median(delays)
    print(f"submit -> script start (warm cluster): median {overhead * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms (target < 500 ms)")
    if overhead >= 0.5:
        failed.append("overhead")

    # 3. metrics from a worker ------------------------------------------------------------------
    run = exp.submit(ScriptRunConfig(str(folder), "logger.py", arguments=["--n", 100000],
                                     compute_target=two))
    details = run.wait_for_completion()
    values = run.get_metrics()["loss"]
    elapsed = run.record.end_time - run.record.start_time
    rate = len(values) / elapsed
    print(f"100,000 run.log calls on a worker: {len(values):,} arrived, "
          f"{rate:,.0f} values/s end to end (target >= 10,000/s, none lost)")
    if len(values) != 100000 or rate < 10000 or details["status"] != "Completed":
        failed.append("metrics")

    # 4. early termination: kill_trial returns once the script's process has exited ---------------
    from amlhandson.core.compute._execution import live

    kills = []
    for _ in range(3):
        run = exp.submit(ScriptRunConfig(str(folder), "logger.py",
                                         arguments=["--n", 100000, "--sleep", 0.01],
                                         compute_target=two))
        while not run.get_metrics().get("loss"):
            time.sleep(0.05)
        execution = live(run.id)
        start = time.perf_counter()
        execution.cancel("benchmark")  # returns when the worker reports the process gone
        kills.append(time.perf_counter() - start)
        execution.join(30)
    kill = statistics.median(kills)
    print(f"early termination: kill returned (process gone) after {kill * 1000:.0f} ms median "
          "(target < 1 s)")
    if kill >= 1.0:
        failed.append("kill")
    two.delete()
    one.delete()
    if failed:
        print("MISSED:", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
