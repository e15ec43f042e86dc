"""Bayesian calibration by approximate Bayesian computation (ABC-SMC, pyABC).

The calibration of :mod:`affiliate_sim.experiments.calibrate` finds one parameter set; this
module finds the parameter values consistent with the nine cases, a weighted sample of the
posterior (Toni et al. 2009, J. R. Soc. Interface 6:187; Del Moral et al. 2012, Stat.
Comput. 22:1009; pyABC: Schaelte et al. 2022, JOSS 7:4304).

* **Prior**: each free parameter uniform over its calibration bounds (``conf/calibrate.yaml``,
  within the documented range), on a log scale where the low bound is positive; the rest
  of the parameter set is held at the given one. pyABC works on the logit of each
  parameter's position in its range, where this prior is exactly the standard logistic
  distribution, so that no proposal falls outside the prior's support (with twenty
  bounded parameters, nearly every proposal of a kernel on the bounded scale would fall
  outside some bound and be drawn again).
* **Proposals**: each parameter drawn on its own from a normal kernel density estimate of
  its weighted marginal in the last population (pyABC's default bandwidth, Silverman's
  rule, and a small ridge). A joint
  kernel over twenty parameters makes each proposal's density hang on its own kernel, and
  the importance weights (prior over proposal density) collapse onto a few particles: with
  a joint kernel of once or twice the population's covariance (Beaumont et al. 2009) the
  effective sample size was 1-3% of the population, with the product of marginals 50-77%
  (measured on a logistic population of 200 and 500 in twenty dimensions). Proposals
  ignore the parameters' correlations; the weights keep the posterior exact, at the cost
  of a lower acceptance rate.
* **Summaries**: every observation's measured value in every case (continuous: a day, a
  count, a share), one run per particle and case, each particle with its own seed.
* **Observation-error model**: the article's figure for an observation is the model's
  value plus an error of scale ``sigma``: the observation's ``tolerance`` where it has one,
  else :data:`ERROR_SHARE` of the target's magnitude, at least one unit (a fighter, a day,
  an event) or :data:`SHARE_FLOOR` for a share. An observation's standardized gap is its
  value's distance to the target interval (0 inside) over ``sigma``, at most
  :data:`GAP_CAP` (also for a value that could not be measured); the distance of a
  particle is the root mean square of its standardized gaps over all observations.
* **Schedule**: the first generation is the prior (every particle accepted), each later
  one accepts particles closer than the ``quantile`` of the last generation's weighted
  distances.
* **Evaluation unit**: the ensemble engine. :class:`BatchSampler` runs pyABC's own
  ``simulate_one`` (proposal, model, acceptance) for many particles at once as greenlets:
  each stops at its model call, the batch's parameter sets run together as ensembles
  (:func:`~affiliate_sim.experiments.runs.execute`, on local workers or a cluster), and
  each particle then goes on with its result. Particles are kept in the order they were
  proposed up to the population size, as pyABC's serial sampler would.
* **Randomness**: numpy's global generator (which pyABC draws from) is seeded at the
  start of each generation from ``seed`` and the generation, and the particles' runs get
  seeds from the same, so a run is reproducible, and a run resumed from its database after
  a kill goes on exactly as the uninterrupted run would have.
* **Resumption**: pyABC's history database records every finished generation; started
  again with the same settings, the calibration loads it and runs only the generations
  still missing. A database of other settings is set aside (renamed) and a new one begun.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from affiliate_sim.scenario import Observation
from affiliate_sim.scenario.params import (
    ESTIMATES,
    POSTERIOR_KEY,
    estimate_name,
    split_estimate,
    with_values,
)

#: Error scale of an observation without a tolerance, as a share of its target's magnitude.
ERROR_SHARE = 0.1
#: Least error scale of a share (of a count, a day or a number of events: 1).
SHARE_FLOOR = 0.05
#: Largest standardized gap counted for one observation (and that of an unmeasured one).
GAP_CAP = 10.0
#: Quantities that are shares in [0, 1] (and ``max_drop`` unless its ``stat`` is a day).
SHARES = ("flow_share", "main_killer_share", "region_share", "region_presence")
#: First seed of the particles' runs (disjoint from the replay's 0..K-1 and the point
#: calibration's 1000 onwards).
SIM_SEED0 = 2_000_000
#: Seeds reserved per generation (a generation evaluates fewer particles than this).
SEEDS_PER_GENERATION = 10_000_000


@dataclasses.dataclass(frozen=True)
class Target:
    """An observation as ABC sees it: its key among the summaries, the target interval
    and the error scale."""

    key: str
    at_least: float | None
    at_most: float | None
    scale: float

    def gap(self, value: float) -> float:
        """Standardized distance of a value to the target interval (0 inside), at most
        :data:`GAP_CAP`; an unmeasured value (nan) counts :data:`GAP_CAP`."""
        if value is None or value != value:
            return GAP_CAP
        lo = -math.inf if self.at_least is None else self.at_least
        hi = math.inf if self.at_most is None else self.at_most
        return min(max(lo - value, value - hi, 0.0) / self.scale, GAP_CAP)

    def signed_gap(self, value: float) -> float:
        """Like :meth:`gap` but negative below the target (for the predictive figure)."""
        if value is None or value != value:
            return math.nan
        lo = -math.inf if self.at_least is None else self.at_least
        g = self.gap(value)
        return -g if value < lo else g

    def centre(self) -> float:
        """A point of the target (the observed value pyABC records)."""
        if self.at_least is not None and self.at_most is not None:
            return 0.5 * (self.at_least + self.at_most)
        return float(self.at_least if self.at_least is not None else self.at_most)


def error_scale(obs: Observation) -> float:
    """The error scale of an observation (module docstring)."""
    if obs.tolerance > 0:
        return float(obs.tolerance)
    share = obs.quantity in SHARES or (obs.quantity == "max_drop" and obs.stat != "day")
    magnitude = max(abs(obs.at_least or 0.0), abs(obs.at_most or 0.0))
    return max(ERROR_SHARE * magnitude, SHARE_FLOOR if share else 1.0)


def target_of(case: str, obs: Observation) -> Target:
    """The :class:`Target` of a case's observation (key ``case/id``)."""
    return Target(f"{case}/{obs.id}", obs.at_least, obs.at_most, error_scale(obs))


