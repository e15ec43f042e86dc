"""Sweeps: robust jobs, resume, and one tidy table per sweep.

A sweep is a Hydra multirun of ``affiliate-sim``. Jobs of one case that differ only in
their seed and parameter values run together as one ensemble (:func:`run_group`; the sweeper
groups them, see ``hydra_plugins.affiliate_sim_sweeper``), but every job keeps its own
folder, status and result, exactly as if it had run alone. Each job:

* runs in its own folder named after its overrides (``job_dir``), so that running the same
  command again on the same sweep folder (``hydra.sweep.dir=DIR``) finds it;
* skips itself if that folder already holds a finished result (resume: a finished result is
  never overwritten);
* records a failure (``status.json`` with the error message) instead of raising, so that
  Hydra goes on with the other jobs and still runs its end-of-sweep callbacks;
* writes every file atomically, ``summary.json`` last.

At the end of the sweep (and on demand: ``affiliate-aggregate DIR``), :func:`aggregate`
writes ``DIR/sweep.parquet`` (one row per job: every override as a column, the job's status
and error, and its summary metrics), ``DIR/sweep_long.parquet`` (the same metrics, one row
per job, organization or camp, and metric, with units) and ``DIR/timeseries.parquet``
(every job's daily series in long form, with the job's folder, scenario and seed). Their
columns, dtypes and units: :mod:`affiliate_sim.experiments.tables` (``docs/outputs.md``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from affiliate_sim.experiments.output import write_json, write_parquet

STATUS = "status.json"
#: Longest job folder name written out in full; longer ones are shortened with a hash.
MAX_DIRNAME = 120


def job_dir(override_dirname: str, sweep_dir: str | None = None,
            cwd: str | None = None) -> str:
    """A job's folder name from Hydra's ``override_dirname`` (deterministic, file-safe).

    Given the sweep folder (and the folder it is relative to, the driver's working folder),
    the job's folder as an absolute path instead: jobs that run in another working folder
    (on a Ray cluster) then still write into the sweep folder the command was given.
    """
    name = override_dirname or "defaults"
    safe = re.sub(r"[^A-Za-z0-9._,=+-]", "_", name)
    if len(safe) > MAX_DIRNAME or safe in (".", ".."):
        digest = hashlib.sha1(name.encode()).hexdigest()[:12]
        safe = f"{safe[:MAX_DIRNAME - 13]}-{digest}"
    if sweep_dir is None:
        return safe
    return os.path.abspath(os.path.join(cwd or os.getcwd(), str(sweep_dir), safe))


def is_finished(out_dir: Path) -> bool:
    """Whether a job folder holds a finished result."""
    return (Path(out_dir) / "summary.json").is_file()


#: Folder of a sweep holding the members of each grouped job.
GROUPS = ".groups"


def write_group(sweep_dir: Path, members: list[list[str]]) -> str:
    """Record a group's members (their override lists); returns its id (a hash of them,
    so that running the same sweep again names the same groups)."""
    text = json.dumps(members, separators=(",", ":"))
    gid = hashlib.sha1(text.encode()).hexdigest()[:16]
    write_json(Path(sweep_dir) / GROUPS / f"{gid}.json", members)
    return gid


def read_group(sweep_dir: Path, gid: str) -> list[list[str]]:
    """The members of a grouped job."""
    return json.loads((Path(sweep_dir) / GROUPS / f"{gid}.json").read_text(encoding="utf-8"))


def override_dirname(overrides: list[str], exclude: tuple[str, ...] = ("group", "force")
                     ) -> str:
    """Hydra's ``override_dirname`` of a job (its overrides sorted and joined by commas,
    without the excluded keys), as ``conf/affiliate_sim.yaml`` configures it."""
    return ",".join(sorted(o for o in overrides
                           if o.split("=", 1)[0].lstrip("+~") not in exclude))


def run_group(spec_of: Callable[[list[str]], Any], members: list[list[str]],
              folder_of: Callable[[list[str]], Path],
              params_name: Callable[[list[str]], str | None] = lambda _: None,
              ) -> list[dict[str, Any]]:
    """Run sweep jobs that share an ensemble, each recorded in its own folder as if it had
    run alone (see the module docstring); returns their status records.

    Args:
        spec_of: gives a member's validated :class:`~affiliate_sim.experiments.runs.RunSpec`
            from its overrides (validation errors are recorded as that member's failure).
        members: each member's overrides.
        folder_of: each member's job folder.
        params_name: each member's parameter set's name (recorded in its summary).
    """
    from affiliate_sim.experiments.output import write_run
    from affiliate_sim.experiments.runs import execute, finished_run

    records, todo = [], []
    for overrides in members:
        out_dir = Path(folder_of(overrides))
        if is_finished(out_dir):
            records.append({"status": "skipped", "overrides": overrides})
            continue
        status = {"status": "running", "overrides": overrides, "pid": os.getpid(),
                  "started": time.time()}
        records.append(status)
        try:  # a folder that cannot be written (full, read-only) fails this job only
            write_json(out_dir / STATUS, status)
            _injected_failure(overrides)
            todo.append((out_dir, status, spec_of(overrides), params_name(overrides)))
        except Exception as err:  # noqa: BLE001  (a failed job is recorded, not raised)
            _finish(out_dir, status, err)
    try:
        runs = execute([t[2] for t in todo], collect=finished_run) if todo else []
    except Exception as err:  # noqa: BLE001
        for out_dir, status, _, _ in todo:
            _finish(out_dir, status, err)
        return records
    for (out_dir, status, _, name), run in zip(todo, runs, strict=True):
        try:
            write_run(run, out_dir, name)
            _finish(out_dir, status)
        except Exception as err:  # noqa: BLE001
            _finish(out_dir, status, err)
    return records


def _finish(out_dir: Path, status: dict[str, Any], err: BaseException | None = None) -> None:
    """Record a job's end in its status file. If that cannot be written (a full or
    read-only folder), the record says why (``unrecorded``) and the sweep goes on; its
    table then counts the job as failed (unless its results were written)."""
    if err is None:
        status.update(status="done")
    else:
        status.update(status="failed", error=f"{type(err).__name__}: {err}",
                      traceback="".join(traceback.format_exception(err, limit=8)))
    status["finished"] = time.time()
    try:
        write_json(out_dir / STATUS, status)
    except OSError as werr:  # (a done job's results are written: it stays done)
        status["unrecorded"] = f"{type(werr).__name__}: {werr}"


def run_job(spec_of: Callable[[], Any], out_dir: Path, overrides: list[str]) -> dict[str, Any]:
    """Run one sweep job robustly (see the module docstring); returns its status record."""
    [record] = run_group(lambda _: spec_of(), [list(overrides)], lambda _: Path(out_dir))
    return record


#: Testing aid: a job whose overrides include one of these comma-separated items fails on
#: purpose (e.g. ``AFFILIATE_SIM_FAIL_JOBS=seed=3``), to show that failures are recorded.
FAIL_ENV = "AFFILIATE_SIM_FAIL_JOBS"


def _injected_failure(overrides: list[str]) -> None:
    wanted = [x for x in os.environ.get(FAIL_ENV, "").split(",") if x]
    if any(w in overrides for w in wanted):
        raise RuntimeError(f"failure injected by {FAIL_ENV} for this job")


def summary_columns(summary: dict[str, Any]) -> dict[str, Any]:
    """Summary metrics as flat columns: per organization and per camp."""
    row: dict[str, Any] = {}
    camps: dict[str, dict[str, float]] = {}
    for name, o in summary["organizations"].items():
        p = f"{name}."
        row[p + "survived"] = o["survived"]
        row[p + "fighters_end"] = o["fighters_end"]
        row[p + "fighters_peak"] = o["fighters_peak"]
        row[p + "day_of_collapse"] = o["day_of_collapse"]
        row[p + "cells_held_end"] = o["cells_held_end"]
        for flow, v in o["flows"].items():
            row[p + flow] = v
        c = camps.setdefault(o["camp"], {"fighters_end": 0.0, "fighters_start": 0.0,
                                         "killed": 0.0, "organizations_surviving": 0})
        c["fighters_end"] += o["fighters_end"]
        c["fighters_start"] += o["fighters_start"]
        c["killed"] += o["flows"]["killed"]
        c["organizations_surviving"] += int(o["survived"])
    for camp, c in camps.items():
        for k, v in c.items():
            row[f"camp:{camp}.{k}"] = v
    for oid, ob in (summary.get("observations") or {}).items():
        row[f"obs:{oid}.met"] = ob["met"]
        row[f"obs:{oid}.value"] = ob["value"]
    prov = summary.get("provenance") or {}
    if prov:
        row["params_name"] = prov["params"]["name"]
        row["params_digest"] = prov["params"]["digest"]
        row["scenario_digest"] = (prov["scenarios"] or [{}])[0].get("digest")
        row["version"] = prov["version"]
        row["commit"] = prov["commit"]
    return row


def _parse_override(item: str) -> tuple[str, Any]:
    key, _, value = item.partition("=")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    if not isinstance(parsed, (int, float, str, bool)) or parsed is None:
        parsed = value
    return key.lstrip("+~"), parsed


#: Overrides with their own column in the long table; the others go in ``overrides``.
LONG_KEYS = ("scenario", "seed", "lever")


def _long_base(job: str, status: str, items: list[str], summary: dict[str, Any] | None,
               cols: dict[str, Any]) -> dict[str, Any]:
    """The per-job columns of a job's rows in the long table."""
    from affiliate_sim.experiments.tables import PROVENANCE

    pairs = [_parse_override(i) for i in items]
    parsed = dict(pairs)
    others = sorted(f"{k}={v}" for k, v in pairs if k not in LONG_KEYS and k != "group")
    base = {"job": job, "status": status,
            "scenario": summary["scenario"] if summary else parsed.get("scenario"),
            "seed": summary["seed"] if summary else parsed.get("seed"),
            "lever": parsed.get("lever"), "overrides": ",".join(others)}
    base.update({c.name: cols.get(c.name) for c in PROVENANCE})
    return base


