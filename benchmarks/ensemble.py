"""Throughput of the engine, measured side by side in one run (a script, not a test).

    .venv/bin/python benchmarks/ensemble.py            # everything (about 6 minutes on 2 cores)
    .venv/bin/python benchmarks/ensemble.py --quick    # smaller ensembles, fewer repeats

Prints, in one run:

1. **case-runs per second** over the nine historical cases, each with its own length and
   the calibrated parameters, through the one run path
   (:func:`affiliate_sim.experiments.runs.execute`): the single-replicate path (every run a
   model of its own, ``ensemble=1``) and ensembles of R = 16, 64 and 256 replicates, in 1
   and in 2 worker processes (each worker gets ensembles of R: the cases are run with
   ``R x processes`` seeds each). Worker start-up and kernel loading are included;
2. the kernel's time per replicate-day at case size (12 x 12 cells, 6 organizations) at
   R = 1, 16, 64 and 256, on the kernel tests' random states;
3. at 16 organizations x 512 x 512 cells (one replicate): the kernel's time per day, on one
   thread and on numba's threads, against one ``np.copyto`` of the state (fighters and
   sympathizers: the memory floor), the ratio kernel / copy, and the peak memory one kernel
   call allocates beyond its inputs (``tracemalloc``) relative to the state;
4. the cell-by-cell reference (``tests/reference.py``) against the kernel at 64 x 64 cells
   and 8 organizations: both times and their ratio.

Ratios are taken within this run, so that a busy machine slows both sides alike; the
machine's load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the kernel tests' states and the reference

from kernel_states import random_state  # noqa: E402
from reference import interact_reference  # noqa: E402

from affiliate_sim.experiments.runs import RunSpec, execute  # noqa: E402
from affiliate_sim.kernel import interact  # noqa: E402
from affiliate_sim.paths import CALIBRATED  # noqa: E402
from affiliate_sim.scenario import CASES, load_scenario  # noqa: E402
from affiliate_sim.scenario.params import load_params  # noqa: E402


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def case_runs(ensemble: int, workers: int, seeds: int) -> tuple[float, int, float]:
    """(case-runs per second, runs, seconds) over the nine cases."""
    params = load_params(CALIBRATED)
    scenarios = {c: load_scenario(c) for c in CASES}
    specs = [RunSpec.of(scenarios[c], params, 10_000 + s) for c in CASES
             for s in range(seeds)]
    t = time.perf_counter()
    execute(specs, workers=workers, ensemble=ensemble)
    dt = time.perf_counter() - t
    return len(specs) / dt, len(specs), dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller ensembles and grids")
    args = ap.parse_args(argv)
    quick = args.quick

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; python {platform.python_version()}, "
          f"numpy {np.__version__}")

    # warm the compiled kernel's cache (first use compiles; not a throughput figure)
    execute([RunSpec.of(load_scenario(CASES[0]), load_params(CALIBRATED), 0, 3)])

    print("\n1. case-runs per second, nine cases at their own lengths (calibrated set)")
    print(f"{'path':<24}{'processes':>10}{'runs':>8}{'seconds':>10}{'runs/s':>10}")
    rows = [("single replicate", 1, 2 if quick else 4)]
    rows += [(f"ensemble R={R}", R, R) for R in ((16, 64) if quick else (16, 64, 256))]
    best = 0.0
    for label, R, seeds in rows:
        for workers in (1, 2):
            rate, n, dt = case_runs(R, workers, seeds * workers)
            best = max(best, rate)
            print(f"{label:<24}{workers:>10}{n:>8}{dt:>10.1f}{rate:>10.1f}")
    print(f"best: {best:.1f} case-runs/s (target >= 28 on a 2-core machine)")

    print("\n2. kernel time per replicate-day at case size (12 x 12 cells, 6 organizations)")
    for R in (1, 16, 64, 256):
        inputs = random_state(np.random.default_rng(R), R, 6, 12, 12)
        interact(*inputs)
        t = _median_time(lambda inputs=inputs: interact(*inputs), 20 if R < 256 else 5)
        print(f"R={R:<4} {t * 1e3:8.3f} ms a day, {t / R * 1e6:8.2f} us per replicate-day")

    O, H, W = (16, 256, 256) if quick else (16, 512, 512)
    print(f"\n3. one replicate, {O} organizations x {H} x {W} cells")
    inputs = random_state(np.random.default_rng(0), 1, O, H, W)
    state = inputs[0]
    dst = np.empty_like(state.fighters), np.empty_like(state.sympathizers)

    def copy():
        np.copyto(dst[0], state.fighters)
        np.copyto(dst[1], state.sympathizers)

    t_copy = min(_median_time(copy, 5) for _ in range(3))
    state_bytes = state.fighters.nbytes + state.sympathizers.nbytes
    for parallel in (False, True):
        interact(*inputs, parallel=parallel)
        t = _median_time(lambda p=parallel: interact(*inputs, parallel=p), 3)
        tracemalloc.start()
        interact(*inputs, parallel=parallel)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        label = "numba threads" if parallel else "one thread"
        print(f"kernel ({label}): {t * 1e3:8.1f} ms a day = {t / t_copy:6.1f} x the copy "
              f"({t_copy * 1e3:.2f} ms); peak allocation {peak / state_bytes:.2f} x the "
              f"state ({state_bytes / 2**20:.0f} MiB)")
    print("targets: kernel <= 30 x the copy; allocation <= 4 x the state")

    print("\n4. the cell-by-cell reference against the kernel, 64 x 64 cells, 8 organizations")
    inputs = random_state(np.random.default_rng(1), 1, 8, 64, 64)
    for parallel in (False, True):
        interact(*inputs, parallel=parallel)
    t_ref = time.perf_counter()
    interact_reference(*inputs)
    t_ref = time.perf_counter() - t_ref
    for parallel in (False, True):
        t = _median_time(lambda p=parallel: interact(*inputs, parallel=p), 30)
        label = "numba threads" if parallel else "one thread"
        print(f"kernel ({label}) {t * 1e3:.2f} ms, reference {t_ref:.2f} s: "
              f"reference / kernel = {t_ref / t:,.0f}")
    print("target: reference / kernel >= 1,000")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
