"""The output tables' columns in one place: name, dtype, unit and meaning (the data
dictionary), the typing of the sweep table and its long form.

Every column of ``summary.json`` (its keys), ``timeseries.parquet`` (a run's and a sweep's),
``flows.parquet``, ``sweep.parquet`` (wide: one row per job) and ``sweep_long.parquet``
(long: one row per job, organization or camp, and metric) is described here;
``docs/outputs.md`` is generated from these tables (``affiliate-sim outputs --markdown``;
a test keeps the file equal to it and checks that every column a small run and sweep
write is described, in its dtype).

Names may hold placeholders in capitals: ``ORG`` (an organization of the scenario),
``CAMP`` (``IS``, ``AQ``, ``state``, ``independent``), ``ID`` (an observation's id),
``REGION`` (a named region), ``KEY`` (a parameter or mechanism name).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: dtype of text columns (pandas' default string dtype).
TEXT = "str"
#: dtype of an override column: what its values parse as (YAML).
BY_VALUE = "by value"


@dataclass(frozen=True)
class Column:
    """One column (or a family of columns, by a name with placeholders)."""

    name: str
    dtype: str
    unit: str
    meaning: str

    def pattern(self) -> re.Pattern[str]:
        """The column names this entry describes (placeholders match a name part)."""
        parts = re.split(r"(ORG|CAMP|ID|REGION|KEY)", self.name)
        rx = "".join(r"[^:]+?" if p in ("ORG", "ID", "REGION") else r"[A-Za-z]+" if
                     p == "CAMP" else r".+" if p == "KEY" else re.escape(p) for p in parts)
        return re.compile(rf"^{rx}$")


@dataclass(frozen=True)
class Metric:
    """A summary metric of a run: a wide column ``ORG.name`` (or ``camp:CAMP.name``, or
    the name itself for case-level ones) and the rows of ``metric == name`` of the long
    table."""

    name: str
    level: str  # "organization", "camp" or "case"
    dtype: str  # in the wide table; the long table holds every value as float64
    unit: str
    meaning: str

    def column(self) -> Column:
        prefix = {"organization": "ORG.", "camp": "camp:CAMP.", "case": ""}[self.level]
        return Column(prefix + self.name, self.dtype, self.unit, self.meaning)


FLOW_MEANINGS = {
    "recruited_local": "fighters recruited from the local population",
    "recruited_foreign": "foreign fighters arriving",
    "killed": "fighters killed (by any partner)",
    "detained": "fighters detained (by any partner)",
    "surrendered": "fighters who surrendered (to any partner)",
    "defected_out": "fighters who defected to another organization",
    "defected_in": "fighters who defected to this organization",
    "fled": "fighters who fled the theatre",
    "deserted": "fighters who deserted",
}

#: The summary metrics of a run (:func:`affiliate_sim.experiments.sweep.summary_columns`).
METRICS: tuple[Metric, ...] = (
    Metric("survived", "organization", "boolean", "flag",
           "fighters at the end >= params.collapse_threshold"),
    Metric("fighters_end", "organization", "float64", "fighters", "fighters on the last day"),
    Metric("fighters_peak", "organization", "float64", "fighters",
           "most fighters on any day"),
    Metric("day_of_collapse", "organization", "Int64", "day",
           "first day below params.collapse_threshold after having reached it "
           "(null: never collapsed)"),
    Metric("cells_held_end", "organization", "Int64", "cells",
           "grid cells held on the last day"),
    *(Metric(k, "organization", "float64", "fighters", f"total over the run: {v}")
      for k, v in FLOW_MEANINGS.items()),
    Metric("fighters_end", "camp", "float64", "fighters",
           "the camp's fighters on the last day (organizations in the camp at the end)"),
    Metric("fighters_start", "camp", "float64", "fighters",
           "the same organizations' fighters on day 0"),
    Metric("killed", "camp", "float64", "fighters",
           "the camp's fighters killed over the run"),
    Metric("organizations_surviving", "camp", "Int64", "organizations",
           "the camp's organizations that survived"),
    Metric("obs:ID.met", "case", "boolean", "flag",
           "whether the run meets the case's article observation ID"),
    Metric("obs:ID.value", "case", "float64", "target's unit",
           "the observation's measured value (its unit is the target's: fighters, days, "
           "a share, ... see the observation's quantity in the scenario file)"),
)

#: Provenance columns (one value per job), in the wide and the long table.
PROVENANCE: tuple[Column, ...] = (
    Column("params_name", TEXT, "-", "the parameter set: its name, `+lever`, "
           "`+overrides` when values were changed on the command line"),
    Column("params_digest", TEXT, "-", "digest of the parameter values"),
    Column("scenario_digest", TEXT, "-", "digest of the scenario file's bytes"),
    Column("version", TEXT, "-", "affiliate_sim's version"),
    Column("commit", TEXT, "-", "git commit of the checkout (null outside one)"),
)

#: Columns of the override part of a sweep table: one per key the sweep sets (the keys
#: of the config; ``+KEY`` overrides of other keys are typed by their values).
OVERRIDES: tuple[Column, ...] = (
    Column("scenario", TEXT, "-", "the scenario's name (from the job's summary)"),
    Column("seed", "Int64", "-", "the random seed"),
    Column("days", "Int64", "day", "run length when overridden"),
    Column("lever", TEXT, "-", "the policy lever applied (conf/lever/)"),
    Column("params", TEXT, "-", "the parameter set option (conf/params/)"),
    Column("mechanisms", TEXT, "-", "the mechanisms option (conf/mechanisms/)"),
    Column("sweep", TEXT, "-", "the sweep preset (`+sweep=NAME`)"),
    Column("scenario.name", TEXT, "-", "a scenario given as a file (its absolute path)"),
    Column("group", TEXT, "-", "the ensemble a job ran in (set by the sweeper)"),
    Column("params.KEY", "float64", "the parameter's unit (docs/model.md)",
           "a parameter value set by the sweep (`params.estimates.CASE.ORG.FIELD` too)"),
    Column("mechanisms.KEY", "boolean", "flag", "a mechanism switched on or off"),
)

#: ``sweep.parquet``: one row per job.
SWEEP: tuple[Column, ...] = (
    Column("job", TEXT, "-", "the job's folder name (its overrides)"),
    *OVERRIDES,
    Column("status", TEXT, "-", "`done`, `failed`, `running` (unfinished) or `skipped`"),
    Column("error", TEXT, "-", "a failed job's error (null otherwise)"),
    *(m.column() for m in METRICS),
    *PROVENANCE,
)

#: ``sweep_long.parquet``: one row per job, organization (or camp, or the case) and metric.
SWEEP_LONG: tuple[Column, ...] = (
    Column("job", TEXT, "-", "the job's folder name (its overrides)"),
    Column("status", TEXT, "-", "the job's status; a job without a result has one row, "
           "with a null metric"),
    Column("scenario", TEXT, "-", "the scenario's name"),
    Column("seed", "Int64", "-", "the random seed"),
    Column("lever", TEXT, "-", "the policy lever (null when the sweep does not set it)"),
    Column("overrides", TEXT, "-", "the job's other overrides, `KEY=VALUE` sorted and "
           "joined by commas (empty when none)"),
    Column("organization", TEXT, "-", "the organization (null for camp and case metrics)"),
    Column("camp", TEXT, "-", "the organization's camp at the end, or the camp of a camp "
           "metric (null for case metrics)"),
    Column("metric", TEXT, "-", "the metric's name: see the metrics table (`obs:ID.met`, "
           "`obs:ID.value` for observations)"),
    Column("value", "float64", "see unit", "the value (flags as 1.0 / 0.0; null: "
           "undefined, e.g. day_of_collapse of a survivor)"),
    Column("unit", TEXT, "-", "the metric's unit"),
    *PROVENANCE,
)

#: ``timeseries.parquet`` (a run's; a sweep's adds ``job`` first).
TIMESERIES: tuple[Column, ...] = (
    Column("job", TEXT, "-", "the job's folder name (the sweep's table only)"),
    Column("scenario", TEXT, "-", "the scenario's name"),
    Column("seed", "Int64", "-", "the random seed"),
    Column("day", "int64", "day", "day since day 0 (the scenario's start_date)"),
    Column("organization", TEXT, "-", "the organization"),
    Column("fighters", "float64", "fighters", "fighters at the end of the day"),
    Column("sympathizers", "float64", "fighters",
           "of those, latently sympathetic to a rival (the IS camp or dissidents)"),
    Column("cells_held", "float64", "cells", "grid cells held"),
    Column("cohesion", "float64", "share [0, 1]", "organizational cohesion"),
    Column("grievance", "float64", "share [0, 1]", "fighters' grievance against the leader"),
    Column("momentum", "float64", "index", "the organization's recent growth "
           "(exponential memory, params.momentum_memory)"),
    *(Column(k, "float64", "fighters per day", v + " that day (0 on day 0)")
      for k, v in FLOW_MEANINGS.items()),
    Column("cells_held:REGION", "float64", "cells", "grid cells held inside the named region"),
)

#: ``flows.parquet`` (a run's partner flows; non-zero only).
FLOWS: tuple[Column, ...] = (
    Column("day", "int64", "day", "the day of the flow (1 = the first day run)"),
    Column("organization", TEXT, "-", "the organization losing the fighters"),
    Column("partner", TEXT, "-", "the organization that killed, detained, received the "
           "surrender of, or received the defection of them"),
    Column("flow", TEXT, "-", "`killed`, `detained`, `surrendered` or `defected`"),
    Column("fighters", "float64", "fighters", "fighters that day"),
)

#: ``summary.json``'s keys (dotted paths).
SUMMARY: tuple[Column, ...] = (
    Column("scenario", TEXT, "-", "the scenario's name"),
    Column("seed", "int", "-", "the random seed"),
    Column("days", "int", "day", "run length"),
    Column("organizations.ORG.camp", TEXT, "-", "camp at the end of the run"),
    Column("organizations.ORG.kind", TEXT, "-", "kind of organization"),
    Column("organizations.ORG.fighters_start", "float", "fighters", "fighters on day 0"),
    Column("organizations.ORG.fighters_end", "float", "fighters", "fighters on the last day"),
    Column("organizations.ORG.fighters_peak", "float", "fighters", "most fighters on any day"),
    Column("organizations.ORG.cells_held_end", "int", "cells", "cells held on the last day"),
    Column("organizations.ORG.survived", "bool", "flag",
           "fighters at the end >= params.collapse_threshold"),
    Column("organizations.ORG.day_of_collapse", "int or null", "day",
           "first day below the collapse threshold after having reached it"),
    *(Column(f"organizations.ORG.flows.{k}", "float", "fighters", f"total: {v}")
      for k, v in FLOW_MEANINGS.items()),
    Column("organizations.ORG.killed_by", "{ORG: float}", "fighters",
           "fighters killed, by killer (non-zero only)"),
    Column("organizations.ORG.detained_by", "{ORG: float}", "fighters",
           "fighters detained, by captor"),
    Column("organizations.ORG.surrendered_to", "{ORG: float}", "fighters",
           "fighters who surrendered, by receiver"),
    Column("organizations.ORG.defected_to", "{ORG: float}", "fighters",
           "fighters who defected, by destination"),
    Column("organizations.ORG.killed_of_others", "{ORG: float}", "fighters",
           "fighters of others this organization killed, by victim"),
    Column("observations.ID.value", "float", "target's unit",
           "an article observation's measured value (NaN: not measurable)"),
    Column("observations.ID.met", "bool", "flag", "whether the value meets the target"),
    Column("observations.ID.target", TEXT, "-", "the target, as text"),
    Column("events", "list", "-", "the event log: day, kind, actor, target, ..."),
    Column("params", "{KEY: value}", "docs/model.md", "every parameter's value"),
    Column("provenance", "object", "-", "version, commit, the parameter set's name and "
           "digest, the scenario files' names, paths, digests and start dates"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "summary.json": SUMMARY,
    "timeseries.parquet": TIMESERIES,
    "sweep.parquet": SWEEP,
    "sweep_long.parquet": SWEEP_LONG,
    "flows.parquet": FLOWS,
}


def describe(table: str, column: str) -> Column | None:
    """The dictionary's entry for a column of ``table`` (a key of :data:`TABLES`), or
    None when it is not described."""
    for c in TABLES[table]:
        if c.name == column:
            return c
    for c in TABLES[table]:
        if c.pattern().match(column):
            return c
    return None


def undocumented(table: str, df: pd.DataFrame) -> list[str]:
    """Columns of ``df`` that the dictionary does not describe, or whose dtype is not the
    described one (as ``"NAME: dtype X, described as Y"``)."""
    out = []
    for name, dtype in df.dtypes.items():
        c = describe(table, str(name))
        if c is None:
            out.append(f"{name}: not described")
        elif c.dtype == BY_VALUE:
            if str(dtype) not in ("Int64", "float64", "boolean", TEXT):
                out.append(f"{name}: dtype {dtype}, described as {c.dtype}")
        elif str(dtype) != c.dtype:
            out.append(f"{name}: dtype {dtype}, described as {c.dtype}")
    return out


def summary_keys(summary: dict[str, Any]) -> list[str]:
    """The dotted key paths of a ``summary.json`` (organizations and observations by name;
    the values of the mapping-valued keys are not descended into)."""
    leaf = {"killed_by", "detained_by", "surrendered_to", "defected_to", "killed_of_others"}
    out = []
    for k, v in summary.items():
        if k == "organizations":
            for org, o in v.items():
                for f, x in o.items():
                    if f == "flows":
                        out += [f"organizations.{org}.flows.{g}" for g in x]
                    else:
                        out.append(f"organizations.{org}.{f}")
                        assert f in leaf or not isinstance(x, dict), f
        elif k == "observations":
            out += [f"observations.{i}.{f}" for i, ob in (v or {}).items() for f in ob]
        else:
            out.append(k)
    return out


# ---------------------------------------------------------------------------- typing
def _value_dtype(s: pd.Series) -> str:
    """An override column's dtype from its parsed values."""
    vals = s.dropna()
    if len(vals) == 0:
        return TEXT
    if all(isinstance(v, (bool, np.bool_)) for v in vals):
        return "boolean"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals):
        return "Int64"
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
           for v in vals):
        return "float64"
    return TEXT


