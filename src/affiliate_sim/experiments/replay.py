"""Replay of the nine historical cases against the article's observations.

Runs every case for K seeds with one parameter set; again with all ten mechanisms switched
off (the *null model*, same seeds); and again with each mechanism switched off in turn
(the knock-outs, the first seeds: common random numbers). Writes:

* ``replay.json``: ``{case: {observation_id: {"share_met", "interval", "median", "target",
  "null_share_met", "informative"}}}``: the share of seeds meeting the observation and its
  95% Wilson interval, the simulated median, the target, the share of seeds the null model
  meets it in, and whether it is *informative* (the null model meets it in fewer than
  half of the seeds, :data:`UNINFORMATIVE`); the headline counts informative observations
  only;
* ``knockouts.json``: per case and mechanism, the observations whose share met moves when
  the mechanism is off, with both Wilson intervals; an effect is *separated* when the two
  intervals do not overlap (the report marks only those);
* ``report.md``: per case, a figure of the simulated trajectories (median and 10-90% band
  per organization, the article's observations marked), a table of every observation (its
  target, the share of seeds that met it, the simulated median, the article's sentence) and
  which mechanisms' removal changes which outcome;
* ``<case>.png``: the figures;
* ``continuation.json``: each case continued for four years (the first
  ``continuation_seeds`` seeds; four years whatever ``days``): every organization's median
  strength at the start and at the end of each year, and for each *bystander* (an
  established group or a state no observation follows,
  :mod:`affiliate_sim.experiments.continuation`) the median ratio of its end to its start
  strength and the share of seeds within the plausible band; a section of the report.
  Outside the headline, which counts the article's observations only.

While it runs, finished ensembles are kept in ``OUT/.replay.checkpoint`` (removed once the
files are written): a killed replay made again with the same settings runs only what it
had not finished, to the same files.

Seeds 0..K-1 are used here; calibration uses other seeds (see
:mod:`affiliate_sim.calibrate`), so the replay is an out-of-sample check of the fit.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from affiliate_sim import provenance
from affiliate_sim.experiments import continuation
from affiliate_sim.experiments.output import atomic_write, write_json
from affiliate_sim.experiments.runs import CaseResult, RunSpec, default_workers, execute
from affiliate_sim.mechanisms import MECHANISMS
from affiliate_sim.scenario import CASES, load_scenario
from affiliate_sim.scenario.observations import Observation
from affiliate_sim.scenario.params import Params, without
from affiliate_sim.viz import plots
from affiliate_sim.vocabulary import IS_CORE, KINDS

#: Change in the share of seeds meeting an observation that counts as "changes the outcome".
KNOCKOUT_CHANGE = 0.25
#: An observation the null model meets in at least this share of seeds is uninformative.
UNINFORMATIVE = 0.5
#: Share of seeds an observation must be met in to count as met in the headline.
MET = 0.8
#: Normal quantile of the Wilson intervals (95%).
Z95 = 1.959963984540054
#: Folder of the replay's finished ensembles, inside its output folder, while it runs.
CHECKPOINT = ".replay.checkpoint"


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n`` (Wilson 1927)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    d = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    lo = 0.0 if k <= 0 else max(0.0, centre - half)
    hi = 1.0 if k >= n else min(1.0, centre + half)
    return float(lo), float(hi)


def separated(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two intervals do not overlap."""
    return a[1] < b[0] or b[1] < a[0]