def distance(targets: Sequence[Target]) -> Callable[[dict, dict], float]:
    """pyABC's distance: the root mean square of the standardized gaps of the summaries
    to the targets (the observed data ``x_0`` only carries the keys)."""
    def dist(x: dict, x_0: dict | None = None) -> float:
        gaps = np.array([t.gap(float(x[t.key])) for t in targets])
        return float(np.sqrt(np.mean(gaps ** 2)))
    return dist


@dataclasses.dataclass(frozen=True)
class Bound:
    """A free parameter's prior: uniform over [lo, hi], on a log scale when ``log``."""

    lo: float
    hi: float
    log: bool

    def to_x(self, v):
        return np.log(v) if self.log else np.asarray(v, dtype=float)

    def from_x(self, x):
        return np.exp(x) if self.log else np.asarray(x, dtype=float)

    def from_z(self, z):
        """The value at ``z`` on the unbounded scale pyABC works on: the logit of the
        position within the prior's range (there, the uniform prior is the standard
        logistic distribution, exactly)."""
        lo, hi = self.x_range
        u = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
        return np.clip(self.from_x(lo + u * (hi - lo)), self.lo, self.hi)

    @property
    def x_range(self) -> tuple[float, float]:
        return float(self.to_x(self.lo)), float(self.to_x(self.hi))


def bounds_of(free: dict[str, tuple[float, float]]) -> dict[str, Bound]:
    """Priors of the free parameters: log-uniform where the low bound is positive."""
    return {n: Bound(float(lo), float(hi), lo > 0) for n, (lo, hi) in free.items()}


# --------------------------------------------------------------------------------------
# The batch-aware sampler


class _Particle:
    """Marks a greenlet running one particle of a batch (see :class:`BatchSampler`)."""


_GREENLET: list = []


def _particle_greenlet(run):
    """A greenlet running ``run`` marked as a batch's particle."""
    if not _GREENLET:
        from greenlet import greenlet

        class ParticleGreenlet(greenlet, _Particle):
            pass

        _GREENLET.append(ParticleGreenlet)
    return _GREENLET[0](run)


class BatchModel:
    """pyABC's model: inside a :class:`BatchSampler` batch, hands the parameters to the
    sampler and waits for the batch's result; elsewhere evaluates them alone."""

    def __init__(self, evaluate: Callable[[list[dict], list[int]], list[dict]]):
        self.evaluate = evaluate
        self.alone = 0  # evaluations outside a batch

    def __call__(self, pars) -> dict:
        from greenlet import getcurrent

        point = {k: float(v) for k, v in dict(pars).items()}
        g = getcurrent()
        if isinstance(g, _Particle):
            return g.parent.switch(point)
        self.alone += 1
        return self.evaluate([point], [SIM_SEED0 - self.alone])[0]


