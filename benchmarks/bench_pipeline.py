"""Pipelines: reuse, parallel steps on a 2-worker cluster, per-step overhead vs plain subprocesses.

Measures, in one process run and on the same machine:

1. **Reuse**: a 3-step pipeline (prepare -> train -> compare, ``PipelineData`` between
   them) is run once, then re-submitted unchanged: every step must be reused and the
   whole pipeline (``exp.submit`` to Completed) done in under 1 s. Peer: the first
   (non-reused) run of the same pipeline. Median of ``--repeat`` re-submissions.
2. **Parallel steps**: two independent steps of about ``--cpu`` seconds of CPU each on an
   ``AmlCompute`` of 2 workers (warm), against a pipeline of one such step on the same
   cluster (the peer, measured in the same run): wall time ratio must be under 1.3x.
3. **Per-step overhead**: 20 trivial steps on ``'local'``, chained with ``run_after``
   (one after another), against the same 20 scripts run one after another as plain
   ``subprocess.run([python, script])`` (the peer); and 20 independent trivial steps
   against the 20 scripts started at once with ``subprocess.Popen``. Prints the overhead
   per step (``(pipeline - peer) / 20``). Reported, no target.

The machine's load average (``os.getloadavg()``) is printed before and after.

Usage::

    python benchmarks/bench_pipeline.py [--repeat 5] [--cpu 2.0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PREP = textwrap.dedent("""
    import argparse, os
    p = argparse.ArgumentParser(); p.add_argument("--out"); a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    open(os.path.join(a.out, "data.txt"), "w").write(" ".join(map(str, range(1000))))
""")
TRAIN = textwrap.dedent("""
    import argparse, os
    p = argparse.ArgumentParser(); p.add_argument("--data"); p.add_argument("--out"); a = p.parse_args()
    n = sum(map(int, open(os.path.join(a.data, "data.txt")).read().split()))
    os.makedirs(a.out, exist_ok=True)
    open(os.path.join(a.out, "model.txt"), "w").write(str(n))
""")
COMPARE = textwrap.dedent("""
    import argparse, os
    p = argparse.ArgumentParser(); p.add_argument("--model"); a = p.parse_args()
    print(open(os.path.join(a.model, "model.txt")).read())
""")
BUSY = textwrap.dedent("""
    import sys, time
    end = time.process_time() + float(sys.argv[1])
    x = 0
    while time.process_time() < end:
        x += 1
