"""The ``affiliate-sim`` command: one Hydra app, named after its primary config.

    affiliate-sim scenario=NAME seed=N [params.KEY=VALUE ...] [mechanisms.NAME=false]
                  [days=N] [hydra.run.dir=DIR] [force=true]

writes ``DIR/summary.json``, ``DIR/timeseries.parquet``, ``DIR/flows.parquet`` (partner
flows) and ``DIR/events.json``. Each command is a thin Hydra edge: compose, validate, then
one call of the experiments layer (:func:`affiliate_sim.experiments.runs.execute` and the
functions built on it). Before anything runs, the overrides are composed and
validated; a bad one (unknown key, wrong type, out of range, unknown scenario) stops the
command with one line naming the key and the problem, exit status 2, no traceback; so do
an unknown flag, an output folder that cannot be written, and a run or a sweep whose
estimate exceeds the memory available (``force=true`` runs it anyway;
:mod:`affiliate_sim.cli.checks`).
"""

from __future__ import annotations

import logging
import os
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from affiliate_sim.cli import config as appconfig
from affiliate_sim.cli.errors import describe
from affiliate_sim.errors import InputError
from affiliate_sim.experiments import faults

EXIT_BAD_INPUT = 2
#: Exit status of a sweep (or an aggregation) with failed jobs.
EXIT_FAILED_JOBS = 1


def _in_cwd(path: str) -> str:
    """An output path of a command, relative to where it was started (Hydra may not run
    the job there)."""
    return path if os.path.isabs(path) else os.path.join(HydraConfig.get().runtime.cwd, path)


def _hydra_overrides(args: list[str]) -> tuple[list[str], bool]:
    """The config overrides among the command-line arguments, and whether it is a multirun."""
    multirun = any(a in ("-m", "--multirun") for a in args)
    overrides = [a for a in args if not a.startswith("-")
                 and not a.lstrip("+~").startswith(("hydra.", "hydra/"))]
    return overrides, multirun


def check_overrides(overrides: list[str], config_name: str = appconfig.PRIMARY,
                    validate=appconfig.validate):
    """Compose the config ``config_name`` with ``overrides`` and validate it.

    Raises:
        InputError: with one line naming the key and the problem.
    """
    from affiliate_sim.cli import compose

    return validate(compose.config(*overrides, config_name=config_name))


def run_job(cfg: DictConfig) -> dict:
    """Run one job from a composed config; write its outputs to Hydra's output dir."""
    from affiliate_sim.experiments.output import write_run
    from affiliate_sim.experiments.runs import execute, finished_run

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    spec = appconfig.validate(cfg)
    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    run = execute([spec], collect=finished_run)[0]
    name = params_name()
    summ = write_run(run, out_dir, name)
    print(f"affiliate-sim: {spec.scenario.name} seed={spec.seed} days={spec.days} "
          f"params={name}: wrote {os.path.join(out_dir, 'summary.json')}")
    return summ


def params_name(choices=None, overrides: list[str] | None = None) -> str:
    """The name of a job's parameter set: its ``params`` option, with the lever applied
    on top and ``+overrides`` when values were changed on the command line (by default
    the choices and overrides of the running Hydra job)."""
    if choices is None:
        hc = HydraConfig.get()
        choices, overrides = hc.runtime.choices, list(hc.overrides.task)
    name = str(choices.get("params") or "default")
    lever = choices.get("lever")
    if lever and lever != "none":
        name += f"+lever:{lever}"
    if any(o.lstrip("+~").startswith("params.") for o in overrides or ()):
        name += "+overrides"
    return name


appconfig.register()
faults.install()  # testing aid: failing writes (AFFILIATE_SIM_FAIL_WRITES), else nothing
if not OmegaConf.has_resolver("jobdir"):
    from affiliate_sim.experiments.sweep import job_dir

    OmegaConf.register_new_resolver("jobdir", job_dir)