def generation_seed(seed: int, t: int) -> int:
    """The seed of numpy's global generator at the start of generation ``t``."""
    return int(np.random.SeedSequence([int(seed), int(t) + 1]).generate_state(1)[0])


def run_seed(seed: int, t: int, k: int) -> int:
    """The run seed of the ``k``-th particle proposed in generation ``t`` of a calibration
    of seed ``seed`` (distinct for every seed, generation and particle)."""
    return (SIM_SEED0 + (int(seed) * 1000 + int(t) + 1) * SEEDS_PER_GENERATION + int(k))


def _sampler_class():
    from pyabc.sampler import Sampler

    class BatchSampler(Sampler):
        """pyABC sampler whose particles' model runs are evaluated together, a batch at a
        time (module docstring).

        Args:
            evaluate: ``(points, seeds) -> summaries``, all of a batch at once.
            seed: the calibration's seed.
            max_batch: most particles per batch (memory).
            progress: called with (generation, accepted, wanted, evaluated).
        """

        def __init__(self, evaluate, seed: int = 0, max_batch: int = 4096,
                     progress=None, min_batch: int = 1):
            super().__init__()
            self.min_batch = int(min_batch)
            self.evaluate = evaluate
            self.seed = int(seed)
            self.max_batch = int(max_batch)
            self.progress = progress
            self.rate = 1.0  # acceptance rate of the last generation

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                    all_accepted=False, ana_vars=None):
            np.random.seed(generation_seed(self.seed, t))
            sample = self._create_empty_sample()
            evaluated = accepted = proposed = 0
            while accepted < n and evaluated < max_eval:
                need = n - accepted
                rate = accepted / evaluated if accepted else self.rate  # so far, or the last
                k = need if all_accepted else math.ceil(1.15 * need / max(rate, 1e-3))
                k = int(min(max(k, self.min_batch), self.max_batch, max_eval - evaluated))
                runs = []
                for _ in range(k):
                    g = _particle_greenlet(simulate_one)
                    runs.append((g, g.switch()))
                asked = [(g, point) for g, point in runs if not g.dead]
                results = (self.evaluate([p for _, p in asked],
                                         [run_seed(self.seed, t, proposed + j)
                                          for j in range(len(asked))])
                           if asked else [])
                proposed += len(asked)
                answer = {id(g): r for (g, _), r in zip(asked, results, strict=True)}
                particles = [(g.switch(answer[id(g)]) if id(g) in answer else out)
                             for g, out in runs]
                for particle in particles:
                    sample.append(particle)
                    evaluated += 1
                    accepted += bool(particle.accepted)
                    if accepted >= n:
                        break
                if self.progress:
                    self.progress(t, accepted, n, evaluated)
            self.nr_evaluations_ = evaluated
            if not all_accepted and evaluated:
                self.rate = max(accepted / evaluated, 1e-3)
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return BatchSampler


#: Fewest particles per batch (a batch's fixed cost is a few seconds of ensembles).
MIN_BATCH = 128
#: Share of each parameter's kernel variance added to the kernel's diagonal.
RIDGE = 0.05


def _transition(names: Sequence[str]):
    """The proposal kernel: each parameter perturbed on its own (pyABC's
    ``AggregatedTransition`` of one-dimensional normal kernels, each of Silverman's
    bandwidth over its weighted marginal, with a small ridge so that a collapsed marginal keeps a
    positive density): the proposal density is a product of well-estimated marginals, and
    the importance weights stay spread over the population (module docstring)."""
    import pyabc
    import scipy.stats as st

    class RidgeTransition(pyabc.MultivariateNormalTransition):
        def fit(self, X, w):
            super().fit(X, w)
            diag = np.diag(self.cov).copy()
            self.cov = self.cov + np.diag(RIDGE * diag + 1e-9)
            self.normal = st.multivariate_normal(cov=self.cov, allow_singular=False)

    return pyabc.AggregatedTransition({n: RidgeTransition() for n in names})


def BatchSampler(*args, **kwargs):  # noqa: N802 (a class, built on first use)
    """A :class:`pyabc.sampler.Sampler` evaluating particles in batches (see
    ``_sampler_class``); pyABC is imported only when needed."""
    return _sampler_class()(*args, **kwargs)


# --------------------------------------------------------------------------------------
# The run


