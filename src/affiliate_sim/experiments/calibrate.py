"""Calibration: one parameter set for all nine cases, by minimising a loss over every
observation of every case.

Method (documented in ``docs/calibration.md``):

* free parameters: a chosen subset of :class:`~affiliate_sim.scenario.params.Params`, searched in
  log space for positive ones, inside their documented ranges (or narrower bounds given);
* common random numbers: every evaluation runs every case with the same seeds
  (``CALIBRATION_SEED0`` onwards, disjoint from the replay's seeds 0..K-1), so differences
  between parameter sets are not noise between seeds;
* loss: the mean over all observations of ``(1 - share of seeds meeting it)`` plus
  ``DISTANCE_WEIGHT`` times the mean normalised distance of the measured values to the
  target (so that the search is guided before an observation starts to be met) plus
  ``HEADLINE_WEIGHT`` if the share is below the replay's ``MET`` (the headline counts an
  observation met only in at least that share of seeds, so the search is pushed to carry
  observations over it rather than to raise many a little); an observation that the null
  model (all ten mechanisms off, same parameters and seeds) meets in at least
  ``UNINFORMATIVE`` of the seeds counts as not met, at the largest distance (``1 +
  DISTANCE_WEIGHT + HEADLINE_WEIGHT``): like the replay's headline, the loss credits only
  what the mechanisms produce; each *bystander* of a case (an established group or a state
  no observation follows, :mod:`affiliate_sim.experiments.continuation`) counts as one more
  observation, met when a four-year continuation of the case (one run per case, the first
  seed) leaves it between a third and three times its starting strength, its distance the
  log-distance outside that band: the window's observations cannot see a model that drains
  or inflates the rest of the world over the years after it;
* search: first ``explore`` points of a scrambled Sobol sequence over the bounds (seeded,
  so deterministic; the given parameter set is evaluated first), then, for the rest of the
  budget of evaluations, from the best point found, either
  ``scipy.optimize.minimize(method="Nelder-Mead")`` with bounds (``method="optimize"``) or
  the covariance matrix adaptation evolution strategy (``method="cmaes"``; Hansen 2016,
  arXiv:1604.00772, the ``cma`` package), whose generations of candidates run together as
  ensembles grouped by case (the null model's apart), seeded, in coordinates scaled to
  the bounds, with a first step of ``sigma`` (default ``CMA_SIGMA``) of each bound's
  width; a remainder of the budget smaller than one generation is left unspent (and said
  so).

The best parameter set is written (atomically) as a ``conf/params`` YAML file whose header
records the command, the loss before and after, and the seeds.

Resumption: with a ``checkpoint`` file, every evaluated point's loss is written to it
(atomically) after each batch. The search is deterministic, so a killed calibration started
again with the same settings asks for the same points in the same order; those already in
the checkpoint are answered from it without running anything, and the search goes on where
it stopped, to the same result as an uninterrupted run. A checkpoint of other settings (start
point, free parameters and bounds, cases, seeds, method, population, step, exploration,
continuations) is ignored and replaced; the budget may differ.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from affiliate_sim.experiments import continuation
from affiliate_sim.experiments.output import atomic_write
from affiliate_sim.experiments.replay import MET, UNINFORMATIVE
from affiliate_sim.experiments.runs import CaseResult, RunSpec, execute
from affiliate_sim.mechanisms import MECHANISMS
from affiliate_sim.scenario import Observation, load_scenario
from affiliate_sim.scenario.params import Params, params_yaml, without

CALIBRATION_SEED0 = 1000
DISTANCE_WEIGHT = 0.25
#: Extra loss of an observation met in fewer than ``MET`` of the seeds.
HEADLINE_WEIGHT = 0.5


def distance(obs: Observation, value: float) -> float:
    """Normalised distance of a value outside its target (0 inside)."""
    if value != value:
        return 1.0
    lo = -math.inf if obs.at_least is None else obs.at_least - obs.tolerance
    hi = math.inf if obs.at_most is None else obs.at_most + obs.tolerance
    gap = max(lo - value, value - hi, 0.0)
    scale = max(abs(obs.at_least or 0.0), abs(obs.at_most or 0.0), 1.0)
    return min(gap / scale, 1.0)


def loss(results: list[CaseResult], observations: dict[str, list[Observation]],
         nulls: list[CaseResult] | None = None, continued: list[CaseResult] | None = None,
         bystanders: dict[str, list[str]] | None = None,
         ) -> tuple[float, dict[str, dict[str, float]]]:
    """The calibration loss, and the share met per case and observation; with the null
    model's results, an observation the null model meets counts as not met; with the
    continuations and each case's bystanders, each bystander is one more observation
    (``"continued:<name>"`` in the shares)."""
    terms, shares = [], {}
    for case, names in (bystanders or {}).items():
        runs = [r for r in continued or () if r.scenario == case]
        if not runs:
            continue
        for name in names:
            ratios = continuation.ratios(runs, name)
            met = np.mean([continuation.within(x) for x in ratios])
            shares.setdefault(case, {})[f"continued:{name}"] = float(met)
            terms.append((1.0 - met)
                         + DISTANCE_WEIGHT * np.mean([continuation.gap(x) for x in ratios])
                         + HEADLINE_WEIGHT * (met < MET))
    for case, obs_list in observations.items():
        mine = [r for r in results if r.scenario == case]
        null = [r for r in nulls or () if r.scenario == case]
        shares.setdefault(case, {})
        for obs in obs_list:
            met = np.mean([r.met[obs.id] for r in mine])
            dist = np.mean([distance(obs, r.values[obs.id]) for r in mine])
            shares[case][obs.id] = float(met)
            if null and np.mean([r.met[obs.id] for r in null]) >= UNINFORMATIVE:
                terms.append(1.0 + DISTANCE_WEIGHT + HEADLINE_WEIGHT)  # no credit
            else:
                terms.append((1.0 - met) + DISTANCE_WEIGHT * dist
                             + HEADLINE_WEIGHT * (met < MET))
    return float(np.mean(terms)) if terms else 0.0, shares


@dataclasses.dataclass
class Calibration:
    """Result of a calibration."""

    params: Params
    loss_start: float
    loss_best: float
    evaluations: int
    shares: dict[str, dict[str, float]]
    history: list[tuple[int, float]]
    explore: int = 0
    method: str = "optimize"
    continued: bool = False  # whether the bystanders' continuations were in the loss


#: Seed of the Sobol sequence of the exploration stage (and of CMA-ES).
EXPLORE_SEED = 20161
#: Search methods: Nelder-Mead, or CMA-ES.
METHODS = ("optimize", "cmaes")
#: CMA-ES's initial step, as a share of each bound's width.
CMA_SIGMA = 0.2


def calibrate(start: Params, free: dict[str, tuple[float, float]], cases: tuple[str, ...],
              seeds: int = 4, max_evaluations: int = 60, workers: int = 1,
              log=print, explore: int = 0, method: str = "optimize",
              popsize: int | None = None, sigma: float = 0.2,
              continued: bool = True, checkpoint: Path | None = None) -> Calibration:
    """Search the free parameters for the lowest loss (see the module docstring); without
    ``continued``, the bystanders' continuations are left out of it. With ``checkpoint``,
    a killed run started again with the same settings resumes (module docstring)."""
    from scipy.optimize import minimize

    scenarios = {c: load_scenario(c) for c in cases}
    observations = {c: sc.observations for c, sc in scenarios.items()}
    held = {c: continuation.bystanders(sc) for c, sc in scenarios.items()} if continued else {}
    held = {c: names for c, names in held.items() if names}
    names = list(free)
    positive = [free[n][0] > 0 for n in names]
    to_x = lambda v, pos: math.log(v) if pos else v  # noqa: E731
    lo = np.array([to_x(free[n][0], p) for n, p in zip(names, positive, strict=True)])
    hi = np.array([to_x(free[n][1], p) for n, p in zip(names, positive, strict=True)])
    x0 = np.clip([to_x(getattr(start, n), p) for n, p in zip(names, positive, strict=True)],
                 lo, hi)

    def params_at(x) -> Params:
        vals = {n: (math.exp(v) if p else float(v))
                for n, v, p in zip(names, x, positive, strict=True)}
        return dataclasses.replace(start, **vals)

    history: list[tuple[int, float]] = []
    best: dict[str, Any] = {"loss": math.inf, "x": x0, "shares": {}}
    t0 = time.monotonic()
    key = _settings_key(start, free, cases, seeds, method, popsize, sigma, explore,
                        bool(held))
    cache = _read_checkpoint(checkpoint, key)
    if cache:
        log(f"calibrate: resuming from {checkpoint}: {len(cache)} evaluations on record")
    ran = [0]  # evaluations run (not answered from the checkpoint) by this call

    def batch(xs) -> list[float]:
        """The losses of several points, their runs executed together (as ensembles);
        points on record in the checkpoint are not run again."""
        todo = [x for x in xs if _point(x) not in cache]
        if todo:
            for x, value in zip(todo, _run(todo), strict=True):
                cache[_point(x)] = value
            ran[0] += len(todo)
            if checkpoint is not None:
                _write_checkpoint(checkpoint, key, cache)
        values = []
        for x in xs:
            value, shares = cache[_point(x)]
            history.append((len(history) + 1, value))
            if value < best["loss"]:
                best.update(loss=value, x=np.array(x), shares=shares)
            values.append(value)
        elapsed = time.monotonic() - t0
        left = (f", about {elapsed / ran[0] * (max_evaluations - len(history)):.0f} s left"
                if ran[0] and len(history) < max_evaluations else "")
        log(f"calibrate: evaluation {len(history)}/{max_evaluations}: loss "
            f"{min(values):.4f} (best {best['loss']:.4f}), {elapsed:.0f} s elapsed{left}")
        return values

    def _run(xs) -> list[tuple[float, dict]]:
        """Run several points; their losses and shares."""
        sets = [params_at(x) for x in xs]
        specs = [RunSpec.of(scenarios[c], q, CALIBRATION_SEED0 + s)
                 for q in sets for c in cases for s in range(seeds)]
        specs += [RunSpec.of(scenarios[c], without(q, *MECHANISMS), CALIBRATION_SEED0 + s)
                  for q in sets for c in cases for s in range(seeds)]
        specs += [RunSpec.of(scenarios[c], q, CALIBRATION_SEED0, days=continuation.DAYS)
                  for q in sets for c in held]
        results = execute(specs, workers=workers)
        n = len(cases) * seeds
        half = len(sets) * n
        m = len(held)
        return [loss(results[k * n:(k + 1) * n], observations,
                     results[half + k * n:half + (k + 1) * n],
                     results[2 * half + k * m:2 * half + (k + 1) * m], held)
                for k in range(len(xs))]

    def objective(x) -> float:
        return batch([x])[0]

    first = objective(x0)
    reserve = len(names) + 1  # a first simplex, or a first generation of CMA-ES
    if method == "cmaes":
        reserve = max(reserve, popsize or _cma_popsize(len(names)))
    explore = min(explore, max(max_evaluations - 1 - reserve, 0)) if names else 0
    if explore > 0:
        from scipy.stats import qmc

        points = qmc.Sobol(len(names), scramble=True, seed=EXPLORE_SEED).random(explore)
        batch([lo + u * (hi - lo) for u in points])  # all together, as one generation
    rest = max_evaluations - 1 - explore
    if rest > 0 and names and method == "cmaes":
        used = _cmaes(batch, best["x"], lo, hi, rest, popsize, sigma)
        if used < rest:
            log(f"calibrate: {rest - used} evaluations of the budget left unspent (less than "
                f"a generation of {popsize or _cma_popsize(len(names))}, or CMA-ES stopped)")
    elif rest > 0 and names:
        x1 = best["x"]
        minimize(objective, x1, method="Nelder-Mead", bounds=list(zip(lo, hi, strict=True)),
                 options={"maxfev": rest, "xatol": 1e-3, "fatol": 1e-4,
                          "initial_simplex": _simplex(x1, lo, hi, 0.1 if explore else 0.2)})
    return Calibration(params=params_at(best["x"]), loss_start=first, loss_best=best["loss"],
                       evaluations=len(history), shares=best["shares"], history=history,
                       explore=explore, method=method, continued=bool(held))


def _point(x) -> str:
    """A point's exact key in the checkpoint (its coordinates' bytes)."""
    return np.asarray(x, dtype=np.float64).tobytes().hex()


def _settings_key(start: Params, free, cases, seeds, method, popsize, sigma, explore,
                  continued) -> str:
    """What a checkpoint's losses depend on, and the search's path with them."""
    import hashlib
    import json

    data = {"start": start.to_dict(), "free": {k: list(v) for k, v in free.items()},
            "cases": list(cases), "seeds": seeds, "method": method, "popsize": popsize,
            "sigma": sigma, "explore": explore, "continued": continued,
            "seed0": CALIBRATION_SEED0}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _read_checkpoint(path: Path | None, key: str) -> dict[str, tuple[float, dict]]:
    """The evaluations on record in a checkpoint of these settings (else none)."""
    from affiliate_sim.experiments.output import read_json_if_any

    data = read_json_if_any(path)
    if not isinstance(data, dict) or data.get("key") != key:
        return {}
    return {p: (float(v[0]), v[1]) for p, v in data.get("points", {}).items()}


def _write_checkpoint(path: Path, key: str, cache: dict[str, tuple[float, dict]]) -> None:
    from affiliate_sim.experiments.output import write_json

    write_json(Path(path), {"key": key, "points": {p: [v[0], v[1]] for p, v in
                                                   cache.items()}})


def _cma_popsize(n: int) -> int:
    """CMA-ES's default number of candidates per generation in ``n`` dimensions."""
    return 4 + int(3 * math.log(n))