def typed(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each described column in its described dtype (flags ``boolean``, counts
    and days ``Int64``, text ``str``); any other column by its values."""
    out = {}
    for name in df.columns:
        s = df[name]
        c = describe(table, str(name))
        dtype = c.dtype if c is not None else BY_VALUE  # (an undescribed override)
        if dtype == BY_VALUE:
            dtype = _value_dtype(s)
        if dtype == TEXT and s.dtype == object:
            s = s.map(lambda v: v if v is None or isinstance(v, str) or
                      (isinstance(v, float) and np.isnan(v)) else str(v))
        if dtype in ("boolean", "Int64", "float64", "int64", TEXT):
            try:
                s = s.astype(dtype)
            except (ValueError, TypeError):  # not as described: by its values instead
                s = s.astype(_value_dtype(s))
        out[name] = s
    return pd.DataFrame(out, index=df.index)


def metric_unit(metric: str) -> str:
    """The unit of a metric of the long table."""
    name = "obs:ID." + metric.rsplit(".", 1)[1] if metric.startswith("obs:") else metric
    for m in METRICS:
        if m.name == name:
            return m.unit
    raise KeyError(metric)


def long_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """A finished job's metrics as rows of the long table (``organization``, ``camp``,
    ``metric``, ``value``, ``unit``), in the order of the wide table's columns."""
    from affiliate_sim.experiments.sweep import summary_columns

    camp_of = {name: o["camp"] for name, o in summary["organizations"].items()}
    rows = []
    skip = {c.name for c in PROVENANCE}
    for col, v in summary_columns(summary).items():
        if col in skip:
            continue
        if col.startswith("camp:"):
            head, metric = col[len("camp:"):].split(".", 1)
            org, camp = None, head
        elif col.startswith("obs:"):
            org, camp, metric = None, None, col
        else:
            org, metric = col.split(".", 1)
            camp = camp_of[org]
        rows.append({"organization": org, "camp": camp, "metric": metric,
                     "value": np.nan if v is None else float(v),
                     "unit": metric_unit(metric)})
    return rows