def headline(table: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Counts over a replay table: observations, informative ones, those met in at least
    :data:`MET` of seeds (all, and informative only), and those whose 90% predictive
    interval reaches the target (``covered``, all observations)."""
    obs = [v for c in table.values() for v in c.values()]
    inf = [v for v in obs if v.get("informative", True)]
    return {"observations": len(obs), "informative": len(inf),
            "met": sum(v["share_met"] >= MET for v in obs),
            "informative_met": sum(v["share_met"] >= MET for v in inf),
            "covered": sum(bool(v.get("covers")) for v in obs)}


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


#: The predictive interval's probability (posterior predictive check).
PREDICTIVE = 0.9


def summarize(results: list[CaseResult], observations: list[Observation]) -> dict[str, Any]:
    """Per observation: the share of seeds meeting it (and its Wilson interval), the
    median measured value, the 90% predictive interval of the measured value (its 5th and
    95th percentiles over the seeds where it could be measured; ``unmeasured``: the share
    where it could not, e.g. an anchor event that never came), the standardized gaps to
    the target (widened by its tolerance, in error scales, :meth:`~affiliate_sim.
    experiments.abcsmc.Target.signed_gap`; an unmeasured seed counts as far outside) at
    the 5th, 50th and 95th percentiles over all seeds, and whether that 90% interval of
    gaps reaches the target (``covers``)."""
    from affiliate_sim.experiments.abcsmc import GAP_CAP, Target, error_scale

    out = {}
    q = [(1 - PREDICTIVE) / 2, 0.5, (1 + PREDICTIVE) / 2]
    for obs in observations:
        vals = np.array([r.values[obs.id] for r in results], dtype=float)
        met = np.array([r.met[obs.id] for r in results], dtype=bool)
        finite = vals[np.isfinite(vals)]
        # gaps to the target as "met" reads it (widened by the tolerance), in error scales;
        # a seed where the value could not be measured (nan) counts as far outside
        wide = Target("", None if obs.at_least is None else obs.at_least - obs.tolerance,
                      None if obs.at_most is None else obs.at_most + obs.tolerance,
                      error_scale(obs))
        gaps = np.array([GAP_CAP if x != x else wide.signed_gap(x) for x in vals])
        gq = np.quantile(gaps, q) if len(gaps) else [np.nan] * 3
        out[obs.id] = {
            "share_met": float(met.mean()) if len(met) else 0.0,
            "interval": wilson(float(met.sum()), len(met)),
            "median": float(np.median(finite)) if len(finite) else None,
            "target": obs.target_text(),
            "predictive": ([float(x) for x in np.quantile(finite, [q[0], q[2]])]
                           if len(finite) else None),
            "unmeasured": float(1.0 - len(finite) / len(vals)) if len(vals) else 0.0,
            "covers": bool(len(gaps) and gq[0] <= 0.0 <= gq[2]),
            "gap_q05": float(gq[0]), "gap_median": float(gq[1]), "gap_q95": float(gq[2]),
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


#: Observation quantities drawn as event markers in the case figures (the event kind is
#: the observation's ``event``, or the key here).
EVENT_QUANTITIES = {"event_count": "", "event_total": "", "first_event_day": "",
                    "leaders_killed": "leaders_killed"}


def event_day(o: Observation, results: list[CaseResult]) -> float | None:
    """The model's median day of an event observation over the seeds where the event came
    within the window (a ``first_event_day`` observation measures it), or None: other
    quantities do not record the day, an anchored window's "never came" is not told
    apart from a day, and an event that came in fewer than half of the seeds has no
    median day."""
    if o.quantity != "first_event_day" or o.anchor:  # anchored: "none" reads as a day
        return None
    vals = np.array([r.values[o.id] for r in results], dtype=float)
    last = min(o.window[1], results[0].fighters.shape[0] - 1)  # a short run clips it
    came = vals[np.isfinite(vals) & (vals <= last)]
    return float(np.median(came)) if len(came) * 2 >= len(vals) and len(came) else None


def observation_marks(sc, results: list[CaseResult]) -> list[dict]:
    """The case's observations as :func:`~affiliate_sim.viz.plots.trajectory_bands` marks:
    fighter-count targets, event observations (kind, window, the model's median day if
    known) and the windows of the others."""
    marks = []
    for o in sc.observations:
        m: dict[str, Any] = {"org": o.org, "window": o.window, "label": o.id}
        if o.quantity == "fighters":
            m.update({k: v for k, v in (("at_least", o.at_least), ("at_most", o.at_most))
                      if v is not None})
        elif o.quantity in EVENT_QUANTITIES:
            m.update(event=EVENT_QUANTITIES[o.quantity] or o.event, anchor=o.anchor,
                     day=event_day(o, results))
        marks.append(m)
    return marks


def case_figure(sc, results: list[CaseResult], title: str | None = None):
    """Fighters per organization over a case's seeds (median and 10-90% band) on a date
    axis, with the article's observations marked (fighter counts, event observations with
    the model's day, other windows) and camp changes in the legend.

    Args:
        sc: the case's :class:`~affiliate_sim.scenario.Scenario`.
        results: the case's runs (one per seed).
        title: figure title (default: the case title and the number of seeds).
    """
    series = np.stack([r.fighters for r in results])
    camps = [o.camp if o.camp == end else f"{o.camp} -> {end}"
             for o, end in zip(sc.organizations, results[0].camps, strict=True)]
    return plots.trajectory_bands(series, results[0].names,
                                  title or f"{sc.title} ({len(results)} seeds)",
                                  observation_marks(sc, results), sc.start_date, camps,
                                  log=True)


def replay(params: Params, out_dir: Path, seeds: int = 50, knockout_seeds: int = 50,
           workers: int | None = None, cases: tuple[str, ...] = CASES,
           days: int | None = None, null: bool = True,
           continuation_seeds: int = 10, posterior=None,
           params_name: str | None = None) -> dict[str, Any]:
    """Run the replay and write its report (see the module docstring). With a
    ``posterior`` (:class:`~affiliate_sim.experiments.abcsmc.PosteriorTable`), each seed
    runs its own parameter set drawn from it (the same set for the seed's null model,
    knock-outs and continuation): a posterior predictive replay. ``provenance.json``
    records the version, commit, parameter set (``params_name`` and a digest) and the
    scenario files."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or default_workers()
    knockout_seeds = min(knockout_seeds, seeds)
    scenarios = {c: load_scenario(c) for c in cases}
    mechs = [m for m in MECHANISMS if params.on(m)] if knockout_seeds > 0 else []
    per_seed = (posterior.draw(range(max(seeds, continuation_seeds))) if posterior is not None
                else [params] * max(seeds, continuation_seeds))
    specs = [RunSpec.of(scenarios[c], per_seed[s], s, days) for c in cases
             for s in range(seeds)]
    null_specs = ([RunSpec.of(scenarios[c], without(per_seed[s], *MECHANISMS), s, days)
                   for c in cases for s in range(seeds)] if null else [])
    ko_specs = [RunSpec.of(scenarios[c], without(per_seed[s], m), s, days)
                for c in cases for m in mechs for s in range(knockout_seeds)]
    cont_specs = [RunSpec.of(scenarios[c], per_seed[s], s, continuation.DAYS) for c in cases
                  for s in range(continuation_seeds)]
    checkpoint = out_dir / CHECKPOINT  # a killed replay made again resumes from it
    results = execute(specs + null_specs + ko_specs + cont_specs, workers=workers,
                      progress=Progress("replay"), checkpoint=checkpoint)
    base = results[:len(specs)]
    nulls = results[len(specs):len(specs) + len(null_specs)]
    ko = results[len(specs) + len(null_specs):len(results) - len(cont_specs)]
    continued = results[len(results) - len(cont_specs):]

    table: dict[str, Any] = {}
    knock: dict[str, dict[str, dict[str, Any]]] = {}
    for c in cases:
        sc = scenarios[c]
        mine = [r for r in base if r.scenario == c]
        table[c] = summarize(mine, sc.observations)
        if null:
            off_all = summarize([r for r in nulls if r.scenario == c], sc.observations)
            for oid, v in table[c].items():
                v["null_share_met"] = off_all[oid]["share_met"]
                v["informative"] = off_all[oid]["share_met"] < UNINFORMATIVE
        knock[c] = {}
        ref = summarize(mine[:knockout_seeds], sc.observations)
        for m in mechs:
            rs = [r for r, spec in zip(ko, ko_specs, strict=True)
                  if spec.scenario.name == c and not spec.params.on(m)]
            off = summarize(rs, sc.observations)
            knock[c][m] = {
                oid: {"on": ref[oid]["share_met"], "off": off[oid]["share_met"],
                      "on_interval": ref[oid]["interval"],
                      "off_interval": off[oid]["interval"],
                      "separated": separated(ref[oid]["interval"], off[oid]["interval"])}
                for oid in off
                if abs(off[oid]["share_met"] - ref[oid]["share_met"]) >= KNOCKOUT_CHANGE
                or separated(ref[oid]["interval"], off[oid]["interval"])}
        fig = case_figure(sc, mine)
        plots.save(fig, out_dir / f"{c}.png")

    plots.save(plots.observation_scores(table), out_dir / "observations.png")
    plots.save(plots.predictive_bands([{"case": c, "observation": o, **v}
                                       for c, obs in table.items() for o, v in obs.items()]),
               out_dir / "predictive.png")
    if mechs and knockout_seeds > 0:
        sep = {c: {m: {o: d for o, d in ch.items() if d["separated"]} for m, ch in v.items()}
               for c, v in knock.items()}
        plots.save(plots.knockout_matrix(sep), out_dir / "knockouts.png")
    write_json(out_dir / "replay.json", table)
    write_json(out_dir / "knockouts.json", knock)
    cont = ({c: continued_summary([r for r in continued if r.scenario == c], scenarios[c])
             for c in cases} if continuation_seeds > 0 else {})
    if cont:
        write_json(out_dir / "continuation.json", cont)
    prov = provenance.record(params, params_name, scenarios.values())
    prov["replay"] = {"seeds": seeds, "knockout_seeds": knockout_seeds, "days": days,
                      "continuation_seeds": continuation_seeds,
                      "posterior": str(posterior.path) if posterior is not None else None}
    write_json(out_dir / "provenance.json", prov)
    report = render(table, knock, scenarios, params, seeds, knockout_seeds, cont,
                    posterior=posterior, prov=prov)
    atomic_write(out_dir / "report.md",
                  lambda tmp: Path(tmp).write_text(report, encoding="utf-8"))
    shutil.rmtree(checkpoint, ignore_errors=True)  # written: nothing to resume
    return table


def continued_summary(results: list[CaseResult], sc) -> dict[str, Any]:
    """A case's four-year continuations: every organization's median strength at the start
    and at the end of each year (``"strength"``), and the bystanders' band
    (:func:`affiliate_sim.experiments.continuation.summarize`)."""
    series = np.stack([r.fighters for r in results])  # (seeds, days + 1, O)
    days = [min(y * 365, series.shape[1] - 1) for y in range(continuation.YEARS + 1)]
    strength = {name: [float(np.median(series[:, d, v])) for d in days]
                for v, name in enumerate(results[0].names)
                if sc.organizations[v].kind != KINDS[IS_CORE]}
    return {"seeds": len(results), "years": continuation.YEARS, "strength": strength,
            "bystanders": continuation.summarize(results, sc)}


def render(table, knock, scenarios, params: Params, seeds: int, ko_seeds: int,
           cont: dict[str, Any] | None = None, posterior=None,
           prov: dict[str, Any] | None = None) -> str:
    """The Markdown report (``prov``: its provenance, :mod:`affiliate_sim.provenance`)."""
    title = ("the nine cases" if tuple(table) == tuple(CASES)
             else ", ".join(f"`{c}`" for c in table))
    which = ("a parameter set drawn for each seed from the posterior in "
             f"`{posterior.path.name}` ({len(posterior.weights)} weighted particles; the "
             "seed's null model, knock-outs and continuation use the same draw)"
             if posterior is not None else "one parameter set")
    lines = [f"# Replay of {title}", "",
             f"Every case run for {seeds} seeds (0 to {seeds - 1}) with {which}; "
             "the null model (all ten mechanisms off) with the same seeds; mechanism "
             f"knock-outs with the first {ko_seeds} seeds (common random numbers). An "
             "observation is *met* in a seed when its measured value is within the "
             "article's target (with its tolerance); it is *informative* when the null "
             f"model meets it in fewer than {UNINFORMATIVE:.0%} of seeds. Intervals are 95% "
             "Wilson intervals of the share of seeds. Figures: median (line) and 10-90% "
             "band (shade) of fighters per organization across seeds, against dates; red "
             "markers are the article's fighter-count observations (at the end of their "
             "window), bars in the top strip its event observations (the marker: the "
             "model's median day), shaded spans other observation windows.", ""]
    h = headline(table)
    lines += [f"**{h['informative_met']} of {h['informative']} informative observations met "
              f"in at least {MET:.0%} of seeds** ({h['met']} of {h['observations']} "
              f"observations counting the {h['observations'] - h['informative']} the null "
              "model meets too).", "",
              f"Predictive check: for {h['covered']} of {h['observations']} observations "
              f"the {PREDICTIVE:.0%} predictive interval of the measured value (5th to 95th "
              "percentile over the seeds) reaches the article's target (with its "
              "tolerance).", "", "![predictive intervals](predictive.png)", ""]
    lines += [f"| case | observations | informative | informative met in >= {MET:.0%} |",
              "|---|---|---|---|"]
    for c, obs in table.items():
        inf = [v for v in obs.values() if v.get("informative", True)]
        good = sum(1 for v in inf if v["share_met"] >= MET)
        lines.append(f"| {c} | {len(obs)} | {len(inf)} | {good} |")
    lines += ["", "![share of seeds meeting each observation](observations.png)", ""]
    if ko_seeds > 0 and any(knock.values()):
        lines += ["Knock-outs: observations whose share met changes, with separated 95% "
                  "intervals, when one mechanism is switched off, and which way (met less "
                  "or more often without it), each change with its 95% interval.", "",
                  "![knock-outs](knockouts.png)", ""]
    for c, obs in table.items():
        sc = scenarios[c]
        lines += [f"## {sc.title}", "", f"`{c}`, day 0 = {sc.start_date}. "
                  + " ".join(sc.description.split()), "", f"![{c}]({c}.png)", "",
                  "| observation | target | share met (95% interval) | null model | "
                  f"simulated median | {PREDICTIVE:.0%} predictive | article |",
                  "|---|---|---|---|---|---|---|"]
        by_id = {o.id: o for o in sc.observations}
        for oid, v in obs.items():
            med = "n/a" if v["median"] is None else f"{v['median']:.3g}"
            src = " ".join(by_id[oid].source.split()).replace("|", "/")
            flag = "" if v["share_met"] >= MET else " **(short)**"
            lo, hi = v["interval"]
            null = v.get("null_share_met")
            ntext = "n/a" if null is None else (
                f"{null:.2f}" + ("" if v["informative"] else " (uninformative)"))
            pred = v.get("predictive")
            ptext = "n/a" if not pred else f"{pred[0]:.3g} to {pred[1]:.3g}"
            if v.get("unmeasured"):
                ptext += f", {v['unmeasured']:.0%} unmeasured"
            ptext += "" if v.get("covers") else " (misses)"
            lines.append(f"| `{oid}` ({by_id[oid].quantity}) | {v['target']} | "
                         f"{v['share_met']:.2f} ({lo:.2f}-{hi:.2f}){flag} | {ntext} | {med} "
                         f"| {ptext} | {src} |")
        lines += ["", "Mechanisms whose removal changes an outcome (95% intervals of the "
                  "share met with and without it do not overlap):", ""]
        any_change = False
        for m, changed in knock[c].items():
            sep = {o: d for o, d in changed.items() if d.get("separated")}
            if sep:
                any_change = True
                desc = ", ".join(f"`{o}` {d['on']:.2f} -> {d['off']:.2f}"
                                 for o, d in sep.items())
                lines.append(f"- **{m}** off: {desc}")
        if not any_change:
            lines.append("- none")
        lines.append("")
    if cont:
        lo, hi = continuation.BAND
        lines += ["## Four-year continuations", "",
                  f"Each case continued to {continuation.YEARS} years "
                  f"({next(iter(cont.values()))['seeds']} seeds): median fighters at the "
                  "start and at the end of each year. A *bystander* (an established group "
                  "or a state no observation follows) should end between "
                  f"{lo:.2g} and {hi:.2g} times its start (military force rarely ends an old "
                  "group; no state of these theatres was driven out): the share of seeds "
                  "where it does is in the last column. Nothing here counts in the headline.",
                  "", "| case | organization | " + " | ".join(
                      f"year {y}" for y in range(continuation.YEARS + 1))
                  + " | within the band |",
                  "|---|---|" + "---|" * (continuation.YEARS + 2)]
        for c, v in cont.items():
            for name, ys in v["strength"].items():
                b = v["bystanders"].get(name)
                band = "" if b is None else (f"{b['share_within']:.2f}" + (
                    "" if b["share_within"] >= MET else " **(short)**"))
                lines.append(f"| {c} | {name} | " + " | ".join(f"{x:.0f}" for x in ys)
                             + f" | {band} |")
        lines.append("")
    if prov:
        lines += ["## Provenance", "",
                  f"affiliate_sim {prov['version']}"
                  + (f", commit `{prov['commit']}`" if prov["commit"] else "")
                  + f"; parameter set `{prov['params']['name'] or 'given'}` (digest "
                  f"`{prov['params']['digest']}`); scenario files (digest of each file's "
                  "bytes): " + ", ".join(f"`{x['name']}` `{x['digest']}`"
                                        for x in prov["scenarios"]) + ".", ""]
    lines += ["## Parameters", "", "```", *(f"{k}: {v}" for k, v in params.to_dict().items()
                                             if k != "mechanisms" and v != {}), "```", ""]
    return "\n".join(lines)


__all__ = ["CASES", "headline", "replay", "run_cases", "summarize", "wilson"]