def _long_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    from affiliate_sim.experiments.tables import SWEEP_LONG, typed

    names = [c.name for c in SWEEP_LONG]
    df = pd.DataFrame(rows, columns=names)
    df["value"] = df["value"].astype("float64")
    return typed("sweep_long.parquet", df)


#: Errors of the jobs a sweep planned that left no record of their end (:func:`aggregate`).
NO_STATUS = "no status recorded (its folder could not be written)"
NO_END = "its end could not be recorded (its folder could not be written)"


def aggregate(sweep_dir: Path, planned: Sequence[str] = ()) -> tuple[pd.DataFrame,
                                                                      pd.DataFrame]:
    """Collect every job of a sweep folder into ``sweep.parquet`` (wide: one row per job),
    ``sweep_long.parquet`` (long: one row per job, organization or camp, and metric) and
    ``timeseries.parquet``, typed as :mod:`affiliate_sim.experiments.tables` describes.

    ``planned``: the job folders (names) the sweep that just ended launched; those that left
    no status, or a status still "running", are failed jobs (their folders could not be
    written: a full or read-only disk), in both tables.

    Returns the wide table and the time series (all three are written, atomically, into
    the sweep folder).
    """
    from affiliate_sim.experiments.tables import long_rows, typed

    sweep_dir = Path(sweep_dir)
    rows, series, longs = [], [], []
    for status_file in sorted(sweep_dir.glob(f"*/{STATUS}")):
        job = status_file.parent
        try:
            status = json.loads(status_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            status = {"status": "failed", "error": f"unreadable status: {err}"}
        row: dict[str, Any] = {"job": job.name}
        items = list(status.get("overrides", []))
        for item in items:
            key, value = _parse_override(item)
            row[key] = value
        finished = is_finished(job)
        row["status"] = "done" if finished else status.get("status", "unknown")
        row["error"] = None if finished else status.get("error")
        summary, metrics = None, []
        if finished:
            try:
                summary = json.loads((job / "summary.json").read_text(encoding="utf-8"))
                cols = {"scenario": summary["scenario"], "seed": summary["seed"],
                        **summary_columns(summary)}
                metrics = long_rows(summary)
                ts = job / "timeseries.parquet"
                df = pd.read_parquet(ts) if ts.is_file() else None
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
                row["status"] = "failed"  # a corrupt result
                row["error"] = f"unreadable result: {type(err).__name__}: {err}"[:300]
                summary, metrics = None, []
            else:
                row.update(cols)
                if df is not None:
                    df = df.drop(columns=[c for c in ("scenario", "seed") if c in df])
                    df.insert(0, "job", job.name)
                    df.insert(1, "scenario", summary["scenario"])
                    df.insert(2, "seed", summary["seed"])
                    series.append(df)
        base = _long_base(job.name, row["status"], items, summary,
                          row if summary else {})
        longs += [{**base, **m} for m in metrics] or [base]
        rows.append(row)
    planned = set(planned)
    for row in rows:
        if row["job"] in planned and row["status"] == "running":  # the sweep is over
            row.update(status="failed", error=NO_END)
    for lrow in longs:
        if lrow["job"] in planned and lrow["status"] == "running":
            lrow["status"] = "failed"
    for name in sorted(planned - {r["job"] for r in rows}):
        rows.append({"job": name, "status": "failed", "error": NO_STATUS})
        longs.append(_long_base(name, "failed", [], None, {}))
    table = typed("sweep.parquet", pd.DataFrame(rows))
    long = (typed("timeseries.parquet", pd.concat(series, ignore_index=True)) if series
            else pd.DataFrame())
    write_parquet(sweep_dir / "sweep.parquet", table)
    write_parquet(sweep_dir / "sweep_long.parquet", _long_table(longs))
    write_parquet(sweep_dir / "timeseries.parquet", long)
    return table, long
