"""The estimate before a run (affiliate_sim.experiments.budget) against a measured run.

For each grid size, one run of the scenario template on that grid, in a process of its
own (after another process has compiled the kernel into numba's cache, so compilation is
not measured), timed and its peak resident memory read; printed beside the estimate as
ratios measured / estimated. The estimate is meant to be on the high side (ratios below 1)
and of the right order (not far below 0.2).

    .venv/bin/python benchmarks/estimate.py [--sizes 100 200 300] [--days 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from affiliate_sim.cli import compose
from affiliate_sim.cli.tools import TEMPLATE
from affiliate_sim.experiments import budget

MEASURE = """\
import resource, time
from affiliate_sim.cli import compose
from affiliate_sim.experiments.runs import execute, finished_run
spec = compose.spec({scenario!r}, {days!r})
t = time.perf_counter()
execute([spec], collect=finished_run)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def scenario_file(folder: Path, size: int) -> Path:
    """The template (three bands of rows) on a ``size`` x ``size`` grid."""
    a, b = int(size * 0.3), int(size * 0.7)
    text = TEMPLATE.format(name=f"grid{size}", file=f"grid{size}.yaml")
    for old, new in (("height: 10, width: 10", f"height: {size}, width: {size}"),
                     ("rows: [0, 3]", f"rows: [0, {a}]"), ("rows: [3, 7]", f"rows: [{a}, {b}]"),
                     ("rows: [7, 10]", f"rows: [{b}, {size}]"),
                     ("cols: [0, 10]", f"cols: [0, {size}]")):
        text = text.replace(old, new)
    path = folder / f"grid{size}.yaml"
    path.write_text(text)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 300])
    ap.add_argument("--days", type=int, default=20)
    args = ap.parse_args()
    warm = MEASURE.format(scenario="scenario=derna_illustrative", days="days=2")
    subprocess.run([sys.executable, "-c", warm], check=True, capture_output=True)
    print(f"{'grid':>9} {'est s':>8} {'run s':>8} {'ratio':>6} {'est MB':>8} {'peak MB':>8} "
          f"{'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            scenario = f"scenario.name={scenario_file(Path(tmp), size)}"
            days = f"days={args.days}"
            out = subprocess.run([sys.executable, "-c", MEASURE.format(scenario=scenario,
                                                                        days=days)],
                                 check=True, capture_output=True, text=True).stdout.split()
            seconds, peak = float(out[0]), int(out[1]) * 1024
            est = budget.estimate(compose.spec(scenario, days), 1, cores=1)
            print(f"{size:4d}x{size:<4d} {est.seconds:8.2f} {seconds:8.2f} "
                  f"{seconds / est.seconds:6.2f} {est.bytes / 1e6:8.0f} {peak / 1e6:8.0f} "
                  f"{peak / est.bytes:6.2f}")


if __name__ == "__main__":
    main()
