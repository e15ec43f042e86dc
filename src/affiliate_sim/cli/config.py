"""Config schemas (Hydra ConfigStore) and validation of a composed config.

The schemas type-check every value Hydra composes; :func:`validate` then checks ranges,
the scenario file and the run length, raising :class:`~affiliate_sim.errors.InputError`.
Schemas are stored under names outside the selectable config groups, so ``glob(*)`` over a
group never picks one up. Two config groups are generated here rather than kept as files,
so that their lists are kept once: ``scenario`` (one option per shipped scenario file) and
``mechanisms`` (``all`` and ``without_NAME`` for each of the article's mechanisms).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING, DictConfig, OmegaConf

from affiliate_sim.errors import InputError
from affiliate_sim.experiments.runs import RunSpec
from affiliate_sim.mechanisms import MECHANISMS
from affiliate_sim.paths import CONF_DIR
from affiliate_sim.scenario import CASES, available, load_scenario
from affiliate_sim.scenario.params import (
    ESTIMATES,
    NOT_PARAMETERS,
    POSTERIOR_KEY,
    Mechanisms,
    Params,
    case_estimates,
    point_of,
)

PRIMARY = "affiliate_sim"

#: Schema of the ``params`` group: every field of :class:`Params` as a float.
ParamsSchema = dataclasses.make_dataclass(
    "ParamsSchema",
    [(f.name, float, field(default=f.default)) for f in dataclasses.fields(Params)
     if f.name not in NOT_PARAMETERS]
    # values replacing a case's estimates: {case: {organization: {field: value}}}
    + [(ESTIMATES, dict[str, Any], field(default_factory=dict))]
    # a posterior's parameter file names its table of particles (params=posterior)
    + [(POSTERIOR_KEY, Optional[str], field(default=None))],  # noqa: UP045 (OmegaConf)
)


def group_options(group: str) -> list[str]:
    """The options of a config group (what ``glob(*)`` over it expands to)."""
    if group == "scenario":
        return available()
    if group == "mechanisms":
        return sorted(["all", *(f"without_{m}" for m in MECHANISMS)])
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


@dataclass
class ScenarioRef:
    """The ``scenario`` group: the name of a file in ``scenarios/``."""

    name: str = MISSING


@dataclass
class AppSchema:
    """Schema of the primary config of ``affiliate-sim``."""

    scenario: ScenarioRef = field(default_factory=ScenarioRef)
    params: Any = field(default_factory=ParamsSchema)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)
    seed: int = 0
    days: int | None = None
    group: str | None = None  # set by the sweeper (see hydra_plugins.affiliate_sim_sweeper)
    force: bool = False  # run what the estimate refuses (cli.checks: memory, sweep size)


@dataclass
class ReplaySchema:
    """Schema of the primary config of ``affiliate-replay``."""

    params: Any = field(default_factory=ParamsSchema)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)
    seeds: int = 50
    knockout_seeds: int = 50
    continuation_seeds: int = 10
    workers: int | None = None
    days: int | None = None
    cases: list[str] = field(default_factory=list)
    out: str = "replay"
    force: bool = False  # run what the estimate refuses (cli.checks: memory)


@dataclass
class CalibrateSchema:
    """Schema of the primary config of ``affiliate-calibrate``."""

    params: Any = field(default_factory=ParamsSchema)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)
    free: dict[str, list[float]] = field(default_factory=dict)
    seeds: int = 4
    max_evaluations: int = 60
    workers: int | None = None
    cluster: str | None = None  # a Dask scheduler's address (tcp://HOST:PORT): run there
    cases: list[str] = field(default_factory=list)
    out: str | None = None  # None: the package's conf/params/calibrated.yaml
    explore: int = 0  # Sobol points evaluated before the search starts from the best
    method: str = "optimize"  # optimize (Nelder-Mead) or cmaes (CMA-ES, by generations)
    popsize: int | None = None  # CMA-ES candidates per generation (None: its default)
    sigma: float = 0.2  # CMA-ES first step, as a share of each bound's width
    crossval: bool = False  # leave-one-case-out instead (out: None = replay/crossval.json)
    replay_seeds: int = 20  # seeds of each held-out case's replay (crossval)
    continued: bool = True  # count the bystanders' four-year continuations in the loss
    abc_free: dict[str, list[float]] = field(default_factory=dict)  # abc: the priors' bounds
    population: int = 500  # abc: particles per generation
    generations: int = 8  # abc: generations (the first from the prior)
    quantile: float = 0.7  # abc: each generation's tolerance, a quantile of the last's distances
    db: str | None = None  # abc: pyABC's history database (None: replay/posterior/abc.db)
    report: str = "replay/posterior"  # abc: posterior.json and the figures
    seed: int = 0  # abc: the seed of the proposals and the runs
    abc_estimates: int = 2  # abc: per case, the estimates given a prior (most influential)
    screen_seeds: int = 16  # abc: seeds of the screening of the cases' estimates


@dataclass
class SensitivitySchema:
    """Schema of the primary config of ``affiliate-sensitivity``."""

    params: Any = field(default_factory=ParamsSchema)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)
    ranges: dict[str, list[float]] = field(default_factory=dict)
    calibration_ranges: bool = True  # start from conf/calibrate.yaml's free bounds
    spread: float = 2.0  # range of a parameter without one: [base / spread, base * spread]
    method: str = "both"  # morris, sobol or both (Sobol over Morris's top parameters)
    seeds: int = 2
    trajectories: int = 10
    levels: int = 4
    sobol_n: int = 128
    sobol_top: int = 10
    seed: int = 0
    chunk: int = 64
    workers: int | None = None
    cluster: str | None = None  # a Dask scheduler's address (tcp://HOST:PORT): run there
    cases: list[str] = field(default_factory=list)
    out: str = "replay/sensitivity"


@dataclass
class DiscoverSchema:
    """Schema of the primary config of ``affiliate-discover``."""

    params: Any = field(default_factory=ParamsSchema)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)
    levers: dict[str, list[float]] = field(default_factory=dict)
    uncertain: dict[str, list[float]] = field(default_factory=dict)
    n: int = 4500
    seed: int = 0
    survive_share: float = 0.25
    min_density: float = 0.8
    chunk: int = 128
    workers: int | None = None
    cluster: str | None = None  # a Dask scheduler's address (tcp://HOST:PORT): run there
    cases: list[str] = field(default_factory=list)
    out: str = "replay/discovery"


def register() -> None:
    """Store the schemas in Hydra's ConfigStore (once per process; later calls are free)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    if cs.repo.get("affiliate_sim_schema.yaml") is not None and \
            cs.repo.get("discover_schema.yaml") is not None:
        return
    cs.store(name="affiliate_sim_schema", node=AppSchema)
    cs.store(name="replay_schema", node=ReplaySchema)
    cs.store(name="calibrate_schema", node=CalibrateSchema)
    cs.store(name="sensitivity_schema", node=SensitivitySchema)
    cs.store(name="discover_schema", node=DiscoverSchema)
    for name in available():  # scenario=NAME points at scenarios/NAME.yaml
        cs.store(group="scenario", name=name, node={"name": name})
    cs.store(group="mechanisms", name="all", node={}, package="mechanisms")
    for m in MECHANISMS:  # knock-outs
        cs.store(group="mechanisms", name=f"without_{m}", node={m: False},
                 package="mechanisms")