if not OmegaConf.has_resolver("stem"):  # a scenario file's name for folder names
    from affiliate_sim.cli.tools import stem

    OmegaConf.register_new_resolver("stem", stem)


@hydra.main(config_path=str(appconfig.CONF_DIR), config_name=appconfig.PRIMARY,
            version_base="1.3")
def _hydra_main(cfg: DictConfig) -> None:
    from hydra.types import RunMode

    hc = HydraConfig.get()
    if hc.mode == RunMode.MULTIRUN:
        logging.getLogger("MESA").setLevel(logging.WARNING)
        run_sweep_job(cfg, hc)
        return
    run_job(cfg)


def member_config(cfg: DictConfig, overrides: list[str]) -> DictConfig:
    """The config of one member of a grouped sweep job: the job's config with the member's
    seed and parameter values (the only overrides in which members of a group differ)."""
    import copy

    from hydra.core.override_parser.overrides_parser import OverridesParser

    from hydra_plugins.affiliate_sim_sweeper import REPLICATE_KEYS

    member = copy.deepcopy(cfg)
    for o in OverridesParser.create().parse_overrides(overrides):
        key = o.get_key_element().lstrip("+~")
        if key.startswith(REPLICATE_KEYS):
            OmegaConf.update(member, key, o.value(), merge=False)
    return member


def run_sweep_job(cfg: DictConfig, hc) -> None:
    """One launched job of a sweep: a job, or a group of jobs run as one ensemble."""
    from pathlib import Path

    from affiliate_sim.experiments import sweep

    if cfg.get("group"):  # the sweep folder as the driver named it (Ray jobs run elsewhere)
        members = sweep.read_group(Path(hc.runtime.cwd) / hc.sweep.dir, cfg.group)
    else:
        members = [[o for o in hc.overrides.task]]
    records = sweep.run_group(
        lambda m: appconfig.validate(member_config(cfg, m)), members,
        lambda m: Path(sweep.job_dir(sweep.override_dirname(m), hc.sweep.dir,
                                     hc.runtime.cwd)),
        lambda m: params_name(hc.runtime.choices, m))
    for m, rec in zip(members, records, strict=True):
        if rec["status"] == "failed":
            unrecorded = ("" if not rec.get("unrecorded") else
                          " (nor could its status be written)"
                          if rec["unrecorded"] == rec["error"] else
                          f" (nor could its status be written: {rec['unrecorded']})")
            print(f"affiliate-sim: job {sweep.override_dirname(m)} failed: {rec['error']}"
                  f"{unrecorded}", file=sys.stderr)


INFO_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c",
              "--shell-completion", "-sc")


#: Hydra's flags that take no value.
SWITCHES = ("-m", "--multirun", "-r", "--run", "--resolve")


#: Keys whose every whole-number value >= 0 is valid whatever the rest of the config: a sweep
#: over them (``seed=range(0,100)``) is checked by composing one value, not each.
TRIVIAL_KEYS = ("seed",)


