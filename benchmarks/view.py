"""Playback speed of the interactive view, in days per second, side by side.

The view's headless path (no browser): step DAYS_PER_FRAME days, then draw the whole page
(map and series), frame after frame to the end of a case, as playing does. Several frame
sizes are timed in one run, alternating, so that a noisy machine affects them alike; the
ratio to one day per frame and to the target (``app.MIN_DAYS_PER_SECOND``) is printed.

    .venv/bin/python benchmarks/view.py [--case sinai_2015] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import solara
from mesa.visualization.utils import force_update

from affiliate_sim.viz import app


def playback(case: str, per_frame: int) -> float:
    """Days per second of playing ``case`` to its end, drawing every ``per_frame`` days."""
    model = solara.reactive(app.ViewModel(case=case))
    _, rc = solara.render(solara.AppLayout(children=[app.AffiliateView(model)]),
                          handle_error=False)
    try:
        start = time.perf_counter()
        while model.value.day < model.value.days:
            app.run_to(model.value, model.value.day + per_frame)
            force_update()
        return model.value.days / (time.perf_counter() - start)
    finally:
        rc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="sinai_2015")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frames", type=int, nargs="+", default=[1, 10, app.DAYS_PER_FRAME])
    args = ap.parse_args()
    speeds: dict[int, list[float]] = {f: [] for f in args.frames}
    for _ in range(args.rounds):
        for f in args.frames:
            speeds[f].append(playback(args.case, f))
    base = statistics.median(speeds[args.frames[0]])
    print(f"view playback, {args.case}, median of {args.rounds} rounds "
          f"(target {app.MIN_DAYS_PER_SECOND} days/s)")
    for f, s in speeds.items():
        m = statistics.median(s)
        print(f"  {f:3d} days per frame: {m:7.1f} days/s  x{m / base:5.1f} vs {args.frames[0]}/frame"
              f"  x{m / app.MIN_DAYS_PER_SECOND:4.2f} of target")


if __name__ == "__main__":
    main()
