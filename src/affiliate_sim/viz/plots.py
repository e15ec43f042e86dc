"""Matplotlib figures shared by the replay report and the notebooks.

Every function takes plain data (arrays, results) and returns a ``matplotlib.figure.Figure``
with a title, axis labels with units and a legend, readable without the code.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt  # the backend is the caller's (inline in notebooks, Agg headless)
import numpy as np
from matplotlib.figure import Figure

from affiliate_sim.kernel.grid import held

#: One colour per camp, told apart at a glance (the view's map and the camp panels).
CAMP_COLOURS = {"IS": "#a11d21", "AQ": "#2e8b3e", "state": "#1f5fbf",
                "independent": "#e08a1e"}
#: Order of the camps in legends and per-camp panels.
CAMP_ORDER = ("IS", "AQ", "state", "independent")
#: Markers of event observations, by kind (other kinds take :data:`_MORE_MARKERS` in turn).
EVENT_MARKERS = {"purge": "X", "split": "P", "defection_statement": "p",
                 "offensive_started": ">", "emir_killed": "*", "leaders_killed": "*",
                 "pledge": "D", "coalition_formed": "h", "safe_passage": "<",
                 "wali_backed": "s", "wali_replaced": "s", "cadres_sent": "d"}
_MORE_MARKERS = ("o", "H", "8", "v", "^")


# ---------------------------------------------------------------------------- time axes
def start_of(start_date) -> _dt.date | None:
    """Day 0's date from a scenario's ``start_date`` (ISO text or a date), or None."""
    if isinstance(start_date, _dt.date):
        return start_date
    try:
        return _dt.date.fromisoformat(str(start_date)) if start_date else None
    except ValueError:
        return None


def time_x(days, start_date=""):
    """x coordinates of run days: matplotlib date numbers (day 0 = ``start_date``), or the
    days themselves when there is no start date. One day is one unit either way, so
    widths and offsets in days need no conversion."""
    d0 = start_of(start_date)
    days = np.asarray(days, dtype=float)
    return days if d0 is None else days + mdates.date2num(d0)


def date_axis(ax, start_date="", what: str = "day", days_on_top: bool = True) -> bool:
    """Label a time axis: dates (concise month/year ticks; with ``days_on_top``, run days
    on a second axis at the top) when ``start_date`` is known, else ``what``. The data
    must use :func:`time_x`. Returns whether the axis shows dates."""
    d0 = start_of(start_date)
    if d0 is None:
        ax.set_xlabel(what)
        return False
    ax.xaxis_date()
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(f"date (day 0 = {d0.isoformat()})")
    if not days_on_top:
        return True
    x0 = mdates.date2num(d0)
    top = ax.secondary_xaxis("top", functions=(lambda x: x - x0, lambda d: d + x0))
    top.set_xlabel("day of the run", fontsize=8)
    top.tick_params(labelsize=7)
    return True


def trajectory_bands(series: np.ndarray, names: Sequence[str], title: str,
                     observations: Sequence[dict] = (), start_date: str = "",
                     camps: Sequence[str] | None = None, log: bool = False) -> Figure:
    """Fighters over time per organization across seeds: median and 10-90% band, with the
    article's observations; the legend explains every marker.

    Args:
        series: ``(seeds, days + 1, organizations)`` fighters.
        names: organization names.
        title: figure title.
        observations: dicts with ``window`` (day pair) and ``label``, and either ``org`` and
            ``at_least`` / ``at_most`` (a fighters target: ``^`` / ``v`` at the window's
            end, a bar back to its start), or ``event`` (an event kind: a bar over the
            window in a strip at the top, and a marker at ``day``, the model's median day
            of the event, if given; with ``anchor``, the window counts from that event and
            only the model's day is drawn). Others shade their window.
        start_date: day 0's date: the time axis shows dates (days otherwise).
        camps: camp of each organization (shown in the legend).
        log: logarithmic fighters axis.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(10, 5.2))
    x = time_x(np.arange(series.shape[1]), start_date)
    x0 = float(time_x(0, start_date))
    cmap = plt.get_cmap("tab10")
    for o, name in enumerate(names):
        s = series[:, :, o]
        if s.max() <= 0:
            continue
        lo, med, hi = np.percentile(s, [10, 50, 90], axis=0)
        colour = cmap(o % 10)
        ax.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(x, med, color=colour, lw=1.8,
                label=f"{name} ({camps[o]})" if camps else name)
    org_handles, _ = ax.get_legend_handles_labels()
    keys: dict[str, object] = {}  # legend label -> handle, in order of first use
    kinds: list[str] = []
    events: dict[str, list] = {}  # kind -> marker, colour, what the legend says
    strip = ax.get_xaxis_transform()  # x in data, y in axes fractions
    for obs in observations:
        a, b = obs["window"]
        xa, xb = x0 + a, x0 + b
        kind = obs.get("event")
        if obs.get("org") in names and ("at_least" in obs or "at_most" in obs) and not kind:
            for key, mark, word in (("at_least", "^", "at least"), ("at_most", "v", "at most")):
                if obs.get(key) is None:
                    continue
                ax.errorbar([xb], [obs[key]], xerr=[[b - a], [0]], fmt=mark, color="crimson",
                            ms=8, capsize=3, zorder=5)
                keys.setdefault(f"article: {word} this many fighters at the window's end "
                                f"({mark}; bar: the window)",
                                Line2D([], [], color="crimson", marker=mark, ms=8))
        elif kind:
            if kind not in kinds:
                kinds.append(kind)
            row = kinds.index(kind)
            marker = EVENT_MARKERS.get(kind, _MORE_MARKERS[row % len(_MORE_MARKERS)])
            colour = plt.get_cmap("Dark2")(row % 8)
            y = 0.965 - 0.05 * row
            if not obs.get("anchor"):
                ax.plot([xa, xb], [y, y], transform=strip, color=colour, lw=5, alpha=0.55,
                        solid_capstyle="butt", zorder=6)
            day = obs.get("day")
            if day is not None and day == day:
                ax.plot([x0 + float(day)], [y], transform=strip, ls="", marker=marker,
                        ms=9, color=colour, markeredgecolor="black", zorder=7)
            what = events.setdefault(kind, [marker, colour, set()])[2]
            what.add("window counted from the first " + obs["anchor"] + ", not drawn"
                     if obs.get("anchor") else "article's window (bar)")
            if day is not None and day == day:
                what.add("model's median day (marker)")
            keys.setdefault(f"event:{kind}", None)  # its place in the legend
        else:
            ax.axvspan(xa, xb, color="crimson", alpha=0.06)
            keys.setdefault("window of another observation (flows, shares, drops)",
                            Patch(color="crimson", alpha=0.12))
    for kind, (marker, colour, what) in events.items():
        del keys[f"event:{kind}"]
        keys[f"{kind.replace('_', ' ')} ({marker}): " + ", ".join(sorted(what))] = Line2D(
            [], [], color=colour, lw=5, alpha=0.7, marker=marker, ms=8,
            markeredgecolor="black")
    date_axis(ax, start_date)
    ax.set_ylabel("fighters (log scale)" if log else "fighters")
    if log:
        ax.set_yscale("symlog", linthresh=10)
    if kinds:  # room for the strip of event observations above the curves
        lo_y, hi_y = ax.get_ylim()
        if log:
            ax.set_ylim(lo_y, hi_y * 10 ** (0.12 * len(kinds) + 0.3))
        else:
            ax.set_ylim(lo_y, hi_y + (hi_y - lo_y) * (0.08 * len(kinds) + 0.05))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    org_legend = ax.legend(handles=org_handles, fontsize=8, loc="upper left",
                           bbox_to_anchor=(1.01, 1.0), frameon=False,
                           title="organization (median, 10-90% band over seeds)",
                           title_fontsize=8)
    if keys:
        ax.add_artist(org_legend)
        ax.legend(handles=list(keys.values()), labels=list(keys), fontsize=7,
                  loc="upper left", bbox_to_anchor=(1.01, 0.45), frameon=False,
                  title="markers", title_fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- maps
def _org_colours(names: Sequence[str]) -> list:
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(len(names))]


