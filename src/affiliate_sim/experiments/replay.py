"""Replay of the nine historical cases against the article's observations.

Runs every case for K seeds with one parameter set, then each case again with each
mechanism switched off (fewer seeds), and writes:

* ``replay.json``: ``{case: {observation_id: {"share_met", "median", "target"}}}``;
* ``report.md``: per case, a figure of the simulated trajectories (median and 10-90% band
  per organization, the article's observations marked), a table of every observation (its
  target, the share of seeds that met it, the simulated median, the article's sentence) and
  which mechanisms' removal changes which outcome;
* ``<case>.png``: the figures.

Seeds 0..K-1 are used here; calibration uses other seeds (see
:mod:`affiliate_sim.calibrate`), so the replay is an out-of-sample check of the fit.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from affiliate_sim.experiments.output import atomic_write, write_json
from affiliate_sim.experiments.runs import CaseResult, RunSpec, default_workers, execute
from affiliate_sim.mechanisms import MECHANISMS
from affiliate_sim.scenario import CASES, load_scenario
from affiliate_sim.scenario.observations import Observation
from affiliate_sim.scenario.params import Params, without
from affiliate_sim.viz import plots

#: Change in the share of seeds meeting an observation that counts as "changes the outcome".
KNOCKOUT_CHANGE = 0.25


class Progress:
    """Prints done / total, elapsed and an estimate of the time left, every few seconds."""

    def __init__(self, label: str, every: float = 5.0, stream=None):
        import sys

        self.label = label
        self.every = every
        self.start = time.monotonic()
        self.last = -1e9
        self.stream = stream or sys.stderr

    def __call__(self, done: int, total: int, _result=None) -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.start
        left = elapsed / done * (total - done) if done else float("nan")
        print(f"{self.label}: {done}/{total} runs ({100 * done / total:.0f}%), "
              f"{elapsed:.0f} s elapsed, about {left:.0f} s left", file=self.stream,
              flush=True)


def summarize(results: list[CaseResult], observations: list[Observation]) -> dict[str, Any]:
    """Share of seeds meeting each observation, and the median measured value."""
    out = {}
    for obs in observations:
        vals = np.array([r.values[obs.id] for r in results], dtype=float)
        met = np.array([r.met[obs.id] for r in results], dtype=bool)
        finite = vals[np.isfinite(vals)]
        out[obs.id] = {
            "share_met": float(met.mean()) if len(met) else 0.0,
            "median": float(np.median(finite)) if len(finite) else None,
            "target": obs.target_text(),
        }
    return out


def run_cases(params: Params, cases: tuple[str, ...] = CASES, seeds: int = 20,
              workers: int | None = None, days: int | None = None,
              progress=None) -> dict[str, list[CaseResult]]:
    """Run every case for seeds ``0 .. seeds - 1``: ``{case: [result per seed]}``."""
    scenarios = {c: load_scenario(c) for c in cases}
    specs = [RunSpec.of(scenarios[c], params, s, days) for c in cases for s in range(seeds)]
    results = execute(specs, workers=workers or default_workers(), progress=progress)
    return {c: results[k * seeds:(k + 1) * seeds] for k, c in enumerate(cases)}


def observation_table(sc, summary: dict[str, Any]):
    """A case's observations as a table: target, share of seeds meeting it, simulated
    median, and the article's sentence (``summary`` from :func:`summarize`)."""
    import pandas as pd

    by_id = {o.id: o for o in sc.observations}
    return pd.DataFrame([{
        "observation": oid, "quantity": by_id[oid].quantity, "target": v["target"],
        "share met": v["share_met"], "simulated median": v["median"],
        "article": " ".join(by_id[oid].source.split())} for oid, v in summary.items()]
    ).set_index("observation")


def case_figure(sc, results: list[CaseResult], title: str | None = None):
    """Fighters per organization over a case's seeds (median and 10-90% band), with the
    article's fighter-count observations marked and camp changes in the legend.

    Args:
        sc: the case's :class:`~affiliate_sim.scenario.Scenario`.
        results: the case's runs (one per seed).
        title: figure title (default: the case title and the number of seeds).
    """
    series = np.stack([r.fighters for r in results])
    camps = [o.camp if o.camp == end else f"{o.camp} -> {end}"
             for o, end in zip(sc.organizations, results[0].camps, strict=True)]
    obs_marks = [{"org": o.org, "window": o.window, "label": o.id,
                  **({"at_least": o.at_least} if o.at_least is not None else {}),
                  **({"at_most": o.at_most} if o.at_most is not None else {})}
                 for o in sc.observations if o.quantity == "fighters"]
    return plots.trajectory_bands(series, results[0].names,
                                  title or f"{sc.title} ({len(results)} seeds)",
                                  obs_marks, sc.start_date, camps, log=True)


