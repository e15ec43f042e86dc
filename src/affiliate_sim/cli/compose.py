"""Configs and runs for notebooks, through Hydra's compose API.

The command line composes ``conf/`` with ``@hydra.main``; notebooks and scripts compose the
same configs, with the same overrides and the same validation, here::

    from affiliate_sim import compose
    model = compose.run("scenario=derna_2014", "params=calibrated", "seed=3")
    table = compose.lever_sweep(["derna_2014", "sinai_2015"], ["none", "state_vigilance_high"],
                                seeds=range(5))

A bad override raises :class:`~affiliate_sim.errors.InputError` naming the key and the
problem, as on the command line. :func:`lever_sweep` returns a table with the columns of a
sweep's ``sweep.parquet`` (see :mod:`affiliate_sim.experiments.sweep`), so the same plots and
:mod:`affiliate_sim.compare` functions read both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from affiliate_sim.cli import config as appconfig
from affiliate_sim.experiments import tables
from affiliate_sim.experiments.runs import (
    RunSpec,
    default_workers,
    execute,
    finished_run,
)
from affiliate_sim.scenario.params import Params


def config(*overrides: str, config_name: str = appconfig.PRIMARY,
           return_hydra_config: bool = False):
    """The composed config (an OmegaConf ``DictConfig``) of ``affiliate-sim OVERRIDES``
    (of another primary config with ``config_name``; with Hydra's own node if asked).

    Raises:
        InputError: one line naming the key and the problem.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from affiliate_sim.cli.errors import describe
    from affiliate_sim.errors import InputError

    appconfig.register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(appconfig.CONF_DIR), version_base="1.3"):
            return hydra_compose(config_name=config_name, overrides=list(overrides),
                                 return_hydra_config=return_hydra_config)
    except Exception as err:  # noqa: BLE001  (every composition error becomes one line)
        key, problem = describe(err, list(overrides))
        raise InputError("override", key, problem) from None
    finally:
        GlobalHydra.instance().clear()


def spec(*overrides: str) -> RunSpec:
    """The validated run (scenario, parameters, seed, days) of ``affiliate-sim OVERRIDES``."""
    return appconfig.validate(config(*overrides))


def params(*overrides: str) -> Params:
    """The validated parameter set (with lever and mechanism switches) of the overrides."""
    return spec(*overrides).params


def run(*overrides: str):
    """Run ``affiliate-sim OVERRIDES``; return the finished :class:`~affiliate_sim.model.Run`.

    Its ``history`` holds every daily series, flows by partner and weekly grid snapshots;
    ``events`` the event log; ``case`` the scenario.
    """
    return execute([spec(*overrides)], collect=finished_run, snapshots=True)[0]


def sensitivity(*overrides: str, out=None, log=lambda msg: None) -> dict[str, Any]:
    """Run ``affiliate-sensitivity OVERRIDES`` (Morris, then Sobol); return its result:
    ``table`` (the tidy table of ``sensitivity.parquet``), ``ranking``, ``settings``.
    Writes files only when ``out`` is given (the command's ``out`` is ignored here)."""
    from affiliate_sim.experiments.sensitivity import sensitivity as analyse
    from affiliate_sim.scenario.params import parameter_table

    s = appconfig.validate_sensitivity(config(*overrides, config_name="sensitivity"))
    return analyse(s["params"], parameter_table(), s["cases"], ranges=s["ranges"],
                   spread=s["spread"], seeds=s["seeds"], trajectories=s["trajectories"],
                   levels=s["levels"], sobol_n=s["sobol_n"], sobol_top=s["sobol_top"],
                   method=s["method"], workers=s["workers"] or default_workers(), out=out,
                   seed=s["seed"], chunk=s["chunk"], log=log)


def discover(*overrides: str, out=None, log=lambda msg: None) -> dict[str, Any]:
    """Run ``affiliate-discover OVERRIDES`` (Latin hypercube, runs, PRIM); return its
    result: ``table`` (one row per run, as ``discovery.parquet``), ``boxes``,
    ``tradeoff``. Writes files only when ``out`` is given."""
    from affiliate_sim.experiments.discovery import discover as find

    s = appconfig.validate_discover(config(*overrides, config_name="discover"))
    return find(s["params"], s["dims"], s["n"], seed=s["seed"],
                survive_share=s["survive_share"], min_density=s["min_density"],
                workers=s["workers"] or default_workers(), out=out, chunk=s["chunk"],
                log=log)


def _summary_row(run) -> dict[str, Any]:
    """A finished run as a row of a sweep table (module level: it runs in workers)."""
    from affiliate_sim.experiments.output import summary
    from affiliate_sim.experiments.sweep import summary_columns

    s = summary(run)
    return {"scenario": s["scenario"], "seed": run.seed, "status": "done", "error": None,
            **summary_columns(s)}


def lever_sweep(cases: Sequence[str], levers: Sequence[str], seeds: Iterable[int],
                params: str = "calibrated", overrides: Sequence[str] = (),
                workers: int | None = None, days: int | None = None) -> pd.DataFrame:
    """Every case under every lever for every seed, as ensembles: one row per run.

    The configs are composed exactly as ``affiliate-sim scenario=C lever=L params=P seed=S``
    (the ``policy_levers`` sweep preset), so a row here equals that job's row in
    ``sweep.parquet``.

    Args:
        cases: scenario names.
        levers: options of the ``lever`` config group (``conf/lever/``).
        seeds: seeds (the same for every case and lever: common random numbers).
        params: option of the ``params`` group.
        overrides: further overrides for every run (e.g. ``"mechanisms.purge=false"``).
        workers: processes (default: one per core).
        days: shorten every run (for quick looks; observations may then not be measurable).
    """
    seeds = list(seeds)
    grid = [(c, lv) for c in cases for lv in levers]
    sets = {(c, lv): spec(f"scenario={c}", f"lever={lv}", f"params={params}", *overrides)
            for c, lv in grid}
    scenarios = {c: sets[c, levers[0]].scenario for c in cases} if levers else {}
    specs = [RunSpec.of(scenarios[c], sets[c, lv].params, s, days)
             for c, lv in grid for s in seeds]
    rows = execute(specs, workers=workers or default_workers(), collect=_summary_row)
    labels = [(c, lv) for c, lv in grid for _ in seeds]
    table = pd.DataFrame(rows)
    table.insert(1, "lever", [lv for _, lv in labels])
    table.insert(0, "job", [f"lever={lv},scenario={c},seed={s}"
                            for (c, lv), s in zip(labels, table["seed"], strict=True)])
    return tables.typed("sweep.parquet", table)  # the dtypes of the command line's table
