"""Benchmark of the daily interaction kernel (a script, not a test).

    .venv/bin/python benchmarks/kernel.py            # 64x64 and 512x512
    .venv/bin/python benchmarks/kernel.py --quick    # 64x64 only

Prints, in one run:

* the time per day of :func:`affiliate_sim.kernel.interact` with 8 and 16 organizations on
  64x64 and 512x512 grids (one replicate, ``R = 1``): the median over repeated calls after
  a warm-up call, twice: with glibc's malloc as the process starts (each temporary above
  its mmap threshold, 128 KB at first, is mmapped, page-faulted and unmapped on every
  call) and after ``mallopt`` keeps temporaries in the heap (what a long run settles into
  once large frees have raised glibc's dynamic threshold). At 64x64 the difference is
  about a factor of two, so both are shown;
* the time of the cell-by-cell reference :func:`affiliate_sim.reference.interact_reference`
  on the same 64x64, 8-organization state, timed next to the kernel in the same run (one
  call only if it is slow), the ratio reference / kernel, and the largest difference
  between their end-of-day stocks; skipped with a note if the reference does not exist;
* the time of one ``np.copyto`` of the state arrays (fighters and sympathizers), the memory
  floor no per-day computation over those arrays can beat (the fastest of many copies),
  and the ratio kernel / copy;
* per configuration, the most memory one kernel call allocates beyond its inputs
  (``tracemalloc``, to which numpy reports its buffers), and at the end the process's peak
  resident size (``getrusage``).

States: by default the kernel tests' generator ``tests/kernel_states.random_state`` (dense
random stocks, random plans, random parameter sets), so that the benchmark and the tests
exercise the same inputs; ``--states own`` uses this script's generator instead (a few
clusters of fighters per organization on smooth terrain and population layers, default
parameters, a state that raids, an offensive, a purge, defection pulls, a dissident split:
every term of the kernel non-zero).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from affiliate_sim.kernel import interact  # noqa: E402
from affiliate_sim.kernel.arrays import (  # noqa: E402
    DayPlan,
    GridLayers,
    KernelParams,
    KernelState,
    Noise,
)
from affiliate_sim.params import Params  # noqa: E402

MAX_COMMANDERS = 64  # as affiliate_sim.model.MAX_COMMANDERS (not imported: no Mesa here)


# ---------------------------------------------------------------------- states
def _smooth(rng: np.random.Generator, H: int, W: int, blobs: int, width: float) -> np.ndarray:
    """A smooth random field in [0, 1]: a sum of Gaussian bumps."""
    yy, xx = np.mgrid[0:H, 0:W].astype(float)
    out = np.zeros((H, W))
    for _ in range(blobs):
        cy, cx = rng.uniform(0, H), rng.uniform(0, W)
        s = width * min(H, W) * rng.uniform(0.5, 1.5)
        out += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    return out / out.max()


def own_random_state(O: int, H: int, W: int, seed: int = 0):
    """``(state, plan, params, noise)`` for one replicate: a realistic day."""
    rng = np.random.default_rng(seed)
    R = 1
    terrain = _smooth(rng, H, W, 6, 0.15)
    remoteness = _smooth(rng, H, W, 4, 0.25)
    population = 20.0 * _smooth(rng, H, W, 5, 0.05) ** 2 + 0.05  # thousands per cell
    state_presence = np.clip(1.0 - remoteness + 0.1 * rng.standard_normal((H, W)), 0, 1)
    layers = GridLayers(terrain=terrain[None], population=population[None],
                        remoteness=remoteness[None], state_presence=state_presence[None])

    # organization 0: a state force; 1..2: IS camp; 3: an AQ branch with an amniyat;
    # 4: a dissident faction of organization 1; the rest: militias and AQ allies.
    F = np.zeros((R, O, H, W))
    yy, xx = np.mgrid[0:H, 0:W]
    scale = max(H, W) / 64.0
    for v in range(O):
        total = rng.uniform(100, 3000) * scale ** 2
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(0, H), rng.uniform(0, W)
            s = rng.uniform(2, 6) * scale
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
            blob[blob < 0.01] = 0.0  # fighters are absent from most cells
            F[0, v] += total * blob / blob.sum() / 2
    sym_share = rng.uniform(0.0, 0.3, O)
    sym_share[0] = 0.0
    S = F * sym_share[None, :, None, None]

    e = lambda a: np.asarray(a, dtype=float)[None]  # noqa: E731
    cohesion = rng.uniform(0.4, 0.9, O)
    emir_alive = np.ones(O, dtype=bool)
    commanders = rng.integers(0, 9, O)
    conceal = np.full(O, Params().conceal_guerrilla)
    conceal[0] = Params().conceal_conventional
    state = KernelState(
        layers=layers, fighters=F, sympathizers=S, cohesion=e(cohesion),
        visibility=e(rng.uniform(0.05, 0.6, O)), purge_capacity=e(np.where(
            np.arange(O) == 3, 0.9, 0.0)), quality=e(rng.uniform(0.8, 1.4, O)),
        conceal=e(conceal), emir_alive=emir_alive[None], commanders=commanders[None],
    )

    plan = DayPlan.empty(R, O)
    hostile = rng.random((O, O)) < 0.4
    hostile = hostile | hostile.T
    hostile[0, 1:] = hostile[1:, 0] = True  # the state is hostile to everyone
    np.fill_diagonal(hostile, False)
    for k in range(O):  # low-level engagement, split over the hostile groups
        foes = np.nonzero(hostile[k])[0]
        if len(foes):
            plan.engage[0, k, foes] = 0.15 / len(foes)
    plan.offensive[0, 3] = 1.0  # the AQ branch is on a full offensive against IS (1)
    plan.engage[0, 3] = 0.0
    plan.engage[0, 3, 1] = 1.0
    plan.attract[0, 3, 1] = 1.0
    plan.raid[0, 0, 1:] = rng.uniform(0.2, 1.0, O - 1)
    plan.raid[0, 0, 1] = 60.0  # a raid operation on organization 1
    plan.purge[0, 3] = 1.0
    is_camp = [1, 2]
    for v in range(O):
        if v not in is_camp and v not in (0, 4):
            plan.pull_sympathizers[0, v, is_camp] = 0.5
        if v != 0:
            plan.surrender_to[0, v] = 0
    plan.pull_sympathizers[0, 1, 4] = 1.0  # IS (1)'s disaffected lean to its dissidents
    plan.split[0, 1, 4] = 0.43  # a public statement today
    plan.pull_loyal[0, 2, 1] = 0.1
    plan.recruit_appeal[0, 1:] = rng.uniform(0.3, 1.2, O - 1)
    plan.foreign_inflow[0, 1] = 3.0
    plan.foreign_inflow[0, 0] = 5.0
    plan.conversion[0, 5:] = rng.uniform(0.0, 0.005, O - 5)
    plan.cover[0, 2] = 1.0  # organization 2 retreats towards cover and its ally
    plan.attract[0, 2, 1] = 1.0
    plan.evacuate[0, 4] = 0.0
    plan.desertion[0, 1:] = 0.0015 * (1 - cohesion[1:])

    params = KernelParams.from_params(Params())
    noise = Noise.draw(rng, R, O, MAX_COMMANDERS)
    return state, plan, params, noise


def make_state(O: int, H: int, W: int, seed: int = 0, which: str = "auto"):
    """``((state, plan, params, noise), generator name)`` for one replicate.

    ``which``: ``shared`` (``tests/kernel_states.random_state``, the kernel tests'
    generator), ``own`` (:func:`own_random_state`) or ``auto`` (shared if it exists).
    """
    path = ROOT / "tests" / "kernel_states.py"
    if which != "own" and path.exists():
        sys.path.insert(0, str(path.parent))
        try:
            import kernel_states  # type: ignore[import-not-found]

            rng = np.random.default_rng(seed)
            out = kernel_states.random_state(rng, 1, O, H, W, max_commanders=MAX_COMMANDERS)
            return out, "tests/kernel_states.py"
        except Exception as err:  # noqa: BLE001 - fall back to our own generator
            if which == "shared":
                raise
            print(f"note: tests/kernel_states.py not usable ({type(err).__name__}: {err}); "
                  "using the benchmark's own generator")
        finally:
            sys.path.remove(str(path.parent))
    elif which == "shared":
        raise SystemExit("tests/kernel_states.py does not exist")
    return own_random_state(O, H, W, seed), "benchmarks/kernel.py"


# ---------------------------------------------------------------------- timing
def time_calls(fn, min_repeats: int = 5, min_seconds: float = 2.0,
               max_repeats: int = 200) -> tuple[float, int]:
    """Median seconds per call after one warm-up call, and the number of timed calls."""
    fn()  # warm-up
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_repeats and (len(times) < min_repeats
                                         or time.perf_counter() - start < min_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def peak_alloc(fn) -> int:
    """Bytes allocated at peak during one call, above what was allocated before it."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def max_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KB)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024.0 if sys.platform != "darwin" else r / 2 ** 20