""")
TRIVIAL = "pass\n"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _wait(run) -> float:  # noqa: ANN001 - a PipelineRun
    status = run.wait_for_completion(show_output=False)
    if status != "Completed":
        raise SystemExit(f"pipeline run {run.id} ended {status}: {run.record.error}")
    return time.perf_counter()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cpu", type=float, default=2.0, help="CPU seconds of each parallel step")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="amlhandson-bench-pipeline-"))
    os.environ["AMLHANDSON_HOME"] = str(root / "home")
    os.chdir(root)
    from amlhandson import Experiment, Workspace
    from amlhandson.core.compute import AmlCompute, ComputeTarget
    from amlhandson.pipeline.core import Pipeline, PipelineData
    from amlhandson.pipeline.steps import PythonScriptStep

    print(f"load average (1, 5, 15 min) before: {_load()}  (cores: {os.cpu_count()})")
    ws = Workspace.create("bench-ws", resource_group="bench", exist_ok=True, show_output=False)
    exp = Experiment(ws, "bench-pipeline")
    for name, text in (("prep", PREP), ("train", TRAIN), ("compare", COMPARE), ("busy", BUSY),
                       ("trivial", TRIVIAL)):
        (root / name).mkdir()
        (root / name / f"{name}.py").write_text(text)
    failed = []

    # 1. reuse ------------------------------------------------------------------------------------
    prepared, model = PipelineData("prepared"), PipelineData("model")
    PythonScriptStep("prep.py", name="prepare", arguments=["--out", prepared],
                     outputs=[prepared], source_directory=root / "prep")
    train = PythonScriptStep("train.py", name="train", arguments=["--data", prepared, "--out",
                                                                  model],
                             inputs=[prepared], outputs=[model], source_directory=root / "train")
    compare = PythonScriptStep("compare.py", name="compare", arguments=["--model", model],
                               inputs=[model], source_directory=root / "compare")
    assert train
    three = Pipeline(ws, steps=[compare])
    start = time.perf_counter()
    first = _wait(exp.submit(three)) - start
    again = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        run = exp.submit(three)
        again.append(_wait(run) - start)
        if not all(s.reused for s in run.get_steps()):
            raise SystemExit("an unchanged step was not reused")
    reuse = statistics.median(again)
    print(f"\n1. unchanged 3-step pipeline re-submitted (median of {args.repeat}): "
          f"{reuse:.3f} s, all 3 steps reused (max {max(again):.3f} s)")
    print(f"   peer: its first run, every step executed: {first:.3f} s "
          f"-> re-submission takes {reuse / first:.2f}x of it")
    if reuse >= 1.0:
        failed.append(f"reuse {reuse:.3f} s >= 1 s")

    # 2. two independent steps on a 2-worker cluster ------------------------------------------------
    cluster = ComputeTarget.create(ws, "cpu2", AmlCompute.provisioning_configuration(max_nodes=2))
    try:
        def busy_pipeline(n: int, tag: str) -> Pipeline:
            steps = [PythonScriptStep("busy.py", name=f"busy{i}", arguments=[args.cpu, tag],
                                      compute_target=cluster, source_directory=root / "busy",
                                      allow_reuse=False) for i in range(n)]
            return Pipeline(ws, steps=steps)

        _wait(exp.submit(busy_pipeline(2, "warm-up")))  # start the cluster's workers
        one_step, two_steps = [], []
        for i in range(args.repeat):
            start = time.perf_counter()
            _wait(exp.submit(busy_pipeline(1, f"one-{i}")))
            one_step.append(time.perf_counter() - start)
            start = time.perf_counter()
            run = exp.submit(busy_pipeline(2, f"two-{i}"))
            two_steps.append(_wait(run) - start)
        one, two = statistics.median(one_step), statistics.median(two_steps)
        ratio = two / one
        print(f"\n2. two independent {args.cpu:g}-CPU-second steps on a warm 2-worker AmlCompute "
              f"(median of {args.repeat}): {two:.2f} s")
        print(f"   peer: a pipeline of one such step on the same cluster: {one:.2f} s "
              f"-> {ratio:.2f}x (target < 1.3x)")
        if ratio >= 1.3:
            failed.append(f"parallel steps {ratio:.2f}x >= 1.3x")
    finally:
        cluster.delete()

    # 3. per-step overhead ------------------------------------------------------------------------
    script = str(root / "trivial" / "trivial.py")
    chain = []
    for i in range(20):
        step = PythonScriptStep("trivial.py", name=f"t{i:02d}", source_directory=root / "trivial",
                                arguments=[f"chain-{i}"], allow_reuse=False)
        if chain:
            step.run_after(chain[-1])
        chain.append(step)
    start = time.perf_counter()
    chained = _wait(exp.submit(Pipeline(ws, steps=chain))) - start
    start = time.perf_counter()
    for _ in range(20):
        subprocess.run([sys.executable, script], check=True)
    plain = time.perf_counter() - start
    apart = [PythonScriptStep("trivial.py", name=f"p{i:02d}", source_directory=root / "trivial",
                              arguments=[f"apart-{i}"], allow_reuse=False) for i in range(20)]
    start = time.perf_counter()
    together = _wait(exp.submit(Pipeline(ws, steps=apart))) - start
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, script]) for _ in range(20)]
    for proc in procs:
        proc.wait()
    plain_together = time.perf_counter() - start
    print("\n3. 20 trivial steps on 'local':")
    print(f"   chained (run_after): {chained:.2f} s vs 20 plain subprocesses one after another "
          f"{plain:.2f} s -> {chained / plain:.2f}x, overhead {(chained - plain) / 20 * 1000:.0f} ms "
          "per step")
    print(f"   independent: {together:.2f} s vs 20 plain subprocesses started at once "
          f"{plain_together:.2f} s -> {together / plain_together:.2f}x, overhead "
          f"{(together - plain_together) / 20 * 1000:.0f} ms per step")

    print(f"\nload average (1, 5, 15 min) after: {_load()}")
    if failed:
        print("\nMISSED: " + "; ".join(failed))
        return 1
    print("\nall targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