@dataclasses.dataclass
class Posterior:
    """A weighted sample of the posterior, in the parameters' own units."""

    names: list[str]
    values: np.ndarray  # (N, P)
    weights: np.ndarray  # (N,), summing to 1
    bounds: dict[str, Bound]
    generations: list[dict[str, Any]]  # t, epsilon, evaluations, acceptance, ESS, seconds
    seconds: float = 0.0
    resumed_from: int = 0  # generations found in the database at the start
    screening: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def quantile(self, name: str, q) -> np.ndarray:
        """Weighted quantiles of one parameter's marginal."""
        j = self.names.index(name)
        return weighted_quantile(self.values[:, j], self.weights, q)

    def median(self) -> dict[str, float]:
        return {n: float(self.quantile(n, 0.5)) for n in self.names}

    def summary(self) -> list[dict[str, Any]]:
        """Per parameter: prior bounds and scale, posterior median and 90% credible
        interval, and the contraction ``1 - var(post) / var(prior)`` on the prior's scale
        (near 1: the cases pin it down; near 0: they say nothing of it)."""
        rows = []
        for j, n in enumerate(self.names):
            b = self.bounds[n]
            x = b.to_x(self.values[:, j])
            lo, hi = b.x_range
            var_prior = (hi - lo) ** 2 / 12.0
            mean = float(np.sum(self.weights * x))
            var_post = float(np.sum(self.weights * (x - mean) ** 2))
            q5, q50, q95 = self.quantile(n, [0.05, 0.5, 0.95])
            width = (float(b.to_x(q95)) - float(b.to_x(q5))) / (0.9 * (hi - lo))
            rows.append({"parameter": n, "prior_low": b.lo, "prior_high": b.hi,
                         "log_scale": b.log, "median": float(q50), "q05": float(q5),
                         "q95": float(q95), "contraction": 1.0 - var_post / var_prior,
                         "width_ratio": width})
        return rows


def weighted_quantile(values, weights, q) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its step distribution function,
    midpoint rule); values of weight 0 play no part."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return np.interp(q, cdf, v)