def replay(params: Params, out_dir: Path, seeds: int = 20, knockout_seeds: int = 20,
           workers: int | None = None, cases: tuple[str, ...] = CASES,
           days: int | None = None) -> dict[str, Any]:
    """Run the replay and write its report (see the module docstring)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or default_workers()
    scenarios = {c: load_scenario(c) for c in cases}
    mechs = [m for m in MECHANISMS if params.on(m)] if knockout_seeds > 0 else []
    specs = [RunSpec.of(scenarios[c], params, s, days) for c in cases for s in range(seeds)]
    ko_specs = [RunSpec.of(scenarios[c], without(params, m), s, days)
                for c in cases for m in mechs for s in range(knockout_seeds)]
    results = execute(specs + ko_specs, workers=workers, progress=Progress("replay"))
    base, ko = results[:len(specs)], results[len(specs):]

    table: dict[str, Any] = {}
    knock: dict[str, dict[str, dict[str, Any]]] = {}
    for c in cases:
        sc = scenarios[c]
        mine = [r for r in base if r.scenario == c]
        table[c] = summarize(mine, sc.observations)
        knock[c] = {}
        ref = summarize(mine[:knockout_seeds], sc.observations)
        for m in mechs:
            rs = [r for r, spec in zip(ko, ko_specs, strict=True)
                  if spec.scenario.name == c and not spec.params.on(m)]
            off = summarize(rs, sc.observations)
            changed = {oid: {"on": ref[oid]["share_met"], "off": off[oid]["share_met"]}
                       for oid in off
                       if abs(off[oid]["share_met"] - ref[oid]["share_met"]) >= KNOCKOUT_CHANGE}
            knock[c][m] = changed
        fig = case_figure(sc, mine)
        plots.save(fig, out_dir / f"{c}.png")

    plots.save(plots.observation_scores(table), out_dir / "observations.png")
    if mechs and knockout_seeds > 0:
        plots.save(plots.knockout_matrix(knock), out_dir / "knockouts.png")
    write_json(out_dir / "replay.json", table)
    write_json(out_dir / "knockouts.json", knock)
    report = render(table, knock, scenarios, params, seeds, knockout_seeds)
    atomic_write(out_dir / "report.md",
                  lambda tmp: Path(tmp).write_text(report, encoding="utf-8"))
    return table


def render(table, knock, scenarios, params: Params, seeds: int, ko_seeds: int) -> str:
    """The Markdown report."""
    lines = ["# Replay of the nine cases", "",
             f"Every case run for {seeds} seeds (0 to {seeds - 1}) with one parameter set; "
             f"mechanism knock-outs with {ko_seeds} seeds each. An observation is *met* in a "
             "seed when its measured value is within the article's target (with its "
             "tolerance). Figures: median (line) and 10-90% band (shade) of fighters per "
             "organization across seeds; red markers are the article's fighter-count "
             "observations (at the end of their window), shaded spans other observation "
             "windows.", ""]
    total = [v["share_met"] for c in table for v in table[c].values()]
    short = sum(1 for s in total if s < 0.8)
    lines += [f"**{len(total) - short} of {len(total)} observations met in at least 80% of "
              f"seeds.**", ""]
    lines += ["| case | observations | met in >= 80% of seeds |", "|---|---|---|"]
    for c, obs in table.items():
        good = sum(1 for v in obs.values() if v["share_met"] >= 0.8)
        lines.append(f"| {c} | {len(obs)} | {good} |")
    lines += ["", "![share of seeds meeting each observation](observations.png)", ""]
    if ko_seeds > 0 and any(knock.values()):
        lines += ["Knock-outs: how many observations of each case change (share of seeds "
                  f"meeting them moves by {KNOCKOUT_CHANGE} or more) when one mechanism is "
                  "switched off.", "", "![knock-outs](knockouts.png)", ""]
    for c, obs in table.items():
        sc = scenarios[c]
        lines += [f"## {sc.title}", "", f"`{c}`, day 0 = {sc.start_date}. "
                  + " ".join(sc.description.split()), "", f"![{c}]({c}.png)", "",
                  "| observation | target | share met | simulated median | article |",
                  "|---|---|---|---|---|"]
        by_id = {o.id: o for o in sc.observations}
        for oid, v in obs.items():
            med = "n/a" if v["median"] is None else f"{v['median']:.3g}"
            src = " ".join(by_id[oid].source.split()).replace("|", "/")
            flag = "" if v["share_met"] >= 0.8 else " **(short)**"
            lines.append(f"| `{oid}` ({by_id[oid].quantity}) | {v['target']} | "
                         f"{v['share_met']:.2f}{flag} | {med} | {src} |")
        lines += ["", "Mechanisms whose removal changes an outcome (share of seeds meeting "
                  f"it moves by {KNOCKOUT_CHANGE} or more):", ""]
        any_change = False
        for m, changed in knock[c].items():
            if changed:
                any_change = True
                desc = ", ".join(f"`{o}` {d['on']:.2f} -> {d['off']:.2f}"
                                 for o, d in changed.items())
                lines.append(f"- **{m}** off: {desc}")
        if not any_change:
            lines.append("- none")
        lines.append("")
    lines += ["## Parameters", "", "```", *(f"{k}: {v}" for k, v in params.to_dict().items()
                                             if k != "mechanisms"), "```", ""]
    return "\n".join(lines)


__all__ = ["CASES", "replay", "run_cases", "summarize"]
