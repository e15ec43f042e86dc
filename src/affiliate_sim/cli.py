"""The ``affiliate-sim`` command: one Hydra app, named after its primary config.

    affiliate-sim scenario=NAME seed=N [params.KEY=VALUE ...] [mechanisms.NAME=false]
                  [days=N] [hydra.run.dir=DIR]

writes ``DIR/summary.json``, ``DIR/timeseries.parquet``, ``DIR/flows.parquet`` (partner
flows) and ``DIR/events.json``. Before anything runs, the overrides are composed and
validated; a bad one (unknown key, wrong type, out of range, unknown scenario) stops the
command with one line naming the key and the problem, exit status 2, no traceback.
"""

from __future__ import annotations

import os
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from affiliate_sim import config as appconfig
from affiliate_sim.errors import InputError

EXIT_BAD_INPUT = 2


def _hydra_overrides(args: list[str]) -> tuple[list[str], bool]:
    """The config overrides among the command-line arguments, and whether it is a multirun."""
    multirun = any(a in ("-m", "--multirun") for a in args)
    overrides = [a for a in args if not a.startswith("-") and "=" in a
                 and not a.lstrip("+~").startswith("hydra.")
                 and not a.lstrip("+~").startswith("hydra/")]
    return overrides, multirun


def _one_line(err: BaseException) -> str:
    """Hydra's and OmegaConf's multi-line errors as one line naming the key."""
    text = " ".join(str(err).split())
    key = getattr(err, "full_key", None)
    if key:
        first = str(err).strip().splitlines()[0]
        return f"override: {key}: {' '.join(first.split())}"
    text = text.replace("Set the environment variable HYDRA_FULL_ERROR=1 for a complete "
                        "stack trace.", "").strip()
    return f"override: {text}"


def check_overrides(overrides: list[str]) -> appconfig.RunSpec:
    """Compose the config with ``overrides`` and validate it.

    Raises:
        InputError: with one line naming the key and the problem.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf.errors import OmegaConfBaseException

    appconfig.register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(appconfig.CONF_DIR), version_base="1.3"):
            cfg = compose(config_name=appconfig.PRIMARY, overrides=overrides)
    except OmegaConfBaseException as err:
        raise InputError("override", getattr(err, "full_key", "") or "config",
                         str(err).strip().splitlines()[0]) from None
    except Exception as err:  # hydra's MissingConfigException, OverrideParseException, ...
        raise InputError("override", _override_key(err, overrides), _first_lines(err)) from None
    finally:
        GlobalHydra.instance().clear()
    return appconfig.validate(cfg)


def _override_key(err: BaseException, overrides: list[str]) -> str:
    text = str(err)
    for o in overrides:
        key = o.split("=", 1)[0].lstrip("+~")
        if f"'{key}" in text or f"'{o}'" in text or f"{key}/" in text:
            return key
    return "config"


def _first_lines(err: BaseException) -> str:
    lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("Set the environment variable")]
    return " ".join(lines[:2]) if lines else type(err).__name__


def run_job(cfg: DictConfig) -> dict:
    """Run one job from a composed config; write its outputs to Hydra's output dir."""
    from affiliate_sim.model import AffiliateModel
    from affiliate_sim.output import write_run

    spec = appconfig.validate(cfg)
    out_dir = HydraConfig.get().runtime.output_dir
    model = AffiliateModel(spec.scenario, spec.params, rng=spec.seed, days=spec.days)
    model.run()
    summ = write_run(model, out_dir, seed=spec.seed)
    print(f"affiliate-sim: {spec.scenario.name} seed={spec.seed} days={spec.days}: "
          f"wrote {os.path.join(out_dir, 'summary.json')}")
    return summ


appconfig.register()


@hydra.main(config_path=str(appconfig.CONF_DIR), config_name=appconfig.PRIMARY,
            version_base="1.3")
def _hydra_main(cfg: DictConfig) -> None:
    run_job(cfg)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``affiliate-sim``."""
    args = list(sys.argv[1:] if argv is None else argv)
    overrides, multirun = _hydra_overrides(args)
    if not multirun and not any(a in ("--help", "-h", "--hydra-help", "--info", "-i",
                                      "--cfg", "-c", "--shell-completion", "-sc")
                                for a in args):
        try:
            check_overrides(overrides)
        except InputError as err:
            print(f"affiliate-sim: error: {err}", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)
    sys.argv = [sys.argv[0], *args]
    _hydra_main()


if __name__ == "__main__":
    main()