def _cmaes(batch, x0, lo, hi, budget: int, popsize: int | None,
           sigma: float = CMA_SIGMA) -> int:
    """CMA-ES from ``x0`` within ``[lo, hi]`` (searched in coordinates scaled to the bounds)
    with a first step of ``sigma`` of each bound's width, for at most ``budget``
    evaluations, a generation at a time through ``batch``; returns the evaluations
    spent."""
    import cma

    width = hi - lo
    opts = {"bounds": [0.0, 1.0], "seed": EXPLORE_SEED, "verbose": -9,
            "tolfun": 1e-6, "tolx": 1e-5}
    if popsize:
        opts["popsize"] = int(popsize)
    es = cma.CMAEvolutionStrategy(list((np.asarray(x0) - lo) / width), sigma, opts)
    used = 0
    while not es.stop() and used + es.popsize <= budget:
        us = es.ask()
        es.tell(us, batch([lo + np.clip(u, 0.0, 1.0) * width for u in us]))
        used += len(us)
    return used


def _simplex(x0, lo, hi, share: float = 0.2) -> np.ndarray:
    """A starting simplex stepping ``share`` of each bound's width (inwards)."""
    pts = [np.array(x0, dtype=float)]
    for k in range(len(x0)):
        p = np.array(x0, dtype=float)
        step = share * (hi[k] - lo[k])
        p[k] = p[k] + step if p[k] + step <= hi[k] else p[k] - step
        pts.append(p)
    return np.array(pts)


