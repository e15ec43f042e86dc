"""The standard figures of a run folder or a sweep folder (``affiliate-sim plot DIR``), drawn
from the files alone with the functions of :mod:`affiliate_sim.viz.plots`.

* A run folder (``summary.json``, ``timeseries.parquet``, ``flows.parquet``):
  ``trajectories.png`` (each organization's fighters) and ``flows_ORG.png`` (each
  organization's gains and losses, by partner).
* A sweep folder (``sweep.parquet``, ``timeseries.parquet``): ``trajectories_CASE.png`` (each
  case's fighters across its jobs: median and 10-90% band), and, when the sweep varies a
  key besides the seed (``lever`` first), ``heatmap_OUTCOME.png`` (the outcome by case and
  key, as a change from ``lever=none`` when there is one) and ``distributions_OUTCOME.png``
  (across seeds), for the IS camp's fighters at the end and the share of observations met.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from affiliate_sim.errors import InputError

#: Keys of a sweep that are not compared in the sweep figures.
NOT_COMPARED = ("job", "seed", "scenario", "status", "error", "group", "scenario.name")


def kind(folder: Path) -> str:
    """``"run"`` or ``"sweep"``.

    Raises:
        InputError: when the folder is missing or neither.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "folder", "no such folder")
    if (folder / "summary.json").is_file():
        return "run"
    if (folder / "sweep.parquet").is_file():
        return "sweep"
    hint = (" (it holds jobs: build its tables with `affiliate-aggregate DIR`)"
            if any(folder.glob("*/status.json")) else "")
    raise InputError(str(folder), "folder", "neither a run folder (no summary.json) nor a "
                     "sweep folder (no sweep.parquet)" + hint)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(name))


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from affiliate_sim.experiments.output import atomic_write

    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png",
                                                   bbox_inches="tight"))
    finally:
        plt.close(fig)
    return path


@dataclass
class FileHistory:
    """The part of a run's history :func:`affiliate_sim.viz.plots.flows_stacked` reads,
    rebuilt from ``timeseries.parquet`` and ``flows.parquet``."""

    names: list[str]
    days: int
    stocks: dict[str, np.ndarray]
    flows: dict[str, np.ndarray]
    pairs: dict[str, np.ndarray]


def history_from_files(ts: pd.DataFrame, flows: pd.DataFrame | None) -> FileHistory:
    """A :class:`FileHistory` from a run's time series and partner flows."""
    from affiliate_sim.model.history import FLOWS, PAIR_FLOWS

    names = list(dict.fromkeys(ts["organization"]))
    days = int(ts["day"].max())
    idx = {n: i for i, n in enumerate(names)}

    def grid(col: str) -> np.ndarray:
        p = ts.pivot(index="day", columns="organization", values=col)
        return p.reindex(index=range(days + 1), columns=names).fillna(0.0).to_numpy(float)

    pairs = {k: np.zeros((days, len(names), len(names))) for k in PAIR_FLOWS}
    if flows is not None:
        for r in flows.itertuples(index=False):
            if r.flow in pairs and 1 <= r.day <= days:
                pairs[r.flow][r.day - 1, idx[r.organization], idx[r.partner]] += r.fighters
    return FileHistory(names, days, {"fighters": grid("fighters")},
                       {k: grid(k)[1:] for k in FLOWS}, pairs)


def _start_date(summary: dict[str, Any]) -> str:
    scen = (summary.get("provenance") or {}).get("scenarios") or [{}]
    return str(scen[0].get("start_date") or "")


def run_figures(folder: Path, out: Path) -> list[Path]:
    """The figures of a run folder, written into ``out``; returns their paths."""
    from affiliate_sim.viz import plots

    folder, out = Path(folder), Path(out)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    ts_file = folder / "timeseries.parquet"
    if not ts_file.is_file():
        raise InputError(str(ts_file), "file", "missing (a run folder holds it)")
    ts = pd.read_parquet(ts_file)
    fl = folder / "flows.parquet"
    flows = pd.read_parquet(fl) if fl.is_file() else None
    history = history_from_files(ts, flows)
    orgs = summary["organizations"]
    camps = [orgs.get(n, {}).get("camp", "?") for n in history.names]
    start = _start_date(summary)
    case = f"{summary['scenario']}, seed {summary['seed']}"
    written = [_save(plots.trajectory_bands(
        history.stocks["fighters"][None], history.names, f"{case}: fighters",
        start_date=start, camps=camps), out / "trajectories.png")]
    for i, name in enumerate(history.names):
        if history.stocks["fighters"][:, i].max() <= 0:
            continue
        written.append(_save(plots.flows_stacked(
            history, i, title=f"{case}: flows of {name} ({camps[i]})", start_date=start),
            out / f"flows_{_safe(name)}.png"))
    return written