# ---------------------------------------------------------------------------- docs
def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(cols: tuple[Column, ...]) -> list[str]:
    return ["| column | dtype | unit | meaning |", "|---|---|---|---|",
            *[f"| `{c.name}` | {c.dtype} | {_cell(c.unit)} | {_cell(c.meaning)} |"
              for c in cols]]


def reference_markdown() -> str:
    """The data dictionary (``docs/outputs.md``)."""
    return "\n".join([
        "# Outputs: data dictionary",
        "",
        "Generated from `src/affiliate_sim/experiments/tables.py` by "
        "`affiliate-sim outputs --markdown` (a test keeps this file equal to it, and checks "
        "that every column a run and a sweep write is described here, in this dtype). "
        "Names in capitals are placeholders: `ORG` an organization of the scenario, "
        "`CAMP` a camp (`IS`, `AQ`, `state`, `independent`), `ID` an observation's id, "
        "`REGION` a named region of the scenario, `KEY` a parameter or mechanism. "
        "dtypes are pandas': `str` text, `boolean` and `Int64` nullable (null where an "
        "organization is not in a job's scenario, or a value is undefined).",
        "",
        "A run folder (`affiliate-sim scenario=... seed=...`) holds `summary.json`, "
        "`timeseries.parquet`, `flows.parquet` and `events.json` (the event log, as in "
        "`summary.json`). A sweep folder "
        "(`affiliate-sim -m ...`) holds one such folder per job, and `sweep.parquet`, "
        "`sweep_long.parquet` and `timeseries.parquet` (`affiliate-aggregate DIR` "
        "rebuilds them). `affiliate-sim plot DIR` draws the standard figures of either.",
        "",
        "## Metrics",
        "",
        "A run's summary metrics: in `sweep.parquet` as the column `ORG.NAME` (organization), "
        "`camp:CAMP.NAME` (camp) or `NAME` (case); in `sweep_long.parquet` as the rows with "
        "`metric == NAME`.",
        "",
        "| metric | level | dtype (wide) | unit | meaning |", "|---|---|---|---|---|",
        *[f"| `{m.name}` | {m.level} | {m.dtype} | {_cell(m.unit)} | {_cell(m.meaning)} |"
          for m in METRICS],
        "",
        "## `sweep.parquet`",
        "",
        "One row per job (wide): the job's overrides, its status, its metrics and provenance. "
        "An override column not listed here has the dtype of its values (`Int64`, "
        "`float64`, `boolean` or `str`).",
        "",
        *_table(SWEEP),
        "",
        "## `sweep_long.parquet`",
        "",
        "One row per job, organization (or camp, or the case) and metric: the same values "
        "as `sweep.parquet`, without the columns of organizations absent from a job's "
        "scenario.",
        "",
        *_table(SWEEP_LONG),
        "",
        "## `timeseries.parquet`",
        "",
        "One row per day and organization (a sweep's: per job too, with `job` first).",
        "",
        *_table(TIMESERIES),
        "",
        "## `flows.parquet`",
        "",
        "A run's partner flows: one row per day, organization, partner and flow (non-zero "
        "only).",
        "",
        *_table(FLOWS),
        "",
        "## `summary.json`",
        "",
        "Keys as dotted paths.",
        "",
        *_table(SUMMARY),
        "",
    ])


def main(args: list[str]) -> int:
    """``affiliate-sim outputs [--markdown]``: the data dictionary (markdown) or, without
    an option, one line per column: table, name, dtype, unit."""
    if args not in ([], ["--markdown"]):
        print("affiliate-sim outputs: error: the only option is --markdown", file=sys.stderr)
        return 2
    if args:
        print(reference_markdown())
        return 0
    for table, cols in TABLES.items():
        for c in cols:
            print(f"{table:20s} {c.name:36s} {c.dtype:8s} {c.unit}")
    return 0