def control(fighters: np.ndarray) -> np.ndarray:
    """Who holds each cell: ``(H, W)`` index of the holding organization (the first, on a
    tie), or -1 where nobody does; the model's rule (:func:`affiliate_sim.kernel.grid.held`).

    Args:
        fighters: ``(O, H, W)`` fighters per organization per cell.
    """
    h = held(fighters)
    return np.where(h.any(axis=0), h.argmax(axis=0), -1)


def _draw_regions(ax, regions: Mapping[str, np.ndarray] | None) -> None:
    if not regions:
        return
    for name, mask in regions.items():
        m = np.asarray(mask, dtype=float)
        if m.sum() == 0:
            continue
        if m.min() < 1:
            ax.contour(m, levels=[0.5], colors="white", linewidths=0.8, alpha=0.9)
        yy, xx = np.nonzero(m)
        ax.text(xx.mean(), yy.mean(), name, color="white", fontsize=7, ha="center",
                va="center", alpha=0.9,
                bbox={"facecolor": "black", "alpha": 0.35, "pad": 1, "linewidth": 0})


def _control_panel(ax, fighters, names, camps, regions=None, legend=True):
    owner = control(fighters)
    colours = _org_colours(names)
    rgba = np.ones(owner.shape + (4,))
    rgba[..., :3] = 0.93  # unheld: light grey
    top = fighters.max(axis=0)
    scale = np.clip(np.log10(np.maximum(top, 1.0)) / 3.0, 0.35, 1.0)  # darker = more fighters
    for o in range(len(names)):
        sel = owner == o
        if sel.any():
            rgba[sel, :3] = np.array(colours[o][:3])[None] * scale[sel, None] + \
                (1 - scale[sel, None]) * 0.93
    ax.imshow(rgba, origin="upper", interpolation="nearest")
    _draw_regions(ax, regions)
    ax.set_xticks([])
    ax.set_yticks([])
    if legend:
        from matplotlib.patches import Patch

        held = sorted(set(owner[owner >= 0].tolist()))
        handles = [Patch(color=colours[o], label=f"{names[o]} ({camps[o]})") for o in held]
        handles.append(Patch(facecolor=(0.93, 0.93, 0.93), edgecolor="0.6", label="held by none"))
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  frameon=False, title="holds the cell", title_fontsize=7)
    return owner


