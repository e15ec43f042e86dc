"""Matplotlib figures shared by the replay report and the notebooks.

Every function takes plain data (arrays, results) and returns a ``matplotlib.figure.Figure``
with a title, axis labels with units and a legend, readable without the code.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

CAMP_COLOURS = {"IS": "#222222", "AQ": "#2a7fbf", "state": "#3c9d4e",
                "independent": "#d98c1f"}


def trajectory_bands(series: np.ndarray, names: Sequence[str], title: str,
                     observations: Sequence[dict] = (), start_date: str = "",
                     camps: Sequence[str] | None = None, log: bool = False) -> Figure:
    """Fighters over time per organization across seeds: median and 10-90% band.

    Args:
        series: ``(seeds, days + 1, organizations)`` fighters.
        names: organization names.
        title: figure title.
        observations: dicts with ``org``, ``window`` (day pair), ``label`` and optionally
            ``at_least`` / ``at_most`` (a fighters target), drawn as markers.
        start_date: day 0's date, for the axis label.
        camps: camp of each organization (colours the lines by camp).
        log: logarithmic fighters axis.
    """
    fig, ax = plt.subplots(figsize=(9, 4.8))
    days = np.arange(series.shape[1])
    cmap = plt.get_cmap("tab10")
    for o, name in enumerate(names):
        s = series[:, :, o]
        if s.max() <= 0:
            continue
        lo, med, hi = np.percentile(s, [10, 50, 90], axis=0)
        colour = cmap(o % 10)
        ax.fill_between(days, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(days, med, color=colour, lw=1.8,
                label=f"{name} ({camps[o]})" if camps else name)
    for k, obs in enumerate(observations):
        a, b = obs["window"]
        y = obs.get("at_most", obs.get("at_least"))
        if obs.get("org") in names and y is not None:
            ax.errorbar([b], [y], xerr=[[b - a], [0]], fmt="v" if "at_most" in obs else "^",
                        color="crimson", ms=8, capsize=3, zorder=5,
                        label="article observation" if k == 0 else None)
        else:
            ax.axvspan(a, b, color="crimson", alpha=0.06,
                       label="observation window" if k == 0 else None)
    ax.set_xlabel(f"day (day 0 = {start_date})" if start_date else "day")
    ax.set_ylabel("fighters (log scale)" if log else "fighters")
    if log:
        ax.set_yscale("symlog", linthresh=10)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def save(fig: Figure, path) -> None:
    """Save a figure as PNG and close it."""
    fig.savefig(path, dpi=110)
    plt.close(fig)
