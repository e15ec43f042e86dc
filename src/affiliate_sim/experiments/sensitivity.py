"""Global sensitivity analysis with SALib: Morris screening, then Sobol indices.

Which parameters drive which outcome, over the whole of their plausible ranges and with
every other parameter free to vary too (Saltelli et al. 2008, *Global Sensitivity
Analysis: The Primer*; Morris 1991; Campolongo, Cariboni and Saltelli 2007 for mu*;
Sobol' 2001; Saltelli et al. 2010 for the estimators SALib uses). Two steps, as is usual
when a model has many parameters and each run costs seconds:

1. **Morris screening** over every shared parameter (``trajectories`` one-at-a-time paths
   through a grid of ``levels`` levels): ``mu*`` (mean absolute elementary effect, with a
   bootstrap confidence interval) ranks the parameters, ``sigma`` flags interactions and
   non-linearity.
2. **Sobol indices** (first and total order, with bootstrap confidence intervals) over the
   ``sobol_top`` parameters that Morris ranks highest, the others held at the base set:
   ``S1`` is the share of an outcome's variance a parameter explains alone, ``ST`` with all
   its interactions.

The problem (SALib's problem specification) is data, checked when built
(:func:`problem`): the parameters varied and their ranges, from ``ranges`` (by default the
calibration's free bounds) or, for a parameter without one, a factor ``spread`` either side
of its base value, within its documented range; a parameter whose base value is 0 and that
has no range is held fixed. Ranges whose low end is positive are sampled on a log scale (as
the calibration searches them). The methods share one signature, as in SALib:
``sample(problem, n, seed) -> X`` and ``analyze(problem, X, Y, seed) -> rows``, ``X`` in
the problem's coordinates (log where the range is), ``Y`` one outcome per point.

The outcomes, per case, of one run (each point is run with the same ``seeds``, common
random numbers, and its outcomes averaged over them):

``is_left``
    the IS camp's fighters at the end as a share of their peak during the run;
``is_collapse_day``
    the first day after that peak on which the IS camp holds fewer than 10% of it (the run's
    length when it never does);
``informative_met``
    the share of the case's informative observations (those the null model, all ten
    mechanisms off, meets in fewer than half of the ``seeds`` at the base set) met.

The IS camp is the organizations in it at the end of the run, counted over the whole run (a
group that pledges counts from day 0; a faction that breaks away to another camp does not
count). Sobol indices are left undefined (NaN) for an outcome whose A and B rows do not vary
over the sample: SALib would report 0 for every parameter there.

Points are run in chunks; after each chunk the outcomes so far are written atomically to a
checkpoint beside the outputs, so that a killed run, started again with the same settings,
resumes after its last finished chunk (a checkpoint of other settings is ignored and
replaced).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affiliate_sim.errors import InputError

#: The outcomes measured per case (see the module docstring).
OUTCOMES = ("is_left", "is_collapse_day", "informative_met")
#: The IS camp has collapsed when it holds less than this share of its peak.
COLLAPSE = 0.1
#: A null model meeting an observation in at least this share of seeds makes it uninformative.
UNINFORMATIVE = 0.5


@dataclass(frozen=True)
class Problem:
    """SALib's problem specification, with the scale of each parameter.

    Attributes:
        names: the parameters varied.
        bounds: their ``(low, high)`` ranges, in the parameters' own units.
        log: whether each is sampled on a log scale (its low end is positive).
    """

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    log: tuple[bool, ...]

    def salib(self) -> dict[str, Any]:
        """The problem as SALib takes it (bounds in sampling coordinates)."""
        return {"num_vars": len(self.names), "names": list(self.names),
                "bounds": [[math.log(lo), math.log(hi)] if lg else [lo, hi]
                           for (lo, hi), lg in zip(self.bounds, self.log, strict=True)]}

    def natural(self, X: np.ndarray) -> np.ndarray:
        """Points in sampling coordinates to the parameters' own units."""
        X = np.array(np.atleast_2d(X), dtype=float)
        lg = np.array(self.log, dtype=bool)
        X[:, lg] = np.exp(X[:, lg])
        return X

    def subset(self, names: Sequence[str]) -> Problem:
        """The problem over some of its parameters (in the given order)."""
        idx = [self.names.index(n) for n in names]
        return Problem(tuple(self.names[i] for i in idx), tuple(self.bounds[i] for i in idx),
                       tuple(self.log[i] for i in idx))


