"""Benchmark of the options for the daily interaction kernel, side by side (a script).

    .venv/bin/python benchmarks/kernel_options.py           # case grids and 512x512 (~1.5 min)
    .venv/bin/python benchmarks/kernel_options.py --quick   # case grids only (~20 s)

Run from the repository root with the project's venv. JAX is optional (not a dependency of
the project): ``.venv/bin/pip install jax`` to include it; without it its rows are skipped
with a note.

What it measures, in one run and on the same inputs for every option:

* the options (``benchmarks/options``; each is checked against the cell-by-cell reference
  by ``benchmarks/options/check.py``):

  - ``numba kernel``: :func:`affiliate_sim.kernel.interact`, the model's kernel (compiled
    loops, cell by cell);
  - ``numpy float64``: :func:`options.numpy_kernel.interact_numpy`, whole-array numpy with
    work arrays kept between calls, in-place operations and fewer passes;
  - ``numpy float32``: the same computed in float32 (inputs cast once, flows returned as
    float64);
  - ``jax float64 (jit)``: :func:`options.jax_kernel.interact_jax`, the same equations in
    ``jax.numpy`` under ``jax.jit`` (XLA fuses the elementwise chains), including the
    copies of the inputs into JAX and of the flows back to numpy on every call;

* the sizes: (a) case-size grids, 12x12 cells with O = 6 organizations, at R = 1, 16, 64
  and 256 replicates; (b) one replicate of a large grid, 512x512 with O = 16 (skipped by
  ``--quick``);
* per option and size: the first call (numba's compilation if its cache is cold, JAX's
  tracing and XLA compilation for the shape, numpy's first touch of its work arrays), then
  the median time of one call (one day for R replicates) over repeated calls, made in
  rounds that call every option once (as many rounds as fit in about 4 s, at least 5, at
  most 30: fewer at the large size), the time per
  replicate-day (per call / R), the ratio to the numba kernel, and the largest difference
  of the end-of-day fighters from the numba kernel's, relative to the largest stock;
* the copy floor: the fastest of many ``np.copyto`` of the fighters and sympathizers
  arrays (what any day must at least write), and each option's ratio to it (the ratio
  that matters is at 512x512, where the arrays are far larger than the caches).

Inputs: ``tests/kernel_states.random_state`` (the kernel tests' generator: dense random
stocks, random plans, a parameter set per replicate). Threads: the numba kernel runs on
one thread, and again on numba's threads (bands of rows in parallel: what it does by itself
for a lone replicate of a large grid); numpy's matrix products and XLA may use every core (this machine's count is
printed). The load average is printed before and after: on a shared machine, compare
ratios within one run rather than times across runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for sub in ("src", "tests", "benchmarks"):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

import numba
from kernel_states import random_state
from options import numpy_kernel
from options.numpy_kernel import interact_numpy

from affiliate_sim.kernel import interact

try:
    from options.jax_kernel import JAX_VERSION, interact_jax
    JAX_NOTE = ""
except ImportError as e:
    interact_jax = None
    JAX_NOTE = str(e)

CASE_SIZES = [(R, 6, 12, 12) for R in (1, 16, 64, 256)]  # (R, O, H, W)
LARGE_SIZES = [(1, 16, 512, 512)]
#: Seconds of timed rounds per size (a round calls every option once), at least
#: MIN_REPEATS and at most MAX_REPEATS rounds.
BUDGET = 4.0
MIN_REPEATS, MAX_REPEATS = 5, 30


def _float32(*args):
    return interact_numpy(*args, dtype=np.float32)


def _numba_one_thread(*args):
    return interact(*args, parallel=False)


def _numba_threads(*args):
    return interact(*args, parallel=True)


def options() -> list[tuple[str, object]]:
    out = [("numba kernel", _numba_one_thread), ("numba, threads", _numba_threads),
           ("numpy float64", interact_numpy), ("numpy float32", _float32)]
    if interact_jax is not None:
        out.append(("jax float64 (jit)", interact_jax))
    return out


def copy_floor(state) -> float:
    """Fastest of many copies of the fighters and sympathizers arrays (seconds)."""
    F, S = state.fighters, state.sympathizers
    dF, dS = np.empty_like(F), np.empty_like(S)
    n = max(5, min(200, int(2e8 / max(F.nbytes, 1))))
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        np.copyto(dF, F)
        np.copyto(dS, S)
        best = min(best, time.perf_counter() - t)
    return best


def measure(opts, args) -> dict[str, tuple[float, float, int, object]]:
    """Per option: (first call, median of repeated calls, repeats, flows of the last call).

    After each option's first call and one more, the options are called in rounds (each
    once per round), so that a change of the machine's load touches all of them alike.
    """
    first, once, flows = {}, {}, {}
    for name, fn in opts:
        t = time.perf_counter()
        flows[name] = fn(*args)
        first[name] = time.perf_counter() - t
        t = time.perf_counter()
        flows[name] = fn(*args)
        once[name] = time.perf_counter() - t
    rounds = int(min(MAX_REPEATS, max(MIN_REPEATS, BUDGET // max(sum(once.values()), 1e-9))))
    times: dict[str, list[float]] = {name: [] for name, _ in opts}
    for _ in range(rounds):
        for name, fn in opts:
            t = time.perf_counter()
            flows[name] = fn(*args)
            times[name].append(time.perf_counter() - t)
    return {name: (first[name], statistics.median(times[name]), rounds, flows[name])
            for name, _ in opts}


def _ms(x: float) -> str:
    return f"{x * 1e3:10.3f}"


def run(sizes) -> None:
    header = (f"{'option':<19}{'first ms':>10}{'call ms':>11}{'repl-day ms':>13}"
              f"{'x numba':>9}{'x copy':>9}{'reps':>6}{'max|dF|/maxF':>14}")
    for (R, O, H, W) in sizes:
        args = random_state(np.random.default_rng(12345), R, O, H, W)
        floor = copy_floor(args[0])
        print(f"\n{H}x{W} grid, O={O}, R={R}   copy floor (fighters + sympathizers, "
              f"{2 * args[0].fighters.nbytes / 1e6:.2f} MB): {floor * 1e3:.4f} ms")
        print(header)
        results = measure(options(), args)
        base_time, base_F = None, None
        for name, (first, per_call, reps, flows) in results.items():
            if base_time is None:
                base_time, base_F = per_call, flows.fighters
            scale = max(float(np.abs(base_F).max()), 1e-300)
            diff = float(np.abs(flows.fighters - base_F).max()) / scale
            print(f"{name:<19}{_ms(first)}{_ms(per_call)} {_ms(per_call / R)}  "
                  f"{per_call / base_time:7.2f}{per_call / floor:9.1f}{reps:6d}"
                  f"{diff:14.1e}")
        del results
        numpy_kernel.release_work_arrays()
        del args


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="case-size grids only (no 512x512)")
    a = ap.parse_args()
    start = time.perf_counter()
    print("kernel options: time of one day (one call) per option")
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba "
          f"{numba.__version__}, jax {JAX_VERSION if interact_jax else '-'}; "
          f"{os.cpu_count()} cpus ({platform.processor() or platform.machine()}); "
          f"load average {os.getloadavg()[0]:.2f}")
    if interact_jax is None:
        print(f"note: JAX rows skipped: {JAX_NOTE}")
    run(CASE_SIZES)
    if not a.quick:
        run(LARGE_SIZES)
    print(f"\ntotal {time.perf_counter() - start:.0f} s; load average "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