def fmt_t(s: float) -> str:
    if s >= 1.0:
        return f"{s:8.2f} s "
    if s >= 1e-3:
        return f"{s * 1e3:8.2f} ms"
    return f"{s * 1e6:8.1f} us"


def mb(nbytes: float) -> str:
    return f"{nbytes / 2 ** 20:8.1f}"


def load_reference():
    try:
        from affiliate_sim.reference import interact_reference
    except ImportError as err:
        return None, str(err)
    return interact_reference, ""


# ---------------------------------------------------------------------- allocator
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters


def keep_temporaries_in_heap() -> bool:
    """Ask glibc malloc to serve the kernel's temporaries from the heap (no mmap/munmap and
    no page faults per temporary). Returns False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(M_MMAP_THRESHOLD, 32 * 2 ** 20)  # the largest glibc accepts
        ok &= libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
        return bool(ok)
    except (OSError, AttributeError):
        return False


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="run only the 64x64 grids")
    ap.add_argument("--states", choices=("auto", "shared", "own"), default="auto",
                    help="state generator: tests/kernel_states.py (shared), this script's "
                         "(own), or shared if it exists (auto, the default)")
    args = ap.parse_args(argv)

    configs = [(H, W, O) for (H, W) in ([(64, 64)] if args.quick else [(64, 64), (512, 512)])
               for O in (8, 16)]
    print(f"affiliate_sim kernel benchmark  (python {platform.python_version()}, "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs, {platform.machine()}, "
          f"load average {os.getloadavg()[0]:.2f} at start)")
    print("kernel/day: median time of one affiliate_sim.kernel.interact call (one day, R = 1) "
          "after a warm-up call")
    print("  default: glibc malloc as the process starts (temporaries above its mmap threshold "
          "are mmapped and page-faulted on every call)")
    print("  heap:    after mallopt(M_MMAP_THRESHOLD=32MB, M_TRIM_THRESHOLD=1GB) "
          "(temporaries reused from the heap)")
    print("copy: one np.copyto of fighters + sympathizers, the memory floor (fastest of many); "
          "peak: tracemalloc peak of one call\n")

    states, default, rows = {}, {}, {}
    ref, why = load_reference()
    ref_lines: list[str] = []
    # pass 1: the allocator as the process starts; the small grids first (a large grid's
    # frees raise glibc's dynamic mmap threshold and would speed up later small grids)
    for H, W, O in configs:
        (state, plan, p, noise), gen = make_state(O, H, W, seed=O * 1000 + H, which=args.states)
        states[(H, W, O)] = (state, plan, p, noise, gen)
        kernel = lambda: interact(state, plan, p, noise)  # noqa: E731
        default[(H, W, O)] = time_calls(kernel)
        if (H, W, O) == (64, 64, 8):
            ref_lines = reference_side_by_side(ref, why, state, plan, p, noise)
    # pass 2: temporaries kept in the heap
    tuned = keep_temporaries_in_heap()
    for key in configs:
        state, plan, p, noise, _ = states[key]
        kernel = lambda: interact(state, plan, p, noise)  # noqa: E731
        t_heap = time_calls(kernel)[0] if tuned else float("nan")
        dst_f = np.empty_like(state.fighters)
        dst_s = np.empty_like(state.sympathizers)

        def copy():
            np.copyto(dst_f, state.fighters)
            np.copyto(dst_s, state.sympathizers)

        copy()
        t_c = min(_repeat(copy, 300))
        peak = peak_alloc(kernel)
        rows[key] = (t_heap, t_c, peak, state.fighters.nbytes + state.sympathizers.nbytes)

    head = (f"{'grid':>9} {'orgs':>4}  {'default':>11} {'calls':>5}  {'heap':>11}  "
            f"{'copy':>11}  {'kernel/copy':>15}  {'state MB':>8}  {'peak MB':>8}")
    print(f"{'':16}{'---- kernel/day ----':^31}")
    print(head)
    print("-" * len(head))
    for (H, W, O) in configs:
        t_def, n_def = default[(H, W, O)]
        t_heap, t_c, peak, sbytes = rows[(H, W, O)]
        ratio = f"{t_def / t_c:.0f}x" + (f" / {t_heap / t_c:.0f}x" if tuned else "")
        print(f"{H:>4}x{W:<4} {O:>4}  {fmt_t(t_def):>11} {n_def:>5}  {fmt_t(t_heap):>11}  "
              f"{fmt_t(t_c):>11}  {ratio:>15}  {mb(sbytes)}  {mb(peak)}")
    print("kernel/copy: default / heap.  state MB: fighters + sympathizers.  peak MB: the "
          "most memory one kernel call allocates beyond its inputs (tracemalloc)")
    print(f"process peak resident size (getrusage, all configurations together): "
          f"{max_rss_mb():.0f} MB")
    print(f"states from {states[configs[0]][4]}"
          + ("" if tuned else "; mallopt unavailable here, heap column not measured"))
    print(f"load average {os.getloadavg()[0]:.2f} at the end (other processes on the "
          "machine slow the figures down)")
    print()
    print("\n".join(ref_lines))


def _repeat(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def reference_side_by_side(ref, why: str, state, plan, p, noise) -> list[str]:
    """Time the cell-by-cell reference and the kernel on the same state, one after the
    other; lines to print."""
    title = ("cell-by-cell reference (affiliate_sim.reference.interact_reference), 64x64, "
             "8 organizations, timed next to the kernel (default allocator):")
    if ref is None:
        return [title, f"  skipped: the reference is not available ({why})"]
    kernel = lambda: interact(state, plan, p, noise)  # noqa: E731
    reference = lambda: ref(state, plan, p, noise)  # noqa: E731
    t_k, _ = time_calls(kernel)
    t0 = time.perf_counter()
    out_ref = reference()  # first call (the warm-up when it is fast)
    t_first = time.perf_counter() - t0
    if t_first < 2.0:
        t_r, n_r = time_calls(reference, min_repeats=3, min_seconds=2.0, max_repeats=20)
    else:
        t_r, n_r = t_first, 1
    t_k2, _ = time_calls(kernel)  # and the kernel again, after
    # tracemalloc slows a pure-Python cell loop about a hundredfold: measure only if fast
    peak_r = peak_alloc(reference) if t_first < 0.2 else None
    out_k = kernel()
    diff = float(np.max(np.abs(out_k.fighters - out_ref.fighters)))
    scale = float(np.max(np.abs(out_k.fighters)))
    peak_txt = (f"peak {mb(peak_r).strip()} MB" if peak_r is not None
                else "peak not measured (tracemalloc too slow on a Python loop)")
    t_kernel = statistics.mean([t_k, t_k2])
    return [
        title,
        f"  kernel    {fmt_t(t_kernel)} per day (before: {fmt_t(t_k).strip()}, "
        f"after: {fmt_t(t_k2).strip()})",
        f"  reference {fmt_t(t_r)} per day ({n_r} timed call{'s' if n_r > 1 else ''}), "
        f"{peak_txt}",
        f"  ratio reference / kernel: {t_r / t_kernel:,.0f}x",
        f"  agreement: max |fighters(kernel) - fighters(reference)| = {diff:.3g} "
        f"(largest cell stock {scale:.3g})",
    ]


if __name__ == "__main__":
    main()