def settings_key(data: dict) -> str:
    """A digest of what a history database's generations depend on."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def database_key(settings: dict, bounds: dict[str, Bound], targets: Sequence[Target],
                 population: int, quantile: float, seed: int) -> str:
    """What a history database's generations depend on (a database of another key is
    set aside, not resumed)."""
    return settings_key({"settings": settings, "bounds": {
        n: dataclasses.astuple(b) for n, b in bounds.items()}, "targets": [
        dataclasses.astuple(t) for t in targets], "population": population,
        "quantile": quantile, "seed": seed})


def run_abc(evaluate: Callable[[list[dict], list[int]], list[dict]],
            targets: Sequence[Target], bounds: dict[str, Bound], *, population: int,
            generations: int, quantile: float = 0.5, db: Path, seed: int = 0,
            settings: dict | None = None, log=print, max_batch: int = 4096) -> Posterior:
    """ABC-SMC of ``evaluate`` (parameter points in the prior's coordinates, one run seed
    each, to summaries keyed like the targets) against the targets; the history is kept
    in ``db`` (SQLite) and a run of the same ``settings`` found there is resumed."""
    import logging

    import pyabc

    for name in ("ABC", "ABC.Sampler", "ABC.Epsilon", "ABC.Distance", "ABC.History",
                 "ABC.Transition", "ABC.Population", "ABC.Acceptor", "ABC.Predictor"):
        logging.getLogger(name).setLevel(logging.WARNING)
    db = Path(db).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    key = database_key(settings or {}, bounds, targets, population, quantile, seed)
    keyfile = db.with_name(db.name + ".key")
    # pyABC works on an unbounded scale (Bound.from_z), where the prior is the standard
    # logistic distribution: proposals never fall outside the prior's support
    prior = pyabc.Distribution(**{n: pyabc.RV("logistic", 0.0, 1.0) for n in bounds})

    def natural(points: list[dict], seeds: list[int]) -> list[dict]:
        return evaluate([{n: float(bounds[n].from_z(p[n])) for n in bounds} for p in points],
                        seeds)

    t0 = time.monotonic()
    state = {"t": None, "total": 0, "evaluated": 0}

    def progress(t, accepted, n, evaluated):
        # time left: this generation's rest at its acceptance rate so far, and each later
        # generation as many evaluations as this one will have needed
        now = time.monotonic()
        if t != state["t"]:
            state.update(t=t, total=state["total"] + state["evaluated"], evaluated=0)
        state["evaluated"] = evaluated
        total = state["total"] + evaluated
        rate = max(accepted / evaluated, 1e-3) if evaluated else 1.0
        this = evaluated + (n - accepted) / rate
        left = ((now - t0) / max(total, 1)) * ((this - evaluated)
                                                + max(generations - t - 1, 0) * this)
        log(f"calibrate (abc): generation {t + 1}/{generations}: {accepted}/{n} accepted "
            f"of {evaluated} evaluated, {now - t0:.0f} s elapsed, about {left:.0f} s left")

    url = f"sqlite:///{db}"
    done = 0
    if db.exists() and keyfile.exists() and keyfile.read_text(encoding="utf-8") == key:
        history = pyabc.History(url)
        done = history.max_t + 1 if history.n_populations else 0
    sampler = BatchSampler(natural, seed=seed, max_batch=max_batch, progress=progress,
                           min_batch=max(1, min(population, MIN_BATCH)))
    # the first generation takes every draw of the prior; a resumed run's next tolerance
    # is the quantile of the last population's weighted distances, as it would have been
    abc = pyabc.ABCSMC(
        BatchModel(natural), prior, distance(targets), population_size=population,
        sampler=sampler, transitions=_transition(list(bounds)),
        eps=pyabc.QuantileEpsilon(initial_epsilon="from_sample" if done else np.inf,
                                  alpha=quantile))
    if done > 0:
        abc.load(url, 1)
        log(f"calibrate (abc): resuming from {db}: {done} generations on record")
    else:
        if db.exists() and keyfile.exists() and \
                keyfile.read_text(encoding="utf-8") == key:
            db.unlink()  # this calibration, killed before its first generation: begin again
        elif db.exists():
            stale = db.with_name(db.name + f".stale-{int(time.time())}")
            db.rename(stale)
            log(f"calibrate (abc): {db} holds another calibration: moved to {stale.name}")
        keyfile.write_text(key, encoding="utf-8")
        abc.new(url, {t.key: t.centre() for t in targets})
    if generations > done:
        # the sampler's acceptance rate guides the first batch of a resumed generation
        if done > 0:
            pops = abc.history.get_all_populations()
            last = pops[pops.t == done - 1]
            if len(last) and float(last.samples.iloc[0]) > 0:
                sampler.rate = population / float(last.samples.iloc[0])
        import warnings

        with warnings.catch_warnings():  # pyABC compares the first tolerance, inf, to none
            warnings.filterwarnings("ignore", "invalid value encountered in scalar subtract",
                                    RuntimeWarning)
            abc.run(max_nr_populations=generations - done)
    history = abc.history
    df, w = history.get_distribution(m=0, t=min(history.max_t, generations - 1))
    names = list(bounds)
    values = np.column_stack([bounds[n].from_z(df[n].to_numpy()) for n in names])
    pops = history.get_all_populations()
    gens = []
    for r in pops.itertuples():
        if 0 <= r.t < generations:
            _, wt = history.get_distribution(m=0, t=int(r.t))
            wt = np.asarray(wt) / np.sum(wt)
            gens.append({"t": int(r.t), "epsilon": float(r.epsilon),
                         "evaluations": int(r.samples),
                         "acceptance": population / float(r.samples) if r.samples else None,
                         "ess": float(1.0 / np.sum(wt ** 2)),
                         "seconds": (float(r.wall_time) if r.wall_time == r.wall_time
                                     else None)})
    return Posterior(names=names, values=values, weights=np.asarray(w) / np.sum(w),
                     bounds=dict(bounds), generations=gens,
                     seconds=time.monotonic() - t0, resumed_from=done)


# --------------------------------------------------------------------------------------
# The model's evaluation: the nine cases, one run per particle and case


def case_evaluator(start, cases: Sequence[str], workers=1) -> tuple[Callable, list[Target]]:
    """The batch evaluation of parameter points on the cases (every case once per point,
    with the point's seed) and the cases' targets."""
    from affiliate_sim.experiments.runs import RunSpec, execute
    from affiliate_sim.scenario import load_scenario

    scenarios = {c: load_scenario(c) for c in cases}
    targets = [target_of(c, o) for c in cases for o in scenarios[c].observations]

    def evaluate(points: list[dict], seeds: list[int]) -> list[dict]:
        sets = [with_values(start, p) for p in points]
        specs = [RunSpec.of(scenarios[c], q, s) for q, s in zip(sets, seeds, strict=True)
                 for c in cases]
        results = execute(specs, workers=workers)
        out = []
        for k in range(len(points)):
            stats = {}
            for r in results[k * len(cases):(k + 1) * len(cases)]:
                stats.update({f"{r.scenario}/{oid}": float(v) for oid, v in r.values.items()})
            out.append(stats)
        return out

    return evaluate, targets


#: The table of posterior particles beside a posterior's parameter file.
TABLE = "particles.csv"


def calibrate_abc(start, free: dict[str, tuple[float, float]], cases: Sequence[str], *,
                  population: int, generations: int, quantile: float, db: Path,
                  seed: int = 0, workers=1, log=print, max_batch: int = 4096,
                  estimates: int = 0, screen_seeds: int = 16) -> Posterior:
    """ABC-SMC over the free parameters on the cases (module docstring), from ``start``
    for the parameters held fixed; with ``estimates`` > 0, also over the ``estimates``
    estimates of each case its distance is most sensitive to (:func:`screen_estimates`,
    on ``screen_seeds`` seeds), each with a prior over the range its scenario file
    declares."""
    from affiliate_sim.experiments.runs import Pool

    pool = workers if isinstance(workers, Pool) else Pool(int(workers))
    try:
        screening: list[dict[str, Any]] = []
        if estimates > 0:
            screening = screened(start, cases, screen_seeds, pool, Path(db), log)
            chosen = chosen_estimates(screening, estimates)
            free = {**free, **{r["name"]: (r["low"], r["high"]) for r in chosen}}
            log(f"calibrate (abc): priors over {len(chosen)} estimates of the cases: "
                + ", ".join(r["name"][len(ESTIMATES) + 1:] for r in chosen))
        evaluate, targets = case_evaluator(start, cases, pool)
        settings = {"start": start.to_dict(), "cases": list(cases), "free": {
            k: list(v) for k, v in free.items()}, "seed0": SIM_SEED0,
            "error": [ERROR_SHARE, SHARE_FLOOR, GAP_CAP], "version": ABC_VERSION,
            "model": model_fingerprint(cases)}
        post = run_abc(evaluate, targets, bounds_of(free), population=population,
                       generations=generations, quantile=quantile, db=db, seed=seed,
                       settings=settings, log=log, max_batch=max_batch)
        post.screening = screening
        return post
    finally:
        if pool is not workers:
            pool.close()


#: Version of what a calibration's particles depend on besides its settings (the model,
#: the distance): a history database of another version is not resumed.
ABC_VERSION = 2
#: First seed of the screening runs of the cases' estimates (common to every value).
SCREEN_SEED0 = 1_500_000


def model_fingerprint(cases: Sequence[str]) -> str:
    """A digest of what a case's runs depend on besides the parameters: the source of the
    kernel, the mechanisms and the model, and each case's scenario data (as parsed: a
    comment does not count). A calibration's database or screening of another model is
    not reused."""
    import yaml

    from affiliate_sim.kernel import cache
    from affiliate_sim.scenario.files import resolve

    h = hashlib.sha256(cache.fingerprint().encode())
    for path in sorted((cache._PACKAGE / "model").glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for c in cases:
        data = yaml.safe_load(resolve(c).read_text(encoding="utf-8"))
        h.update(json.dumps(data, sort_keys=True, default=str).encode())
    return h.hexdigest()


def case_distance(targets: Sequence[Target], values: dict[str, float], case: str) -> float:
    """The root mean square standardized gap of one case's observations."""
    gaps = [t.gap(float(values.get(t.key.split("/", 1)[1], math.nan)))
            for t in targets if t.key.split("/", 1)[0] == case]
    return float(np.sqrt(np.mean(np.square(gaps)))) if gaps else 0.0


