"""Comparing outcomes across a sweep table (``sweep.parquet`` or
:func:`affiliate_sim.cli.compose.lever_sweep`): derived outcomes and lever effects.

Every function takes and returns pandas tables; nothing here runs the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Derived outcome columns added by :func:`add_outcomes`, with their meaning and unit.
OUTCOMES = {
    "is_share_left": "IS camp fighters at the end / at the start (share)",
    "is_fighters_end": "IS camp fighters at the end (fighters)",
    "observations_met": "share of the case's article observations met (share)",
    "state_fighters_end": "state camp fighters at the end (fighters)",
    "aq_fighters_end": "AQ camp fighters at the end (fighters)",
}


def add_outcomes(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` with the columns of :data:`OUTCOMES` (NaN where not defined).

    Camp columns count organizations in their camp at the end of the run (after pledges).
    """
    t = table.copy()

    def col(name: str) -> pd.Series:
        return t[name].astype(float) if name in t else pd.Series(np.nan, index=t.index)

    start = col("camp:IS.fighters_start")
    t["is_fighters_end"] = col("camp:IS.fighters_end").fillna(0.0)
    t["is_share_left"] = np.where(start > 0, t["is_fighters_end"] / start.where(start > 0),
                                  np.nan)
    t["state_fighters_end"] = col("camp:state.fighters_end")
    t["aq_fighters_end"] = col("camp:AQ.fighters_end")
    met = [c for c in t.columns if c.startswith("obs:") and c.endswith(".met")]
    t["observations_met"] = (t[met].astype(float).mean(axis=1, skipna=True) if met
                             else np.nan)
    return t


def lever_effects(table: pd.DataFrame, value: str, baseline: str = "none",
                  lever: str = "lever", case: str = "scenario") -> pd.DataFrame:
    """Per case and lever: mean outcome, its difference from the baseline lever, and the
    standard error of that difference over seeds (paired when the seeds match).

    Returns:
        Columns ``case, lever, mean, baseline_mean, difference, se, seeds`` sorted by case and
        the size of the effect.
    """
    done = table[table["status"] == "done"] if "status" in table else table
    rows = []
    for c, sub in done.groupby(case, sort=True):
        base = sub[sub[lever] == baseline].set_index("seed")[value].astype(float)
        for lv, g in sub.groupby(lever, sort=True):
            if lv == baseline:
                continue
            v = g.set_index("seed")[value].astype(float)
            paired = v.index.intersection(base.index)
            if len(paired) >= 2:
                d = v.loc[paired] - base.loc[paired]
                se = float(d.std(ddof=1) / np.sqrt(len(d)))
            else:
                se = float(np.sqrt(v.var(ddof=1) / max(len(v), 1)
                                   + base.var(ddof=1) / max(len(base), 1)))
            rows.append({"case": c, "lever": lv, "mean": float(v.mean()),
                         "baseline_mean": float(base.mean()),
                         "difference": float(v.mean() - base.mean()), "se": se,
                         "seeds": int(len(v))})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["abs"] = out["difference"].abs()
    out = out.sort_values(["case", "abs"], ascending=[True, False]).drop(columns="abs")
    return out.reset_index(drop=True)


def decisive_levers(effects: pd.DataFrame, min_difference: float,
                    min_z: float = 2.0) -> pd.DataFrame:
    """The lever effects that are both large (``|difference| >= min_difference``) and clear
    (``|difference| >= min_z`` standard errors): "which lever changes which case"."""
    if effects.empty:
        return effects
    z = effects["difference"].abs() / effects["se"].replace(0.0, np.nan)
    big = effects["difference"].abs() >= min_difference
    clear = (z >= min_z) | (effects["se"] == 0.0) & big
    return effects[big & clear].reset_index(drop=True)
