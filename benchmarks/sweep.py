"""Sweep throughput, serial vs joblib vs Ray, measured side by side in one run.

    .venv/bin/python benchmarks/sweep.py [--jobs N] [--days D] [--no-ray]

Runs the same multirun of ``affiliate-sim`` (the illustrative scenario, N seeds, D days)
with the basic (serial) launcher, the joblib launcher (one worker per core) and the Ray
launcher (``ray_cluster``, on a one-node Ray cluster of one CPU per core started on this
machine beforehand and stopped afterwards), each into a fresh sweep folder, and prints jobs
per minute for each and the speed-ups. Wall-clock times include Hydra's start-up and the
end-of-sweep aggregation, as a user sees them (not the start of the Ray cluster).

Serial and joblib sweeps are run ``--rounds`` times, alternating, and the fastest of each is
kept (the machine is noisy; alternation spreads any disturbance over both).

Jobs that differ only in their seed run as ensembles (the sweeper groups them, so every
core gets a share); the figures are jobs, not launches. It also prints the cost of
composing one job's config: ``affiliate-sim`` checks one config
per value of the longest swept key before the sweep (seeds: one in all), and the sweeper
of ``conf/hydra/sweeper/checked.yaml`` skips Hydra's per-job check in the driver, so every
job composes its own config once, in its worker.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test-only local Ray cluster helper

from ray_local import LOCAL_RAY, local_ray_cluster  # noqa: E402

BIN = Path(sys.executable).parent


def run(launcher: str, jobs: int, days: int, folder: Path, env=None) -> float:
    args = [str(BIN / "affiliate-sim"), "-m", "scenario=derna_illustrative",
            f"seed=range(0,{jobs})", f"days={days}", f"hydra/launcher={launcher}",
            f"hydra.sweep.dir={folder}"]
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def driver_times(days: int, n: int = 5) -> tuple[float, float]:
    """Seconds the driver takes per job, before any job runs: ``affiliate-sim``'s check of
    the job's config (compose and validate), and one composition by Hydra (done twice)."""
    from hydra import compose, initialize_config_dir

    from affiliate_sim.cli import config as appconfig
    from affiliate_sim.cli.main import check_overrides

    jobs = [["scenario=derna_illustrative", f"seed={seed}", f"days={days}"]
            for seed in range(n)]
    check_overrides(jobs[0])  # warm up
    start = time.perf_counter()
    for job in jobs:
        check_overrides(job)
    check = (time.perf_counter() - start) / n
    with initialize_config_dir(config_dir=str(appconfig.CONF_DIR), version_base="1.3"):
        compose(config_name=appconfig.PRIMARY, overrides=jobs[0], return_hydra_config=True)
        start = time.perf_counter()
        for job in jobs:
            compose(config_name=appconfig.PRIMARY, overrides=job, return_hydra_config=True)
        hydra = (time.perf_counter() - start) / n
    return check, hydra


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=24)
    ap.add_argument("--days", type=int, default=300)
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray launcher")
    ap.add_argument("--rounds", type=int, default=2, help="serial/joblib rounds (best kept)")
    a = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        serial = parallel = float("inf")
        for k in range(a.rounds):
            serial = min(serial, run("basic", a.jobs, a.days, Path(tmp) / f"serial{k}"))
            parallel = min(parallel, run("parallel", a.jobs, a.days, Path(tmp) / f"joblib{k}"))
        ray = None
        if not a.no_ray:
            with local_ray_cluster(cores) as address:
                ray = run("ray_cluster", a.jobs, a.days, Path(tmp) / "ray",
                          env={**LOCAL_RAY, "RAY_ADDRESS": address})
    check, hydra = driver_times(a.days)
    print(f"sweep throughput: {a.jobs} jobs of derna_illustrative, {a.days} days each, "
          f"{cores} cores")
    print(f"  serial (hydra/launcher=basic):       {serial:7.1f} s  "
          f"{a.jobs / serial * 60:7.1f} jobs/min")
    print(f"  joblib (hydra/launcher=parallel):    {parallel:7.1f} s  "
          f"{a.jobs / parallel * 60:7.1f} jobs/min")
    if ray is not None:
        print(f"  ray    (hydra/launcher=ray_cluster): {ray:7.1f} s  "
              f"{a.jobs / ray * 60:7.1f} jobs/min  (local {cores}-CPU cluster)")
    print(f"  speed-up joblib / serial: {serial / parallel:.2f}x"
          + (f", ray / serial: {serial / ray:.2f}x" if ray is not None else ""))
    print(f"  composing one job's config: {hydra:.2f} s (in the job's worker); affiliate-sim's "
          f"check of a config: {check:.2f} s (once for a seed sweep); serial time per job: "
          f"{serial / a.jobs:.2f} s")


if __name__ == "__main__":
    main()