def screen_estimates(start, cases: Sequence[str], seeds: int, workers=1) -> list[dict]:
    """One-at-a-time screening of the estimates each case's scenario file declares (its
    ``estimates`` block): the case's distance (:func:`case_distance`, mean over ``seeds``
    seeds common to every value) with the estimate at the low and at the high end of its
    declared range, against the distance at ``start``; the effect is the larger change.
    One row per estimate: ``case, name, value, low, high, base, at_low, at_high, effect,
    se`` (the standard error of the effect's difference, over the seeds)."""
    from affiliate_sim.experiments.runs import RunSpec, execute
    from affiliate_sim.scenario import load_scenario

    rows = []
    specs = []
    for c in cases:
        sc = load_scenario(c)
        targets = [target_of(c, o) for o in sc.observations]
        orgs = {o.name: o for o in sc.organizations}
        own = start.estimates.get(c, {})
        sets = [("base", start)]
        for org, fs in sc.estimates.items():
            for f, (lo, hi) in fs.items():
                name = estimate_name(c, org, f)
                value = own.get(org, {}).get(f, float(getattr(orgs[org], f)))
                rows.append({"case": c, "name": name, "value": value, "low": lo,
                             "high": hi, "targets": targets})
                sets += [(name + "@low", with_values(start, {name: lo})),
                         (name + "@high", with_values(start, {name: hi}))]
        specs += [(c, label, RunSpec.of(sc, p, SCREEN_SEED0 + k))
                  for label, p in sets for k in range(seeds)]
    results = execute([s for _, _, s in specs], workers=workers)
    dist: dict[tuple[str, str], list[float]] = {}
    by_case = {r["case"]: r["targets"] for r in rows}
    for (c, label, _), res in zip(specs, results, strict=True):
        if c in by_case:
            dist.setdefault((c, label), []).append(
                case_distance(by_case[c], res.values, c))
    out = []
    for r in rows:
        base = np.array(dist[(r["case"], "base")])
        lo = np.array(dist[(r["case"], r["name"] + "@low")])
        hi = np.array(dist[(r["case"], r["name"] + "@high")])
        d_lo, d_hi = lo - base, hi - base
        big = d_lo if abs(d_lo.mean()) >= abs(d_hi.mean()) else d_hi
        out.append({k: v for k, v in r.items() if k != "targets"} | {
            "base": float(base.mean()), "at_low": float(lo.mean()),
            "at_high": float(hi.mean()), "effect": float(abs(big.mean())),
            "se": float(big.std(ddof=1) / np.sqrt(len(big))) if len(big) > 1 else math.nan})
    return out