def _day_label(day: int, start_date: str = "") -> str:
    d0 = start_of(start_date)
    if d0 is None:
        return f"day {day}"
    return f"day {day} ({(d0 + _dt.timedelta(days=int(day))).isoformat()})"


def control_map(fighters: np.ndarray, names: Sequence[str], camps: Sequence[str],
                day: int = 0, title: str = "", regions: Mapping[str, np.ndarray] | None = None,
                start_date: str = "") -> Figure:
    """Who holds each cell on one day, and fighters per camp per cell.

    The first panel colours each cell by the organization holding it (most fighters, at least
    one; darker = more fighters). One panel per camp follows, with that camp's fighters per
    cell on a shared logarithmic scale.

    Args:
        fighters: ``(O, H, W)`` fighters per organization per cell (a history snapshot).
        names: organization names.
        camps: camp of each organization (``IS``, ``AQ``, ``state``, ``independent``).
        day: the day shown (for the title).
        title: figure title (the case).
        regions: named boolean masks ``(H, W)``, outlined and labelled.
        start_date: day 0's date.
    """
    from matplotlib.colors import LogNorm

    present = [c for c in CAMP_ORDER if any(k == c for k in camps)]
    ncol = 2 if len(present) > 1 else 1
    nrow = max(1, -(-len(present) // ncol))
    fig = plt.figure(figsize=(5.2 + 2.9 * ncol, 5.4))
    gs = fig.add_gridspec(nrow, 1 + ncol, width_ratios=[1.9] + [1] * ncol,
                          hspace=0.3, wspace=0.15)
    ax0 = fig.add_subplot(gs[:, 0])
    owner = _control_panel(ax0, fighters, names, camps, regions, legend=False)
    ax0.set_title("who holds each cell (darker = more fighters)", fontsize=9)
    colours = _org_colours(names)
    from matplotlib.patches import Patch

    handles = [Patch(color=colours[o], label=f"{names[o]} ({camps[o]})")
               for o in sorted(set(owner[owner >= 0].tolist()))]
    handles.append(Patch(facecolor=(0.93, 0.93, 0.93), edgecolor="0.6", label="held by none"))
    ax0.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.01),
               ncol=2, frameon=False)
    per_camp = {c: fighters[[k == c for k in camps]].sum(axis=0) for c in present}
    vmax = max([float(v.max()) for v in per_camp.values()] + [10.0])
    norm = LogNorm(vmin=1.0, vmax=vmax)
    camp_axes = []
    for k, c in enumerate(present):
        ax = fig.add_subplot(gs[k // ncol, 1 + k % ncol])
        camp_axes.append(ax)
        v = np.ma.masked_less(per_camp[c], 1.0)
        im = ax.imshow(v, origin="upper", interpolation="nearest", cmap=_camp_cmap(c),
                       norm=norm)
        ax.set_facecolor("0.97")
        ax.set_title(f"{c} camp: {per_camp[c].sum():,.0f} fighters", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03).set_label(
            "fighters per cell", fontsize=7)
    fig.suptitle(f"{title}: {_day_label(day, start_date)}" if title
                 else _day_label(day, start_date), fontsize=11)
    fig.subplots_adjust(left=0.02, right=0.97, top=0.88, bottom=0.12)
    return fig


def _camp_cmap(camp: str):
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(f"camp_{camp}", ["#f2f2f2",
                                                              CAMP_COLOURS.get(camp, "#555")])


def nearest_snapshots(snapshots: Mapping[int, np.ndarray], n: int = 6) -> list[int]:
    """``n`` snapshot days spread evenly over the run (always the first and the last)."""
    days = sorted(snapshots)
    if len(days) <= n:
        return days
    idx = np.unique(np.round(np.linspace(0, len(days) - 1, n)).astype(int))
    return [days[i] for i in idx]


def nearest_snapshot(snapshots: Mapping[int, np.ndarray], day: int) -> int:
    """The snapshot day closest to ``day`` (snapshots are weekly, plus the last day)."""
    return min(snapshots, key=lambda d: (abs(d - day), d))


def control_strip(snapshots: Mapping[int, np.ndarray], names: Sequence[str],
                  camps: Sequence[str], days: Sequence[int] | None = None, title: str = "",
                  regions: Mapping[str, np.ndarray] | None = None, start_date: str = "",
                  n: int = 6) -> Figure:
    """Small multiples: who holds each cell on several days, left to right.

    Args:
        snapshots: ``{day: (O, H, W) fighters}`` (the model history's weekly snapshots).
        names, camps: organizations and their camps.
        days: days to show (each must be a snapshot day); default ``n`` spread over the run.
        title: figure title.
        regions: named masks, outlined.
        start_date: day 0's date.
        n: panels when ``days`` is not given.
    """
    from matplotlib.patches import Patch

    days = list(days) if days is not None else nearest_snapshots(snapshots, n)
    missing = [d for d in days if d not in snapshots]
    if missing:
        raise ValueError(f"no snapshot for day(s) {missing}; snapshot days: "
                         f"{sorted(snapshots)[:5]}...")
    fig, axes = plt.subplots(1, len(days), figsize=(2.3 * len(days) + 2.2, 2.9))
    axes = np.atleast_1d(axes)
    held: set[int] = set()
    for ax, d in zip(axes, days, strict=True):
        owner = _control_panel(ax, snapshots[d], names, camps, regions, legend=False)
        held |= set(owner[owner >= 0].tolist())
        ax.set_title(_day_label(d, start_date), fontsize=8)
    colours = _org_colours(names)
    handles = [Patch(color=colours[o], label=f"{names[o]} ({camps[o]})") for o in sorted(held)]
    handles.append(Patch(facecolor=(0.93, 0.93, 0.93), edgecolor="0.6", label="held by none"))
    fig.legend(handles=handles, fontsize=7, loc="center right", frameon=False,
               title="holds the cell", title_fontsize=7)
    fig.suptitle(title or "who holds each cell over time", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1 - 2.0 / (2.3 * len(days) + 2.2), 1))
    return fig


# ---------------------------------------------------------------------------- flows
def flow_components(history, org: int | str, bin_days: int = 7) -> dict[str, np.ndarray]:
    """Fighters gained (positive) and lost (negative) by one organization, per period.

    Losses to partners are split by partner (``killed by X``, ``detained by X``,
    ``surrendered to X``, ``defected to X``); gains by source (local and foreign recruits,
    ``defectors from X``). Every component is an array over periods of ``bin_days`` days.

    Args:
        history: a :class:`affiliate_sim.model.history.RunHistory` (``run.history``).
        org: organization index or name.
        bin_days: days per period.
    """
    names = list(history.names)
    i = names.index(org) if isinstance(org, str) else int(org)
    D = history.days
    nb = -(-D // bin_days)

    def binned(x: np.ndarray) -> np.ndarray:
        pad = np.zeros(nb * bin_days)
        pad[:D] = x
        return pad.reshape(nb, bin_days).sum(axis=1)

    out: dict[str, np.ndarray] = {}
    out["recruited (local)"] = binned(history.flows["recruited_local"][:, i])
    out["recruited (foreign)"] = binned(history.flows["recruited_foreign"][:, i])
    for j, partner in enumerate(names):
        if j != i and history.pairs["defected"][:, j, i].sum() > 0:
            out[f"defectors from {partner}"] = binned(history.pairs["defected"][:, j, i])
    for k, verb in (("killed", "killed by"), ("detained", "detained by"),
                    ("surrendered", "surrendered to"), ("defected", "defected to")):
        for j, partner in enumerate(names):
            if history.pairs[k][:, i, j].sum() > 0:
                out[f"{verb} {partner}"] = -binned(history.pairs[k][:, i, j])
    out["fled"] = -binned(history.flows["fled"][:, i])
    out["deserted"] = -binned(history.flows["deserted"][:, i])
    return {k: v for k, v in out.items() if np.abs(v).sum() > 0}


def flows_stacked(history, org: int | str, bin_days: int = 7, title: str = "",
                  start_date: str = "") -> Figure:
    """One organization's flows as stacked bars per period: gains up, losses down, with its
    fighters (right axis).

    Args:
        history: ``model.history``.
        org: organization index or name.
        bin_days: days per bar.
        title: figure title (default: the organization).
        start_date: day 0's date: the time axis shows dates (days otherwise).
    """
    names = list(history.names)
    i = names.index(org) if isinstance(org, str) else int(org)
    parts = flow_components(history, i, bin_days)
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    if parts:
        nb = len(next(iter(parts.values())))
        x = time_x(np.arange(nb) * bin_days + bin_days / 2, start_date)
        cmap = plt.get_cmap("tab20")
        up = np.zeros(nb)
        down = np.zeros(nb)
        for k, (label, v) in enumerate(parts.items()):
            pos = v >= 0
            base = np.where(pos, up, down)
            ax.bar(x, v, width=bin_days * 0.9, bottom=base, color=cmap(k % 20), label=label)
            up = np.where(pos, up + v, up)
            down = np.where(pos, down, down + v)
    ax.axhline(0, color="black", lw=0.8)
    date_axis(ax, start_date)
    ax.set_ylabel(f"fighters gained (+) / lost (-) per {bin_days} days")
    ax2 = ax.twinx()
    ax2.plot(time_x(np.arange(history.days + 1), start_date), history.stocks["fighters"][:, i],
             color="black", lw=1.5, ls="--", label="fighters (right axis)")
    ax2.set_ylabel("fighters")
    ax2.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left", bbox_to_anchor=(1.08, 1.0),
              frameon=False)
    ax.set_title(title or f"Flows of {names[i]}")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- sweeps
def lever_heatmap(table, value: str, row: str = "scenario", col: str = "lever",
                  baseline: str | None = None, title: str = "", label: str = "",
                  fmt: str = "{:.2f}", robust: bool = True) -> Figure:
    """A lever against an outcome across cases: one cell per (row, column), mean over seeds.

    With ``baseline`` (a value of ``col``, e.g. ``"none"``), cells show the difference from
    that column's mean in the same row, on a diverging scale centred on zero.

    Args:
        table: a sweep table (``sweep.parquet`` or :func:`affiliate_sim.cli.compose.lever_sweep`).
        value: the outcome column (numeric or boolean).
        row, col: the columns to cross (cases and levers).
        baseline: the column value to subtract, or None.
        title: figure title.
        label: colour-bar label (the outcome and its unit).
        fmt: number format of the annotations.
        robust: with a baseline, clip the colour scale at the 95th percentile of the
            differences (the annotations keep the exact values).
    """
    done = table[table["status"] == "done"] if "status" in table else table
    pivot = done.pivot_table(index=row, columns=col, values=value, aggfunc="mean")
    pivot = pivot.astype(float)
    if baseline is not None:
        if baseline not in pivot.columns:
            raise ValueError(f"baseline {baseline!r} is not a value of {col!r}: "
                             f"{list(pivot.columns)}")
        pivot = pivot.sub(pivot[baseline], axis=0)
        pivot = pivot[[c for c in pivot.columns if c != baseline]]
    data = pivot.to_numpy()
    fig, ax = plt.subplots(figsize=(1.1 * data.shape[1] + 3.2, 0.45 * data.shape[0] + 1.8))
    finite = data[np.isfinite(data)]
    extend = "neither"
    if baseline is not None:
        lim = float(np.abs(finite).max()) if finite.size else 0.0
        if robust and finite.size >= 8:  # one huge effect must not wash out the others
            clip = float(np.percentile(np.abs(finite), 95))
            if 0 < clip < lim:
                lim, extend = clip, "both"
        lim = max(lim, 1e-9)
        im = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    else:
        im = ax.imshow(data, cmap="viridis", aspect="auto")
    ax.set_xticks(range(data.shape[1]), [str(c) for c in pivot.columns], rotation=35,
                  ha="right", fontsize=8)
    ax.set_yticks(range(data.shape[0]), [str(r) for r in pivot.index], fontsize=8)
    lo, hi = im.get_clim()
    for (r, c), v in np.ndenumerate(data):
        if np.isfinite(v):
            x = (v - lo) / (hi - lo) if hi > lo else 0.5
            dark = (abs(x - 0.5) > 0.3) if baseline is not None else x < 0.55
            text = fmt.format(v)
            if text.startswith("-") and text[1:] == fmt.format(0.0):
                text = text[1:]  # no "-0.00"
            ax.text(c, r, text, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    ax.set_xlabel(col)
    ax.set_ylabel(row)
    cb = fig.colorbar(im, ax=ax, extend=extend)
    what = label or value
    cb.set_label(f"{what} - {baseline}" if baseline is not None else what, fontsize=8)
    ax.set_title(title or (f"{what}: change from {col}={baseline} (mean over seeds)"
                           if baseline is not None else f"{what} (mean over seeds)"),
                 fontsize=10)
    fig.tight_layout()
    return fig


def outcome_distributions(table, value: str, by: str = "lever", facet: str = "scenario",
                          title: str = "", label: str = "", ncols: int = 3) -> Figure:
    """Distributions across seeds: one panel per ``facet`` value (case), a box and the seeds
    as points for each ``by`` value (lever).

    Args:
        table: a sweep table.
        value: the outcome column.
        by: the column on the x axis.
        facet: the column of the panels.
        title: figure title.
        label: y-axis label (the outcome and its unit).
        ncols: panels per row.
    """
    done = table[table["status"] == "done"] if "status" in table else table
    facets = sorted(done[facet].unique())
    levels = sorted(done[by].unique(), key=str)
    nrows = -(-len(facets) // ncols)
    fig, axes = plt.subplots(nrows, min(ncols, len(facets)),
                             figsize=(3.6 * min(ncols, len(facets)), 2.8 * nrows + 0.6),
                             squeeze=False, sharex=True)
    rng = np.random.default_rng(0)  # jitter only
    for ax, f in zip(axes.flat, facets, strict=False):
        sub = done[done[facet] == f]
        data = [sub.loc[sub[by] == lv, value].astype(float).to_numpy() for lv in levels]
        ax.boxplot([d if len(d) else [np.nan] for d in data], positions=range(len(levels)),
                   widths=0.6, showfliers=False)
        for k, d in enumerate(data):
            ax.scatter(k + rng.uniform(-0.15, 0.15, len(d)), d, s=8, alpha=0.6,
                       color="tab:blue", zorder=3)
        ax.set_title(str(f), fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        ax.set_ylabel(label or value, fontsize=8)
    for ax in axes.flat[len(facets):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xticks(range(len(levels)), [str(lv) for lv in levels], rotation=45, ha="right",
                      fontsize=7)
        ax.set_xlabel(by)
    fig.suptitle(title or f"{label or value} across seeds, by {by}", fontsize=11)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- replay
def observation_scores(table: Mapping[str, Mapping[str, Mapping]], threshold: float = 0.8,
                       title: str = "") -> Figure:
    """Share of seeds meeting each article observation, case by case (horizontal bars).

    Args:
        table: ``{case: {observation id: {"share_met": float, ...}}}`` (``replay.json``).
        threshold: the bar an observation must reach (drawn as a line).
        title: figure title.
    """
    labels, shares, groups = [], [], []
    for case, obs in table.items():
        for oid, o in obs.items():
            labels.append(f"{case}: {oid}")
            shares.append(float(o["share_met"]))
            groups.append(case)
    fig, ax = plt.subplots(figsize=(8.5, 0.22 * len(labels) + 1.4))
    y = np.arange(len(labels))[::-1]
    cases = list(dict.fromkeys(groups))
    cmap = plt.get_cmap("tab10")
    colours = [cmap(cases.index(g) % 10) for g in groups]
    ax.barh(y, shares, color=colours, height=0.75)
    ax.axvline(threshold, color="crimson", ls="--", lw=1,
               label=f"bar: met in {threshold:.0%} of seeds")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of seeds in which the observation is met")
    met = sum(s >= threshold for s in shares)
    ax.set_title(title or f"Article observations met: {met} of {len(shares)} "
                 f"in at least {threshold:.0%} of seeds", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def difference_interval(on: float, on_interval: Sequence[float], off: float,
                        off_interval: Sequence[float]) -> tuple[float, float]:
    """Interval of the difference ``off - on`` of two shares from their own (Wilson)
    intervals, by Newcombe's method (Newcombe 1998, method 10): at the same level as
    theirs (the replay's: 95%)."""
    (l1, u1), (l2, u2) = on_interval, off_interval
    d = off - on
    return (float(d - np.hypot(off - l2, u1 - on)), float(d + np.hypot(u2 - off, on - l1)))


def knockout_effects(knock: Mapping[str, Mapping[str, Mapping]]) -> list[dict]:
    """Every knock-out effect with a direction: case, mechanism, observation, the share of
    seeds meeting it with the mechanism on and off, ``change`` (off - on: negative when
    removing the mechanism makes the observation less often met) and its interval
    (:func:`difference_interval`; ``None`` without the two intervals)."""
    rows = []
    for case, mechs in knock.items():
        for mech in sorted(mechs):
            for oid, d in mechs[mech].items():
                if "on" not in d or "off" not in d:
                    continue
                iv = (difference_interval(d["on"], d["on_interval"], d["off"],
                                          d["off_interval"])
                      if "on_interval" in d and "off_interval" in d else None)
                rows.append({"case": case, "mechanism": mech, "observation": oid,
                             "on": float(d["on"]), "off": float(d["off"]),
                             "change": float(d["off"]) - float(d["on"]), "interval": iv})
    return rows


def knockout_matrix(knock: Mapping[str, Mapping[str, Mapping]], title: str = "",
                    effects: bool = True) -> Figure:
    """Which mechanisms each case needs: the observations whose share of seeds met changes
    when each mechanism is switched off, with the direction of the change; and (with
    ``effects``) each change with its interval.

    The matrix counts, per case and mechanism, the observations met less often without the
    mechanism (``-n``: the mechanism helps the case) and more often (``+n``: it hurts);
    its colour is their balance. The second panel shows each change, off minus on, with
    its 95% interval (:func:`difference_interval` of the replay's Wilson intervals).

    Args:
        knock: ``{case: {mechanism: {observation id: {"on": share, "off": share,
            "on_interval": (lo, hi), "off_interval": (lo, hi)}}}}`` (``knockouts.json``);
            an entry without ``on`` / ``off`` counts as a change of unknown direction.
        title: figure title.
        effects: draw the panel of changes with intervals (when there are any).
    """
    cases = list(knock)
    mechs = sorted({m for c in knock.values() for m in c})
    down = np.zeros((len(cases), len(mechs)))
    up = np.zeros_like(down)
    other = np.zeros_like(down)
    for r, c in enumerate(cases):
        for k, m in enumerate(mechs):
            for d in knock[c].get(m, {}).values():
                if "on" in d and "off" in d and d["off"] != d["on"]:
                    (down if d["off"] < d["on"] else up)[r, k] += 1
                else:
                    other[r, k] += 1
    rows = knockout_effects(knock) if effects else []
    h = max(0.45 * len(cases) + 2.2, 0.24 * len(rows) + 1.6 if rows else 0.0)
    if rows:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(0.8 * len(mechs) + 10.5, h),
                                      width_ratios=[0.8 * len(mechs) + 2.5, 7.5])
    else:
        fig, ax = plt.subplots(figsize=(0.8 * len(mechs) + 3.5, h))
    net = up - down
    lim = max(float(np.abs(net).max()) if net.size else 0.0, 1.0)
    im = ax.imshow(net, cmap="RdBu", aspect="auto", vmin=-lim, vmax=lim)
    ax.set_xticks(range(len(mechs)), mechs, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(cases)), cases, fontsize=8)
    for (r, k), v in np.ndenumerate(net):
        parts = ([f"\u2212{down[r, k]:.0f}"] if down[r, k] else []) + \
                ([f"+{up[r, k]:.0f}"] if up[r, k] else []) + \
                ([f"{other[r, k]:.0f}?"] if other[r, k] else [])
        ax.text(k, r, " ".join(parts) if parts else "0", ha="center", va="center",
                fontsize=7, color="white" if abs(v) > 0.6 * lim else "black")
    ax.set_xlabel("mechanism switched off")
    ax.set_ylabel("case")
    fig.colorbar(im, ax=ax, fraction=0.05).set_label(
        "more often (+) \u2212 less often (\u2212)", fontsize=7)
    ax.set_title("\u2212n: n observations met less often without the mechanism; "
                 "+n: more often", fontsize=8)
    if rows:
        y = np.arange(len(rows))[::-1]
        for yy, row in zip(y, rows, strict=True):
            colour = "#b2182b" if row["change"] < 0 else "#2166ac"
            if row["interval"] is not None:
                lo, hi = row["interval"]
                ax2.plot([lo, hi], [yy, yy], color=colour, lw=2, alpha=0.6,
                         solid_capstyle="butt")
            ax2.plot([row["change"]], [yy], "o", color=colour, ms=5)
        ax2.axvline(0, color="0.3", lw=0.8)
        ax2.set_yticks(y, [f"{r['case']}: {r['mechanism']} off, {r['observation']}"
                           for r in rows], fontsize=6)
        ax2.yaxis.tick_right()
        ax2.set_xlim(-1.05, 1.05)
        ax2.set_xlabel("change in the share of seeds meeting the observation (off \u2212 on)",
                       fontsize=8)
        ax2.set_title("each change and its 95% interval (Newcombe, from the Wilson "
                      "intervals over seeds);\nred: met less often without the mechanism, "
                      "blue: more often", fontsize=8)
        ax2.grid(alpha=0.3, axis="x")
    fig.suptitle(title or "Which mechanisms each case needs (knock-outs), and which way",
                 fontsize=10)
    fig.tight_layout()
    return fig


def morris_scatter(table, case: str, outcome: str, label: int = 8) -> Figure:
    """Morris screening of one case's outcome: ``mu*`` (overall influence) against ``sigma``
    (interactions and non-linearity), the ``label`` most influential parameters named, with
    the bootstrap interval of ``mu*`` as horizontal bars."""
    t = table[(table.method == "morris") & (table.case == case) & (table.outcome == outcome)]
    t = t.sort_values("mu_star", ascending=False)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.errorbar(t.mu_star, t.sigma, xerr=t.mu_star_conf, fmt="o", ms=3, alpha=0.6,
                elinewidth=0.6)
    for _, r in t.head(label).iterrows():
        ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 2),
                    textcoords="offset points")
    lim = max(float(t.mu_star.max()), float(t.sigma.max()), 1e-12) * 1.05
    ax.plot([0, lim], [0, lim], lw=0.6, color="grey", ls="--")
    ax.set_xlabel("mu* (mean |elementary effect| over the range)")
    ax.set_ylabel("sigma")
    ax.set_title(f"Morris: {case}, {outcome}", fontsize=9)
    fig.tight_layout()
    return fig


def sobol_bars(table, outcome: str, cases: Sequence[str] | None = None) -> Figure:
    """Sobol first-order (``S1``, dark) and total (``ST``, light) indices with their 95%
    bootstrap intervals, per parameter, one panel per case."""
    t = table[(table.method == "sobol") & (table.outcome == outcome)]
    cases = list(cases) if cases is not None else list(dict.fromkeys(t.case))
    ncol = min(3, len(cases))
    nrow = -(-len(cases) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False,
                             sharex=True)
    names = list(dict.fromkeys(t.parameter))
    y = np.arange(len(names))
    for ax, case in zip(axes.flat, cases, strict=False):
        c = t[t.case == case].set_index("parameter").reindex(names)
        ax.barh(y + 0.2, c.ST, 0.4, xerr=c.ST_conf, color="#9ecae1", label="ST")
        ax.barh(y - 0.2, c.S1, 0.4, xerr=c.S1_conf, color="#08519c", label="S1")
        ax.set_yticks(y, names, fontsize=7)
        ax.axvline(0.0, color="grey", lw=0.5)
        ax.set_title(case, fontsize=9)
    for ax in list(axes.flat)[len(cases):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Sobol indices: {outcome}", fontsize=10)
    fig.tight_layout()
    return fig


def prim_tradeoff(tradeoff, boxes: Mapping[str, Mapping]) -> Figure:
    """PRIM's peeling trajectories: density against coverage for each outcome, coloured by
    the number of restricted dimensions, the chosen step circled."""
    outcomes = list(dict.fromkeys(tradeoff.outcome))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.6 * len(outcomes), 3.8),
                             squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=True):
        t = tradeoff[tradeoff.outcome == outcome]
        sc = ax.scatter(t.coverage, t.density, c=t.res_dim, cmap="viridis", s=12)
        step = boxes.get(outcome, {}).get("step")
        if step is not None:
            r = t[t.step == step]
            ax.scatter(r.coverage, r.density, s=120, facecolors="none", edgecolors="red")
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(outcome, fontsize=9)
        fig.colorbar(sc, ax=ax, label="restricted dimensions")
    fig.tight_layout()
    return fig



def _quiet_log(axis) -> None:
    """A log axis with labels on the decades only (minor labels crowd small panels)."""
    from matplotlib.ticker import NullFormatter

    axis.set_minor_formatter(NullFormatter())


def posterior_marginals(post, cols: int = 8) -> Figure:
    """Each free parameter's weighted posterior marginal (histogram over the prior's range,
    log axis where the prior is log-uniform; the median marked)."""
    n = len(post.names)
    rows = max(1, int(np.ceil(n / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(2.1 * cols, 1.6 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for j, (name, ax) in enumerate(zip(post.names, axes.flat, strict=False)):
        b = post.bounds[name]
        bins = (np.geomspace(b.lo, b.hi, 21) if b.log else np.linspace(b.lo, b.hi, 21))
        ax.hist(post.values[:, j], bins=bins, weights=post.weights, color="#4c72b0")
        ax.axvline(float(post.quantile(name, 0.5)), color="k", lw=0.8)
        if b.log:
            ax.set_xscale("log")
            _quiet_log(ax.xaxis)
        ax.set_xlim(b.lo, b.hi)
        ax.set_yticks([])
        ax.set_title(name, fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle("Posterior marginals over each prior's range (line: median)", fontsize=10)
    fig.tight_layout()
    return fig


def posterior_pairs(post, names: Sequence[str]) -> Figure:
    """Pairwise scatter of the weighted particles for some parameters (point size by
    weight), marginals on the diagonal."""
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(1.9 * k, 1.9 * k), squeeze=False)
    size = 60 * post.weights / post.weights.max()
    for a, na in enumerate(names):
        for c, nc in enumerate(names):
            ax = axes[a, c]
            ba, bc = post.bounds[na], post.bounds[nc]
            xa = post.values[:, post.names.index(na)]
            xc = post.values[:, post.names.index(nc)]
            if a == c:
                bins = (np.geomspace(bc.lo, bc.hi, 21) if bc.log
                        else np.linspace(bc.lo, bc.hi, 21))
                ax.hist(xc, bins=bins, weights=post.weights, color="#4c72b0")
                ax.set_yticks([])
            elif a > c:
                ax.scatter(xc, xa, s=size, alpha=0.4, color="#4c72b0", lw=0)
                ax.set_ylim(ba.lo, ba.hi)
                if ba.log:
                    ax.set_yscale("log")
                    _quiet_log(ax.yaxis)
            else:
                ax.axis("off")
                continue
            ax.set_xlim(bc.lo, bc.hi)
            if bc.log:
                ax.set_xscale("log")
                _quiet_log(ax.xaxis)
            ax.tick_params(labelsize=6)
            if a == k - 1:
                ax.set_xlabel(nc, fontsize=7)
            if c == 0 and a > 0:
                ax.set_ylabel(na, fontsize=7)
    fig.suptitle("Posterior: the most constrained parameters, pairwise", fontsize=10)
    fig.tight_layout()
    return fig


def predictive_bands(rows: Sequence[Mapping]) -> Figure:
    """Posterior predictive check: for each observation (one row each, grouped by case),
    the 5-95% and the median of the simulated value's standardized gap to the article's
    target (0: inside the target; negative: below it; in error scales), coloured by
    whether the 90% interval reaches the target."""
    n = len(rows)
    fig, ax = plt.subplots(figsize=(10, 0.2 * n + 1.4))
    ys = np.arange(n)[::-1]
    for y, r in zip(ys, rows, strict=True):
        lo, mid, hi = r["gap_q05"], r["gap_median"], r["gap_q95"]
        colour = "#2a9d8f" if r["covers"] else "#e76f51"
        if lo == lo and hi == hi:
            ax.plot([lo, hi], [y, y], color=colour, lw=3, solid_capstyle="butt")
        if mid == mid:
            ax.plot([mid], [y], "k|", ms=8)
    ax.axvspan(-0.05, 0.05, color="0.85", zorder=0)
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{r['case']}: {r['observation']}" for r in rows], fontsize=6)
    ax.set_xlabel("standardized gap to the article's target (error scales; 0 = inside)")
    ax.set_xlim(-10.5, 10.5)
    ax.set_title("Predictive 90% intervals of each observation against the article's "
                 "target (green: reaches it)", fontsize=9)
    fig.tight_layout()
    return fig


def save(fig: Figure, path) -> None:
    """Save a figure as PNG (cropped to what is drawn, legends outside the axes included)
    and close it."""
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