def problem(base: dict[str, float], table: Sequence[dict[str, Any]],
            ranges: dict[str, Sequence[float]] | None = None, spread: float = 2.0,
            names: Sequence[str] | None = None, where: str = "sensitivity") -> Problem:
    """The problem over ``names`` (default: every parameter of ``table``).

    Args:
        base: every parameter's base value (the set the analysis is centred on).
        table: the parameters' metadata (:func:`~affiliate_sim.scenario.params.
            parameter_table`: name, lo, hi).
        ranges: explicit ``[low, high]`` ranges (e.g. the calibration's free bounds).
        spread: for a parameter without an explicit range, ``[base / spread, base *
            spread]`` clipped to its documented range.
        names: the parameters to vary (default: all that have a range or a non-zero base).

    Raises:
        InputError: naming ``where``, the key and the problem (unknown parameter, a range
            that is not ``low < high`` or leaves the documented range, spread <= 1).
    """
    ranges = dict(ranges or {})
    doc = {r["name"]: (float(r["lo"]), float(r["hi"])) for r in table}
    if not (isinstance(spread, int | float) and spread > 1.0):
        raise InputError(where, "spread", f"must be a number above 1, got {spread!r}")
    for name, b in ranges.items():
        if name not in doc:
            raise InputError(where, f"ranges.{name}", "unknown parameter")
        if len(b) != 2 or not float(b[0]) < float(b[1]):
            raise InputError(where, f"ranges.{name}",
                             f"must be [low, high] with low < high, got {list(b)}")
        lo, hi = doc[name]
        if float(b[0]) < lo or float(b[1]) > hi:
            raise InputError(where, f"ranges.{name}", f"[{b[0]}, {b[1]}] leaves the "
                             f"parameter's range [{lo}, {hi}]")
    chosen = list(names) if names is not None else [r["name"] for r in table]
    out_names, bounds, logs = [], [], []
    for name in chosen:
        if name not in doc:
            raise InputError(where, "names", f"unknown parameter {name!r}")
        if name in ranges:
            lo, hi = float(ranges[name][0]), float(ranges[name][1])
        else:
            v = float(base[name])
            if v == 0.0:
                continue  # no scale to spread around: held fixed
            dlo, dhi = doc[name]
            lo, hi = max(dlo, min(v / spread, v * spread)), min(dhi, max(v / spread, v * spread))
            if not lo < hi:
                continue
        out_names.append(name)
        bounds.append((lo, hi))
        logs.append(lo > 0.0)
    if not out_names:
        raise InputError(where, "names", "no parameter to vary")
    return Problem(tuple(out_names), tuple(bounds), tuple(logs))


# ------------------------------------------------------------------ methods (SALib style)
@dataclass(frozen=True)
class Morris:
    """Morris elementary effects: ``trajectories`` paths on a grid of ``levels`` levels."""

    levels: int = 4

    def sample(self, prob: Problem, n: int, seed: int) -> np.ndarray:
        from SALib.sample import morris

        return morris.sample(prob.salib(), n, num_levels=self.levels, seed=seed)

    def analyze(self, prob: Problem, X: np.ndarray, Y: np.ndarray,
                seed: int) -> list[dict[str, Any]]:
        from SALib.analyze import morris

        res = morris.analyze(prob.salib(), X, np.asarray(Y, dtype=float),
                             num_levels=self.levels, conf_level=0.95, num_resamples=1000,
                             seed=seed)
        return [{"parameter": n, "mu": float(res["mu"][k]),
                 "mu_star": float(res["mu_star"][k]),
                 "mu_star_conf": float(res["mu_star_conf"][k]),
                 "sigma": float(res["sigma"][k])}
                for k, n in enumerate(prob.names)]