#: Least screening effect (change of a case's distance, in error scales) of an estimate
#: given a prior.
MIN_EFFECT = 0.05


def chosen_estimates(screening: list[dict], per_case: int) -> list[dict]:
    """The ``per_case`` estimates of each case with the largest effect, among those whose
    effect is at least :data:`MIN_EFFECT` and exceeds twice its standard error (the rest
    change nothing or cannot be told from noise)."""
    out = []
    for c in dict.fromkeys(r["case"] for r in screening):
        rows = [r for r in screening if r["case"] == c and r["effect"] >= MIN_EFFECT
                and not r["effect"] <= 2.0 * r["se"]]
        out += sorted(rows, key=lambda r: -r["effect"])[:per_case]
    return out


def screened(start, cases: Sequence[str], seeds: int, workers, db: Path, log) -> list[dict]:
    """:func:`screen_estimates`, kept beside the history database (a resumed calibration
    does not screen again)."""
    from affiliate_sim.experiments.output import write_json
    from affiliate_sim.scenario import load_scenario

    key = settings_key({"start": start.to_dict(), "cases": list(cases), "seeds": seeds,
                        "estimates": {c: load_scenario(c).estimates for c in cases},
                        "version": ABC_VERSION, "model": model_fingerprint(cases),
                        "seed0": SCREEN_SEED0, "error": [ERROR_SHARE, SHARE_FLOOR, GAP_CAP]})
    path = Path(db).resolve().with_name(Path(db).name + ".screening.json")
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("key") == key:
                return data["rows"]
        except (OSError, ValueError):
            pass
    log(f"calibrate (abc): screening the cases' estimates on {seeds} seeds")
    rows = screen_estimates(start, cases, seeds, workers)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, {"key": key, "rows": rows})
    return rows