def params_of(data: dict, where: str = "override") -> Params:
    """The validated :class:`Params` of a composed config (``params`` and ``mechanisms``)."""
    pdata = dict(point_of(data.get("params") or {}))  # a posterior's file: its point set
    pdata["mechanisms"] = dict(data.get("mechanisms") or {})
    return Params.from_dict(pdata, where=where)


def _plain(cfg: DictConfig | dict) -> dict:
    """A composed config as plain Python data."""
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg


def _check_min(data: dict, where: str, minima: dict[str, int]) -> None:
    """Each key of ``minima`` (when not None) must be a whole number >= its minimum."""
    for key, lo in minima.items():
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise InputError(where, key, f"must be a whole number >= {lo}, got {value!r}")


def _no_extra(data: dict, schema: type, where: str) -> None:
    """Refuse a key the schema does not have (``+foo=1`` adds a key nothing reads)."""
    extra = sorted(set(data) - {f.name for f in dataclasses.fields(schema)} - {"hydra"})
    if extra:
        raise InputError(where, extra[0], "unknown key (not in the config; --cfg job lists "
                         "every key)")


def validate(cfg: DictConfig | dict, where: str = "override") -> RunSpec:
    """Check a composed config: parameter ranges, the scenario file, the run length.

    Raises:
        InputError: naming the key and the problem.
    """
    data = _plain(cfg)
    _no_extra(data, AppSchema, where)
    params = params_of(data, where)
    name = (data.get("scenario") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise InputError(where, "scenario", "no scenario given (scenario=NAME)")
    scenario = load_scenario(name)
    check_cases(params, [scenario], where)
    if data.get("seed") is None:
        raise InputError(where, "seed", "must be a whole number >= 0, got None")
    _check_min(data, where, {"seed": 0, "days": 1})
    if data.get("days") is not None and data["days"] > MAX_DAYS:
        raise InputError(where, "days", f"must be at most {MAX_DAYS}, got {data['days']}")
    return RunSpec.of(scenario, params, data["seed"], data.get("days"))


#: Longest run (days), as in a scenario file.
MAX_DAYS = 100_000


def late_observations(spec: RunSpec) -> list[str]:
    """The observations of a run's case whose window ends after the run (a run shorter
    than the case scores them not met)."""
    return [o.id for o in spec.scenario.observations
            if not o.anchor and o.window[1] > spec.days]


@dataclass
class ReplaySpec:
    """A validated replay request."""

    params: Params
    seeds: int
    knockout_seeds: int
    workers: int | None
    days: int | None
    cases: tuple[str, ...]
    out: str
    continuation_seeds: int
    posterior: Any = None  # a PosteriorTable (params=posterior): a set drawn per seed


def posterior_of(data: dict, params: Params, where: str = "override"):
    """The posterior table a ``params`` file names (its ``posterior`` key: a path, else
    relative to the package's ``conf/params``), read and checked; None if it names none."""
    from pathlib import Path

    from affiliate_sim.experiments.abcsmc import read_table

    name = (data.get("params") or {}).get(POSTERIOR_KEY)
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise InputError(where, "params.posterior", f"must name a table, got {name!r}")
    path = Path(name)
    if not path.is_absolute() and not path.is_file():  # else beside the shipped sets
        path = CONF_DIR / "params" / name
    if not path.is_file():
        raise InputError(where, "params.posterior", f"no posterior table at {path}")
    return read_table(path, params)


def validate_replay(cfg: DictConfig | dict, where: str = "override") -> ReplaySpec:
    """Check a composed replay config.

    Raises:
        InputError: naming the key and the problem.
    """
    data = _plain(cfg)
    _no_extra(data, ReplaySchema, where)
    params = params_of(data, where)
    _check_min(data, where, {"seeds": 1, "knockout_seeds": 0, "workers": 1, "days": 1,
                             "continuation_seeds": 0})
    if data.get("days") is not None and data["days"] > MAX_DAYS:
        raise InputError(where, "days", f"must be at most {MAX_DAYS}, got {data['days']}")
    cases = tuple(data.get("cases") or CASES)
    check_cases(params, [load_scenario(c) for c in cases], where)
    return ReplaySpec(params=params, seeds=data["seeds"], knockout_seeds=data["knockout_seeds"],
                      workers=data.get("workers"), days=data.get("days"), cases=cases,
                      out=data["out"], continuation_seeds=data["continuation_seeds"],
                      posterior=posterior_of(data, params, where))


def validate_calibrate(cfg: DictConfig | dict, where: str = "override") -> dict[str, Any]:
    """Check a composed calibration config; returns its plain, checked values.

    Raises:
        InputError: naming the key and the problem.
    """
    from affiliate_sim.scenario.params import parameter_table
    data = _plain(cfg)
    _no_extra(data, CalibrateSchema, where)
    params = params_of(data, where)
    ranges = {r["name"]: (r["lo"], r["hi"]) for r in parameter_table()}

    def bounded(key: str) -> dict[str, tuple[float, float]]:
        free = {}
        for name, bounds in (data.get(key) or {}).items():
            if name not in ranges:
                raise InputError(where, f"{key}.{name}", "unknown parameter")
            if len(bounds) != 2 or not bounds[0] < bounds[1]:
                raise InputError(where, f"{key}.{name}", f"must be [low, high] with low < "
                                 f"high, got {bounds}")
            lo, hi = ranges[name]
            if bounds[0] < lo or bounds[1] > hi:
                raise InputError(where, f"{key}.{name}", f"bounds {bounds} leave the "
                                 f"parameter's range [{lo}, {hi}]")
            free[name] = (float(bounds[0]), float(bounds[1]))
        return free

    free = bounded("free")
    if data.get("method") == "abc":
        free = bounded("abc_free") or free
    _check_min(data, where, {"seeds": 1, "max_evaluations": 1, "workers": 1,
                             "replay_seeds": 1, "explore": 0, "popsize": 2})
    from affiliate_sim.experiments.calibrate import METHODS
    methods = (*METHODS, "abc")  # the point searches, and the posterior (abcsmc)
    if data.get("method", "optimize") not in methods:
        raise InputError(where, "method", f"must be one of {', '.join(methods)}, got "
                         f"{data.get('method')!r}")
    if data.get("popsize") is not None and data.get("method", "optimize") != "cmaes":
        raise InputError(where, "popsize", "applies to method=cmaes only")
    sigma = data.get("sigma", 0.2)
    if (isinstance(sigma, bool) or not isinstance(sigma, int | float)
            or not 0.0 < sigma <= 0.5):
        raise InputError(where, "sigma", f"must be a number in (0, 0.5], got {sigma!r}")
    _check_min(data, where, {"population": 10, "generations": 1, "seed": 0,
                             "abc_estimates": 0, "screen_seeds": 2})
    quantile = data.get("quantile", 0.7)
    if (isinstance(quantile, bool) or not isinstance(quantile, int | float)
            or not 0.0 < quantile < 1.0):
        raise InputError(where, "quantile", f"must be a number in (0, 1), got {quantile!r}")
    if data.get("method") == "abc":
        if data.get("crossval"):
            raise InputError(where, "crossval", "applies to method=optimize or cmaes only")
        if not free:
            raise InputError(where, "abc_free", "method=abc needs at least one free parameter")
    continued = data.get("continued", True)
    if not isinstance(continued, bool):
        raise InputError(where, "continued", f"must be true or false, got {continued!r}")
    cases = tuple(data.get("cases") or CASES)
    check_cases(params, [load_scenario(c) for c in cases], where)
    if data.get("crossval") and len(cases) < 2:
        raise InputError(where, "cases", "cross-validation needs at least two cases")
    return {"params": params, "free": free, "seeds": data["seeds"],
            "max_evaluations": data["max_evaluations"], "workers": data.get("workers"),
            "cases": cases, "out": data["out"], "crossval": bool(data.get("crossval")),
            "replay_seeds": data.get("replay_seeds", 20), "explore": data.get("explore", 0),
            "method": data.get("method", "optimize"), "popsize": data.get("popsize"),
            "sigma": float(sigma), "continued": continued,
            "population": data.get("population", 500),
            "generations": data.get("generations", 8), "quantile": float(quantile),
            "db": data.get("db"), "report": data.get("report", "replay/posterior"),
            "seed": data.get("seed", 0), "cluster": _cluster(data, where),
            "abc_estimates": data.get("abc_estimates", 2),
            "screen_seeds": data.get("screen_seeds", 16)}


def _cluster(data: dict, where: str) -> str | None:
    """The ``cluster`` key: a Dask scheduler's address, ``tcp://HOST:PORT`` (or None)."""
    value = data.get("cluster")
    if value is None:
        return None
    import re

    if not isinstance(value, str) or not re.fullmatch(r"(tcp|tls)://[^\s/:]+:\d{1,5}", value):
        raise InputError(where, "cluster", f"must be a Dask scheduler's address "
                         f"tcp://HOST:PORT, got {value!r}")
    return value


def _distinct_cases(data: dict, where: str, params: Params | None = None) -> tuple[str, ...]:
    """The config's cases (all nine if none), each a scenario file, none twice, each
    holding the organizations ``params`` gives estimates for."""
    cases = tuple(data.get("cases") or CASES)
    seen = set()
    loaded = []
    for c in cases:
        if c in seen:
            raise InputError(where, "cases", f"{c!r} is given twice")
        seen.add(c)
        loaded.append(load_scenario(c))
    if params is not None:
        check_cases(params, loaded, where)
    return cases


def check_cases(params: Params, scenarios, where: str) -> None:
    """The estimates of ``params`` against the cases run: each run case's organizations
    must exist (:func:`case_estimates`), and every case named must be one of them or a
    shipped scenario (a misspelt case would otherwise be ignored).

    Raises:
        InputError: naming the key and the problem.
    """
    names = set(available())
    for sc in scenarios:
        case_estimates(sc, [params], where)
        names.add(sc.name)
    for case in params.estimates:
        if case not in names:
            raise InputError(where, f"params.estimates.{case}", "no such case among the "
                             "shipped scenarios or the ones run")


#: The methods of ``affiliate-sensitivity``.
SENSITIVITY_METHODS = ("morris", "sobol", "both")


def validate_sensitivity(cfg: DictConfig | dict, where: str = "override") -> dict[str, Any]:
    """Check a composed sensitivity config; returns its plain, checked values (the
    problem itself is checked when built: :func:`affiliate_sim.experiments.sensitivity.
    problem`).

    Raises:
        InputError: naming the key and the problem.
    """
    from affiliate_sim.experiments.sensitivity import problem
    from affiliate_sim.scenario.params import parameter_table

    data = _plain(cfg)
    _no_extra(data, SensitivitySchema, where)
    params = params_of(data, where)
    _check_min(data, where, {"seeds": 1, "trajectories": 2, "levels": 2, "sobol_n": 2,
                             "sobol_top": 1, "seed": 0, "chunk": 1, "workers": 1})
    if data["method"] not in SENSITIVITY_METHODS:
        raise InputError(where, "method", f"must be one of {', '.join(SENSITIVITY_METHODS)}, "
                         f"got {data['method']!r}")
    if data["levels"] % 2:
        raise InputError(where, "levels", f"must be even (Morris's grid), got {data['levels']}")
    n = data["sobol_n"]
    if n & (n - 1):
        raise InputError(where, "sobol_n", f"must be a power of 2 (Sobol's sequence), got {n}")
    spread = data["spread"]
    if isinstance(spread, bool) or not isinstance(spread, int | float) or not spread > 1.0:
        raise InputError(where, "spread", f"must be a number above 1, got {spread!r}")
    ranges = {}
    cr = data.get("calibration_ranges", True)
    if not isinstance(cr, bool):
        raise InputError(where, "calibration_ranges", f"must be true or false, got {cr!r}")
    if cr:
        import yaml

        with open(CONF_DIR / "calibrate.yaml", encoding="utf-8") as fh:
            ranges.update(yaml.safe_load(fh).get("free") or {})
    ranges.update(data.get("ranges") or {})
    problem(params.to_dict(), parameter_table(), ranges, float(spread), where=where)
    cases = _distinct_cases(data, where, params)
    return {"cluster": _cluster(data, where), "params": params, "ranges": ranges,
            "spread": float(spread),
            "method": data["method"], "seeds": data["seeds"],
            "trajectories": data["trajectories"], "levels": data["levels"],
            "sobol_n": n, "sobol_top": data["sobol_top"], "seed": data["seed"],
            "chunk": data["chunk"], "workers": data.get("workers"), "cases": cases,
            "out": data["out"]}


def validate_discover(cfg: DictConfig | dict, where: str = "override") -> dict[str, Any]:
    """Check a composed discovery config; returns its plain, checked values with the
    sampled dimensions (:func:`affiliate_sim.experiments.discovery.dimensions`).

    Raises:
        InputError: naming the key and the problem.
    """
    from affiliate_sim.experiments.discovery import dimensions
    from affiliate_sim.scenario.params import parameter_table

    data = _plain(cfg)
    _no_extra(data, DiscoverSchema, where)
    params = params_of(data, where)
    _check_min(data, where, {"n": 2, "seed": 0, "chunk": 1, "workers": 1})
    for key in ("survive_share", "min_density"):
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 < v <= 1.0:
            raise InputError(where, key, f"must be a number in (0, 1], got {v!r}")
    cases = _distinct_cases(data, where, params)
    dims = dimensions(data.get("levers") or {}, data.get("uncertain") or {},
                      parameter_table(), cases, where=where)
    if data["n"] < len(cases):
        raise InputError(where, "n", f"must be at least the number of cases ({len(cases)}), "
                         f"got {data['n']}")
    return {"cluster": _cluster(data, where), "params": params, "dims": dims, "n": data["n"],
            "seed": data["seed"],
            "survive_share": float(data["survive_share"]),
            "min_density": float(data["min_density"]), "chunk": data["chunk"],
            "workers": data.get("workers"), "out": data["out"]}
