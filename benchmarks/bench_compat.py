"""The cost of the v1 compatibility layer: ``install()``, imports through it, ``run.log``.

Measures, on the same machine in one run:

* ``amlhandson.compat.install()`` in a fresh process (after ``import amlhandson.compat``),
  against the named peer ``import amlhandson`` in a fresh process (what any use of
  amlhandson costs anyway); median of ``--rounds`` processes. Target: install() < 50 ms.
* ``import azureml.core, azureml.core.run, azureml.core.model`` through the layer against
  ``import amlhandson.core, amlhandson.core.run, amlhandson.core.model`` (fresh processes).
* ``run.log(name, float)`` per call with the layer on and off (100,000 calls each,
  ``complete()`` included, alternating, best of ``--repeat``). Target: no measurable cost
  (ratio on / off below 1.10, the run-to-run noise of this measurement).

Exits with status 1 when a target is missed.

Usage::

    python benchmarks/bench_compat.py [--rounds 15] [--calls 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INSTALL_TARGET_MS = 50.0
LOG_RATIO_TARGET = 1.10

_TIMED = """
import json, time
t0 = time.perf_counter()
{setup}
t1 = time.perf_counter()
{timed}
t2 = time.perf_counter()
print(json.dumps([(t1 - t0) * 1000, (t2 - t1) * 1000]))
"""


def _child(setup: str, timed: str, home: Path) -> tuple[float, float]:
    env = dict(os.environ, AMLHANDSON_HOME=str(home))
    env.pop("AMLHANDSON_COMPAT", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, "-c", _TIMED.format(setup=setup, timed=timed)],
                         env=env, capture_output=True, text=True, check=True).stdout
    first, second = json.loads(out.strip().splitlines()[-1])
    return first, second


def bench_install(rounds: int, home: Path) -> dict[str, float]:
    """Medians (ms) of import and install costs in fresh processes."""
    imports, installs, peers, aliased, direct = [], [], [], [], []
    for _ in range(rounds):
        a, b = _child("import amlhandson.compat", "amlhandson.compat.install()", home)
        imports.append(a)
        installs.append(b)
        peers.append(_child("pass", "import amlhandson", home)[1])
        aliased.append(_child("import amlhandson.compat; amlhandson.compat.install()",
                              "import azureml.core, azureml.core.run, azureml.core.model",
                              home)[1])
        direct.append(_child("import amlhandson",
                             "import amlhandson.core, amlhandson.core.run, amlhandson.core.model",
                             home)[1])
    return {"import_compat": statistics.median(imports), "install": statistics.median(installs),
            "install_max": max(installs), "peer_import_amlhandson": statistics.median(peers),
            "azureml_imports": statistics.median(aliased),
            "amlhandson_imports": statistics.median(direct)}


def _log_once(calls: int, layer: bool, home: Path) -> float:
    import amlhandson.compat as compat
    from amlhandson import Experiment, Workspace

    if layer:
        compat.install()
    try:
        ws = Workspace.create("bench-ws", resource_group="bench", exist_ok=True,
                              show_output=False)
        exp = Experiment(ws, "bench-compat")
        start = time.perf_counter()
        run = exp.start_logging()
        log = run.log
        for i in range(calls):
            log("loss", 1.0 / (i + 1))
        run.complete()
        return (time.perf_counter() - start) / calls
    finally:
        if layer:
            compat.uninstall()


def bench_log(calls: int, repeat: int, home: Path) -> tuple[float, float]:
    """Best seconds per run.log call with the layer (on, off).

    The best of several alternating rounds: other work on a shared machine only ever
    adds time, so the minimum is the figure that compares the code, not the load.
    """
    os.environ["AMLHANDSON_HOME"] = str(home)
    cwd = os.getcwd()
    os.chdir(home)
    try:
        _log_once(1000, False, home)  # warm-up: schema, imports
        on, off = [], []
        for i in range(repeat):
            for layer in ((True, False) if i % 2 == 0 else (False, True)):
                (on if layer else off).append(_log_once(calls, layer, home))
    finally:
        os.chdir(cwd)
    return min(on), min(off)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-compat-") as tmp:
        home = Path(tmp)
        cost = bench_install(args.rounds, home)
        on, off = bench_log(args.calls, args.repeat, home)
    ratio = on / off
    print(f"import amlhandson.compat            {cost['import_compat']:8.1f} ms (median of "
          f"{args.rounds} fresh processes)")
    print(f"amlhandson.compat.install()         {cost['install']:8.2f} ms (max "
          f"{cost['install_max']:.2f} ms; target < {INSTALL_TARGET_MS:g} ms)")
    print(f"peer: import amlhandson              {cost['peer_import_amlhandson']:8.1f} ms "
          f"-> install() is {cost['install'] / cost['peer_import_amlhandson'] * 100:.2f}% of it")
    print(f"import azureml.core{{,.run,.model}}    {cost['azureml_imports']:8.1f} ms through "
          f"the layer vs {cost['amlhandson_imports']:.1f} ms for amlhandson.core{{,.run,.model}} "
          f"(ratio {cost['azureml_imports'] / cost['amlhandson_imports']:.2f})")
    print(f"run.log with the layer               {on * 1e6:8.2f} us/call")
    print(f"run.log without the layer (peer)     {off * 1e6:8.2f} us/call -> ratio {ratio:.3f} "
          f"(target < {LOG_RATIO_TARGET:g})")
    missed = cost["install"] >= INSTALL_TARGET_MS or ratio >= LOG_RATIO_TARGET
    print("targets: " + ("MISSED" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
