"""Tidy tables and the run summary of one run; atomic writing of outputs.

* ``timeseries`` (one row per day and organization, with the run's scenario and seed, so
  that concatenated files stay self-describing): stocks and each flow of the day.
* ``pair_flows`` (one row per day, organization, partner and flow, non-zero only): who
  killed, detained, received the surrender of, or received the defection of whom.
* ``summary``: per organization the start, end and peak strength, cells held, the total of
  each flow (with killers and destinations by name), and the event log.

Files are written to a temporary name in the same folder and renamed into place, so a
reader never sees half a file and a failed run never destroys a finished one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from affiliate_sim import provenance
from affiliate_sim.model.history import FLOWS, PAIR_FLOWS, STOCKS
from affiliate_sim.vocabulary import CAMPS, KINDS

FLOW_COLUMNS = ("recruited_local", "recruited_foreign", "killed", "detained", "surrendered",
                "defected_out", "defected_in", "fled", "deserted")


def timeseries(run) -> pd.DataFrame:
    """Per-day, per-organization tidy table (day 0 is the start; flows of day 0 are 0);
    its columns: :data:`affiliate_sim.experiments.tables.TIMESERIES`."""
    h = run.history
    D, O = h.days + 1, len(h.names)
    cols: dict[str, Any] = {
        "day": np.repeat(np.arange(D), O),
        "organization": np.tile(np.array(h.names, dtype=object), D),
    }
    for k in STOCKS:
        cols[k] = h.stocks[k].reshape(-1)
    pad = lambda a: np.concatenate([np.zeros((1,) + a.shape[1:]), a])  # noqa: E731
    for k in FLOWS:
        cols[k] = pad(h.flows[k]).reshape(-1)
    for k in ("killed", "detained", "surrendered"):
        cols[k] = pad(h.pairs[k].sum(axis=2)).reshape(-1)
    cols["defected_out"] = pad(h.pairs["defected"].sum(axis=2)).reshape(-1)
    cols["defected_in"] = pad(h.pairs["defected"].sum(axis=1)).reshape(-1)
    for j, region in enumerate(h.region_names):
        cols[f"cells_held:{region}"] = h.region_cells[:, :, j].reshape(-1)
    df = pd.DataFrame(cols)
    df.insert(0, "scenario", pd.Series([run.case.name] * len(df), dtype="str"))
    df.insert(1, "seed", pd.Series([run.seed] * len(df), dtype="Int64"))
    return df[["scenario", "seed", "day", "organization", *STOCKS, *FLOW_COLUMNS,
               *[c for c in df.columns if c.startswith("cells_held:")]]]


def pair_flows(run) -> pd.DataFrame:
    """Non-zero partner flows: ``day, organization, partner, flow, fighters``."""
    h = run.history
    rows = []
    for k in PAIR_FLOWS:
        d, v, j = np.nonzero(h.pairs[k] > 0)
        rows.append(pd.DataFrame({
            "day": d + 1, "organization": np.array(h.names, dtype=object)[v],
            "partner": np.array(h.names, dtype=object)[j], "flow": k,
            "fighters": h.pairs[k][d, v, j],
        }))
    return pd.concat(rows, ignore_index=True).sort_values(
        ["day", "flow", "organization", "partner"], kind="stable").reset_index(drop=True)


def summary(run, params_name: str | None = None) -> dict[str, Any]:
    """The run's summary (see the module docstring), with its provenance
    (:mod:`affiliate_sim.provenance`; ``params_name``: the parameter set's name)."""
    h = run.history
    names = h.names
    orgs: dict[str, Any] = {}
    f = h.stocks["fighters"]
    thr = run.params.collapse_threshold
    for i, name in enumerate(names):
        by = lambda k, axis_other: {  # noqa: E731
            names[j]: float(v) for j, v in enumerate(
                h.pairs[k][:, i, :].sum(0) if axis_other else h.pairs[k][:, :, i].sum(0))
            if v > 0}
        below = np.nonzero((f[:, i] < thr) & (np.maximum.accumulate(f[:, i]) >= thr))[0]
        orgs[name] = {
            "camp": CAMPS[run.camp[i]],
            "kind": KINDS[run.kind[i]],
            "fighters_start": float(f[0, i]),
            "fighters_end": float(f[-1, i]),
            "fighters_peak": float(f[:, i].max()),
            "cells_held_end": int(h.stocks["cells_held"][-1, i]),
            "survived": bool(f[-1, i] >= thr),
            "day_of_collapse": int(below[0]) if len(below) else None,
            "flows": {
                "recruited_local": float(h.flows["recruited_local"][:, i].sum()),
                "recruited_foreign": float(h.flows["recruited_foreign"][:, i].sum()),
                "killed": float(h.pairs["killed"][:, i, :].sum()),
                "detained": float(h.pairs["detained"][:, i, :].sum()),
                "surrendered": float(h.pairs["surrendered"][:, i, :].sum()),
                "defected_out": float(h.pairs["defected"][:, i, :].sum()),
                "defected_in": float(h.pairs["defected"][:, :, i].sum()),
                "fled": float(h.flows["fled"][:, i].sum()),
                "deserted": float(h.flows["deserted"][:, i].sum()),
            },
            "killed_by": by("killed", True),
            "detained_by": by("detained", True),
            "surrendered_to": by("surrendered", True),
            "defected_to": by("defected", True),
            "killed_of_others": by("killed", False),
        }
    from affiliate_sim.scenario.observations import evaluate

    return {
        "scenario": run.case.name,
        "seed": run.seed,
        "days": int(h.days),
        "organizations": orgs,
        "observations": evaluate(run, run.case.observations),
        "events": list(run.events),
        "params": run.params.to_dict(),
        "provenance": provenance.record(run.params, params_name, [run.case]),
    }


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Mode of every file written (what ``open`` would give under the process's umask, read
#: once at import: a temporary file is created private, 0600).
FILE_MODE = 0o666 & ~_umask()


def atomic_write(path: Path, write) -> None:
    """Write ``path`` through ``write(temporary path)``, then rename it into place, with
    the mode a plain ``open`` would have given it (:data:`FILE_MODE`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically."""
    def w(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False)
            fh.write("\n")
    atomic_write(path, w)


def read_json_if_any(path: Path | None) -> Any:
    """A JSON file's contents; None if there is no path, no file, or it does not parse
    (a checkpoint or a partial result that a new run then replaces)."""
    if path is None or not Path(path).exists():
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a parquet file atomically."""
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


def write_run(run, out_dir: Path, params_name: str | None = None) -> dict[str, Any]:
    """Write ``timeseries.parquet``, ``flows.parquet``, ``events.json`` and, last,
    ``summary.json`` (its presence marks a finished run; ``params_name``: the name of the
    parameter set, recorded in its provenance)."""
    out_dir = Path(out_dir)
    write_parquet(out_dir / "timeseries.parquet", timeseries(run))
    write_parquet(out_dir / "flows.parquet", pair_flows(run))
    write_json(out_dir / "events.json", list(run.events))
    summ = summary(run, params_name)
    write_json(out_dir / "summary.json", summ)
    return summ