def sweep_variants(overrides: list[str]) -> list[list[str]]:
    """Override lists that together try every value of every sweeping key once.

    A sweep is valid when each of its values is: variant k sets every sweeping key to its
    k-th value (or its last, when it has fewer), and the fixed overrides as given.

    Raises:
        InputError: if an override cannot be parsed.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Glob, RangeSweep

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as err:  # noqa: BLE001
        key, problem = describe(err, overrides)
        raise InputError("override", key, problem) from None
    fixed, sweeps = [], []
    for o in parsed:
        if not o.is_sweep_override():
            fixed.append(o.input_line)
            continue
        key = o.get_key_element()
        value = o.value()
        if key in TRIVIAL_KEYS and isinstance(value, RangeSweep) and all(
                isinstance(x, int) for x in (value.start, value.stop, value.step)):
            span = range(value.start, value.stop, value.step)  # its ends: not every value
            values = [str(span[0]), str(span[-1])] if span else []
        elif isinstance(value, Glob):
            values = value.filter(appconfig.group_options(key))
        else:
            values = list(o.sweep_string_iterator())
        if not values:
            raise InputError("override", key, "the sweep has no values")
        if key in TRIVIAL_KEYS:  # whole numbers >= 0 are valid seeds: compose only one
            plain = [v for v in values if str(v).isdigit()]
            values = [v for v in values if not str(v).isdigit()] + plain[:1]
        sweeps.append([f"{key}={v}" for v in values])
    if not sweeps:
        return [fixed]
    n = max(len(v) for v in sweeps)
    return [fixed + [vals[min(k, len(vals) - 1)] for vals in sweeps] for k in range(n)]


def preset_sweep(overrides: list[str], config_name: str = appconfig.PRIMARY) -> list[str]:
    """The sweep a preset adds (``hydra.sweeper.params`` of ``+sweep=NAME``), as overrides,
    leaving out the keys the command line sets itself. Empty when there is no preset or
    the config does not compose (the check that follows then names the problem)."""
    from affiliate_sim.cli import compose
    from affiliate_sim.cli.sweep_callback import merge_sweep

    if not any(o.lstrip("+~").startswith("sweep=") for o in overrides):
        return []
    try:
        cfg = compose.config(*overrides, config_name=config_name, return_hydra_config=True)
    except InputError:
        return []
    return [o for o in merge_sweep(cfg.hydra.sweeper.get("params"), overrides)
            if o not in overrides]


def _guarded(prog: str, config_name: str, validate, hydra_main, argv) -> None:
    """Validate the command line (one line on error, exit 2), then hand over to Hydra.

    Flags, Hydra's own settings and output folders are checked (:mod:`affiliate_sim.cli.
    checks`); in a multirun every value of every sweeping key is validated before any job
    starts, and the number of jobs is checked; a run or a sweep of ``affiliate-sim`` is
    refused when its estimate exceeds the memory available (unless ``force=true``), and a
    long one prints its estimate first.
    """
    from affiliate_sim.cli import checks

    args = list(sys.argv[1:] if argv is None else argv)
    overrides, multirun = _hydra_overrides(args)
    try:
        checks.unknown_flag(args)
    except InputError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    if not any(a in INFO_FLAGS for a in args):
        try:
            checks.hydra_settings(args, config_name)
            force = checks.forced(overrides)
            swept = preset_sweep(overrides, config_name) + overrides if multirun else []
            jobs = checks.sweep_size(swept, force) if multirun else 1
            variants = sweep_variants(swept) if multirun else [overrides]
            checked = [check_overrides(variant, config_name, validate)
                       for variant in variants]
            for spec in checked[:1]:  # the output folders (the same in every variant)
                checks.outputs(spec)
            checks.budget(prog, [s for s in checked if isinstance(s, appconfig.RunSpec)],
                          jobs, force)
            for spec in checked[:1]:
                if isinstance(spec, appconfig.ReplaySpec):
                    checks.replay_budget(prog, spec, force)
        except InputError as err:
            print(f"{prog}: error: {err}", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)
        for spec in checked:
            late = (appconfig.late_observations(spec)
                    if isinstance(spec, appconfig.RunSpec) else [])
            if late:
                print(f"{prog}: warning: {spec.scenario.name} runs {spec.days} days, before "
                      f"the end of the window of {len(late)} observations ("
                      f"{', '.join(late[:3])}{', ...' if len(late) > 3 else ''}): they will "
                      "be scored not met", file=sys.stderr)
                break
    if multirun:  # one numpy thread per worker process
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
    # switches first: Hydra's parser refuses overrides on both sides of one (`k=v -m k=v`)
    switches = [a for a in args if a in SWITCHES]
    sys.argv = [sys.argv[0], *switches, *(a for a in args if a not in SWITCHES)]
    try:
        hydra_main()
    except BrokenPipeError:  # the reader went away (`--help | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    if multirun:
        from affiliate_sim.cli import sweep_callback

        result = sweep_callback.RESULT
        if result.get("error"):  # the table could not be written (said in one line)
            sys.exit(EXIT_FAILED_JOBS)
        if result.get("failed"):
            print(f"{prog}: {result['failed']} of {result['jobs']} jobs failed (their errors: "
                  f"{result['table']}, column error)", file=sys.stderr)
            sys.exit(EXIT_FAILED_JOBS)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``affiliate-sim``: a run or a sweep, or one of the commands of
    :mod:`affiliate_sim.cli.tools` (``validate``, ``list``, ``new-scenario``, ``schema``,
    ``outputs``, ``plot``)."""
    from affiliate_sim.cli import tools

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in tools.COMMANDS:
        try:
            code = tools.COMMANDS[args[0]](args[1:])
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = 1
        sys.exit(code)
    _guarded("affiliate-sim", appconfig.PRIMARY, appconfig.validate, _hydra_main,
             tools.scenario_paths(args))


@hydra.main(config_path=str(appconfig.CONF_DIR), config_name="replay", version_base="1.3")
def _replay_main(cfg: DictConfig) -> None:
    from affiliate_sim.experiments.replay import headline, replay

    logging.getLogger("MESA").setLevel(logging.WARNING)
    spec = appconfig.validate_replay(cfg)
    out = _in_cwd(spec.out)
    table = replay(spec.params, out, seeds=spec.seeds, knockout_seeds=spec.knockout_seeds,
                   workers=spec.workers, cases=spec.cases, days=spec.days,
                   continuation_seeds=spec.continuation_seeds, posterior=spec.posterior,
                   params_name=params_name())
    h = headline(table)
    print(f"affiliate-replay: {h['informative_met']} of {h['informative']} informative "
          f"observations met in >= 80% of {spec.seeds} seeds ({h['met']} of "
          f"{h['observations']} counting those the null model meets too); 90% predictive "
          f"interval reaches the target for {h['covered']} of {h['observations']}"
          + (" (parameters drawn from the posterior)" if spec.posterior is not None else "")
          + f"; report: {os.path.join(out, 'report.md')}")


def replay_main(argv: list[str] | None = None) -> None:
    """Entry point of ``affiliate-replay``: the nine cases against the article."""
    _guarded("affiliate-replay", "replay", appconfig.validate_replay, _replay_main, argv)


if __name__ == "__main__":
    main()


@hydra.main(config_path=str(appconfig.CONF_DIR), config_name="calibrate", version_base="1.3")
def _calibrate_main(cfg: DictConfig) -> None:
    from affiliate_sim.experiments.calibrate import calibrate, write_params

    logging.getLogger("MESA").setLevel(logging.WARNING)
    spec = appconfig.validate_calibrate(cfg)
    if spec["crossval"]:
        _crossval(spec)
        return
    if spec["method"] == "abc":
        _abc(spec)
        return
    from pathlib import Path

    from affiliate_sim.paths import CALIBRATED

    out = str(CALIBRATED) if spec["out"] is None else _in_cwd(spec["out"])
    checkpoint = Path(out + ".checkpoint.json")  # a killed run resumes from it
    with _pool(spec) as pool:
        cal = calibrate(spec["params"], spec["free"], spec["cases"], seeds=spec["seeds"],
                        max_evaluations=spec["max_evaluations"], workers=pool,
                        log=lambda msg: print(msg, file=sys.stderr, flush=True),
                        explore=spec["explore"], method=spec["method"],
                        popsize=spec["popsize"], sigma=spec["sigma"],
                        continued=spec["continued"], checkpoint=checkpoint)
    command = "affiliate-calibrate " + " ".join(HydraConfig.get().overrides.task)
    write_params(out, cal, spec["free"], spec["cases"], spec["seeds"], command)
    checkpoint.unlink(missing_ok=True)  # finished: nothing to resume
    print(f"affiliate-calibrate: loss {cal.loss_start:.4f} -> {cal.loss_best:.4f} in "
          f"{cal.evaluations} evaluations; wrote {out}")


def _abc(spec) -> None:
    from pathlib import Path

    from affiliate_sim.experiments.abcsmc import calibrate_abc, write_posterior
    from affiliate_sim.paths import CONF_DIR

    out = (str(CONF_DIR / "params" / "posterior.yaml") if spec["out"] is None
           else _in_cwd(spec["out"]))
    report = _in_cwd(spec["report"])
    db = _in_cwd(spec["db"] or os.path.join("replay", "posterior", "abc.db"))
    with _pool(spec) as pool:
        post = calibrate_abc(spec["params"], spec["free"], spec["cases"],
                             population=spec["population"], generations=spec["generations"],
                             quantile=spec["quantile"], db=Path(db), seed=spec["seed"],
                             workers=pool, estimates=spec["abc_estimates"],
                             screen_seeds=spec["screen_seeds"],
                             log=lambda msg: print(msg, file=sys.stderr, flush=True))
    command = "affiliate-calibrate " + " ".join(HydraConfig.get().overrides.task)
    summary = write_posterior(post, spec["params"], Path(out), Path(report), command,
                              spec["cases"])
    spent = sum(g["seconds"] or 0.0 for g in post.generations)
    print(f"affiliate-calibrate: ABC-SMC, {len(post.generations)} generations of "
          f"{spec['population']} ({spent:.0f} s of generations, {post.seconds:.0f} s in this "
          f"run); {len(summary['identified'])} of "
          f"{len(post.names)} parameters identified; wrote {out} and {report}")


def _pool(spec):
    """The workers of a command: local processes kept between its batches, or the Dask
    cluster it was pointed at (``cluster=tcp://HOST:PORT``)."""
    from affiliate_sim.experiments.runs import Pool, default_workers

    pool = Pool(spec["workers"] or default_workers(), cluster=spec.get("cluster"))
    if pool.cluster is not None:
        try:
            pool.cores  # noqa: B018 (connect now: a bad address is one line, not a traceback)
        except (OSError, TimeoutError) as err:
            print(f"{os.path.basename(sys.argv[0])}: error: override: cluster: cannot reach "
                  f"{pool.cluster} ({err.__class__.__name__})", file=sys.stderr)
            sys.exit(2)
    return pool


def _crossval(spec) -> None:
    from affiliate_sim.experiments.crossval import crossval

    out = _in_cwd(spec["out"] or os.path.join("replay", "crossval.json"))
    with _pool(spec) as pool:
        table = crossval(spec["params"], spec["free"], spec["cases"], seeds=spec["seeds"],
                         max_evaluations=spec["max_evaluations"],
                         replay_seeds=spec["replay_seeds"], workers=pool, out=out,
                         log=lambda msg: print(msg, file=sys.stderr, flush=True),
                         explore=spec["explore"], method=spec["method"],
                         popsize=spec["popsize"], sigma=spec["sigma"],
                         continued=spec["continued"])
    print(f"affiliate-calibrate: leave-one-case-out over {len(spec['cases'])} cases; median "
          f"share of informative observations met {table['median_share']:.2f}; wrote {out}")


def calibrate_main(argv: list[str] | None = None) -> None:
    """Entry point of ``affiliate-calibrate``: one parameter set for all nine cases."""
    _guarded("affiliate-calibrate", "calibrate", appconfig.validate_calibrate,
             _calibrate_main, argv)


@hydra.main(config_path=str(appconfig.CONF_DIR), config_name="sensitivity", version_base="1.3")
def _sensitivity_main(cfg: DictConfig) -> None:
    from affiliate_sim.experiments.sensitivity import sensitivity
    from affiliate_sim.scenario.params import parameter_table

    logging.getLogger("MESA").setLevel(logging.WARNING)
    spec = appconfig.validate_sensitivity(cfg)
    out = _in_cwd(spec["out"])
    with _pool(spec) as pool:
        res = sensitivity(spec["params"], parameter_table(), spec["cases"],
                          ranges=spec["ranges"], spread=spec["spread"], seeds=spec["seeds"],
                          trajectories=spec["trajectories"], levels=spec["levels"],
                          sobol_n=spec["sobol_n"], sobol_top=spec["sobol_top"],
                          method=spec["method"], workers=pool, out=out, seed=spec["seed"],
                          chunk=spec["chunk"],
                          log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(f"affiliate-sensitivity: {len(res['settings']['problem'])} parameters, "
          f"{len(spec['cases'])} cases, {res['seconds']:.0f} s; most influential: "
          f"{', '.join(res['ranking'][:5])}; wrote {os.path.join(out, 'sensitivity.parquet')}")


def sensitivity_main(argv: list[str] | None = None) -> None:
    """Entry point of ``affiliate-sensitivity``: Morris, then Sobol, over the parameters."""
    _guarded("affiliate-sensitivity", "sensitivity", appconfig.validate_sensitivity,
             _sensitivity_main, argv)


@hydra.main(config_path=str(appconfig.CONF_DIR), config_name="discover", version_base="1.3")
def _discover_main(cfg: DictConfig) -> None:
    from affiliate_sim.experiments.discovery import discover

    logging.getLogger("MESA").setLevel(logging.WARNING)
    spec = appconfig.validate_discover(cfg)
    out = _in_cwd(spec["out"])
    with _pool(spec) as pool:
        res = discover(spec["params"], spec["dims"], spec["n"], seed=spec["seed"],
                       survive_share=spec["survive_share"], min_density=spec["min_density"],
                       workers=pool, out=out, chunk=spec["chunk"],
                       log=lambda msg: print(msg, file=sys.stderr, flush=True))
    b = res["boxes"]["is_survives"]
    print(f"affiliate-discover: {spec['n']} runs, {res['seconds']:.0f} s; the IS camp "
          f"survives in {b['base_rate']:.0%} of runs; PRIM box: coverage {b['coverage']:.2f}, "
          f"density {b['density']:.2f}, restricting {', '.join(b['limits']) or 'nothing'}; "
          f"wrote {os.path.join(out, 'boxes.json')}")


def discover_main(argv: list[str] | None = None) -> None:
    """Entry point of ``affiliate-discover``: PRIM boxes of the IS affiliate's fate."""
    _guarded("affiliate-discover", "discover", appconfig.validate_discover, _discover_main,
             argv)


def aggregate_main(argv: list[str] | None = None) -> int:
    """``affiliate-aggregate SWEEP_DIR``: (re)build ``sweep.parquet``, ``sweep_long.parquet``
    and ``timeseries.parquet`` of a sweep folder."""
    from affiliate_sim.experiments.sweep import aggregate

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: affiliate-aggregate SWEEP_DIR", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not os.path.isdir(args[0]):
        print(f"affiliate-aggregate: error: {args[0]}: no such folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        table, long = aggregate(args[0])
    except OSError as exc:  # a full or read-only disk: the tables cannot be written
        print(f"affiliate-aggregate: error: {args[0]}: cannot write the sweep's tables: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED_JOBS
    counts = table["status"].value_counts().to_dict() if len(table) else {}
    print(f"affiliate-aggregate: {len(table)} jobs ({counts}); wrote "
          f"{os.path.join(args[0], 'sweep.parquet')}, sweep_long.parquet and "
          f"timeseries.parquet ({len(long)} rows)")
    failed = counts.get("failed", 0)
    if failed:
        print(f"affiliate-aggregate: {failed} of {len(table)} jobs failed (column error)",
              file=sys.stderr)
    return EXIT_FAILED_JOBS if failed else 0