def write_params(path: Path, cal: Calibration, free, cases, seeds: int, command: str) -> None:
    """Write the calibrated parameter set with a header recording how it was found."""
    lines = [
        "# Calibrated parameter set: one for all nine cases (written by affiliate-calibrate).",
        f"# Command: {command}",
        f"# Method: {f'{cal.explore} Sobol points, then ' if cal.explore else ''}"
        f"{'CMA-ES (cma)' if cal.method == 'cmaes' else 'Nelder-Mead (scipy)'}, on the "
        f"mean over all observations of (1 - share met) + "
        f"{DISTANCE_WEIGHT} x normalised distance (an observation the null model meets "
        f"counts as not met"
        + ("; each bystander's four-year continuation counts as one more, met between a "
           "third and three times its start" if cal.continued else "") + "),",
        f"#   common random numbers: seeds {CALIBRATION_SEED0}..{CALIBRATION_SEED0 + seeds - 1}"
        f" for every case; cases: {', '.join(cases)}.",
        f"# Free parameters: {', '.join(free)}.",
        f"# Loss: {cal.loss_start:.4f} at the start, {cal.loss_best:.4f} at the best of "
        f"{cal.evaluations} evaluations.",
        "# Only values that differ from the defaults in affiliate_sim.scenario.params are listed.",
    ]
    body = params_yaml(cal.params) or "{}\n"
    text = "\n".join(lines) + "\n" + body
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