@dataclass(frozen=True)
class Sobol:
    """Sobol first and total order indices (Saltelli sampling, no second order)."""

    resamples: int = 200

    def sample(self, prob: Problem, n: int, seed: int) -> np.ndarray:
        from SALib.sample import sobol

        return sobol.sample(prob.salib(), n, calc_second_order=False, scramble=True,
                            seed=seed)

    def analyze(self, prob: Problem, X: np.ndarray, Y: np.ndarray,
                seed: int) -> list[dict[str, Any]]:
        from SALib.analyze import sobol

        Y = np.asarray(Y, dtype=float)
        D = len(prob.names)
        # the estimators read the variance of the A and B rows (the first and last of each
        # block of D + 2): where those do not vary, SALib returns 0 for every index (with a
        # warning) even when the other rows vary; the indices are then undefined
        ab = np.concatenate([Y[0::D + 2], Y[D + 1::D + 2]])
        if not np.all(np.isfinite(Y)) or np.ptp(ab) == 0.0:
            nan = float("nan")
            return [{"parameter": n, "S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
                    for n in prob.names]
        # SALib's Sobol analysis treats a seed of 0 as no seed (an unseeded bootstrap)
        res = sobol.analyze(prob.salib(), Y, calc_second_order=False,
                            num_resamples=self.resamples, conf_level=0.95, seed=seed + 1)
        return [{"parameter": n, "S1": float(res["S1"][k]), "S1_conf": float(res["S1_conf"][k]),
                 "ST": float(res["ST"][k]), "ST_conf": float(res["ST_conf"][k])}
                for k, n in enumerate(prob.names)]


# ------------------------------------------------------------------ outcomes of one run
def is_outcomes(fighters: np.ndarray, camps: Sequence[str]) -> tuple[float, float]:
    """``(is_left, is_collapse_day)`` of one run from its ``(days + 1, O)`` fighters and
    the organizations' camps at the end (see the module docstring). The IS camp is taken as
    it stands at the end, over the whole run: a group that pledges counts from day 0, a
    faction that leaves counts in its new camp. Without IS fighters at any time:
    ``(0, days)``."""
    is_cols = [k for k, c in enumerate(camps) if c == "IS"]
    days = fighters.shape[0] - 1
    if not is_cols:
        return 0.0, float(days)
    total = np.asarray(fighters, dtype=float)[:, is_cols].sum(axis=1)
    peak_day = int(np.argmax(total))
    peak = float(total[peak_day])
    if peak <= 0.0:  # no IS fighters at all: nothing left, nothing that collapsed
        return 0.0, float(days)
    below = np.nonzero(total[peak_day:] < COLLAPSE * peak)[0]
    collapse = float(peak_day + below[0]) if below.size else float(days)
    return float(total[-1] / peak), collapse


def compact(run) -> Any:
    """What a worker sends back of one run (module level, for the process pool): the
    IS camp's outcomes and which observations were met."""
    from affiliate_sim.experiments.runs import case_result

    r = case_result(run)
    left, collapse = is_outcomes(r.fighters, r.camps)
    return {"scenario": r.scenario, "is_left": left, "is_collapse_day": collapse,
            "met": dict(r.met)}


# ------------------------------------------------------------------ checkpointed evaluation
def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(np.ascontiguousarray(p, dtype=float).tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def evaluate_points(X: np.ndarray, run_chunk: Callable[[np.ndarray], np.ndarray],
                    n_out: int, checkpoint: Path | None = None, key: str = "",
                    chunk: int = 64, progress: Callable[[int, int], Any] | None = None
                    ) -> np.ndarray:
    """``(n, n_out)`` outcomes of the points ``X``, ``chunk`` points at a time through
    ``run_chunk``; after each chunk the rows so far go to ``checkpoint`` (``.npz``,
    written atomically), which a later call with the same ``key`` resumes from.
    ``progress(done, n)`` is called once before the first chunk (``done``: what a killed
    run had finished, else 0) and after each chunk."""
    from affiliate_sim.experiments.output import atomic_write

    n = len(X)
    Y = np.full((n, n_out), np.nan)
    done = 0
    if checkpoint is not None and Path(checkpoint).exists():
        try:
            with np.load(checkpoint, allow_pickle=False) as z:
                if str(z["key"]) == key and z["Y"].shape == Y.shape:
                    done = int(z["done"])
                    Y[:done] = z["Y"][:done]
        except (OSError, ValueError, KeyError):
            done = 0  # unreadable: start again (the file is replaced below)
    if progress:
        progress(done, n)  # where this run starts (0, or where a killed one stopped)
    while done < n:
        stop = min(n, done + chunk)
        Y[done:stop] = run_chunk(X[done:stop])
        done = stop
        if checkpoint is not None:
            def write(f, done=done):
                with open(f, "wb") as fh:  # a handle: np.savez appends .npz to a name
                    np.savez(fh, Y=Y, done=np.array(done), key=np.array(key))
            atomic_write(Path(checkpoint), write)
        if progress:
            progress(done, n)
    return Y


class CaseRunner:
    """Runs points of a problem on the cases: one run per point, case and seed (the same
    seeds for every point), outcomes averaged over the seeds."""

    def __init__(self, prob: Problem, base, cases: Sequence[str], seeds: Sequence[int],
                 informative: dict[str, list[str]], workers: int = 1):
        from affiliate_sim.scenario import load_scenario

        self.prob, self.base, self.cases = prob, base, tuple(cases)
        self.seeds, self.informative, self.workers = list(seeds), informative, workers
        self.scenarios = {c: load_scenario(c) for c in self.cases}

    @property
    def columns(self) -> list[tuple[str, str]]:
        """The ``(case, outcome)`` of each column of the outcomes."""
        return [(c, o) for c in self.cases for o in OUTCOMES]

    def params_at(self, x_natural: np.ndarray):
        return dataclasses.replace(self.base, **{n: float(v) for n, v in
                                                 zip(self.prob.names, x_natural, strict=True)})

    def __call__(self, X: np.ndarray) -> np.ndarray:
        from affiliate_sim.experiments.runs import RunSpec, execute

        sets = [self.params_at(x) for x in self.prob.natural(X)]
        specs = [RunSpec.of(self.scenarios[c], q, s)
                 for q in sets for c in self.cases for s in self.seeds]
        res = execute(specs, workers=self.workers, collect=compact)
        S = len(self.seeds)
        out = np.empty((len(sets), len(self.columns)))
        k = 0
        for i in range(len(sets)):
            col = 0
            for c in self.cases:
                rows = res[k:k + S]
                k += S
                inf = self.informative[c]
                met = [np.mean([r["met"][o] for o in inf]) if inf else np.nan for r in rows]
                out[i, col:col + 3] = (np.mean([r["is_left"] for r in rows]),
                                       np.mean([r["is_collapse_day"] for r in rows]),
                                       np.mean(met))
                col += 3
        return out


def informative_sets(base, cases: Sequence[str], seeds: Sequence[int],
                     workers: int = 1) -> dict[str, list[str]]:
    """Per case, its observations the null model meets in fewer than half of the seeds."""
    from affiliate_sim.experiments.runs import RunSpec, execute
    from affiliate_sim.mechanisms import MECHANISMS
    from affiliate_sim.scenario import load_scenario
    from affiliate_sim.scenario.params import without

    nullp = without(base, *MECHANISMS)
    specs = [RunSpec.of(load_scenario(c), nullp, s) for c in cases for s in seeds]
    res = execute(specs, workers=workers, collect=compact)
    S = len(seeds)
    out = {}
    for i, c in enumerate(cases):
        rows = res[i * S:(i + 1) * S]
        out[c] = [o for o in rows[0]["met"]
                  if np.mean([r["met"][o] for r in rows]) < UNINFORMATIVE]
    return out


def _rows(method, prob: Problem, X, Y, columns, seed: int, step: str) -> list[dict]:
    rows = []
    for j, (case, outcome) in enumerate(columns):
        for r in method.analyze(prob, X, Y[:, j], seed):
            rows.append({"method": step, "case": case, "outcome": outcome, **r})
    return rows


def ranking(morris_rows: Sequence[dict[str, Any]]) -> list[str]:
    """Parameters by their mean Morris ``mu*`` over the outcomes, each outcome's ``mu*``
    taken relative to the largest of that outcome (so that outcomes of different units
    weigh alike); outcomes where nothing has an effect are left out, and a parameter
    missing from an outcome counts 0 there."""
    top: dict[tuple[str, str], float] = {}
    for r in morris_rows:
        k = (r["case"], r["outcome"])
        top[k] = max(top.get(k, 0.0), r["mu_star"])
    live = [k for k, t in top.items() if t > 0]
    total: dict[str, float] = {r["parameter"]: 0.0 for r in morris_rows}
    for r in morris_rows:
        t = top[(r["case"], r["outcome"])]
        if t > 0:
            total[r["parameter"]] += r["mu_star"] / t / len(live)
    return sorted(total, key=lambda n: (-total[n], n))


def top_parameters(table, outcome: str = "informative_met", k: int = 5,
                   method: str = "morris") -> Any:
    """Per case, the ``k`` parameters with the largest Morris ``mu*`` (Sobol: ``ST``) for
    one outcome: a table with one row per case and columns 1..k."""
    import pandas as pd

    stat = "mu_star" if method == "morris" else "ST"
    t = table[(table.method == method) & (table.outcome == outcome)].dropna(subset=[stat])
    rows = {}
    for case, g in t.groupby("case", sort=False):
        g = g[g[stat] > 0].sort_values(stat, ascending=False).head(k)
        rows[case] = list(g.parameter) + [""] * (k - len(g))
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(range(1, k + 1)))


def sensitivity(base, table, cases: Sequence[str], ranges=None, spread: float = 2.0,
                seeds: int = 2, trajectories: int = 10, levels: int = 4, sobol_n: int = 64,
                sobol_top: int = 10, method: str = "both", workers: int = 1,
                out: Path | None = None, seed: int = 0, chunk: int = 64,
                log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Morris over every parameter of the problem, then Sobol over the ``sobol_top`` it
    ranks highest (``method``: ``morris``, ``sobol`` over the problem's first
    ``sobol_top`` parameters as given, or ``both``). Writes to ``out`` (when given)
    ``sensitivity.parquet`` (tidy: method, case, outcome, parameter, statistics),
    ``sensitivity.json`` (settings, ranking, time) and the heatmaps ``morris.png`` and
    ``sobol.png``; checkpoints beside them. Returns the table and the settings."""
    import pandas as pd

    from affiliate_sim.experiments.output import write_json, write_parquet

    t0 = time.monotonic()
    seed_list = list(range(seeds))
    prob = problem(base.to_dict(), table, ranges, spread)
    out = Path(out) if out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    informative = informative_sets(base, cases, seed_list, workers)
    rows: list[dict[str, Any]] = []
    settings = {"cases": list(cases), "seeds": seeds, "trajectories": trajectories,
                "levels": levels, "sobol_n": sobol_n, "sobol_top": sobol_top,
                "method": method, "seed": seed, "spread": spread,
                "problem": {n: {"bounds": list(b), "log": lg} for n, b, lg in
                            zip(prob.names, prob.bounds, prob.log, strict=True)},
                "informative": informative}
    base_key = _digest(base.to_dict(), settings)

    def bar(label):
        start = time.monotonic()
        first: list[int] = []  # points already done when this run started (a resumed one)

        def show(done, total):
            if not first:  # the first call: where this run starts
                first.append(done)
                log(f"sensitivity: {label}: " + (f"resumed at {done}/{total} points" if done
                                                 else f"{total} points to run"))
                return
            el = time.monotonic() - start
            new = done - first[0]
            eta = f"about {el / new * (total - done):.0f} s left" if new else "starting"
            log(f"sensitivity: {label}: {done}/{total} points, {el:.0f} s elapsed, {eta}")
        return show

    ranked = list(prob.names)
    if method in ("morris", "both"):
        m = Morris(levels)
        X = m.sample(prob, trajectories, seed)
        runner = CaseRunner(prob, base, cases, seed_list, informative, workers)
        Y = evaluate_points(X, runner, len(runner.columns),
                            out / "morris.checkpoint.npz" if out else None,
                            _digest(base_key, "morris", X), chunk, bar("Morris"))
        mrows = _rows(m, prob, X, Y, runner.columns, seed, "morris")
        rows += mrows
        ranked = ranking(mrows)
        if out is not None:
            heatmap(pd.DataFrame(mrows), "mu_star", out / "morris.png",
                    "Morris mu* (share of the largest per outcome)")
    if method in ("sobol", "both"):
        sub = prob.subset(ranked[:sobol_top])
        s = Sobol()
        X = s.sample(sub, sobol_n, seed)
        runner = CaseRunner(sub, base, cases, seed_list, informative, workers)
        Y = evaluate_points(X, runner, len(runner.columns),
                            out / "sobol.checkpoint.npz" if out else None,
                            _digest(base_key, "sobol", X, sub.names), chunk, bar("Sobol"))
        srows = _rows(s, sub, X, Y, runner.columns, seed, "sobol")
        rows += srows
        if out is not None:
            heatmap(pd.DataFrame(srows), "ST", out / "sobol.png", "Sobol total order ST")
    df = pd.DataFrame(rows)
    from affiliate_sim import provenance
    from affiliate_sim.scenario import load_scenario

    result = {"settings": settings, "ranking": ranked,
              "seconds": round(time.monotonic() - t0, 1),
              "provenance": provenance.record(base, None, [load_scenario(c) for c in cases])}
    if out is not None:
        write_parquet(out / "sensitivity.parquet", df)
        write_json(out / "sensitivity.json", result)
        for name in ("morris.checkpoint.npz", "sobol.checkpoint.npz"):
            (out / name).unlink(missing_ok=True)  # finished: nothing to resume
    result["table"] = df
    return result


def heatmap(df, stat: str, path: Path, title: str, top: int = 25) -> None:
    """Parameters (rows, the ``top`` with the largest value anywhere) by case and outcome
    (columns); Morris ``mu*`` is shown relative to the largest of each column."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from affiliate_sim.experiments.output import atomic_write

    piv = df.pivot_table(index="parameter", columns=["case", "outcome"], values=stat,
                         aggfunc="first")
    if stat == "mu_star":
        piv = piv / piv.max(axis=0).replace(0.0, np.nan)
    order = piv.max(axis=1).sort_values(ascending=False).index[:top]
    piv = piv.loc[order]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * piv.shape[1] + 3),
                                    max(3.0, 0.3 * piv.shape[0] + 1.5)))
    im = ax.imshow(piv.to_numpy(dtype=float), aspect="auto", cmap="viridis", vmin=0.0,
                   vmax=1.0)
    ax.set_yticks(range(len(piv.index)), piv.index, fontsize=7)
    ax.set_xticks(range(piv.shape[1]), [f"{c} {o}" for c, o in piv.columns], rotation=90,
                  fontsize=6)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.6)
    fig.tight_layout()
    atomic_write(Path(path), lambda f: fig.savefig(f, format="png", dpi=110))
    plt.close(fig)


__all__ = ["OUTCOMES", "CaseRunner", "Morris", "Problem", "Sobol", "evaluate_points",
           "heatmap", "informative_sets", "is_outcomes", "problem", "ranking",
           "sensitivity", "top_parameters"]