def write_posterior(post: Posterior, start, params_file: Path, report_dir: Path,
                    command: str, cases: Sequence[str]) -> dict[str, Any]:
    """Write the posterior: the particles and weights (``<params_file stem>/particles.csv``),
    the point set (the marginal medians) as a ``conf/params`` file naming the table, and
    ``posterior.json`` with the figures in ``report_dir``; returns the summary."""
    import pandas as pd

    from affiliate_sim import provenance
    from affiliate_sim.experiments.output import atomic_write, write_json
    from affiliate_sim.scenario import load_scenario
    from affiliate_sim.scenario.params import params_yaml
    from affiliate_sim.viz import plots

    params_file = Path(params_file)
    table_path = params_file.with_suffix("") / TABLE
    table_path.parent.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(post.values, columns=post.names)
    df.insert(0, "weight", post.weights)
    atomic_write(table_path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.10g"))
    point = with_values(start, post.median())
    last = post.generations[-1] if post.generations else {}
    header = [
        "# Posterior of the ABC-SMC calibration (written by affiliate-calibrate method=abc;",
        "# docs/calibration.md): the values are each free parameter's posterior median (the",
        "# rest as in the starting set); the weighted particles are in the table named by",
        f"# '{POSTERIOR_KEY}' (affiliate-replay params=posterior draws one per seed).",
        f"# Command: {command}",
        f"# Cases: {', '.join(cases)}. Population {len(post.weights)}, "
        f"{len(post.generations)} generations, last epsilon {last.get('epsilon', 0):.4g}, "
        f"{sum(g['evaluations'] for g in post.generations)} particles evaluated.",
        f"# Free parameters: {', '.join(post.names)}.",
    ]
    body = params_yaml(point)  # the medians, the cases' estimates among them
    from affiliate_sim.paths import CONF_DIR

    inside = params_file.resolve().parent == (CONF_DIR / "params").resolve()
    body += (f"{POSTERIOR_KEY}: {table_path.parent.name}/{TABLE}\n" if inside
             else f"{POSTERIOR_KEY}: {table_path.resolve()}\n")
    atomic_write(params_file, lambda tmp: Path(tmp).write_text(
        "\n".join(header) + "\n" + body, encoding="utf-8"))
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    rows = post.summary()
    summary = {"command": command, "cases": list(cases), "population": len(post.weights),
               "generations": post.generations, "seconds": post.seconds,
               "resumed_from": post.resumed_from, "parameters": rows,
               "identified": [r["parameter"] for r in rows if r["contraction"] >= IDENTIFIED],
               "screening": post.screening,
               "provenance": provenance.record(start, None, [load_scenario(c) for c in cases]),
               "error_model": {"error_share": ERROR_SHARE, "share_floor": SHARE_FLOOR,
                               "gap_cap": GAP_CAP}}
    write_json(report_dir / "posterior.json", summary)
    plots.save(plots.posterior_marginals(post), report_dir / "marginals.png")
    top = [r["parameter"] for r in sorted(rows, key=lambda r: -r["contraction"])][:6]
    plots.save(plots.posterior_pairs(post, top), report_dir / "pairs.png")
    return summary


#: Contraction from which a parameter counts as identified by the cases.
IDENTIFIED = 0.5


@dataclasses.dataclass
class PosteriorTable:
    """A posterior's particles read back (for ``params=posterior``)."""

    point: Any  # Params: the point set of the file
    names: list[str]
    values: np.ndarray
    weights: np.ndarray
    path: Path

    def draw(self, seeds: Sequence[int], seed: int = 0) -> list:
        """One parameter set for each of ``seeds`` (the k-th draw for the k-th seed: a
        replay of more seeds keeps the first ones' draws), particles drawn by weight from a
        generator of ``seed``, the rest of the set as the point's."""
        rng = np.random.default_rng([DRAW_SEED, int(seed)])
        idx = rng.choice(len(self.weights), size=len(seeds), p=self.weights)
        return [with_values(self.point, {n: float(self.values[i, j])
                                         for j, n in enumerate(self.names)})
                for i in idx]


#: Seed of the draws of particles per replay seed.
DRAW_SEED = 90210


def read_table(path: Path, point) -> PosteriorTable:
    """The particles of a posterior table; raises :class:`InputError` if unusable."""
    import pandas as pd

    from affiliate_sim.errors import InputError
    from affiliate_sim.scenario.files import ESTIMABLE
    from affiliate_sim.scenario.params import PARAMETERS

    path = Path(path)
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise InputError(str(path), POSTERIOR_KEY, f"cannot read the posterior table: "
                         f"{err.__class__.__name__}") from None
    names = [c for c in df.columns if c != "weight"]
    ranges = {n: (PARAMETERS[n][1].lo, PARAMETERS[n][1].hi) if n in PARAMETERS
              else ESTIMABLE[split_estimate(n)[2]] for n in names
              if n in PARAMETERS or (split_estimate(n) or ("", "", ""))[2] in ESTIMABLE}
    unknown = [n for n in names if n not in ranges]
    if "weight" not in df.columns or not names or unknown or not len(df):
        raise InputError(str(path), POSTERIOR_KEY, "not a posterior table (a weight column "
                         "and one column per parameter)" +
                         (f"; unknown: {', '.join(unknown[:3])}" if unknown else ""))
    w = df["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InputError(str(path), POSTERIOR_KEY, "weights must be finite, >= 0, not all 0")
    values = df[names].to_numpy(dtype=float)
    for j, n in enumerate(names):  # every particle a valid parameter set
        lo, hi = ranges[n]
        if not np.all(np.isfinite(values[:, j])) or values[:, j].min() < lo or \
                values[:, j].max() > hi:
            raise InputError(str(path), n, f"particles outside the range [{lo}, {hi}]")
    return PosteriorTable(point, names, values, w / w.sum(), path)
