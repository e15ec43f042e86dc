"""Sweep throughput, serial vs joblib, measured side by side in one run.

    .venv/bin/python benchmarks/sweep.py [--jobs N] [--days D]

Runs the same multirun of ``affiliate-sim`` (the illustrative scenario, N seeds, D days)
with the basic (serial) launcher and with the joblib launcher (one worker per core), each
into a fresh sweep folder, and prints jobs per minute for both and their ratio. Wall-clock
times include Hydra's start-up and the end-of-sweep aggregation, as a user sees them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "affiliate-sim"


def run(launcher: str, jobs: int, days: int, folder: Path) -> float:
    args = [str(BIN), "-m", "scenario=derna_illustrative", f"seed=range(0,{jobs})",
            f"days={days}", f"hydra/launcher={launcher}", f"hydra.sweep.dir={folder}"]
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=24)
    ap.add_argument("--days", type=int, default=300)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        serial = run("basic", a.jobs, a.days, Path(tmp) / "serial")
        parallel = run("parallel", a.jobs, a.days, Path(tmp) / "joblib")
    print(f"sweep throughput: {a.jobs} jobs of derna_illustrative, {a.days} days each, "
          f"{os.cpu_count()} cores")
    print(f"  serial (hydra/launcher=basic):    {serial:7.1f} s  "
          f"{a.jobs / serial * 60:7.1f} jobs/min")
    print(f"  joblib (hydra/launcher=parallel): {parallel:7.1f} s  "
          f"{a.jobs / parallel * 60:7.1f} jobs/min")
    print(f"  speed-up joblib / serial: {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