def _compared_key(table: pd.DataFrame) -> str | None:
    """The override a sweep varies besides seed and case (``lever`` first), or None."""
    from affiliate_sim.experiments.tables import OVERRIDES, describe

    overrides = {c.name for c in OVERRIDES} - set(NOT_COMPARED)
    keys = [c for c in table.columns if c not in NOT_COMPARED and (
        describe("sweep.parquet", c) is None
        or describe("sweep.parquet", c).name in overrides)]
    for k in sorted(keys, key=lambda c: c != "lever"):
        if table[k].nunique(dropna=True) > 1:
            return k
    return None


def sweep_figures(folder: Path, out: Path) -> list[Path]:
    """The figures of a sweep folder, written into ``out``; returns their paths."""
    from affiliate_sim.experiments.compare import add_outcomes
    from affiliate_sim.viz import plots

    folder, out = Path(folder), Path(out)
    table = pd.read_parquet(folder / "sweep.parquet")
    if "status" not in table or not (table["status"] == "done").any():
        raise InputError(str(folder / "sweep.parquet"), "status", "no finished job to plot")
    key = _compared_key(table[table["status"] == "done"])
    done = add_outcomes(table[table["status"] == "done"])
    written: list[Path] = []
    ts_file = folder / "timeseries.parquet"
    ts = pd.read_parquet(ts_file) if ts_file.is_file() else pd.DataFrame()
    if len(ts) and "scenario" not in ts:  # a table written before it had the column
        ts = ts.merge(done[["job", "scenario"]], on="job")
    for case, sub in (ts.groupby("scenario", sort=True) if len(ts) else []):
        jobs = list(dict.fromkeys(sub["job"]))
        names = list(dict.fromkeys(sub["organization"]))
        days = int(sub.groupby("job")["day"].max().min())
        series = np.stack([
            sub[sub["job"] == j].pivot(index="day", columns="organization", values="fighters")
            .reindex(index=range(days + 1), columns=names).fillna(0.0).to_numpy(float)
            for j in jobs])
        first = folder / jobs[0] / "summary.json"
        summ = json.loads(first.read_text(encoding="utf-8")) if first.is_file() else {}
        orgs = summ.get("organizations", {})
        camps = [orgs.get(n, {}).get("camp", "?") for n in names]
        written.append(_save(plots.trajectory_bands(
            series, names, f"{case}: fighters across {len(jobs)} jobs (median, 10-90%)",
            start_date=_start_date(summ), camps=camps),
            out / f"trajectories_{_safe(case)}.png"))
    outcomes = [("is_fighters_end", "IS fighters at end", "{:.0f}"),
                ("observations_met", "observations met", "{:.2f}")]
    for value, label, fmt in outcomes:
        if done[value].isna().all():
            continue
        if key is not None:
            levels = set(done[key].dropna().astype(str))
            baseline = "none" if key == "lever" and "none" in levels else None
            written.append(_save(plots.lever_heatmap(
                done.assign(**{key: done[key].astype(str)}), value, col=key,
                baseline=baseline, label=label, fmt=fmt), out / f"heatmap_{value}.png"))
        by = key or "scenario"
        written.append(_save(plots.outcome_distributions(
            done.assign(**{by: done[by].astype(str)}), value, by=by, label=label),
            out / f"distributions_{value}.png"))
    return written


def figures(folder: Path, out: Path | None = None) -> list[Path]:
    """The standard figures of a run or sweep folder, written into ``out`` (default
    ``FOLDER/figures``); returns their paths.

    Raises:
        InputError: for a folder that is neither, or whose files cannot be read.
    """
    folder = Path(folder)
    what = kind(folder)
    out = Path(out) if out is not None else folder / "figures"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(str(out), "--out", f"cannot be written: {err.strerror or err}") \
            from err
    try:
        return run_figures(folder, out) if what == "run" else sweep_figures(folder, out)
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(str(folder), what, f"cannot be read: {type(err).__name__}: "
                         f"{str(err)[:200]}") from err
