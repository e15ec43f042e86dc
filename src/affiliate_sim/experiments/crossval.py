"""Leave-one-case-out cross-validation: calibrate on all cases but one, replay the one.

For each case in turn, the calibration (:func:`~affiliate_sim.experiments.calibrate.
calibrate`, same free parameters, bounds, seeds and budget) is run on the other cases
only, from the same starting point; the held-out case is then replayed with the resulting
parameter set on the replay's seeds (0 .. K-1, disjoint from the calibration's), beside the
null model (all ten mechanisms off, same seeds). The score of the held-out case is the
share of its *informative* observations (the null model meets them in fewer than half of
the seeds) that are met in at least 80% of the seeds: a measure of how well what was
learnt on the other cases carries to this one.

``crossval.json``: ``{"cases": {case: {"informative", "met", "share", "observations":
{id: {"share_met", "null_share_met", "informative"}}, "loss_train", "evaluations",
"changed": {parameter: value}}}, "median_share", "settings": {...}, "start": {...}}``.

A killed cross-validation started again with the same settings and start keeps the folds
already in ``crossval.json`` and resumes the fold it was in from that fold's calibration
checkpoint (``crossval.json.<case>.checkpoint.json``, removed once the fold is written).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from affiliate_sim.experiments.calibrate import calibrate
from affiliate_sim.experiments.output import write_json
from affiliate_sim.experiments.replay import MET, UNINFORMATIVE, summarize
from affiliate_sim.experiments.runs import RunSpec, execute
from affiliate_sim.mechanisms import MECHANISMS
from affiliate_sim.scenario import load_scenario
from affiliate_sim.scenario.params import Params, without


def held_out_score(params: Params, case: str, seeds: int, workers: int) -> dict[str, Any]:
    """Replay one case with a parameter set and with the null model: the share of its
    informative observations met in at least ``MET`` of the seeds."""
    sc = load_scenario(case)
    nullp = without(params, *MECHANISMS)
    specs = ([RunSpec.of(sc, params, s) for s in range(seeds)]
             + [RunSpec.of(sc, nullp, s) for s in range(seeds)])
    results = execute(specs, workers=workers)
    on = summarize(results[:seeds], sc.observations)
    off = summarize(results[seeds:], sc.observations)
    obs = {oid: {"share_met": v["share_met"], "null_share_met": off[oid]["share_met"],
                 "informative": off[oid]["share_met"] < UNINFORMATIVE}
           for oid, v in on.items()}
    inf = [v for v in obs.values() if v["informative"]]
    met = sum(v["share_met"] >= MET for v in inf)
    return {"informative": len(inf), "met": met,
            "share": met / len(inf) if inf else float("nan"), "observations": obs}


def crossval(start: Params, free: dict[str, tuple[float, float]], cases: tuple[str, ...],
             seeds: int = 4, max_evaluations: int = 60, replay_seeds: int = 20,
             workers: int = 1, out: Path | None = None, log=print,
             explore: int = 0, method: str = "optimize",
             popsize: int | None = None, sigma: float = 0.2,
             continued: bool = True) -> dict[str, Any]:
    """Leave each case out in turn (see the module docstring); writes ``out`` (JSON)
    after every case, so a stopped run keeps what it finished."""
    table: dict[str, Any] = {"cases": {}, "median_share": None, "settings": {
        "free": {k: list(v) for k, v in free.items()}, "seeds": seeds,
        "max_evaluations": max_evaluations, "replay_seeds": replay_seeds,
        "explore": explore, "method": method, "popsize": popsize, "sigma": sigma,
        "continued": continued, "cases": list(cases), "met": MET, "uninformative": UNINFORMATIVE}}
    defaults = start.to_dict()
    table["start"] = defaults
    t0 = time.monotonic()
    done = _finished(out, table["settings"], defaults)
    for held in cases:
        if held in done:  # a killed run of the same settings finished this fold
            table["cases"][held] = done[held]
            table["median_share"] = _median(table)
            log(f"crossval: {held} left out: on record in {out}")
            continue
        train = tuple(c for c in cases if c != held)
        ck = None if out is None else Path(out).with_name(
            f"{Path(out).name}.{held}.checkpoint.json")
        cal = calibrate(start, free, train, seeds=seeds, max_evaluations=max_evaluations,
                        workers=workers, log=lambda msg: None, explore=explore,
                        method=method, popsize=popsize, sigma=sigma, continued=continued,
                        checkpoint=ck)
        score = held_out_score(cal.params, held, replay_seeds, workers)
        fitted = cal.params.to_dict()
        score.update(loss_train=cal.loss_best, evaluations=cal.evaluations,
                     changed={k: v for k, v in fitted.items()
                              if k in free and v != defaults.get(k)})
        table["cases"][held] = score
        table["median_share"] = _median(table)
        if out is not None:
            write_json(Path(out), table)
            ck.unlink(missing_ok=True)  # the fold is on record: nothing to resume
        log(f"crossval: {held} left out: {score['met']} of {score['informative']} "
            f"informative observations met ({score['share']:.2f}); "
            f"{time.monotonic() - t0:.0f} s elapsed")
    return table


def _median(table: dict[str, Any]) -> float | None:
    """The median share over the folds on record (NaN shares left out)."""
    shares = [v["share"] for v in table["cases"].values() if v["share"] == v["share"]]
    return float(np.median(shares)) if shares else None


def _finished(out: Path | None, settings: dict[str, Any],
              start: dict[str, Any]) -> dict[str, Any]:
    """The folds a previous run with the same settings and start wrote to ``out``."""
    import json

    from affiliate_sim.experiments.output import read_json_if_any

    old = read_json_if_any(out)
    if not isinstance(old, dict):
        return {}
    same = (json.loads(json.dumps(settings)) == old.get("settings")
            and json.loads(json.dumps(start)) == old.get("start"))
    return dict(old.get("cases", {})) if same else {}


__all__ = ["crossval", "held_out_score"]
