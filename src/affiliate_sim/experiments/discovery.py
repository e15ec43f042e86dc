"""Scenario discovery with PRIM: the conditions under which an IS affiliate survives.

The article's policy question, asked of the model across its uncertainty rather than at one
parameter set (Bryant and Lempert 2010, *Technological Forecasting and Social Change* 77;
Kwakkel and Jaxa-Rozen 2016 for the EMA Workbench): the policy levers (a state's
vigilance, the al-Qaeda branches' purge capacity, counter-messaging of IS defeats, the IS
core's investment) and the uncertain parameters (those the sensitivity analysis ranks
highest) are sampled together by Latin hypercube over their ranges (McKay, Beckman and
Conover 1979), each point is run on a case (the case is one more, categorical, dimension:
the nine cases in turn) and seed, and the runs' outcomes are binary:

``is_survives``
    the IS camp holds at least ``survive_share`` of its peak at the end of the case's
    window;
``is_grows``
    the IS camp ends stronger than it started.

PRIM (the Patient Rule Induction Method, Friedman and Fisher 1999; EMA Workbench 3's
``prim``) peels the input space towards boxes where an outcome is frequent. Each step of
its peeling trajectory trades **coverage** (the share of all cases of interest inside the
box) against **density** (the share of the box's runs that are of interest); the box
chosen is the step with the highest coverage among those whose density reaches
``min_density`` (else the densest). PRIM's box at that step restricts many dimensions a
little, most by chance; the box reported keeps the restrictions whose quasi-p-value is
under 0.05 divided by their number (Bonferroni), with its own coverage, density and mass
(``peeled`` holds the step's, with every restriction's quasi-p-value). The trade-off curve
itself is kept, so an analyst can choose another step. Because the theatre decides much of
an affiliate's fate, PRIM is also run within each case where the outcome goes both ways
(between 5% and 95% of its runs), over the levers and parameters only: what decides it
there.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affiliate_sim import provenance
from affiliate_sim.experiments.sensitivity import evaluate_points, is_outcomes
from affiliate_sim.scenario import load_scenario

#: The binary outcomes of a run (see the module docstring).
OUTCOMES = ("is_survives", "is_grows")
#: A case is contested for an outcome when its share of runs with it lies in this range:
#: only then is a box within the case sought.
CONTESTED = (0.05, 0.95)
#: A box's restriction of a dimension is kept when its quasi-p-value (Bryant and Lempert
#: 2010: a one-sided binomial test of the density gained) is below this, divided by the
#: number of dimensions the peeled box restricts (Bonferroni).
QP_ALPHA = 0.05


@dataclass(frozen=True)
class Dimensions:
    """What is sampled: parameters with ranges (levers and uncertain ones, in that order),
    and the cases.

    Attributes:
        names: the parameters.
        bounds: their ``(low, high)`` ranges.
        levers: how many of ``names`` (the first ones) are policy levers.
        cases: the case dimension's values.
    """

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    levers: int
    cases: tuple[str, ...]

    def sample(self, n: int, seed: int) -> np.ndarray:
        """``(n, len(names))`` Latin hypercube over the ranges (uniform within each)."""
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(self.names), seed=seed).random(n)
        lo = np.array([b[0] for b in self.bounds])
        hi = np.array([b[1] for b in self.bounds])
        return lo + u * (hi - lo)

    def case_of(self, n: int, seed: int) -> np.ndarray:
        """The case index of each of ``n`` points: every case equally often, in a random
        order (a stratified categorical dimension)."""
        k = len(self.cases)
        idx = np.tile(np.arange(k), -(-n // k))[:n]
        return np.random.default_rng(seed + 1).permutation(idx)


def dimensions(levers: dict[str, Sequence[float]], uncertain: dict[str, Sequence[float]],
               table: Sequence[dict[str, Any]], cases: Sequence[str],
               where: str = "discover") -> Dimensions:
    """The checked dimensions.

    Raises:
        InputError: naming ``where`` and the key (unknown parameter, a range that is not
            ``low < high`` or leaves the documented range, a parameter twice).
    """
    from affiliate_sim.errors import InputError

    doc = {r["name"]: (float(r["lo"]), float(r["hi"])) for r in table}
    names, bounds = [], []
    for group, entries in (("levers", levers), ("uncertain", uncertain)):
        for name, b in (entries or {}).items():
            key = f"{group}.{name}"
            if name not in doc:
                raise InputError(where, key, "unknown parameter")
            if name in names:
                raise InputError(where, key, "is both a lever and an uncertain parameter")
            if len(b) != 2 or not float(b[0]) < float(b[1]):
                raise InputError(where, key, f"must be [low, high] with low < high, got "
                                 f"{list(b)}")
            lo, hi = doc[name]
            if float(b[0]) < lo or float(b[1]) > hi:
                raise InputError(where, key, f"[{b[0]}, {b[1]}] leaves the parameter's "
                                 f"range [{lo}, {hi}]")
            names.append(name)
            bounds.append((float(b[0]), float(b[1])))
    if not names:
        raise InputError(where, "levers", "nothing to sample: no lever and no uncertain "
                         "parameter")
    return Dimensions(tuple(names), tuple(bounds), len(levers or {}), tuple(cases))


def run_outcomes(run) -> dict[str, float]:
    """What a worker sends back of one run (module level, for the process pool)."""
    from affiliate_sim.experiments.runs import case_result

    r = case_result(run)
    left, _ = is_outcomes(r.fighters, r.camps)
    is_cols = [k for k, c in enumerate(r.camps) if c == "IS"]
    f = np.asarray(r.fighters, dtype=float)
    start = float(f[0, is_cols].sum()) if is_cols else 0.0
    end = float(f[-1, is_cols].sum()) if is_cols else 0.0
    return {"is_left": left, "is_start": start, "is_end": end}


def prim_box(x, y: np.ndarray, min_density: float = 0.8, mass_min: float = 0.05,
             peel_alpha: float = 0.05) -> dict[str, Any]:
    """PRIM's first box for ``y`` (bool) over the inputs ``x`` (a DataFrame; categorical
    columns allowed): the peeling trajectory and the chosen step (see the module
    docstring) with its coverage, density, mass and restricted dimensions."""
    import logging

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        logging.getLogger("EMA").setLevel(logging.WARNING)  # PRIM logs every box at INFO

        y = np.asarray(y, dtype=bool)
        if y.all() or not y.any():
            return {"trajectory": pd.DataFrame(), "step": None, "coverage": float("nan"),
                    "density": float(y.mean()) if len(y) else float("nan"),
                    "mass": 1.0, "limits": {}, "qp": {}, "peeled": {},
                    "base_rate": float(y.mean()) if len(y)
                    else float("nan"), "note": "the outcome does not vary: no box"}
        p = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
        box = p.find_box()
        traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n",
                                       "k"]].copy()
        ok = traj[traj.density >= min_density]
        step = int(ok.coverage.idxmax()) if len(ok) else int(traj.density.idxmax())
    full, lims = box.box_lims[0], box.box_lims[step]
    # PRIM's box at that step restricts many dimensions a little, most by chance: keep the
    # restrictions whose quasi-p-value passes a Bonferroni correction over them, and
    # report the box they make (its own coverage, density and mass)
    qps = quasi_p(x, y, full, lims)
    alpha = QP_ALPHA / max(1, len(qps))
    kept = full.copy()
    limits: dict[str, Any] = {}
    for col, q in qps.items():
        if q < alpha:
            kept[col] = lims[col]
            lo, hi = lims[col].iloc[0], lims[col].iloc[1]
            limits[col] = sorted(lo) if isinstance(lo, set) else [float(lo), float(hi)]
    inside = _inside(x, kept)
    n, k = int(inside.sum()), int(y[inside].sum())
    r = traj.loc[step]
    return {"trajectory": traj.reset_index(drop=True), "step": step,
            "coverage": k / max(1, int(y.sum())), "density": k / n if n else float("nan"),
            "mass": n / len(y), "limits": limits,
            "qp": {c: qps[c] for c in limits}, "base_rate": float(y.mean()),
            "peeled": {"coverage": float(r.coverage), "density": float(r.density),
                       "mass": float(r.mass), "qp": qps},
            "note": "" if len(ok) else f"no step reaches density {min_density}: the densest"}


def _inside(x, lims, skip: str | None = None) -> np.ndarray:
    """Which rows of ``x`` lie in the box ``lims`` (row 0 low, row 1 high; a set for a
    categorical column), ignoring the column ``skip``."""
    mask = np.ones(len(x), dtype=bool)
    for col in x.columns:
        if col == skip or col not in lims.columns:
            continue
        lo, hi = lims[col].iloc[0], lims[col].iloc[1]
        v = x[col]
        mask &= (v.isin(lo).to_numpy() if isinstance(lo, set)
                 else ((v >= lo) & (v <= hi)).to_numpy())
    return mask


def quasi_p(x, y: np.ndarray, full, lims) -> dict[str, float]:
    """Per dimension the box ``lims`` restricts (against ``full``), its quasi-p-value
    (Bryant and Lempert 2010): the chance of the box's count of runs of interest, or more,
    were its density only that of the box without this restriction (a one-sided binomial
    test)."""
    from scipy.stats import binom

    y = np.asarray(y, dtype=bool)
    inside = _inside(x, lims)
    n, k = int(inside.sum()), int(y[inside].sum())
    out = {}
    for col in x.columns:
        if col not in lims.columns:  # a dimension PRIM left out (a single category)
            continue
        lo, hi = lims[col].iloc[0], lims[col].iloc[1]
        flo, fhi = full[col].iloc[0], full[col].iloc[1]
        if (lo == flo) if isinstance(lo, set) else (lo <= flo and hi >= fhi):
            continue  # not restricted
        relaxed = _inside(x, lims, skip=col)
        p0 = float(y[relaxed].mean()) if relaxed.any() else 0.0
        out[col] = float(binom.sf(k - 1, n, p0)) if n else 1.0
    return out


class DiscoveryRunner:
    """Runs points (parameter values and a case index in the last column), one seed each."""

    def __init__(self, dims: Dimensions, base, workers: int = 1):
        from affiliate_sim.scenario import load_scenario

        self.dims, self.base, self.workers = dims, base, workers
        self.scenarios = [load_scenario(c) for c in dims.cases]

    def __call__(self, P: np.ndarray) -> np.ndarray:
        import dataclasses

        from affiliate_sim.experiments.runs import RunSpec, execute

        specs = []
        for row in P:
            vals = {n: float(v) for n, v in zip(self.dims.names, row[:-2], strict=True)}
            specs.append(RunSpec.of(self.scenarios[int(row[-2])],
                                    dataclasses.replace(self.base, **vals), int(row[-1])))
        res = execute(specs, workers=self.workers, collect=run_outcomes)
        return np.array([[r["is_left"], r["is_start"], r["is_end"]] for r in res])


def discover(base, dims: Dimensions, n: int, seed: int = 0, survive_share: float = 0.25,
             min_density: float = 0.8, workers: int = 1, out: Path | None = None,
             chunk: int = 128, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Sample ``n`` points, run each on its case (seed ``seed`` + the point's index), find
    the PRIM box of each outcome. Writes to ``out`` (when given) ``discovery.parquet`` (one
    row per run: inputs, case, outcomes), ``boxes.json`` (per outcome the chosen box),
    ``tradeoff.parquet`` (the peeling trajectories) and ``tradeoff.png``; a checkpoint beside
    them lets a killed run resume. ``boxes.json`` holds the boxes over all dimensions
    (``boxes``) and, per outcome, within each contested case (``by_case``)."""
    import pandas as pd

    from affiliate_sim.experiments.output import write_json, write_parquet
    from affiliate_sim.experiments.sensitivity import _digest

    t0 = time.monotonic()
    X = dims.sample(n, seed)
    cases = dims.case_of(n, seed)
    P = np.column_stack([X, cases, seed + np.arange(n)])
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
    key = _digest(base.to_dict(), list(dims.names), [list(b) for b in dims.bounds],
                  list(dims.cases), P)
    start = time.monotonic()

    first: list[int] = []

    def show(done, total):
        if not first:  # the first call: where this run starts
            first.append(done)
            log("discover: " + (f"resumed at {done}/{total} runs" if done
                                 else f"{total} runs to do"))
            return
        el = time.monotonic() - start
        new = done - first[0]
        log(f"discover: {done}/{total} runs, {el:.0f} s elapsed, about "
            f"{el / new * (total - done):.0f} s left")

    Y = evaluate_points(P, DiscoveryRunner(dims, base, workers), 3,
                        Path(out) / "discovery.checkpoint.npz" if out else None, key,
                        chunk, show)
    table = pd.DataFrame(X, columns=list(dims.names))
    table["case"] = pd.Categorical([dims.cases[int(c)] for c in cases],
                                   categories=list(dims.cases))
    table["seed"] = P[:, -1].astype(int)
    table["is_left"], table["is_start"], table["is_end"] = Y[:, 0], Y[:, 1], Y[:, 2]
    table["is_survives"] = table.is_left >= survive_share
    table["is_grows"] = table.is_end > table.is_start
    x = table[list(dims.names) + (["case"] if len(dims.cases) > 1 else [])]
    boxes, trajs = {}, []
    for outcome in OUTCOMES:
        b = prim_box(x, table[outcome].to_numpy(), min_density)
        t = b.pop("trajectory")
        if len(t):
            trajs.append(t.assign(outcome=outcome, step=np.arange(len(t))))
        boxes[outcome] = b
    # within each case: which levers and parameters decide, where the outcome goes both ways
    by_case: dict[str, dict[str, Any]] = {o: {} for o in OUTCOMES}
    for outcome in OUTCOMES:
        for c in dims.cases:
            sub = table[table.case == c]
            rate = float(sub[outcome].mean())
            if not CONTESTED[0] < rate < CONTESTED[1]:
                by_case[outcome][c] = {"base_rate": rate, "note": "not contested: no box"}
                continue
            b = prim_box(sub[list(dims.names)], sub[outcome].to_numpy(), min_density)
            b.pop("trajectory")
            by_case[outcome][c] = b
    result = {"boxes": boxes, "by_case": by_case, "n": n, "seed": seed, "survive_share": survive_share,
              "min_density": min_density, "levers": list(dims.names[:dims.levers]),
              "uncertain": list(dims.names[dims.levers:]), "cases": list(dims.cases),
              "bounds": {k: list(b) for k, b in zip(dims.names, dims.bounds, strict=True)},
              "seconds": round(time.monotonic() - t0, 1),
              "provenance": provenance.record(base, None, [load_scenario(c)
                                                           for c in dims.cases])}
    tradeoff = pd.concat(trajs, ignore_index=True) if trajs else pd.DataFrame()
    if out is not None:
        out = Path(out)
        write_parquet(out / "discovery.parquet", table)
        write_parquet(out / "tradeoff.parquet", tradeoff)
        write_json(out / "boxes.json", result)
        if len(tradeoff):
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            from affiliate_sim.experiments.output import atomic_write
            from affiliate_sim.viz import plots

            fig = plots.prim_tradeoff(tradeoff, boxes)
            atomic_write(out / "tradeoff.png", lambda f: fig.savefig(f, format="png", dpi=110))
            plt.close(fig)
        (out / "discovery.checkpoint.npz").unlink(missing_ok=True)
    result.update(table=table, tradeoff=tradeoff)
    return result


def load(folder: Path) -> dict[str, Any]:
    """What :func:`discover` wrote to ``folder``, as it returned it: ``boxes.json``'s
    contents with ``table`` (the runs) and ``tradeoff`` (the peeling trajectories)."""
    import json

    import pandas as pd

    folder = Path(folder)
    result = json.loads((folder / "boxes.json").read_text(encoding="utf-8"))
    result.update(table=pd.read_parquet(folder / "discovery.parquet"),
                  tradeoff=pd.read_parquet(folder / "tradeoff.parquet"))
    return result


__all__ = ["OUTCOMES", "Dimensions", "discover", "dimensions", "load", "prim_box",
           "quasi_p", "run_outcomes"]
